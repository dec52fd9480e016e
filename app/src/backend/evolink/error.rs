//! Every way an EvoLink call can fail, in plain words with what to do.

use std::time::Duration;

use super::wire::{codes, ErrorBody};

/// A failed EvoLink call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvoLinkError {
    /// 400: the upstream refused the input; its own message is kept.
    #[error("EvoLink refused the request: {message}")]
    InvalidInput {
        message: String,
        param: Option<String>,
    },
    /// 401: the key is wrong or expired.
    #[error("EvoLink rejected the API key")]
    InvalidKey,
    /// 402: not enough credits on the EvoLink account (also a 402 whose code is unknown).
    #[error("EvoLink balance too low: {message}")]
    InsufficientBalance { message: String },
    /// 402: the key's own total credit limit is used up (the account may still have credits).
    #[error("EvoLink key's credit limit used up: {message}")]
    KeyLimitReached { message: String },
    /// 402: the key's daily credit limit is used up for today.
    #[error("EvoLink key's daily limit used up: {message}")]
    KeyDailyLimitReached { message: String },
    /// 402: the key is disabled or expired.
    #[error("EvoLink key disabled or expired: {message}")]
    KeyDisabled { message: String },
    /// 403 `model_access_denied` or 402 `key_model_not_allowed`: this key may not use the model.
    #[error("EvoLink key may not use this model: {message}")]
    ModelNotAllowed { message: String },
    /// 403 `permission_denied`: the task belongs to another account.
    #[error("EvoLink denied access: {message}")]
    PermissionDenied { message: String },
    /// 404 `task_not_found` (or 400 `invalid_task_id`).
    #[error("EvoLink does not know this task")]
    TaskNotFound,
    /// 413: the request body is too large.
    #[error("EvoLink says the request is too large")]
    TooLarge,
    /// 429: rate limited; `retry_after` is the upstream's `Retry-After`, when sent.
    #[error("EvoLink is rate limiting this key")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: the upstream is failing; `retry_after` as above (503 may carry one).
    #[error("EvoLink is unavailable (HTTP {status}): {message}")]
    Unavailable {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The request never got an answer and may have been received: a create may exist upstream.
    #[error("no answer from EvoLink; the request may or may not have been received ({detail})")]
    OutcomeUnknown { detail: String },
    /// EvoLink could not be reached at all.
    #[error("EvoLink could not be reached ({detail})")]
    Unreachable { detail: String },
    /// An answer that could not be read.
    #[error("EvoLink sent an answer Kinema cannot read ({detail})")]
    Malformed { detail: String },
}

impl EvoLinkError {
    /// A short fixed name of the failure, for metrics labels (never carries its details).
    pub fn kind(&self) -> &'static str {
        match self {
            EvoLinkError::InvalidInput { .. } => "invalid_input",
            EvoLinkError::InvalidKey => "invalid_key",
            EvoLinkError::InsufficientBalance { .. } => "insufficient_balance",
            EvoLinkError::KeyLimitReached { .. } => "key_limit_reached",
            EvoLinkError::KeyDailyLimitReached { .. } => "key_daily_limit_reached",
            EvoLinkError::KeyDisabled { .. } => "key_disabled",
            EvoLinkError::ModelNotAllowed { .. } => "model_not_allowed",
            EvoLinkError::PermissionDenied { .. } => "permission_denied",
            EvoLinkError::TaskNotFound => "task_not_found",
            EvoLinkError::TooLarge => "too_large",
            EvoLinkError::RateLimited { .. } => "rate_limited",
            EvoLinkError::Unavailable { .. } => "unavailable",
            EvoLinkError::OutcomeUnknown { .. } => "outcome_unknown",
            EvoLinkError::Unreachable { .. } => "unreachable",
            EvoLinkError::Malformed { .. } => "malformed",
        }
    }

    /// Maps an HTTP error answer to its typed error.
    pub fn from_response(status: u16, body: &str) -> EvoLinkError {
        let error = serde_json::from_str::<ErrorBody>(body)
            .ok()
            .and_then(|b| b.error)
            .unwrap_or_default();
        let code = error.code_text().unwrap_or_default();
        let message = error
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"));
        match status {
            400 if code == "invalid_task_id" => EvoLinkError::TaskNotFound,
            400 | 422 => EvoLinkError::InvalidInput {
                message,
                param: error.param,
            },
            401 => EvoLinkError::InvalidKey,
            402 => match code.as_str() {
                c if codes::KEY_LIMIT.contains(&c) => EvoLinkError::KeyLimitReached { message },
                c if codes::KEY_DAILY_LIMIT.contains(&c) => {
                    EvoLinkError::KeyDailyLimitReached { message }
                }
                c if codes::KEY_DISABLED.contains(&c) => EvoLinkError::KeyDisabled { message },
                c if codes::KEY_MODEL_NOT_ALLOWED.contains(&c) => {
                    EvoLinkError::ModelNotAllowed { message }
                }
                _ => EvoLinkError::InsufficientBalance { message },
            },
            403 if code == "permission_denied" => EvoLinkError::PermissionDenied { message },
            403 => EvoLinkError::ModelNotAllowed { message },
            404 => EvoLinkError::TaskNotFound,
            413 => EvoLinkError::TooLarge,
            429 => EvoLinkError::RateLimited { retry_after: None },
            _ => EvoLinkError::Unavailable {
                status,
                message,
                retry_after: None,
            },
        }
    }

    /// The same error carrying the answer's `Retry-After` (kept on 429 and 5xx only).
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> EvoLinkError {
        if let EvoLinkError::RateLimited { retry_after }
        | EvoLinkError::Unavailable { retry_after, .. } = &mut self
        {
            *retry_after = wait;
        }
        self
    }

    /// How long the upstream asked to be left alone, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            EvoLinkError::RateLimited { retry_after }
            | EvoLinkError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when a read may be tried again.
    pub fn is_retryable_read(&self) -> bool {
        matches!(
            self,
            EvoLinkError::RateLimited { .. }
                | EvoLinkError::Unavailable { .. }
                | EvoLinkError::Unreachable { .. }
                | EvoLinkError::OutcomeUnknown { .. }
                | EvoLinkError::Malformed { .. }
        )
    }

    /// What to tell a person, and what they can do about it. Never contains the key.
    pub fn user_message(&self) -> String {
        match self {
            EvoLinkError::InvalidInput { message, .. } => {
                format!("EvoLink refused the input: {message} Fix the input and try again.")
            }
            EvoLinkError::InvalidKey => {
                "EvoLink rejected the team's API key. An admin needs to set a valid EVOLINK_API_KEY.".into()
            }
            EvoLinkError::InsufficientBalance { .. } => {
                "The team's EvoLink account balance is too low. An admin needs to top up the EvoLink account.".into()
            }
            EvoLinkError::KeyLimitReached { .. } => {
                "The team's EvoLink key has used up its own credit limit (the EvoLink account itself may still have credits). An admin needs to raise or remove the key's limit in the EvoLink dashboard.".into()
            }
            EvoLinkError::KeyDailyLimitReached { .. } => {
                "The team's EvoLink key has reached its daily credit limit. Try again tomorrow, or an admin can raise the key's daily limit in the EvoLink dashboard.".into()
            }
            EvoLinkError::KeyDisabled { .. } => {
                "The team's EvoLink key is disabled or expired. An admin needs to enable it in the EvoLink dashboard or set a new EVOLINK_API_KEY.".into()
            }
            EvoLinkError::ModelNotAllowed { .. } => {
                "The team's EvoLink key may not use this model. An admin needs to enable it in the EvoLink dashboard.".into()
            }
            EvoLinkError::PermissionDenied { .. } => {
                "EvoLink says this task belongs to another account.".into()
            }
            EvoLinkError::TaskNotFound => "EvoLink no longer knows this task.".into(),
            EvoLinkError::TooLarge => "The request was too large for EvoLink. Use smaller files.".into(),
            EvoLinkError::RateLimited { .. } => {
                "EvoLink is limiting how fast the team can submit. Wait a minute and try again.".into()
            }
            EvoLinkError::Unavailable { .. } | EvoLinkError::Unreachable { .. } => {
                "EvoLink is not available right now. Try again in a few minutes.".into()
            }
            EvoLinkError::OutcomeUnknown { .. } => {
                "EvoLink did not answer in time, so Kinema cannot tell whether the task was accepted. It was not sent again, to avoid paying twice.".into()
            }
            EvoLinkError::Malformed { .. } => {
                "EvoLink sent an answer Kinema could not read. Try again in a few minutes.".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_error_bodies_map_to_their_types() {
        let body =
            |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"m","type":"t"}}}}"#);
        assert!(matches!(
            EvoLinkError::from_response(400, &body("invalid_request")),
            EvoLinkError::InvalidInput { .. }
        ));
        assert_eq!(
            EvoLinkError::from_response(400, &body("invalid_task_id")),
            EvoLinkError::TaskNotFound
        );
        assert_eq!(
            EvoLinkError::from_response(401, &body("unauthorized")),
            EvoLinkError::InvalidKey
        );
        assert!(matches!(
            EvoLinkError::from_response(403, &body("model_access_denied")),
            EvoLinkError::ModelNotAllowed { .. }
        ));
        assert!(matches!(
            EvoLinkError::from_response(403, &body("permission_denied")),
            EvoLinkError::PermissionDenied { .. }
        ));
        // Legacy form: the code is the integer status.
        assert_eq!(
            EvoLinkError::from_response(
                429,
                r#"{"error":{"code":429,"message":"slow down","fallback_suggestion":"retry after 60 seconds"}}"#
            ),
            EvoLinkError::RateLimited { retry_after: None }
        );
        assert!(matches!(
            EvoLinkError::from_response(502, "not json"),
            EvoLinkError::Unavailable { status: 502, .. }
        ));
    }

    #[test]
    fn the_402_variants_are_told_apart_with_their_own_words() {
        let body =
            |code: &str| format!(r#"{{"error":{{"code":"{code}","message":"m","type":"t"}}}}"#);
        let cases = [
            ("insufficient_quota", "account balance"),
            ("insufficient_user_quota", "account balance"),
            ("quota_not_enough", "account balance"),
            ("account_balance_insufficient", "account balance"),
            ("something_new", "account balance"),
            ("insufficient_token_quota", "its own credit limit"),
            ("key_quota_exhausted", "its own credit limit"),
            ("token_daily_quota_exceeded", "daily credit limit"),
            ("key_daily_quota_exhausted", "daily credit limit"),
            ("key_disabled", "disabled or expired"),
            ("key_expired", "disabled or expired"),
            ("key_model_not_allowed", "may not use this model"),
        ];
        for (code, words) in cases {
            let message = EvoLinkError::from_response(402, &body(code)).user_message();
            assert!(message.contains(words), "{code}: {message}");
        }
        let distinct: std::collections::HashSet<String> = cases
            .iter()
            .map(|(code, _)| EvoLinkError::from_response(402, &body(code)).user_message())
            .collect();
        assert_eq!(distinct.len(), 5, "five causes, five messages");
    }

    #[test]
    fn retry_after_is_kept_only_where_it_means_something() {
        let wait = Some(Duration::from_secs(7));
        let limited = EvoLinkError::from_response(429, "{}").with_retry_after(wait);
        assert_eq!(limited.retry_after(), wait);
        let down = EvoLinkError::from_response(503, "{}").with_retry_after(wait);
        assert_eq!(down.retry_after(), wait);
        let refused = EvoLinkError::from_response(400, "{}").with_retry_after(wait);
        assert_eq!(refused.retry_after(), None);
    }
}
