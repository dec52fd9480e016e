//! Task routes that are not server functions: the archived result (owner only, with Range), the
//! signed `/media` URLs the upstream fetches inputs from, and EvoLink callbacks.

use axum::{
    extract::{Path, Query, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
    Extension,
};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use app::backend::{
    context::CurrentUser,
    tasks::{verify_media_signature, wake_from_callback},
    AppState,
};

fn content_type(value: &str) -> mime::Mime {
    value.parse().expect("static mime types parse")
}

async fn serve(path: std::path::PathBuf, mime: &mime::Mime, request: Request) -> Response {
    match ServeFile::new_with_mime(path, mime).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "serving a file failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /api/tasks/{id}/result`: the archived result, to its owner only.
pub async fn result(
    Extension(state): Extension<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let Some(user) = user else {
        return (StatusCode::UNAUTHORIZED, "Please sign in.").into_response();
    };
    let task = match state.store().task_of_owner(&id, user.id).await {
        Ok(Some(task)) => task,
        Ok(None) => return (StatusCode::NOT_FOUND, "Not found.").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "loading a task failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(path) = task
        .result_key
        .as_deref()
        .and_then(|key| state.storage().object_path(key).ok())
    else {
        return (StatusCode::NOT_FOUND, "The result is not saved yet.").into_response();
    };
    serve(path, &content_type("video/mp4"), request).await
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
    Query(signature): Query<Signature>,
    request: Request,
) -> Response {
    if !verify_media_signature(&state, &id, signature.exp, &signature.sig) {
        return (
            StatusCode::FORBIDDEN,
            "This link is invalid or has expired.",
        )
            .into_response();
    }
    let upload = match state.store().upload_by_id(&id).await {
        Ok(Some(upload)) => upload,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "loading an upload failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(path) = state.storage().object_path(&upload.storage_key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    serve(path, &content_type(upload.mime_type()), request).await
}

/// `POST /hooks/evolink/{id}/{token}`: a hint that the task changed. The body is ignored; the
/// worker re-reads the task from EvoLink. Duplicates are harmless.
pub async fn evolink_callback(
    Extension(state): Extension<AppState>,
    Path((id, token)): Path<(String, String)>,
) -> Response {
    match wake_from_callback(&state, &id, &token).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "handling a callback failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
