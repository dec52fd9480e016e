//! Pure rules with no I/O, compiled into both the browser and the server so both say the same thing.

pub mod accounts;
pub mod audit;
pub mod element_inputs;
pub mod format;
pub mod links;
pub mod motion_inputs;
pub mod paging;
pub mod pricing;
pub mod share;
pub mod task_errors;
pub mod usage;
pub mod vocab;
