//! Serving a stored object over HTTP from either storage backend, with single byte ranges for
//! the player (`206 Partial Content`, `416` past the end), or a redirect to a short-lived
//! presigned URL when the configuration asks for it (S3 only).

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use app::backend::{
    storage::{ByteRange, ReadError, RESULT_REDIRECT_LIFETIME},
    AppState,
};

use super::RouteError;

/// The single range a `Range: bytes=…` header asks for; `None` (send it all) for anything
/// else, as HTTP allows: no header, several ranges, other units, nonsense.
pub fn requested_range(request: &Request) -> Option<ByteRange> {
    let value = request.headers().get(header::RANGE)?.to_str().ok()?;
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        return end.parse().ok().map(ByteRange::Last);
    }
    let start: u64 = start.parse().ok()?;
    if end.is_empty() {
        return Some(ByteRange::From(start));
    }
    let end: u64 = end.parse().ok()?;
    (end >= start).then(|| ByteRange::Bounded(start, end.saturating_add(1)))
}

/// Sends the object `key` as `content_type`, honouring a single byte range.
pub async fn serve_object(
    state: &AppState,
    key: &str,
    content_type: &str,
    request: Request,
) -> Result<Response, RouteError> {
    let range = requested_range(&request);
    let read = match state.storage().read(key, range).await {
        Ok(read) => read,
        Err(ReadError::NotFound) => return Err(RouteError::not_found()),
        Err(ReadError::Unsatisfiable(size)) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        Err(ReadError::Backend(err)) => return Err(RouteError::internal("reading a file", err)),
    };
    let length = read.range.end.saturating_sub(read.range.start);
    let partial = range.is_some();
    let mut response = Response::new(Body::from_stream(read.body));
    *response.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let headers = response.headers_mut();
    let mut set = |name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, content_type.to_string());
    set(header::CONTENT_LENGTH, length.to_string());
    set(header::ACCEPT_RANGES, "bytes".into());
    set(
        header::LAST_MODIFIED,
        httpdate::fmt_http_date(read.last_modified),
    );
    if partial {
        set(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                read.range.start,
                read.range.end.saturating_sub(1),
                read.size
            ),
        );
    }
    Ok(response)
}

/// A result: redirected to a short-lived presigned URL when configured (S3), else served.
pub async fn serve_result(
    state: &AppState,
    key: &str,
    request: Request,
) -> Result<Response, RouteError> {
    let storage = state.storage();
    if storage.settings().redirect_results {
        match storage.presigned_get(key, RESULT_REDIRECT_LIFETIME).await {
            Ok(Some(url)) => {
                let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
                if let Ok(value) = HeaderValue::from_str(&url) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                // The URL expires; never cache the redirect.
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return Ok(response);
            }
            Ok(None) => {}
            Err(err) => return Err(RouteError::internal("presigning a result", err)),
        }
    }
    serve_object(state, key, "video/mp4", request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_range(value: &str) -> Request {
        Request::builder()
            .header(header::RANGE, value)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn single_byte_ranges_are_read_and_anything_else_means_all() {
        assert_eq!(
            requested_range(&with_range("bytes=0-99")),
            Some(ByteRange::Bounded(0, 100))
        );
        assert_eq!(
            requested_range(&with_range("bytes=100-")),
            Some(ByteRange::From(100))
        );
        assert_eq!(
            requested_range(&with_range("bytes=-20")),
            Some(ByteRange::Last(20))
        );
        for ignored in [
            "bytes=5-1",
            "bytes=0-1,4-5",
            "items=0-1",
            "bytes=x-",
            "bytes=",
        ] {
            assert_eq!(requested_range(&with_range(ignored)), None, "{ignored}");
        }
        assert_eq!(
            requested_range(&Request::builder().body(Body::empty()).unwrap()),
            None
        );
    }
}
