//! Liveness and readiness probes.

use axum::{http::StatusCode, response::IntoResponse, Extension};

use app::backend::AppState;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> impl IntoResponse {
    "ok"
}

/// `GET /readyz`: the database answers with every migration applied, and the media storage
/// (the bucket, with S3) can be reached.
pub async fn readyz(Extension(state): Extension<AppState>) -> impl IntoResponse {
    if let Err(err) = state.store().check_ready().await {
        tracing::warn!(error = %err, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database is unreachable or not migrated".to_string(),
        );
    }
    if let Err(err) = state.storage().check_ready().await {
        tracing::warn!(error = %err, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the media storage is unreachable".to_string(),
        );
    }
    (StatusCode::OK, "ready".to_string())
}
