//! Headers on answers that carry stored files (uploads, previews, results, signed media) and
//! on the upload route: the browser must not guess another type, and a file opened on its own
//! runs nothing and loads nothing but itself.

use axum::{
    extract::Request,
    http::{
        header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS},
        HeaderValue,
    },
    middleware::Next,
    response::Response,
};

/// The policy of a stored file's answer.
pub const MEDIA_POLICY: &str = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";

/// Adds `X-Content-Type-Options: nosniff` and [`MEDIA_POLICY`] to the answer, errors included.
pub async fn media_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(MEDIA_POLICY),
    );
    response
}
