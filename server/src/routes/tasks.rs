//! Task routes that are not server functions: the archived result (owner only, with Range, or a
//! redirect to a presigned URL when configured), the
//! signed `/media` URLs the upstream fetches inputs from, and EvoLink callbacks.

use axum::{
    extract::{rejection::QueryRejection, Path, Query, Request},
    http::StatusCode,
    response::Response,
    Extension,
};
use serde::Deserialize;

use app::backend::{
    audit::{self, Actor},
    tasks::{verify_media_signature, wake_from_callback},
    AppState,
};
use app::rules::audit::AuditAction;

use super::{
    objects::{serve_object, serve_result},
    RequireUser, RouteError,
};

const BAD_LINK: &str = "This link is invalid or has expired.";

/// True when a request for the result starts at its first byte: a download, or a player's
/// first request. The further Range requests a player makes while seeking are not new
/// downloads and are not recorded.
fn starts_a_download(request: &Request) -> bool {
    match request.headers().get(axum::http::header::RANGE) {
        None => true,
        Some(range) => range
            .to_str()
            .is_ok_and(|range| range.trim().starts_with("bytes=0-")),
    }
}

/// `GET /api/tasks/{id}/result`: the archived result, to its owner only. A download is
/// recorded in the audit log before the file is sent.
pub async fn result(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, RouteError> {
    let task = match state.store().task_of_owner(&id, user.id).await {
        Ok(Some(task)) => task,
        Ok(None) => return Err(RouteError::not_found()),
        Err(err) => return Err(RouteError::internal("loading a task", err)),
    };
    let Some(key) = task.result_key.as_deref() else {
        return Err(RouteError::new(
            StatusCode::NOT_FOUND,
            "The result is not saved yet.",
        ));
    };
    if starts_a_download(&request) {
        let origin = super::origin(request.extensions());
        let entry = Actor::member(&user, &origin).entry(
            AuditAction::ResultDownloaded,
            task.id.clone(),
            "",
            state.clock().now_ms(),
        );
        if let Err(err) = audit::record(&state, &entry).await {
            return Err(RouteError::internal("recording a download", err));
        }
    }
    serve_result(&state, key, request).await
}

/// Query of a signed media URL.
#[derive(Deserialize)]
pub struct Signature {
    exp: i64,
    sig: String,
}

/// `GET /media/{id}?exp=…&sig=…`: an input file for the upstream, while the signature is valid.
pub async fn signed_media(
    Extension(state): Extension<AppState>,
    Path(id): Path<String>,
    signature: Result<Query<Signature>, QueryRejection>,
    request: Request,
) -> Result<Response, RouteError> {
    let Ok(Query(signature)) = signature else {
        return Err(RouteError::forbidden(BAD_LINK));
    };
    if !verify_media_signature(&state, &id, signature.exp, &signature.sig) {
        return Err(RouteError::forbidden(BAD_LINK));
    }
    let upload = match state.store().upload_by_id(&id).await {
        Ok(Some(upload)) => upload,
        Ok(None) => return Err(RouteError::not_found()),
        Err(err) => return Err(RouteError::internal("loading an upload", err)),
    };
    serve_object(&state, &upload.storage_key, upload.mime_type(), request).await
}

/// `POST /hooks/evolink/{id}/{token}`: a hint that the task changed. The body is ignored; the
/// worker re-reads the task from EvoLink. Duplicates are harmless.
pub async fn evolink_callback(
    Extension(state): Extension<AppState>,
    Path((id, token)): Path<(String, String)>,
) -> Result<StatusCode, RouteError> {
    match wake_from_callback(&state, &id, &token).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(RouteError::not_found()),
        Err(err) => Err(RouteError::internal("handling a callback", err)),
    }
}
