//! Kinema's tasks, budgets and uploads in EvoLink's response shapes (`docs/upstream.md` §2–§3),
//! with Kinema's task id and, for results, a signed expiring link to Kinema's archived copy.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::backend::{evolink::wire, store::TaskRecord, store::UserRecord, AppState};
use crate::model::UploadView;
use crate::rules::vocab::{TaskKind, TaskState};

use super::{inputs::file_url, GatewayError};

/// How long a result link works.
pub const RESULT_URL_LIFETIME_SECS: i64 = 24 * 3600;

fn mac(state: &AppState, task_id: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(state.storage().signing_key())
        .expect("HMAC takes any key length");
    mac.update(format!("result:{task_id}:{expires}").as_bytes());
    mac
}

/// A signed link to a task's archived result, valid until `expires` (unix seconds).
pub fn result_url(state: &AppState, task_id: &str, expires: i64) -> String {
    let signature = hex::encode(mac(state, task_id, expires).finalize().into_bytes());
    format!(
        "{}/v1/results/{task_id}?exp={expires}&sig={signature}",
        state.public_url()
    )
}

/// True when a result link's signature matches and has not expired.
pub fn verify_result_url(state: &AppState, task_id: &str, expires: i64, signature: &str) -> bool {
    if expires < state.clock().now() {
        return false;
    }
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    mac(state, task_id, expires).verify_slice(&bytes).is_ok()
}

/// Micro-credits as credits on the wire.
fn credits(micro: i64) -> f64 {
    micro as f64 / 1_000_000.0
}

/// EvoLink's status word for a Kinema state.
fn status(state: TaskState) -> &'static str {
    match state {
        TaskState::Queued | TaskState::Submitting => "pending",
        TaskState::Running | TaskState::Archiving => "processing",
        TaskState::Completed => "completed",
        TaskState::Failed => "failed",
    }
}

fn model(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Motion => wire::MOTION_MODEL,
        TaskKind::Element => wire::ELEMENT_MODEL,
    }
}

/// A task as EvoLink's create and query answers show one. `element_id` is the library id of
/// an element task's element (given once the task completed).
pub fn task_json(state: &AppState, task: &TaskRecord, element_id: Option<&str>) -> Value {
    let done = task.state.is_final();
    let progress = match task.state {
        TaskState::Completed => 100,
        _ => task.progress.clamp(0, 99),
    };
    let mut view = json!({
        "id": task.id,
        "object": "video.generation.task",
        "created": task.created_at,
        "model": model(task.kind),
        "type": "video",
        "status": status(task.state),
        "progress": progress,
        "task_info": { "can_cancel": false },
        "usage": {
            "billing_rule": if task.kind == TaskKind::Motion { "per_second" } else { "per_call" },
            "credits_reserved": credits(task.cost_reserved),
            "user_group": "default",
        },
    });
    if let Some(seconds) = task.output_seconds {
        view["task_info"]["video_duration"] = json!(seconds);
    }
    if let Some(charged) = task.cost_final {
        view["usage"]["credits_used"] = json!(credits(charged));
    }
    match task.state {
        TaskState::Completed if task.kind == TaskKind::Motion && task.result_key.is_some() => {
            let expires = state.clock().now() + RESULT_URL_LIFETIME_SECS;
            view["results"] = json!([result_url(state, &task.id, expires)]);
        }
        TaskState::Completed => {
            if let Some(id) = element_id {
                view["result_data"] = json!({ "element_id": id });
            }
        }
        TaskState::Failed => {
            view["error"] = json!({
                "code": task.failure_code.as_deref().unwrap_or("unknown_error"),
                "message": task.failure_message.as_deref().unwrap_or("The task failed."),
                "type": "task_error",
            });
        }
        _ => {}
    }
    if done {
        view["completed_at"] = json!(task.finished_at);
    }
    view
}

/// `GET /v1/credits`: `data.token` is the member (their monthly budget), `data.user` the team.
/// Without a budget, `remaining_credits` is `null` (and for the member `unlimited_credits` is
/// true); whatever binds first limits the member, so their remaining is the smaller of both.
pub async fn credits_json(state: &AppState, user: &UserRecord) -> Result<Value, GatewayError> {
    let billing = state.billing();
    let start = billing.month_start(billing.now());
    let store = state.store();
    let (spent, _, budget) = store
        .usage_of_user(user.id, start)
        .await
        .map_err(|err| GatewayError::internal("reading usage", err))?;
    let (team_spent, team_budget) = store
        .team_spending(start)
        .await
        .map_err(|err| GatewayError::internal("reading usage", err))?;
    let member_left = budget.map(|limit| (limit - spent).max(0));
    let team_left = team_budget.map(|limit| (limit - team_spent).max(0));
    let left = match (member_left, team_left) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(json!({
        "success": true,
        "message": "",
        "data": {
            "token": {
                "remaining_credits": left.map(credits),
                "used_credits": credits(spent),
                "unlimited_credits": left.is_none(),
            },
            "user": {
                "remaining_credits": team_left.map(credits),
                "used_credits": credits(team_spent),
            },
        },
    }))
}

/// The file service's answer for a stored upload (`docs/upstream.md` §2.5).
pub fn file_json(state: &AppState, upload: &UploadView) -> Value {
    let url = file_url(state, &upload.id);
    let mime = match upload.format.as_str() {
        "jpeg" => "image/jpeg",
        "png" => "image/png",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        _ => "video/mp4",
    };
    json!({
        "success": true,
        "code": 200,
        "msg": "File uploaded successfully",
        "data": {
            "file_id": upload.id,
            "file_name": upload.name,
            "original_name": upload.name,
            "file_size": upload.bytes,
            "mime_type": mime,
            "file_url": url,
            "download_url": url,
        },
    })
}
