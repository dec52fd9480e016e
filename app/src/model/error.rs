//! The one error type the browser sees.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// An error as shown to people: plain words, never internal details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The visitor is not signed in (or their session ended).
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// The visitor is signed in but may not do this.
    #[error("Only admins can do this.")]
    Forbidden,
    /// The thing does not exist, or belongs to someone else.
    #[error("Not found.")]
    NotFound,
    /// The input was refused; the text says why and what to do.
    #[error("{0}")]
    Invalid(String),
    /// Too many attempts; the text says when to try again.
    #[error("{0}")]
    Throttled(String),
    /// Something failed on the server; the request id is in the log next to the details.
    #[error("Something went wrong on our side. If it keeps happening, tell your admin the request id {request_id}.")]
    Internal { request_id: String },
    /// The request did not reach the server or its answer could not be read.
    #[error("Kinema could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) => 422,
            AppError::Throttled(_) => 429,
            AppError::Internal { .. } | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
