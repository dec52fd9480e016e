//! `POST /api/uploads?purpose=…&name=…` streams a file into storage (constant memory; the body is
//! the raw file), `GET /api/uploads/{id}/file` serves it to its owner with Range support, and
//! `GET /api/elements/{id}/preview` serves an element's reference file to the whole team.

use axum::{
    extract::{Path, Query, Request},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::Deserialize;
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use app::backend::{
    context::CurrentUser,
    store::UploadRecord,
    uploads::{check_declared_length, receive, UploadError},
    AppState,
};
use app::model::UploadPurpose;

/// Query of the upload route.
#[derive(Deserialize)]
pub struct UploadQuery {
    purpose: String,
    #[serde(default)]
    name: String,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Receives one file for the signed-in member.
pub async fn upload(
    Extension(state): Extension<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Response {
    let Some(user) = user else {
        return error(StatusCode::UNAUTHORIZED, "Please sign in to upload.");
    };
    let Some(purpose) = UploadPurpose::parse(&query.purpose) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Unknown upload purpose; use character_image or motion_video.",
        );
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(err) = check_declared_length(purpose, declared) {
        return error(StatusCode::PAYLOAD_TOO_LARGE, &err.to_string());
    }
    let body = request.into_body().into_data_stream();
    match receive(&state, &user, purpose, &query.name, body).await {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(UploadError::TooLarge(message)) => error(StatusCode::PAYLOAD_TOO_LARGE, &message),
        Err(UploadError::Refused(message)) => error(StatusCode::UNPROCESSABLE_ENTITY, &message),
        Err(UploadError::Interrupted) => {
            error(StatusCode::BAD_REQUEST, "The upload was interrupted.")
        }
        Err(UploadError::Backend(err)) => {
            tracing::error!(error = %err, "storing an upload failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The upload could not be stored. Try again; if it keeps failing, tell your admin.",
            )
        }
    }
}

/// Serves an upload to its owner; anyone else gets 404.
pub async fn file(
    Extension(state): Extension<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let Some(user) = user else {
        return error(StatusCode::UNAUTHORIZED, "Please sign in.");
    };
    match state.store().upload_of_owner(&id, user.id).await {
        Ok(Some(upload)) => serve_upload(&state, &upload, request).await,
        Ok(None) => error(StatusCode::NOT_FOUND, "Not found."),
        Err(err) => {
            tracing::error!(error = %err, "loading an upload failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Try again shortly.")
        }
    }
}

/// `GET /api/elements/{id}/preview`: an element's reference video or frontal image, to every
/// signed-in member (the library is the team's) while it is in the library.
pub async fn element_preview(
    Extension(state): Extension<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    if user.is_none() {
        return error(StatusCode::UNAUTHORIZED, "Please sign in.");
    }
    let upload = match state.store().element_by_id(&id).await {
        Ok(Some(element)) => state.store().upload_by_id(&element.preview_upload_id).await,
        Ok(None) => Ok(None),
        Err(err) => Err(err),
    };
    match upload {
        Ok(Some(upload)) => serve_upload(&state, &upload, request).await,
        Ok(None) => error(StatusCode::NOT_FOUND, "Not found."),
        Err(err) => {
            tracing::error!(error = %err, "loading an element preview failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Try again shortly.")
        }
    }
}

async fn serve_upload(state: &AppState, upload: &UploadRecord, request: Request) -> Response {
    let Ok(path) = state.storage().object_path(&upload.storage_key) else {
        return error(StatusCode::NOT_FOUND, "Not found.");
    };
    let mime: mime::Mime = upload.mime_type().parse().expect("static mime types parse");
    match ServeFile::new_with_mime(path, &mime).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "serving an upload failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Try again shortly.")
        }
    }
}
