//! Bounding request bodies: every body but a file upload is read whole, up to a size limit and
//! within the idle timeout, before anything else looks at the request; a file upload is streamed
//! by its route (which has its own size limits) and fails when its body stops arriving.

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::{stream, StreamExt};

use app::model::AppError;

use crate::routes::RouteError;

/// The paths that stream file uploads (bounded by the upload rules, not by this module): the
/// studio's, and the gateway's file service route.
const UPLOAD_PATHS: [&str; 2] = ["/api/uploads", "/api/v1/files/upload/stream"];

/// How large and how slow a request body may be.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest body of a request that is not a file upload.
    pub max_bytes: usize,
    /// Longest pause in an upload's body; the whole of any other body must arrive within it.
    pub idle_timeout: Duration,
}

/// Middleware: buffers every body but an upload's up to [`BodyLimits::max_bytes`] (413 with plain
/// words beyond it, 408 when it does not arrive in time) and puts an idle timeout on uploads.
pub async fn bound_bodies(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if UPLOAD_PATHS.contains(&parts.uri.path()) {
        let body = with_idle_timeout(body, limits.idle_timeout);
        return next.run(Request::from_parts(parts, body)).await;
    }
    let server_function = is_server_function(&parts.method, parts.uri.path());
    let refuse = |error: BodyError| error.response(server_function, parts.uri.path(), limits);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return refuse(BodyError::TooLarge);
    }
    let bytes =
        match tokio::time::timeout(limits.idle_timeout, read_at_most(body, limits.max_bytes)).await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(error)) => return refuse(error),
            Err(_) => return refuse(BodyError::TooSlow),
        };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Server functions are the POSTs under `/api/` that no other route takes.
fn is_server_function(method: &Method, path: &str) -> bool {
    method == Method::POST && path.starts_with("/api/") && !UPLOAD_PATHS.contains(&path)
}

/// Why a body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyError {
    TooLarge,
    TooSlow,
    Interrupted,
}

impl BodyError {
    fn status(self) -> StatusCode {
        match self {
            BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyError::Interrupted => StatusCode::BAD_REQUEST,
        }
    }

    fn message(self, limits: BodyLimits) -> String {
        match self {
            BodyError::TooLarge => format!(
                "This request is larger than the {} KB Kinema accepts here. Shorten what you \
                 entered and try again.",
                limits.max_bytes / 1024
            ),
            BodyError::TooSlow => {
                "This request did not arrive in time. Check your connection and try again.".into()
            }
            BodyError::Interrupted => "This request was interrupted. Try again.".into(),
        }
    }

    /// A server function's error as its callers decode it (an [`AppError`] in JSON, marked with
    /// the header server functions use); any other route's as a [`RouteError`].
    fn response(self, server_function: bool, path: &str, limits: BodyLimits) -> Response {
        let message = self.message(limits);
        if !server_function {
            return RouteError::new(self.status(), message).into_response();
        }
        let body =
            serde_json::to_string(&AppError::Invalid(message)).expect("an AppError serializes");
        let mut response = (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let Ok(path) = HeaderValue::from_str(path) {
            response
                .headers_mut()
                .insert(leptos::server_fn::error::SERVER_FN_ERROR_HEADER, path);
        }
        response
    }
}

/// Reads the whole body if it holds at most `max` bytes.
async fn read_at_most(body: Body, max: usize) -> Result<Bytes, BodyError> {
    let mut chunks = body.into_data_stream();
    let mut buffer = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| BodyError::Interrupted)?;
        if buffer.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

/// The same body, failing when no data arrives for `idle`.
fn with_idle_timeout(body: Body, idle: Duration) -> Body {
    let chunks = body.into_data_stream();
    Body::from_stream(stream::unfold(Some(chunks), move |chunks| async move {
        let mut chunks = chunks?;
        match tokio::time::timeout(idle, chunks.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((
                Err(axum::Error::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the upload stopped arriving",
                ))),
                None,
            )),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_functions_are_told_apart() {
        assert!(is_server_function(&Method::POST, "/api/list_tasks"));
        assert!(!is_server_function(&Method::POST, "/api/uploads"));
        assert!(!is_server_function(&Method::GET, "/api/events"));
        assert!(!is_server_function(&Method::POST, "/hooks/evolink/a/b"));
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit_and_no_further() {
        let body = Body::from(vec![1u8; 100]);
        assert_eq!(read_at_most(body, 100).await.unwrap().len(), 100);
        let body = Body::from(vec![1u8; 101]);
        assert_eq!(read_at_most(body, 100).await, Err(BodyError::TooLarge));
    }
}
