//! Routes that are not server functions.

pub mod events;
pub mod health;
pub mod tasks;
pub mod uploads;
pub mod usage;
