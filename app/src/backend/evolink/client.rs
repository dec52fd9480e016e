//! The HTTP client. The key goes only into the Authorization header (marked sensitive) of
//! requests to the configured EvoLink addresses. Reads retry with jittered exponential backoff,
//! or after the upstream's `Retry-After` when it sends one; a create is retried only when the
//! connection was refused before anything was sent.

use std::{fmt, path::Path, time::Duration};

use rand::Rng;
use reqwest::{
    header::{HeaderValue, AUTHORIZATION},
    multipart, Client, RequestBuilder,
};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    error::EvoLinkError,
    pace::RateLimiter,
    retry_after,
    task::{Balance, UpstreamTask},
    wire::{self, paths, CreditsBody, ElementRequest, MotionRequest, TaskObject, UploadBody},
};

/// The team's API key. Debug never shows it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps the key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    fn header(&self) -> Result<HeaderValue, EvoLinkError> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0)).map_err(|_| {
            EvoLinkError::Unreachable {
                detail: "the API key contains characters that cannot be sent".into(),
            }
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// How reads are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, including the first.
    pub attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `retry` (1-based): exponential, capped, with jitter in
    /// [50 %, 100 %].
    pub fn delay(&self, retry: u32) -> Duration {
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_delay);
        capped.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
    }
}

/// Where and how to reach EvoLink.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub base_url: String,
    pub files_base_url: String,
    pub api_key: ApiKey,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// How long a create may take before its outcome is unknown; shorter than a task lease, so
    /// a worker never holds a create past the lease that fences it.
    pub create_timeout: Duration,
    pub retry: RetryPolicy,
    /// At most this many requests per second (`KINEMA_UPSTREAM_RPS`).
    pub requests_per_second: u32,
}

impl ClientSettings {
    /// Production defaults for the given addresses and key.
    pub fn new(base_url: &str, files_base_url: &str, api_key: ApiKey) -> ClientSettings {
        ClientSettings {
            base_url: base_url.trim_end_matches('/').to_string(),
            files_base_url: files_base_url.trim_end_matches('/').to_string(),
            api_key,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            create_timeout: Duration::from_secs(45),
            retry: RetryPolicy::default(),
            requests_per_second: 20,
        }
    }
}

/// A file stored on EvoLink's file service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    pub file_id: Option<String>,
    /// The address to give the generation API.
    pub file_url: String,
    pub expires_at: Option<String>,
}

/// The EvoLink client.
#[derive(Clone, Debug)]
pub struct EvoLinkClient {
    http: Client,
    settings: ClientSettings,
    pace: RateLimiter,
}

impl EvoLinkClient {
    /// Builds the client (rustls, timeouts, no redirects).
    pub fn new(settings: ClientSettings) -> Result<EvoLinkClient, EvoLinkError> {
        let http = Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kinema/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| EvoLinkError::Unreachable {
                detail: format!("cannot build the HTTP client: {err}"),
            })?;
        Ok(EvoLinkClient {
            pace: RateLimiter::new(
                settings.requests_per_second,
                RateLimiter::default_burst(settings.requests_per_second),
            ),
            http,
            settings,
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// Creates a motion-control task. Not retried once it may have been received; sending it
    /// again with the same `idempotency_key` asks for the task the first one made.
    pub async fn create_motion(
        &self,
        request: &MotionRequest,
        idempotency_key: &str,
    ) -> Result<UpstreamTask, EvoLinkError> {
        self.create(request, idempotency_key).await
    }

    /// Creates a custom-element task, like [`EvoLinkClient::create_motion`].
    pub async fn create_element(
        &self,
        request: &ElementRequest,
        idempotency_key: &str,
    ) -> Result<UpstreamTask, EvoLinkError> {
        self.create(request, idempotency_key).await
    }

    /// Reads a task.
    pub async fn get_task(&self, task_id: &str) -> Result<UpstreamTask, EvoLinkError> {
        let url = format!(
            "{}{}/{}",
            self.settings.base_url,
            paths::TASKS,
            url::form_urlencoded::byte_serialize(task_id.as_bytes()).collect::<String>()
        );
        let task: TaskObject = self.read_json(&url).await?;
        Ok(UpstreamTask::from_wire(task))
    }

    /// Reads the balance (also the recommended way to check a key).
    pub async fn credits(&self) -> Result<Balance, EvoLinkError> {
        let url = format!("{}{}", self.settings.base_url, paths::CREDITS);
        let body: CreditsBody = self.read_json(&url).await?;
        Ok(Balance::from_wire(body))
    }

    /// Streams a local file to the file service.
    pub async fn upload_file(
        &self,
        path: &Path,
        file_name: &str,
        mime_type: &str,
    ) -> Result<UploadedFile, EvoLinkError> {
        let url = format!("{}{}", self.settings.files_base_url, paths::UPLOAD_STREAM);
        let mut retry = 0;
        loop {
            let file =
                tokio::fs::File::open(path)
                    .await
                    .map_err(|err| EvoLinkError::Unreachable {
                        detail: format!("cannot read the file to upload: {err}"),
                    })?;
            let length = file.metadata().await.map(|m| m.len()).unwrap_or(0);
            let part = multipart::Part::stream_with_length(reqwest::Body::from(file), length)
                .file_name(file_name.to_string())
                .mime_str(mime_type)
                .map_err(|err| EvoLinkError::InvalidInput {
                    message: format!("unusable content type: {err}"),
                    param: None,
                })?;
            let form = multipart::Form::new()
                .part("file", part)
                .text("file_name", file_name.to_string());
            let sent = self
                .authorized(self.http.post(&url))
                .await?
                .multipart(form)
                .send()
                .await;
            match sent {
                Err(err) if err.is_connect() && retry + 1 < self.settings.retry.attempts => {
                    retry += 1;
                    tokio::time::sleep(self.settings.retry.delay(retry)).await;
                }
                Err(err) if err.is_connect() => {
                    return Err(EvoLinkError::Unreachable {
                        detail: describe(&err),
                    })
                }
                Err(err) => {
                    return Err(EvoLinkError::OutcomeUnknown {
                        detail: describe(&err),
                    })
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let wait = retry_after::from_headers(response.headers());
                    let text =
                        response
                            .text()
                            .await
                            .map_err(|err| EvoLinkError::OutcomeUnknown {
                                detail: describe(&err),
                            })?;
                    if !(200..300).contains(&status) {
                        return Err(
                            EvoLinkError::from_response(status, &text).with_retry_after(wait)
                        );
                    }
                    let body: UploadBody =
                        serde_json::from_str(&text).map_err(|err| EvoLinkError::Malformed {
                            detail: format!("upload answer: {err}"),
                        })?;
                    let data = body.data.unwrap_or_default();
                    return match (body.success.unwrap_or(true), data.file_url) {
                        (true, Some(file_url)) => Ok(UploadedFile {
                            file_id: data.file_id,
                            file_url,
                            expires_at: data.expires_at,
                        }),
                        _ => Err(EvoLinkError::InvalidInput {
                            message: body
                                .msg
                                .unwrap_or_else(|| "the file service refused the file".into()),
                            param: Some("file".into()),
                        }),
                    };
                }
            }
        }
    }

    /// Waits for a slot under the request ceiling, then adds the key.
    async fn authorized(&self, request: RequestBuilder) -> Result<RequestBuilder, EvoLinkError> {
        self.pace.acquire().await;
        Ok(request.header(AUTHORIZATION, self.settings.api_key.header()?))
    }

    async fn create<B: Serialize>(
        &self,
        body: &B,
        idempotency_key: &str,
    ) -> Result<UpstreamTask, EvoLinkError> {
        let url = format!("{}{}", self.settings.base_url, paths::GENERATIONS);
        let mut retry = 0;
        loop {
            let sent = self
                .authorized(self.http.post(&url))
                .await?
                .header(wire::IDEMPOTENCY_KEY, idempotency_key)
                .timeout(self.settings.create_timeout)
                .json(body)
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // Refused before anything was sent: provably not received, safe to try again.
                Err(err) if err.is_connect() && retry + 1 < self.settings.retry.attempts => {
                    retry += 1;
                    tokio::time::sleep(self.settings.retry.delay(retry)).await;
                    continue;
                }
                Err(err) if err.is_connect() => {
                    return Err(EvoLinkError::Unreachable {
                        detail: describe(&err),
                    })
                }
                Err(err) => {
                    return Err(EvoLinkError::OutcomeUnknown {
                        detail: describe(&err),
                    })
                }
            };
            let status = response.status().as_u16();
            let wait = retry_after::from_headers(response.headers());
            let text = response
                .text()
                .await
                .map_err(|err| EvoLinkError::OutcomeUnknown {
                    detail: describe(&err),
                })?;
            if !(200..300).contains(&status) {
                return Err(EvoLinkError::from_response(status, &text).with_retry_after(wait));
            }
            let task: TaskObject =
                serde_json::from_str(&text).map_err(|err| EvoLinkError::OutcomeUnknown {
                    detail: format!("unreadable create answer: {err}"),
                })?;
            if !task.id.starts_with(wire::TASK_ID_PREFIX) {
                return Err(EvoLinkError::OutcomeUnknown {
                    detail: "the create answer has no task id".into(),
                });
            }
            return Ok(UpstreamTask::from_wire(task));
        }
    }

    async fn read_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, EvoLinkError> {
        let mut attempt = 1;
        loop {
            let outcome = self.read_once(url).await;
            match outcome {
                Err(err) if err.is_retryable_read() && attempt < self.settings.retry.attempts => {
                    // The upstream's own Retry-After replaces the backoff; one longer than the
                    // longest pause ends the call, so the caller (the engine) waits instead.
                    let pause = match err.retry_after() {
                        Some(wait) if wait > self.settings.retry.max_delay => return Err(err),
                        Some(wait) => wait,
                        None => self.settings.retry.delay(attempt),
                    };
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                Err(EvoLinkError::OutcomeUnknown { detail }) => {
                    return Err(EvoLinkError::Unreachable { detail })
                }
                other => return other,
            }
        }
    }

    async fn read_once<T: DeserializeOwned>(&self, url: &str) -> Result<T, EvoLinkError> {
        let response = self
            .authorized(self.http.get(url))
            .await?
            .send()
            .await
            .map_err(|err| EvoLinkError::Unreachable {
                detail: describe(&err),
            })?;
        let status = response.status().as_u16();
        let wait = retry_after::from_headers(response.headers());
        let text = response
            .text()
            .await
            .map_err(|err| EvoLinkError::Unreachable {
                detail: describe(&err),
            })?;
        if !(200..300).contains(&status) {
            return Err(EvoLinkError::from_response(status, &text).with_retry_after(wait));
        }
        serde_json::from_str(&text).map_err(|err| EvoLinkError::Malformed {
            detail: err.to_string(),
        })
    }
}

/// Describes a transport error without its URL (URLs may carry signatures).
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(url.as_str(), "(upstream)");
    }
    format!("{kind}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        for _ in 0..50 {
            let first = policy.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.delay(3);
            assert!(third >= Duration::from_millis(175) && third <= Duration::from_millis(350));
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let settings = ClientSettings::new("http://a", "http://b", ApiKey::new("sk-secret-123"));
        assert!(!format!("{settings:?}").contains("sk-secret-123"));
    }
}
