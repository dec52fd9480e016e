//! Liveness and readiness probes.

use axum::{http::StatusCode, response::IntoResponse, Extension};

use app::backend::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    "ok"
}

/// `GET /readyz`: the database answers and every migration is applied.
pub async fn readyz(Extension(state): Extension<AppState>) -> impl IntoResponse {
    match state.store().check_ready().await {
        Ok(()) => (StatusCode::OK, "ready".to_string()),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database is unreachable or not migrated".to_string(),
            )
        }
    }
}
