//! Routes that are not server functions.

pub mod error;
pub mod event_slots;
pub mod events;
pub mod gateway;
pub mod health;
pub mod metrics;
pub mod tasks;
pub mod uploads;
pub mod usage;

pub use error::{RequireUser, RouteError};
