//! The file service: stream upload, serving uploaded files and results, quota.

use std::time::{Duration, Instant};

use axum::{
    extract::{Multipart, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use bytes::Bytes;
use futures_util::StreamExt;
use rand::{distributions::Alphanumeric, Rng};
use serde_json::json;

use crate::{
    api::key_refusal,
    clock,
    state::{SimState, StoredBlob},
};

const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
const MAX_FILES: usize = 2000;

fn failure(status: u16, msg: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(json!({ "success": false, "code": status, "msg": msg })),
    )
        .into_response()
}

/// `POST /api/v1/files/upload/stream`.
pub async fn upload_stream(
    State(state): State<SimState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    if let Some(refusal) = key_refusal(&state, &headers) {
        return refusal;
    }
    if state.data().faults.fail_uploads {
        return failure(503, "File service unavailable");
    }
    let mut file: Option<(String, String, bytes::Bytes)> = None;
    let mut upload_path = "uploads".to_string();
    let mut file_name: Option<String> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return failure(400, "Malformed multipart body"),
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let original = field.file_name().unwrap_or("file").to_string();
                let mime = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                match field.bytes().await {
                    Ok(bytes) => file = Some((original, mime, bytes)),
                    Err(_) => return failure(413, "File too large or upload broke off"),
                }
            }
            "upload_path" | "uploadPath" => upload_path = field.text().await.unwrap_or_default(),
            "file_name" | "fileName" => file_name = field.text().await.ok(),
            _ => {}
        }
    }
    let Some((original, mime, bytes)) = file else {
        return failure(400, "file is required");
    };
    if !(mime.starts_with("image/") || mime.starts_with("video/") || mime.starts_with("audio/")) {
        return failure(400, &format!("Unsupported file type: {mime}"));
    }
    if bytes.len() > MAX_FILE_BYTES {
        return failure(413, "File exceeds 100 MB");
    }
    let file_id = format!(
        "file_{}",
        rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(10)
            .map(char::from)
            .collect::<String>()
            .to_lowercase()
    );
    let name = file_name.unwrap_or_else(|| original.clone());
    let safe_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let upload_path: String = upload_path
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let key = format!("{upload_path}/{file_id}-{safe_name}");
    let size = bytes.len();
    {
        let mut data = state.data();
        if data.files.len() >= MAX_FILES {
            return failure(403, "File quota exhausted");
        }
        data.stats.uploads += 1;
        data.files.insert(
            key.clone(),
            StoredBlob {
                bytes,
                content_type: mime.clone(),
                expires_at: Instant::now() + state.config.file_ttl,
            },
        );
    }
    let now = clock::unix_seconds();
    Json(json!({
        "success": true,
        "code": 200,
        "msg": "File uploaded successfully",
        "data": {
            "file_id": file_id,
            "file_name": safe_name,
            "original_name": original,
            "file_size": size,
            "mime_type": mime,
            "upload_path": upload_path,
            "file_url": format!("{}/files/{key}", state.base_url),
            "download_url": format!("{}/files/{key}", state.base_url),
            "upload_time": clock::file_service_time(now),
            "expires_at": clock::file_service_time(now + state.config.file_ttl.as_secs() as i64),
        }
    }))
    .into_response()
}

/// `GET /api/v1/files/quota`.
pub async fn quota(State(state): State<SimState>, headers: HeaderMap) -> Response {
    if let Some(refusal) = key_refusal(&state, &headers) {
        return refusal;
    }
    let used = state.data().files.len();
    Json(json!({
        "success": true,
        "code": 200,
        "data": {
            "user_group": "default",
            "used_files": used,
            "max_files": MAX_FILES,
            "remain_files": MAX_FILES - used,
            "is_custom": false,
            "quota_reason": ""
        }
    }))
    .into_response()
}

fn serve(blob: Option<StoredBlob>) -> Response {
    match blob {
        Some(blob) if blob.expires_at > Instant::now() => (
            [(header::CONTENT_TYPE, blob.content_type.clone())],
            blob.bytes,
        )
            .into_response(),
        Some(_) => (StatusCode::FORBIDDEN, "This link has expired.").into_response(),
        None => (StatusCode::NOT_FOUND, "Not found.").into_response(),
    }
}

/// `GET /files/{path}`: an uploaded file, until it expires.
pub async fn serve_file(State(state): State<SimState>, Path(path): Path<String>) -> Response {
    let blob = state.data().files.get(&path).cloned();
    serve(blob)
}

/// `GET /results/{task}.mp4`: a result video, until it expires.
pub async fn serve_result(State(state): State<SimState>, Path(file): Path<String>) -> Response {
    let (slow_ms, stall) = {
        let mut data = state.data();
        data.stats.result_downloads += 1;
        if data.faults.fail_result_downloads {
            return (StatusCode::SERVICE_UNAVAILABLE, "Try again later.").into_response();
        }
        let stall = data.faults.stall_next_result_downloads > 0;
        if stall {
            data.faults.stall_next_result_downloads -= 1;
        }
        (data.faults.slow_result_ms, stall)
    };
    let task_id = file.trim_end_matches(".mp4");
    let finished = state
        .data()
        .tasks
        .get(task_id)
        .is_some_and(|task| task.finished);
    if !finished {
        return (StatusCode::NOT_FOUND, "Not found.").into_response();
    }
    let blob = state.data().results.get(task_id).cloned();
    if stall {
        if let Some(blob) = blob {
            return stalled(&state, blob);
        }
    }
    if slow_ms > 0 {
        if let Some(blob) = blob
            .as_ref()
            .filter(|blob| blob.expires_at > Instant::now())
        {
            return trickle(blob.clone(), Duration::from_millis(slow_ms));
        }
    }
    serve(blob)
}

/// A result whose first sixteenth arrives, then nothing until the simulator stops (then the
/// body breaks off): a link that hangs mid-download.
fn stalled(state: &SimState, blob: StoredBlob) -> Response {
    let first = blob.bytes.slice(..blob.bytes.len().div_ceil(16));
    let state = state.clone();
    let broken = futures_util::stream::once(async move {
        state.stopped().await;
        Err(std::io::Error::other("the simulator stopped"))
    });
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(first)]).chain(broken);
    (
        [
            (header::CONTENT_TYPE, blob.content_type.clone()),
            (header::CONTENT_LENGTH, blob.bytes.len().to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// A result body sent in 16 pieces spread over `over`, like a slow link.
fn trickle(blob: StoredBlob, over: Duration) -> Response {
    let pieces = 16;
    let size = blob.bytes.len().div_ceil(pieces).max(1);
    let chunks: Vec<Bytes> = blob
        .bytes
        .chunks(size)
        .map(Bytes::copy_from_slice)
        .collect();
    let pause = over / pieces as u32;
    let stream = futures_util::stream::iter(chunks).then(move |chunk| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::io::Error>(chunk)
    });
    (
        [
            (header::CONTENT_TYPE, blob.content_type.clone()),
            (header::CONTENT_LENGTH, blob.bytes.len().to_string()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
