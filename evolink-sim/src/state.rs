//! The simulator's memory: tasks, files, results, faults and counters.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    clock,
    load::{LoadMeter, LoadReport},
    reported::Reported,
    SimulatorConfig,
};

/// Faults to inject, set through `POST /__sim/faults` or [`crate::RunningSimulator::set_faults`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Answer the next N creates with `fail_create_status` and `fail_create_body`.
    pub fail_next_creates: u32,
    pub fail_create_status: u16,
    pub fail_create_body: Option<Value>,
    /// The next N created tasks fail with this task error code (and message).
    pub fail_next_tasks: u32,
    /// The next N created tasks never finish (they stay processing), so the client's deadline
    /// passes.
    pub stall_next_tasks: u32,
    /// Report this output length (seconds) for motion tasks instead of the input's, as when
    /// the upstream trims hard motion.
    pub output_seconds: Option<u32>,
    pub task_error_code: Option<String>,
    pub task_error_message: Option<String>,
    /// Create the task, then wait this long before answering (a client timeout then leaves the
    /// outcome unknown).
    pub create_delay_ms: u64,
    /// Answer the next N reads (task query, credits) with `read_error_status` (429 or 5xx).
    pub read_error_burst: u32,
    pub read_error_status: u16,
    /// Answer the next N API calls with broken JSON.
    pub malformed_next: u32,
    /// Delay every API answer by this much.
    pub slow_ms: u64,
    /// Send no callbacks.
    pub drop_callbacks: bool,
    /// Deliver every callback twice.
    pub duplicate_callbacks: bool,
    /// Where a completed element's id is put: `result_data` (default), `elements`, `results`.
    pub element_id_location: Option<String>,
    /// Answer file uploads with 503 while set.
    pub fail_uploads: bool,
    /// Answer result downloads with 503 while set.
    pub fail_result_downloads: bool,
    /// Stream result downloads slowly: the body arrives in 16 pieces spread over this long.
    pub slow_result_ms: u64,
    /// The next N result downloads send their headers and a first piece, then nothing more
    /// (the connection stays open until the client gives up).
    pub stall_next_result_downloads: u32,
    /// `Retry-After` sent with the read-error burst's answers (seconds or an HTTP date).
    pub read_error_retry_after: Option<String>,
    /// Tasks created while set report this `usage.credits_reserved` instead of the price
    /// table's, as when the upstream's prices changed.
    pub report_credits_reserved: Option<f64>,
    /// Tasks created while set report this raw JSON value as `task_info.video_duration`
    /// (`"NaN"`, `-3`, `1e12` …).
    pub report_video_duration: Option<Value>,
    /// Motion tasks created while set report this as their result link once completed.
    pub report_result_url: Option<String>,
}

/// Counters for tests.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SimStats {
    /// Create calls that reached the handler (accepted or not).
    pub creates: u64,
    /// Tasks created.
    pub tasks_created: u64,
    /// Creates answered with the task an earlier create with the same `Idempotency-Key` made.
    pub idempotent_replays: u64,
    /// Result downloads started (successful or not).
    pub result_downloads: u64,
    pub task_queries: u64,
    pub credits_queries: u64,
    pub uploads: u64,
    pub callback_attempts: u64,
    pub callbacks_delivered: u64,
    /// Seconds after the first attempt at which each callback attempt was made, per task.
    pub callback_attempt_offsets_ms: HashMap<String, Vec<u64>>,
    pub last_create_body: Option<Value>,
    pub balance_used: f64,
    /// When each task reached its final state (unix milliseconds).
    pub finished_at_ms: HashMap<String, u64>,
}

/// Where a simulated task stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Completed,
    Failed { code: String, message: String },
}

/// A simulated task.
#[derive(Clone, Debug)]
pub struct SimTask {
    pub id: String,
    pub model: String,
    pub created_unix: i64,
    pub started: Instant,
    pub finished: bool,
    pub outcome: Outcome,
    pub callback_url: Option<String>,
    pub credits_reserved: f64,
    pub billing_rule: &'static str,
    pub video_duration: Option<u32>,
    pub estimated_time: u64,
    /// How long this task takes to finish.
    pub duration: std::time::Duration,
    pub element_id: Option<String>,
    pub element_id_location: String,
    /// Figures reported in place of the task's own (faults armed at create).
    pub reported: Reported,
}

/// A stored file or result.
#[derive(Clone, Debug)]
pub struct StoredBlob {
    pub bytes: Bytes,
    pub content_type: String,
    pub expires_at: Instant,
}

pub struct SimData {
    pub tasks: HashMap<String, SimTask>,
    /// The task each `Idempotency-Key` made (EvoLink's own client sends one on every paid POST).
    pub idempotency_keys: HashMap<String, String>,
    pub files: HashMap<String, StoredBlob>,
    pub results: HashMap<String, StoredBlob>,
    pub faults: Faults,
    pub stats: SimStats,
    /// Requests per second and gaps between reads of each task.
    pub load: LoadMeter,
}

/// Shared simulator state.
#[derive(Clone)]
pub struct SimState {
    pub config: Arc<SimulatorConfig>,
    pub base_url: Arc<str>,
    pub http: reqwest::Client,
    data: Arc<Mutex<SimData>>,
    /// Turns true when the simulator stops, so that answers left hanging on purpose end.
    stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl SimState {
    pub fn new(config: SimulatorConfig, base_url: String) -> SimState {
        SimState {
            config: Arc::new(config),
            base_url: base_url.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            data: Arc::new(Mutex::new(SimData {
                tasks: HashMap::new(),
                idempotency_keys: HashMap::new(),
                files: HashMap::new(),
                results: HashMap::new(),
                faults: Faults::default(),
                stats: SimStats::default(),
                load: LoadMeter::default(),
            })),
            stopping: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    pub fn data(&self) -> MutexGuard<'_, SimData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells answers left hanging on purpose that the simulator stops.
    pub fn stop_hanging(&self) {
        self.stopping.send_replace(true);
    }

    /// Completes once the simulator stops.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }

    pub fn stats(&self) -> SimStats {
        self.data().stats.clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.data().faults = faults;
    }

    /// Requests per second and gaps between reads since the last reset.
    pub fn load_report(&self) -> LoadReport {
        let data = self.data();
        let running = data
            .tasks
            .values()
            .filter(|task| !task.finished)
            .map(|task| &task.id);
        data.load.report(clock::unix_millis(), running)
    }

    /// Remaining credits.
    pub fn remaining(&self) -> f64 {
        self.config.starting_balance - self.data().stats.balance_used
    }
}

/// The documented error body.
pub fn error_body(code: &str, message: &str, kind: &str, param: Option<&str>) -> Value {
    let mut error = json!({ "code": code, "message": message, "type": kind });
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    json!({ "error": error })
}

/// The documented body for an HTTP status, as the docs show it.
pub fn documented_error(status: u16) -> Value {
    match status {
        400 => error_body(
            "invalid_request",
            "Invalid request parameters",
            "invalid_request_error",
            None,
        ),
        401 => error_body(
            "unauthorized",
            "Invalid or expired token",
            "authentication_error",
            None,
        ),
        402 => error_body(
            "insufficient_quota",
            "Insufficient quota. Please top up your account.",
            "insufficient_quota",
            None,
        ),
        403 => error_body(
            "model_access_denied",
            "Token does not have access to model: kling-v3-motion-control",
            "invalid_request_error",
            None,
        ),
        404 => error_body(
            "task_not_found",
            "Task not found",
            "invalid_request_error",
            None,
        ),
        413 => {
            json!({ "error": { "code": 413, "message": "Request body too large", "type": "request_too_large_error" } })
        }
        429 => error_body(
            "rate_limit_exceeded",
            "Too many requests, please try again later",
            "rate_limit_error",
            None,
        ),
        502 => error_body(
            "upstream_error",
            "Upstream AI service unavailable",
            "upstream_error",
            None,
        ),
        503 => error_body(
            "service_unavailable",
            "No available channel for the requested model",
            "api_error",
            None,
        ),
        _ => error_body("internal_error", "Internal server error", "api_error", None),
    }
}
