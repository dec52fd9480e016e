//! `POST /api/uploads?purpose=…&name=…` streams a file into storage (constant memory; the body is
//! the raw file), `GET /api/uploads/{id}/file` serves it to its owner with Range support, and
//! `GET /api/elements/{id}/preview` serves an element's reference file to the whole team.

use axum::{
    extract::{rejection::QueryRejection, Path, Query, Request},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::Deserialize;

use app::backend::{
    store::UploadRecord,
    uploads::{check_declared_length, receive, UploadError},
    AppState,
};
use app::model::UploadPurpose;

use super::{objects::serve_object, RequireUser, RouteError};

/// Query of the upload route.
#[derive(Deserialize)]
pub struct UploadQuery {
    purpose: String,
    #[serde(default)]
    name: String,
}

const UNKNOWN_PURPOSE: &str = "Unknown upload purpose; use character_image or motion_video.";

/// Receives one file for the signed-in member.
pub async fn upload(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
    query: Result<Query<UploadQuery>, QueryRejection>,
    request: Request,
) -> Result<Response, RouteError> {
    let Ok(Query(query)) = query else {
        return Err(RouteError::new(StatusCode::BAD_REQUEST, UNKNOWN_PURPOSE));
    };
    let Some(purpose) = UploadPurpose::parse(&query.purpose) else {
        return Err(RouteError::new(StatusCode::BAD_REQUEST, UNKNOWN_PURPOSE));
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Err(err) = check_declared_length(purpose, declared) {
        return Err(RouteError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            err.to_string(),
        ));
    }
    let body = request.into_body().into_data_stream();
    let received = receive(&state, &user, purpose, &query.name, declared, body).await;
    state.metrics().upload(
        purpose.as_str(),
        received.as_ref().ok().map(|view| view.bytes),
    );
    match received {
        Ok(view) => Ok((StatusCode::CREATED, Json(view)).into_response()),
        Err(UploadError::TooLarge(message) | UploadError::QuotaFull(message)) => {
            Err(RouteError::new(StatusCode::PAYLOAD_TOO_LARGE, message))
        }
        Err(UploadError::Refused(message)) => {
            Err(RouteError::new(StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        Err(UploadError::Interrupted) => Err(RouteError::new(
            StatusCode::BAD_REQUEST,
            "The upload was interrupted.",
        )),
        Err(UploadError::Backend(err)) => {
            tracing::error!(error = %err, "storing an upload failed");
            Err(RouteError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The upload could not be stored. Try again; if it keeps failing, tell your admin.",
            ))
        }
    }
}

/// Serves an upload to its owner; anyone else gets 404.
pub async fn file(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, RouteError> {
    match state.store().upload_of_owner(&id, user.id).await {
        Ok(Some(upload)) => serve_upload(&state, &upload, request).await,
        Ok(None) => Err(RouteError::not_found()),
        Err(err) => Err(RouteError::internal("loading an upload", err)),
    }
}

/// `GET /api/elements/{id}/preview`: an element's reference video or frontal image, to every
/// signed-in member (the library is the team's) while it is in the library.
pub async fn element_preview(
    Extension(state): Extension<AppState>,
    _member: RequireUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, RouteError> {
    let upload = match state.store().element_by_id(&id).await {
        Ok(Some(element)) => state.store().upload_by_id(&element.preview_upload_id).await,
        Ok(None) => Ok(None),
        Err(err) => Err(err),
    };
    match upload {
        Ok(Some(upload)) => serve_upload(&state, &upload, request).await,
        Ok(None) => Err(RouteError::not_found()),
        Err(err) => Err(RouteError::internal("loading an element preview", err)),
    }
}

async fn serve_upload(
    state: &AppState,
    upload: &UploadRecord,
    request: Request,
) -> Result<Response, RouteError> {
    serve_object(state, &upload.storage_key, upload.mime_type(), request).await
}
