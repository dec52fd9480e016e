//! The EvoLink-compatible gateway's routes for `Authorization: Bearer kin_…` callers: create,
//! task query, credits, the file service's upload route, and the signed links to archived
//! results. They sit outside the session layers: a token never opens or reads a session, and
//! a session never authorises these. Everything they decide is in `app::backend::gateway`.

use axum::{
    body::Bytes,
    extract::{
        multipart::MultipartRejection, rejection::QueryRejection, DefaultBodyLimit, Multipart,
        Path, Query, Request,
    },
    http::{header, Extensions, HeaderMap, HeaderValue, StatusCode},
    middleware::from_fn,
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use serde::Deserialize;
use serde_json::json;

use app::backend::{
    gateway::{self, Caller, Gateway, GatewayError},
    AppState,
};
use app::rules::motion_inputs::VIDEO_MAX_BYTES;

use crate::media_headers::media_headers;

/// Room for a multipart body's own framing around the largest file.
const MULTIPART_OVERHEAD: usize = 1024 * 1024;

/// The gateway's routes, with its settings.
pub fn router(settings: Gateway) -> Router {
    Router::new()
        .route("/v1/videos/generations", post(create))
        .route("/v1/tasks/{id}", get(task))
        .route("/v1/credits", get(credits))
        .route(
            "/api/v1/files/upload/stream",
            post(upload_stream).layer(DefaultBodyLimit::max(
                VIDEO_MAX_BYTES as usize + MULTIPART_OVERHEAD,
            )),
        )
        .route(
            "/v1/results/{id}",
            get(result).layer(from_fn(media_headers)),
        )
        .layer(Extension(settings))
}

/// A gateway error as an HTTP answer in EvoLink's error shape.
struct Refusal(GatewayError);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.0.body())).into_response();
        if let Some(wait) = self.0.retry_after {
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<GatewayError> for Refusal {
    fn from(err: GatewayError) -> Self {
        Refusal(err)
    }
}

async fn authorise(
    state: &AppState,
    settings: &Gateway,
    headers: &HeaderMap,
) -> Result<Caller, Refusal> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    Ok(gateway::caller(state, settings, authorization).await?)
}

/// `POST /v1/videos/generations`.
async fn create(
    Extension(state): Extension<AppState>,
    Extension(settings): Extension<Gateway>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Refusal> {
    let caller = authorise(&state, &settings, &headers).await?;
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    let origin = super::origin(&extensions);
    Ok(Json(
        gateway::create(&state, &settings, &caller, &origin, key, &body).await?,
    ))
}

/// `GET /v1/tasks/{id}`.
async fn task(
    Extension(state): Extension<AppState>,
    Extension(settings): Extension<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Refusal> {
    let caller = authorise(&state, &settings, &headers).await?;
    Ok(Json(gateway::task(&state, &caller, &id).await?))
}

/// `GET /v1/credits`.
async fn credits(
    Extension(state): Extension<AppState>,
    Extension(settings): Extension<Gateway>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, Refusal> {
    let caller = authorise(&state, &settings, &headers).await?;
    Ok(Json(gateway::credits_json(&state, &caller.user).await?))
}

/// The file service's own failure shape (`docs/upstream.md` §6).
fn file_failure(err: GatewayError) -> Response {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({ "success": false, "code": err.status, "msg": err.message })),
    )
        .into_response()
}

/// `POST /api/v1/files/upload/stream`: multipart with the file in part `file` (and an optional
/// `file_name` before it); other parts are ignored.
async fn upload_stream(
    Extension(state): Extension<AppState>,
    Extension(settings): Extension<Gateway>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let caller = match authorise(&state, &settings, &headers).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let Ok(mut multipart) = multipart else {
        return file_failure(GatewayError::invalid(
            "Send the file as multipart/form-data in a part named 'file'.",
        ));
    };
    let mut name = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return file_failure(GatewayError::invalid(
                    "The multipart body could not be read.",
                ))
            }
        };
        match field.name() {
            Some("file_name") => {
                name = field.text().await.unwrap_or_default();
            }
            Some("file") => {
                if name.trim().is_empty() {
                    name = field.file_name().unwrap_or_default().to_string();
                }
                return match gateway::upload_stream(&state, &caller, &name, field).await {
                    Ok(answer) => Json(answer).into_response(),
                    Err(err) if err.status == 401 || err.status == 429 => {
                        Refusal(err).into_response()
                    }
                    Err(err) => file_failure(err),
                };
            }
            _ => {}
        }
    }
    file_failure(GatewayError::invalid_param(
        "The request has no part named 'file'.",
        "file",
    ))
}

/// Query of a signed result link.
#[derive(Deserialize)]
struct Signature {
    exp: i64,
    sig: String,
}

/// `GET /v1/results/{id}?exp=…&sig=…`: a task's archived result while the link is valid.
async fn result(
    Extension(state): Extension<AppState>,
    Path(id): Path<String>,
    signature: Result<Query<Signature>, QueryRejection>,
    request: Request,
) -> Response {
    let valid = signature
        .is_ok_and(|Query(sig)| gateway::verify_result_url(&state, &id, sig.exp, &sig.sig));
    if !valid {
        return Refusal(GatewayError {
            status: 403,
            code: "permission_denied",
            kind: "invalid_request_error",
            message: "This link is invalid or has expired; ask for the task again for a fresh one."
                .into(),
            param: None,
            retry_after: None,
        })
        .into_response();
    }
    let key = match state.store().task_by_id(&id).await {
        Ok(Some(task)) if task.deleted_at.is_none() => task.result_key,
        Ok(_) => None,
        Err(err) => {
            return Refusal(GatewayError::internal("loading a task", err)).into_response();
        }
    };
    let Some(key) = key else {
        return Refusal(GatewayError::task_not_found()).into_response();
    };
    match super::objects::serve_result(&state, &key, request).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}
