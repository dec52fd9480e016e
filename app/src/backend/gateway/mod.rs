//! The EvoLink-compatible API for members' personal tokens: the same paths, bodies, statuses
//! and error shapes as EvoLink's documented API (`docs/upstream.md`), with Kinema's rules,
//! budgets, engine, archive and history behind it. The HTTP routes are in the server crate;
//! everything they decide is here.

mod auth;
mod create;
mod error;
mod files;
mod inputs;
mod view;

pub use auth::{bearer, caller, Caller};
pub use create::{create, IDEMPOTENCY_KEY_MAX};
pub use error::GatewayError;
pub use files::{purpose_of, upload_stream};
pub use inputs::{file_url, input_upload, upload_error, FILE_PATH};
pub use view::{
    credits_json, file_json, result_url, task_json, verify_result_url, RESULT_URL_LIFETIME_SECS,
};

use serde_json::Value;

use super::{outbound, AppState};

/// Requests per minute a token may make unless configured otherwise.
pub const DEFAULT_REQUESTS_PER_MINUTE: i64 = 300;

/// The gateway's own settings, built once at startup.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// Fetches input URLs: https to public addresses only. Unlike result links, nothing is
    /// trusted here, not even the EvoLink origin.
    pub downloads: outbound::Downloader,
    /// Requests per minute per token (at least 1).
    pub requests_per_minute: i64,
}

impl Gateway {
    /// A gateway allowing `requests_per_minute` per token.
    pub fn new(requests_per_minute: i64) -> Gateway {
        Gateway {
            downloads: outbound::Downloader::new(outbound::UrlPolicy::public_only()),
            requests_per_minute: requests_per_minute.max(1),
        }
    }
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway::new(DEFAULT_REQUESTS_PER_MINUTE)
    }
}

/// `GET /v1/tasks/{id}`: the caller's own task (any other id answers 404).
pub async fn task(state: &AppState, caller: &Caller, id: &str) -> Result<Value, GatewayError> {
    let store = state.store();
    let task = store
        .task_of_owner(id, caller.user.id)
        .await?
        .ok_or_else(GatewayError::task_not_found)?;
    let element = store.element_id_of_task(&task.id).await?;
    Ok(task_json(state, &task, element.as_deref()))
}
