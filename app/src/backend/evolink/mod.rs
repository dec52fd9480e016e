//! The EvoLink HTTP client: typed requests and responses, retry rules and one error type.

mod client;
mod error;
mod pace;
mod retry_after;
mod task;
pub mod wire;

pub use client::{ApiKey, ClientSettings, EvoLinkClient, RetryPolicy, UploadedFile};
pub use error::EvoLinkError;
pub use pace::RateLimiter;
pub use task::{Balance, TaskFailure, TaskStatus, UpstreamTask};
