//! Routes that are not server functions.

pub mod audit;
pub mod error;
pub mod event_slots;
pub mod events;
pub mod gateway;
pub mod health;
pub mod metrics;
pub mod objects;
pub mod oidc;
pub mod share;
pub mod tasks;
pub mod uploads;
pub mod usage;

pub use error::{RequireUser, RouteError};

use app::backend::{
    audit::Origin,
    context::{ClientAddress, RequestId},
};

/// Where a request came from (address and request id, as the middleware resolved them), for
/// the audit log.
pub fn origin(extensions: &axum::http::Extensions) -> Origin {
    Origin {
        address: extensions.get::<ClientAddress>().map(|address| address.0),
        request_id: extensions.get::<RequestId>().map(|id| id.0.clone()),
        token_id: None,
    }
}
