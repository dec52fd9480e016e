//! `GET /metrics`: this instance's metrics in the Prometheus text format, for scrapers that send
//! the configured bearer token (or on a listen address of its own). Tasks by state are read from
//! the database and open live-update streams counted when scraped.

use axum::{
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};

use app::backend::AppState;

use super::event_slots::EventSlots;
use crate::config::Secret;

/// What a scrape reads, and the token it asks for.
#[derive(Clone)]
pub struct Scrape {
    pub state: AppState,
    pub slots: EventSlots,
    pub token: Option<Secret>,
}

/// A router with only `GET /metrics`.
pub fn router(scrape: Scrape) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(scrape)
}

async fn metrics(State(scrape): State<Scrape>, headers: HeaderMap) -> Response {
    if let Some(token) = &scrape.token {
        if !bearer_matches(&headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "A metrics token is required.",
            )
                .into_response();
        }
    }
    let metrics = scrape.state.metrics();
    match scrape.state.store().count_tasks_by_state().await {
        Ok(counts) => metrics.set_tasks_by_state(&counts),
        // The other figures are still worth having; the gauge keeps its last values.
        Err(err) => tracing::warn!(error = %err, "counting tasks for /metrics failed"),
    }
    metrics.set_sse_connections(scrape.slots.open_count());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

/// True when the request carries `Authorization: Bearer <token>`; compares digests so the time
/// taken says nothing about how much of the token was right.
fn bearer_matches(headers: &HeaderMap, token: &Secret) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let wanted = Sha256::digest(token.expose().as_bytes());
    given
        .iter()
        .zip(wanted.iter())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let token = Secret::new("the-metrics-token-1");
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            bearer_matches(&headers, &token)
        };
        assert!(with("Bearer the-metrics-token-1"));
        assert!(!with("Bearer the-metrics-token-2"));
        assert!(!with("Bearer the-metrics-token"));
        assert!(!with("Basic the-metrics-token-1"));
        assert!(!bearer_matches(&HeaderMap::new(), &token));
    }
}
