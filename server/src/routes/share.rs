//! The shared page `/s/{token}` and its video `/s/{token}/video.mp4`, open to anyone holding
//! the link: no session, no member, no task id in the answer. Both read the link afresh on every
//! request, so a revoked or expired link, a deleted task or a disabled owner stops them at once
//! with a plain "not found" page. The video is served like the owner's result (Range for the
//! player, or a redirect to a short-lived presigned URL when configured for S3).

use axum::{
    extract::{Path, Request, State},
    http::{
        header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY},
        HeaderName, HeaderValue, StatusCode,
    },
    response::{Html, IntoResponse, Response},
    Extension,
};
use leptos::config::LeptosOptions;

use app::backend::{share_links::open_link, store::SharedResult, AppState};
use app::rules::format::utc_datetime;

use super::{objects::serve_result, RouteError};

/// What a stopped (or unknown) link answers, in words.
pub const LINK_STOPPED: &str = "This link has expired or was revoked.";

/// The title of a shared page.
pub const SHARED_TITLE: &str = "Shared video · Kinema";

/// `GET /s/{token}`: the player and a download link, or a plain 404 page.
pub async fn page(
    Extension(state): Extension<AppState>,
    State(options): State<LeptosOptions>,
    Path(token): Path<String>,
) -> Result<Response, RouteError> {
    let shared = open_link(&state, &token)
        .await
        .map_err(|err| RouteError::internal("opening a share link", err))?;
    let stylesheet = format!("/{}/kinema.css", options.site_pkg_dir);
    let (status, body) = match shared {
        // `open_link` only finds URL-safe tokens, so the token is safe in an attribute as it is.
        Some(shared) => (StatusCode::OK, player(&token, &shared)),
        None => (StatusCode::NOT_FOUND, stopped()),
    };
    let media_origin = state.storage().result_origin();
    let mut response = (status, Html(document(&stylesheet, &body))).into_response();
    let headers = response.headers_mut();
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'{}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        media_origin
            .map(|origin| format!(" {origin}"))
            .unwrap_or_default()
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    private_answer(headers);
    Ok(response)
}

/// `GET /s/{token}/video.mp4`: the shared result, with Range; 404 once the link stopped.
pub async fn video(
    Extension(state): Extension<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Result<Response, RouteError> {
    let shared = open_link(&state, &token)
        .await
        .map_err(|err| RouteError::internal("opening a share link", err))?
        .ok_or_else(|| RouteError::new(StatusCode::NOT_FOUND, LINK_STOPPED))?;
    let mut response = serve_result(&state, &shared.result_key, request).await?;
    private_answer(response.headers_mut());
    Ok(response)
}

/// Nothing keeps a copy (revoking must stop the link at once), the link never leaks through
/// the `Referer`, and search engines leave it alone.
fn private_answer(headers: &mut axum::http::HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
}

fn player(token: &str, shared: &SharedResult) -> String {
    let video = format!("/s/{token}/video.mp4");
    let length = shared
        .output_seconds
        .map(|seconds| format!("{seconds} s · "))
        .unwrap_or_default();
    let until = match shared.expires_at {
        Some(at) => format!("This link works until {}.", utc_datetime(at)),
        None => "This link works until it is revoked.".to_string(),
    };
    format!(
        "<h1>Shared video</h1>\
         <video class=\"result\" controls preload=\"metadata\" playsinline src=\"{video}\" \
         aria-label=\"Shared video\"></video>\
         <p><a href=\"{video}\" download=\"kinema-video.mp4\">Download</a></p>\
         <p class=\"hint\">{length}{until}</p>"
    )
}

fn stopped() -> String {
    format!(
        "<h1>Link not available</h1><p role=\"alert\">{LINK_STOPPED}</p>\
         <p class=\"hint\">Ask the person who shared it for a new link.</p>"
    )
}

fn document(stylesheet: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <title>{SHARED_TITLE}</title><link rel=\"stylesheet\" href=\"{stylesheet}\"></head>\
         <body><header class=\"top\"><span class=\"brand\">Kinema</span></header>\
         <main><section class=\"card shared\">{body}</section></main></body></html>"
    )
}
