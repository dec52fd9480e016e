//! How routes that are not server functions refuse a request: one error type with one JSON shape,
//! `{"error": "<plain words>"}`, and the `RequireUser` extractor for routes that need a member.

use std::borrow::Cow;

use axum::{
    extract::FromRequestParts,
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use app::backend::{context::CurrentUser, store::UserRecord};

/// A refusal or failure of a route, answered as `{"error": message}` with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl RouteError {
    /// An error with any status and message.
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> RouteError {
        RouteError {
            status,
            message: message.into(),
        }
    }

    /// 401: nobody is signed in.
    pub fn unauthorized() -> RouteError {
        RouteError::new(StatusCode::UNAUTHORIZED, "Please sign in.")
    }

    /// 403 with the reason.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> RouteError {
        RouteError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: absent, or not this member's to see.
    pub fn not_found() -> RouteError {
        RouteError::new(StatusCode::NOT_FOUND, "Not found.")
    }

    /// 500: logs `error` (with the request's id, from the request span) and tells the person
    /// only what to do.
    pub fn internal(what: &str, error: impl std::fmt::Display) -> RouteError {
        tracing::error!(%error, "{what} failed");
        RouteError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Try again; if it keeps failing, tell your admin.",
        )
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The words shown to the person.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for RouteError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// The signed-in member; a route taking it answers 401 [`RouteError`] to visitors.
#[derive(Debug, Clone)]
pub struct RequireUser(pub UserRecord);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = RouteError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .and_then(|user| user.0.clone())
            .map(RequireUser)
            .ok_or_else(RouteError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_have_one_json_shape() {
        let response = RouteError::forbidden("No.").into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], br#"{"error":"No."}"#);
    }

    #[tokio::test]
    async fn visitors_are_refused_by_require_user() {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        parts.extensions.insert(CurrentUser(None));
        let refused = RequireUser::from_request_parts(&mut parts, &()).await;
        assert_eq!(refused.unwrap_err(), RouteError::unauthorized());
    }
}
