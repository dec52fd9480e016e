//! Routes that are not server functions.

pub mod error;
pub mod event_slots;
pub mod events;
pub mod health;
pub mod metrics;
pub mod objects;
pub mod tasks;
pub mod uploads;
pub mod usage;

pub use error::{RequireUser, RouteError};
