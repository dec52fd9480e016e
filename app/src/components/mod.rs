//! Reusable UI pieces.

pub mod error_note;
pub mod frame;
pub mod signed_in;
