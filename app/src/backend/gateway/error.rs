//! The gateway's one error type, answered in EvoLink's error shape (`docs/upstream.md` §7.1):
//! `{"error": {"code", "message", "type", "param"?}}` with Kinema's own plain message.

use serde_json::{json, Value};

use crate::backend::BackendError;

/// A refusal or failure of a gateway call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    /// The HTTP status.
    pub status: u16,
    /// EvoLink's error code for the case.
    pub code: &'static str,
    /// Kinema's message in plain words.
    pub message: String,
    /// EvoLink's error type.
    pub kind: &'static str,
    /// The request field at fault, when there is one.
    pub param: Option<&'static str>,
    /// Seconds to wait (429), sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl GatewayError {
    fn new(status: u16, code: &'static str, kind: &'static str, message: String) -> Self {
        GatewayError {
            status,
            code,
            message,
            kind,
            param: None,
            retry_after: None,
        }
    }

    /// 400: the request is not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(
            400,
            "invalid_request",
            "invalid_request_error",
            message.into(),
        )
    }

    /// 400 naming the field at fault.
    pub fn invalid_param(message: impl Into<String>, param: &'static str) -> Self {
        GatewayError {
            param: Some(param),
            ..Self::invalid(message)
        }
    }

    /// 401: no usable token, or its member is disabled.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", "authentication_error", message.into())
    }

    /// 402: a monthly budget would be passed.
    pub fn over_budget(message: impl Into<String>) -> Self {
        Self::new(
            402,
            "insufficient_quota",
            "insufficient_quota",
            message.into(),
        )
    }

    /// 403: the token's scope does not cover the model or call.
    pub fn scope(message: impl Into<String>) -> Self {
        Self::new(
            403,
            "model_access_denied",
            "invalid_request_error",
            message.into(),
        )
    }

    /// 404: no such task among the member's.
    pub fn task_not_found() -> Self {
        Self::new(
            404,
            "task_not_found",
            "invalid_request_error",
            "There is no task with this id among yours.".into(),
        )
    }

    /// 413: a file over its size limit or the member's upload quota.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            413,
            "request_too_large",
            "request_too_large_error",
            message.into(),
        )
    }

    /// 429 with the wait in seconds.
    pub fn rate_limited(wait_seconds: u64) -> Self {
        let wait = wait_seconds.max(1);
        GatewayError {
            retry_after: Some(wait),
            ..Self::new(
                429,
                "rate_limit_exceeded",
                "rate_limit_error",
                format!("Too many requests with this API token; try again in {wait} s."),
            )
        }
    }

    /// 500: logs `error` and tells the caller only what to do.
    pub fn internal(what: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "gateway: {what} failed");
        Self::new(
            500,
            "internal_error",
            "api_error",
            "Something went wrong on Kinema's side. Try again; if it keeps failing, tell your admin."
                .into(),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message, "type": self.kind });
        if let Some(param) = self.param {
            error["param"] = json!(param);
        }
        json!({ "error": error })
    }
}

impl From<BackendError> for GatewayError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::Invalid(message) => GatewayError::invalid(message),
            BackendError::OverBudget(message) => GatewayError::over_budget(message),
            BackendError::NotFound => GatewayError::task_not_found(),
            BackendError::Unauthorized => GatewayError::unauthorized("Please use an API token."),
            BackendError::Forbidden => {
                GatewayError::scope("This API token may not do that.".to_string())
            }
            BackendError::Throttled(message) => GatewayError {
                message,
                ..GatewayError::rate_limited(60)
            },
            err @ (BackendError::Database(_) | BackendError::Internal(_)) => {
                GatewayError::internal("a call", err)
            }
        }
    }
}
