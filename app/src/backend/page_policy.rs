//! The Content-Security-Policy of every page: scripts only from Kinema itself plus the inline
//! hydration and streaming scripts Leptos marks with this response's nonce; WebAssembly may be
//! compiled; styles, fetches (server functions, live updates) and media only from Kinema, plus
//! `blob:` images and videos for local previews of chosen files, and the bucket's origin when
//! results are played from presigned URLs.

use axum::http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The policy for a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    page_policy_with_media(nonce, None)
}

/// The policy for a page rendered with `nonce` whose videos may also load from
/// `media_origin` (the bucket, when results redirect to presigned URLs).
pub fn page_policy_with_media(nonce: &str, media_origin: Option<&str>) -> String {
    let media = media_origin
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' blob:; media-src 'self' blob:{media}; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sends the page policy with the nonce Leptos uses for this response; call while rendering
/// the page's shell (the headers go out with its first part).
pub fn send_page_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        tracing::warn!("no nonce while rendering a page; it is sent without a CSP");
        return;
    };
    let Some(response) = use_context::<ResponseOptions>() else {
        return;
    };
    let state = super::context::state().ok();
    let media_origin = state
        .as_ref()
        .and_then(|state| state.storage().result_origin());
    if let Ok(value) = HeaderValue::from_str(&page_policy_with_media(&nonce, media_origin)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
