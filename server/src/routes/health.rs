//! Liveness and readiness probes.

use axum::{http::StatusCode, response::IntoResponse, Extension};

use app::backend::AppState;

/// How long readiness waits for the media storage to answer.
const STORAGE_CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

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
    let storage = tokio::time::timeout(STORAGE_CHECK_LIMIT, state.storage().check_ready()).await;
    if let Err(err) = storage
        .map_err(|_| "no answer in time".to_string())
        .and_then(|checked| checked.map_err(|err| err.to_string()))
    {
        tracing::warn!(error = %err, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the media storage is unreachable".to_string(),
        );
    }
    (StatusCode::OK, "ready".to_string())
}
