//! Reading request context inside server functions, and mapping backend errors once.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{header::ACCEPT, request::Parts, StatusCode};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::{audit, store::UserRecord, AppState, BackendError};
use crate::model::{AppError, Role};

/// The signed-in user, resolved once per request by the server's auth middleware.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Option<UserRecord>);

/// The client's address, resolved once per request by the server (the socket peer, or what
/// trusted proxies say in `X-Forwarded-For`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub IpAddr);

/// The request id shown to people next to internal errors and written in the log.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn parts() -> Result<Parts, BackendError> {
    use_context::<Parts>()
        .ok_or_else(|| BackendError::Internal("request parts missing from context".into()))
}

/// The shared state.
pub fn state() -> Result<AppState, BackendError> {
    parts()?
        .extensions
        .get::<AppState>()
        .cloned()
        .ok_or_else(|| BackendError::Internal("app state missing from request".into()))
}

/// The request's session.
pub fn session() -> Result<Session, BackendError> {
    parts()?
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| BackendError::Internal("session layer missing".into()))
}

/// The signed-in user, if any.
pub fn current_user() -> Option<UserRecord> {
    parts()
        .ok()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
        .and_then(|user| user.0)
}

/// The signed-in user, or `Unauthorized`.
pub fn require_user() -> Result<UserRecord, BackendError> {
    current_user().ok_or(BackendError::Unauthorized)
}

/// The signed-in admin, or `Unauthorized` / `Forbidden`.
pub fn require_admin() -> Result<UserRecord, BackendError> {
    let user = require_user()?;
    if user.role() != Role::Admin {
        return Err(BackendError::Forbidden);
    }
    Ok(user)
}

/// The client's address: as the server resolved it, else the socket peer.
pub fn client_address() -> Option<IpAddr> {
    parts().ok().and_then(|parts| {
        parts
            .extensions
            .get::<ClientAddress>()
            .map(|c| c.0)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
    })
}

fn request_id() -> String {
    parts()
        .ok()
        .and_then(|parts| parts.extensions.get::<RequestId>().map(|id| id.0.clone()))
        .unwrap_or_else(|| "unknown".into())
}

/// Where this request came from, for the audit log.
pub fn origin() -> audit::Origin {
    audit::Origin {
        address: client_address(),
        request_id: parts()
            .ok()
            .and_then(|parts| parts.extensions.get::<RequestId>().map(|id| id.0.clone())),
        token_id: None,
    }
}

/// The signed-in member and where the request came from, for the audit log.
pub fn actor(user: &UserRecord) -> audit::Actor {
    audit::Actor::member(user, &origin())
}

/// Maps a backend result to what the browser sees: internal details are logged with the request
/// id and replaced by a message naming that id; the HTTP status follows the error (except for
/// plain form posts, which are redirected back with the error in the URL).
pub fn respond<T>(result: Result<T, BackendError>) -> Result<T, AppError> {
    result.map_err(|err| {
        let app_error = to_app_error(err);
        let plain_form_post = parts().ok().is_some_and(|parts| {
            parts
                .headers
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if !plain_form_post {
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(
                    StatusCode::from_u16(app_error.status_code())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                );
            }
        }
        app_error
    })
}

fn to_app_error(err: BackendError) -> AppError {
    match err {
        BackendError::Unauthorized => AppError::Unauthorized,
        BackendError::Forbidden => AppError::Forbidden,
        BackendError::NotFound => AppError::NotFound,
        BackendError::Invalid(message) | BackendError::OverBudget(message) => {
            AppError::Invalid(message)
        }
        BackendError::Throttled(message) => AppError::Throttled(message),
        err @ (BackendError::Database(_) | BackendError::Internal(_)) => {
            let request_id = request_id();
            tracing::error!(%request_id, error = %err, "request failed");
            AppError::Internal { request_id }
        }
    }
}
