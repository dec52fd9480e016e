//! The generation API: create, task query, credits.

use std::time::{Duration, Instant};

use axum::{
    extract::{Path, State},
    http::{
        header::{AUTHORIZATION, RETRY_AFTER},
        HeaderMap, HeaderValue, StatusCode,
    },
    response::{IntoResponse, Response},
    Json,
};
use bytes::Bytes;
use rand::{distributions::Alphanumeric, Rng};
use serde_json::{json, Value};

use crate::{
    callbacks, clock, media,
    pricing::{self, Facing, Resolution},
    reported::Reported,
    state::{documented_error, error_body, Outcome, SimState, SimTask, StoredBlob},
    validate,
};

const MOTION_MODEL: &str = "kling-v3-motion-control";
const ELEMENT_MODEL: &str = "kling-custom-element";

fn answer(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(body),
    )
        .into_response()
}

/// Applies the slow and malformed faults; `Some` is the answer to give instead.
async fn common_faults(state: &SimState) -> Option<Response> {
    let (slow, malformed) = {
        let mut data = state.data();
        let malformed = data.faults.malformed_next > 0;
        if malformed {
            data.faults.malformed_next -= 1;
        }
        (data.faults.slow_ms, malformed)
    };
    if slow > 0 {
        tokio::time::sleep(Duration::from_millis(slow)).await;
    }
    malformed.then(|| {
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"id\": \"task-unified-",
        )
            .into_response()
    })
}

fn authorized(state: &SimState, headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key == state.config.api_key)
}

/// The documented 401 when the key is missing or wrong.
pub fn key_refusal(state: &SimState, headers: &HeaderMap) -> Option<Response> {
    (!authorized(state, headers)).then(|| answer(401, documented_error(401)))
}

/// `POST /v1/videos/generations`.
pub async fn create(State(state): State<SimState>, headers: HeaderMap, body: Bytes) -> Response {
    state.data().stats.creates += 1;
    if let Some(refusal) = key_refusal(&state, &headers) {
        return refusal;
    }
    if let Some(response) = common_faults(&state).await {
        return response;
    }
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|key| !key.is_empty());
    if let Some(replay) = idempotency_key
        .as_deref()
        .and_then(|key| replay(&state, key))
    {
        return replay;
    }
    {
        let mut data = state.data();
        if data.faults.fail_next_creates > 0 {
            data.faults.fail_next_creates -= 1;
            let status = data.faults.fail_create_status.max(400);
            let body = data
                .faults
                .fail_create_body
                .clone()
                .unwrap_or_else(|| documented_error(status));
            return answer(status, body);
        }
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            400,
            error_body(
                "invalid_request",
                "Request body must be JSON",
                "invalid_request_error",
                None,
            ),
        );
    };
    state.data().stats.last_create_body = Some(body.clone());
    let planned = match body.get("model").and_then(Value::as_str) {
        Some(MOTION_MODEL) => plan_motion(&state, &body).await,
        Some(ELEMENT_MODEL) => plan_element(&state, &body).await,
        Some(other) => Err((
            400,
            error_body(
                "invalid_request",
                &format!("Unsupported model: {other}"),
                "invalid_request_error",
                Some("model"),
            ),
        )),
        None => Err((
            400,
            error_body(
                "invalid_request",
                "model is required",
                "invalid_request_error",
                Some("model"),
            ),
        )),
    };
    let mut task = match planned {
        Ok(task) => task,
        Err((status, body)) => return answer(status, body),
    };
    task.reported = Reported::from_faults(&state.data().faults);
    if task.credits_reserved > state.remaining() {
        return answer(402, documented_error(402));
    }
    let delay = {
        let mut data = state.data();
        if let Some(key) = &idempotency_key {
            if data.idempotency_keys.contains_key(key) {
                // A concurrent create with the same key won the race.
                drop(data);
                return replay(&state, key).unwrap_or_else(|| answer(500, Value::Null));
            }
            data.idempotency_keys.insert(key.clone(), task.id.clone());
        }
        data.stats.tasks_created += 1;
        data.stats.balance_used += task.credits_reserved;
        data.tasks.insert(task.id.clone(), task.clone());
        data.faults.create_delay_ms
    };
    tokio::spawn(drive(state.clone(), task.id.clone()));
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let view = task_view(&state, &task);
    answer(200, view)
}

/// The answer to a create whose `Idempotency-Key` already made a task: that task, at once.
fn replay(state: &SimState, key: &str) -> Option<Response> {
    let task = {
        let mut data = state.data();
        let id = data.idempotency_keys.get(key).cloned()?;
        let task = data.tasks.get(&id).cloned()?;
        data.stats.idempotent_replays += 1;
        task
    };
    Some(answer(200, task_view(state, &task)))
}

fn new_task_id() -> String {
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    format!("task-unified-{}-{suffix}", clock::unix_seconds())
}

/// Downloads an input like the real service does; `Err` is the task error it causes.
async fn fetch(state: &SimState, url: &str, kind: &str) -> Result<Bytes, (String, String)> {
    let code = if kind == "image" {
        "image_processing_error"
    } else {
        "invalid_parameters"
    };
    let failure = |why: String| (code.to_string(), why);
    let response = state
        .http
        .get(url)
        .send()
        .await
        .map_err(|_| failure(format!("The {kind} could not be downloaded.")))?;
    if !response.status().is_success() {
        return Err(failure(format!(
            "The {kind} could not be downloaded (HTTP {}).",
            response.status().as_u16()
        )));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|_| failure(format!("The {kind} download broke off.")))?;
    let valid = if kind == "image" {
        media::is_image(&bytes)
    } else {
        media::is_video(&bytes)
    };
    if !valid {
        return Err(failure(format!("The {kind} is not a valid {kind} file.")));
    }
    Ok(bytes)
}

fn planned_failure(state: &SimState) -> Option<(String, String)> {
    let mut data = state.data();
    if data.faults.fail_next_tasks == 0 {
        return None;
    }
    data.faults.fail_next_tasks -= 1;
    let code = data
        .faults
        .task_error_code
        .clone()
        .unwrap_or_else(|| "service_error".into());
    let message = data
        .faults
        .task_error_message
        .clone()
        .unwrap_or_else(|| format!("Simulated failure: {code}"));
    Some((code, message))
}

/// The next task's run time: the configured one, or an hour for a stalled task.
fn planned_duration(state: &SimState) -> std::time::Duration {
    let mut data = state.data();
    if data.faults.stall_next_tasks == 0 {
        return state.config.task_duration;
    }
    data.faults.stall_next_tasks -= 1;
    std::time::Duration::from_secs(3600)
}

async fn plan_motion(state: &SimState, body: &Value) -> Result<SimTask, validate::Refusal> {
    let input = validate::motion(body)?;
    let facing = Facing::from_wire(&input.orientation);
    let resolution = Resolution::from_wire(&input.quality);
    let id = new_task_id();
    let image = fetch(state, &input.image_url, "image").await;
    let video = fetch(state, &input.video_url, "video").await;
    let duration_ms = video
        .as_ref()
        .ok()
        .and_then(|bytes| media::mp4_duration_ms(bytes))
        .unwrap_or(u64::from(facing.longest_seconds()) * 1000);
    let seconds = state
        .data()
        .faults
        .output_seconds
        .unwrap_or_else(|| pricing::charged_seconds(duration_ms, facing));
    let too_long = duration_ms > u64::from(facing.longest_seconds()) * 1000 + 500;
    let outcome = match (&image, &video) {
        (Err((code, message)), _) | (_, Err((code, message))) => Outcome::Failed {
            code: code.clone(),
            message: message.clone(),
        },
        _ if too_long => Outcome::Failed {
            code: "invalid_parameters".into(),
            message: format!(
                "The reference video is longer than {} s allowed for character_orientation {}.",
                facing.longest_seconds(),
                facing.wire()
            ),
        },
        _ => match planned_failure(state) {
            Some((code, message)) => Outcome::Failed { code, message },
            None => Outcome::Completed,
        },
    };
    if let (Outcome::Completed, Ok(video)) = (&outcome, video) {
        let expires_at = Instant::now() + state.config.task_duration + state.config.result_ttl;
        state.data().results.insert(
            id.clone(),
            StoredBlob {
                bytes: video,
                content_type: "video/mp4".into(),
                expires_at,
            },
        );
    }
    Ok(SimTask {
        id,
        model: MOTION_MODEL.into(),
        created_unix: clock::unix_seconds(),
        started: Instant::now(),
        finished: false,
        outcome,
        callback_url: input.callback_url,
        credits_reserved: pricing::reserved_credits(seconds, resolution),
        billing_rule: "per_second",
        video_duration: Some(seconds),
        estimated_time: state.config.task_duration.as_secs().max(1),
        duration: planned_duration(state),
        element_id: None,
        element_id_location: String::new(),
        reported: Reported::default(),
    })
}

async fn plan_element(state: &SimState, body: &Value) -> Result<SimTask, validate::Refusal> {
    let input = validate::element(body)?;
    let mut outcome = Outcome::Completed;
    for (url, kind) in &input.input_urls {
        if let Err((code, message)) = fetch(state, url, kind).await {
            outcome = Outcome::Failed { code, message };
            break;
        }
    }
    if outcome == Outcome::Completed {
        if let Some((code, message)) = planned_failure(state) {
            outcome = Outcome::Failed { code, message };
        }
    }
    let element_id = format!(
        "8{:017}",
        rand::thread_rng().gen_range(0..100_000_000_000_000_000u64)
    );
    let location = state
        .data()
        .faults
        .element_id_location
        .clone()
        .unwrap_or_else(|| "result_data".into());
    Ok(SimTask {
        id: new_task_id(),
        model: ELEMENT_MODEL.into(),
        created_unix: clock::unix_seconds(),
        started: Instant::now(),
        finished: false,
        outcome,
        callback_url: input.callback_url,
        credits_reserved: pricing::ELEMENT_CREDITS,
        billing_rule: "per_call",
        video_duration: None,
        estimated_time: state.config.task_duration.as_secs().max(1),
        duration: planned_duration(state),
        element_id: Some(element_id),
        element_id_location: location,
        reported: Reported::default(),
    })
}

/// Moves a task to its final state after the configured time, refunds a failure, sends callbacks.
async fn drive(state: SimState, task_id: String) {
    let duration = state
        .data()
        .tasks
        .get(&task_id)
        .map(|task| task.duration)
        .unwrap_or(state.config.task_duration);
    tokio::time::sleep(duration).await;
    let task = {
        let mut data = state.data();
        let Some(task) = data.tasks.get_mut(&task_id) else {
            return;
        };
        task.finished = true;
        let task = task.clone();
        let finished_ms = clock::unix_millis();
        data.stats
            .finished_at_ms
            .insert(task.id.clone(), finished_ms);
        if matches!(task.outcome, Outcome::Failed { .. }) {
            data.stats.balance_used -= task.credits_reserved;
        }
        task
    };
    if let Some(url) = task.callback_url.clone() {
        let body = task_view(&state, &task);
        callbacks::deliver(state.clone(), task.id.clone(), url, body).await;
    }
}

/// Adds `count` motion tasks (720p, 5 s) that started now and finish after `duration`, as if
/// created through the API (no create is counted); returns their ids.
pub fn seed_tasks(state: &SimState, count: usize, duration: Duration) -> Vec<String> {
    let seconds = 5;
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let task = SimTask {
            id: new_task_id(),
            model: MOTION_MODEL.into(),
            created_unix: clock::unix_seconds(),
            started: Instant::now(),
            finished: false,
            outcome: Outcome::Completed,
            callback_url: None,
            credits_reserved: pricing::reserved_credits(seconds, Resolution::from_wire("720p")),
            billing_rule: "per_second",
            video_duration: Some(seconds),
            estimated_time: duration.as_secs().max(1),
            duration,
            element_id: None,
            element_id_location: String::new(),
            reported: Reported::default(),
        };
        ids.push(task.id.clone());
        state.data().tasks.insert(task.id.clone(), task);
        tokio::spawn(drive(state.clone(), ids[ids.len() - 1].clone()));
    }
    ids
}

/// The task as the query endpoint (and callbacks) show it.
pub fn task_view(state: &SimState, task: &SimTask) -> Value {
    let elapsed = task.started.elapsed().as_secs_f64();
    let total = task.duration.as_secs_f64().max(0.001);
    let (status, progress) = if task.finished {
        match task.outcome {
            Outcome::Completed => ("completed", 100),
            Outcome::Failed { .. } => ("failed", 0),
        }
    } else if elapsed < total * 0.1 {
        ("pending", 0)
    } else {
        (
            "processing",
            ((elapsed / total) * 100.0).clamp(1.0, 99.0) as u64,
        )
    };
    let mut view = json!({
        "created": task.created_unix,
        "id": task.id,
        "model": task.model,
        "object": "video.generation.task",
        "progress": progress,
        "status": status,
        "type": "video",
        "task_info": { "can_cancel": !task.finished, "estimated_time": task.estimated_time },
        "usage": {
            "billing_rule": task.billing_rule,
            "credits_reserved": task.credits_reserved,
            "user_group": "default"
        }
    });
    if let Some(duration) = task.video_duration {
        view["task_info"]["video_duration"] = json!(duration);
    }
    if task.finished {
        match &task.outcome {
            Outcome::Completed if task.model == MOTION_MODEL => {
                view["results"] = json!([format!("{}/results/{}.mp4", state.base_url, task.id)]);
            }
            Outcome::Completed => {
                let id = task.element_id.clone().unwrap_or_default();
                match task.element_id_location.as_str() {
                    "elements" => {
                        view["result_data"] = json!({ "elements": [{ "element_id": id }] })
                    }
                    "results" => view["results"] = json!([id]),
                    _ => view["result_data"] = json!({ "element_id": id }),
                }
            }
            Outcome::Failed { code, message } => {
                view["error"] = json!({ "code": code, "message": message, "type": "task_error" });
            }
        }
    }
    task.reported.apply(&mut view);
    view
}

/// Answers a read with a burst error when one is armed.
fn read_burst(state: &SimState) -> Option<Response> {
    let mut data = state.data();
    if data.faults.read_error_burst == 0 {
        return None;
    }
    data.faults.read_error_burst -= 1;
    let status = data.faults.read_error_status.max(429);
    let mut body = documented_error(status);
    if status == 429 {
        body["error"]["type"] = json!("evo_api_error");
    }
    let mut response = answer(status, body);
    if let Some(wait) = data
        .faults
        .read_error_retry_after
        .as_deref()
        .and_then(|w| HeaderValue::from_str(w).ok())
    {
        response.headers_mut().insert(RETRY_AFTER, wait);
    }
    Some(response)
}

/// `GET /v1/tasks/{task_id}`.
pub async fn get_task(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(task_id): Path<String>,
) -> Response {
    state.data().stats.task_queries += 1;
    if let Some(refusal) = key_refusal(&state, &headers) {
        return refusal;
    }
    if let Some(response) = common_faults(&state).await {
        return response;
    }
    if let Some(response) = read_burst(&state) {
        return response;
    }
    if !task_id.starts_with("task-unified-") {
        return answer(
            400,
            error_body(
                "invalid_task_id",
                "Invalid task ID format",
                "invalid_request_error",
                Some("task_id"),
            ),
        );
    }
    let task = {
        let mut data = state.data();
        let task = data.tasks.get(&task_id).cloned();
        if task.is_some() {
            data.load.task_read(&task_id, clock::unix_millis());
        }
        task
    };
    match task {
        Some(task) => answer(200, task_view(&state, &task)),
        None => answer(404, documented_error(404)),
    }
}

/// `GET /v1/credits`.
pub async fn credits(State(state): State<SimState>, headers: HeaderMap) -> Response {
    state.data().stats.credits_queries += 1;
    if let Some(refusal) = key_refusal(&state, &headers) {
        return refusal;
    }
    if let Some(response) = common_faults(&state).await {
        return response;
    }
    if let Some(response) = read_burst(&state) {
        return response;
    }
    let used = state.data().stats.balance_used;
    let remaining = state.config.starting_balance - used;
    answer(
        200,
        json!({
            "success": true,
            "message": "",
            "data": {
                "token": { "remaining_credits": remaining, "unlimited_credits": false, "used_credits": used },
                "user": { "remaining_credits": remaining, "used_credits": used }
            }
        }),
    )
}
