//! Prometheus metrics: what the server did (requests, upstream calls, ledger entries, uploads,
//! finished tasks) and, set at scrape time, what it holds (tasks by state, open live-update
//! streams). Rendered in the Prometheus text format by `GET /metrics`.
//!
//! Every [`AppState`](super::AppState) owns its recorder instead of installing one for the whole
//! process: the binary runs one app, so nothing changes there, and tests that run many apps in
//! one process read exact counts from each app's own `/metrics` instead of sums over every app.
//! Recording goes through the `metrics` macros with this recorder set for the call
//! ([`metrics::with_local_recorder`]), so the names and labels live in this one file.

use std::{sync::Arc, time::Duration};

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::rules::vocab::{EntryKind, TaskState};

/// Buckets (seconds) for every `_seconds` histogram: a fast page up to a slow upstream create.
const LATENCY_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// A call Kinema makes to something outside, for `kinema_upstream_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamCall {
    /// Creating a task at EvoLink.
    Create,
    /// Asking EvoLink how a task is doing.
    Poll,
    /// Handing an input file to EvoLink's file service.
    FileUpload,
    /// Downloading a finished result to archive it.
    Download,
}

impl UpstreamCall {
    fn label(self) -> &'static str {
        match self {
            UpstreamCall::Create => "create",
            UpstreamCall::Poll => "poll",
            UpstreamCall::FileUpload => "file_upload",
            UpstreamCall::Download => "download",
        }
    }
}

/// One app's metrics: its recorder and the handle that renders it.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh recorder with every metric described.
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let metrics = Metrics {
            handle: recorder.handle(),
            recorder: Arc::new(recorder),
        };
        metrics.record(describe);
        metrics
    }

    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, f)
    }

    /// Everything recorded, in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recent histogram samples into their buckets so memory stays bounded between
    /// scrapes; call every few seconds.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// One answered HTTP request: its method, matched route (never the raw URL), status and time.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = [
            ("method", method.to_string()),
            ("route", route.to_string()),
            ("status", status.to_string()),
        ];
        self.record(|| {
            counter!("kinema_http_requests_total", &labels).increment(1);
            histogram!("kinema_http_request_duration_seconds", &labels)
                .record(elapsed.as_secs_f64());
        });
    }

    /// One call to the upstream (or a result download) and how it ended: `ok` or the error's
    /// kind.
    pub fn upstream_call(&self, call: UpstreamCall, outcome: &'static str, elapsed: Duration) {
        let labels = [("kind", call.label()), ("outcome", outcome)];
        self.record(|| {
            counter!("kinema_upstream_requests_total", &labels).increment(1);
            histogram!("kinema_upstream_request_duration_seconds", &labels)
                .record(elapsed.as_secs_f64());
        });
    }

    /// A ledger entry written by the engine: reservations at submit, settlements and refunds
    /// when tasks end (admin adjustments are not counted). `amount` in micro-credits.
    pub fn ledger_entry(&self, kind: EntryKind, amount: i64) {
        let entry = match kind {
            EntryKind::Reserve => "reserved",
            EntryKind::Settle => "settled",
            EntryKind::Refund => "refunded",
            EntryKind::Adjust => return,
        };
        let amount = amount.unsigned_abs();
        self.record(|| {
            counter!("kinema_ledger_entries_total", "entry" => entry).increment(1);
            counter!("kinema_ledger_microcredits_total", "entry" => entry).increment(amount);
        });
    }

    /// A task reached `state` (completed or failed) on this instance; `charged` micro-credits
    /// were kept for it.
    pub fn task_finished(&self, state: TaskState, charged: i64) {
        let state = state.as_str();
        self.record(|| {
            counter!("kinema_tasks_finished_total", "state" => state).increment(1);
            counter!("kinema_ledger_charged_microcredits_total").increment(charged.unsigned_abs());
        });
    }

    /// An upload was stored (`bytes` long) or refused, by purpose.
    pub fn upload(&self, purpose: &'static str, stored_bytes: Option<u64>) {
        let outcome = if stored_bytes.is_some() {
            "stored"
        } else {
            "refused"
        };
        self.record(|| {
            counter!("kinema_uploads_total", "purpose" => purpose, "outcome" => outcome)
                .increment(1);
            if let Some(bytes) = stored_bytes {
                counter!("kinema_upload_bytes_total", "purpose" => purpose).increment(bytes);
            }
        });
    }

    /// Tasks in each state right now (read from the database at scrape time); states not listed
    /// are set to 0.
    pub fn set_tasks_by_state(&self, counts: &[(TaskState, i64)]) {
        self.record(|| {
            for state in TaskState::ALL {
                let count = counts
                    .iter()
                    .find(|(s, _)| s == state)
                    .map_or(0, |(_, count)| *count);
                gauge!("kinema_tasks", "state" => state.as_str()).set(count as f64);
            }
        });
    }

    /// Live-update (SSE) streams open on this instance right now.
    pub fn set_sse_connections(&self, open: usize) {
        self.record(|| gauge!("kinema_sse_connections").set(open as f64));
    }
}

fn describe() {
    describe_counter!(
        "kinema_http_requests_total",
        "HTTP requests answered, by method, matched route and status."
    );
    describe_histogram!(
        "kinema_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request (until the response head), by method, route and status."
    );
    describe_counter!(
        "kinema_upstream_requests_total",
        "Calls to EvoLink and result downloads, by kind and outcome (ok or the error's kind)."
    );
    describe_histogram!(
        "kinema_upstream_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time an upstream call took, retries after Retry-After included, by kind and outcome."
    );
    describe_counter!(
        "kinema_ledger_entries_total",
        "Ledger entries written by the engine: reserved, settled, refunded."
    );
    describe_counter!(
        "kinema_ledger_microcredits_total",
        "Micro-credits in engine ledger entries: reserved at submit, released at settle, refunded."
    );
    describe_counter!(
        "kinema_ledger_charged_microcredits_total",
        "Micro-credits kept for finished tasks (reserved minus released or refunded)."
    );
    describe_counter!(
        "kinema_tasks_finished_total",
        "Tasks this instance took to a final state, by state."
    );
    describe_counter!(
        "kinema_uploads_total",
        "Uploads received, by purpose and outcome."
    );
    describe_counter!(
        "kinema_upload_bytes_total",
        "Bytes of uploads stored, by purpose."
    );
    describe_gauge!(
        "kinema_tasks",
        "Tasks in the database by state, read when scraped."
    );
    describe_gauge!(
        "kinema_sse_connections",
        "Live-update (SSE) streams open on this instance."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_app_counts_apart_and_renders_prometheus_text() {
        let one = Metrics::new();
        let two = Metrics::new();
        one.ledger_entry(EntryKind::Reserve, -250_000);
        one.ledger_entry(EntryKind::Reserve, -250_000);
        two.ledger_entry(EntryKind::Refund, 100);
        one.http_request(
            "GET",
            "/api/tasks/{id}/result",
            200,
            Duration::from_millis(30),
        );
        one.set_tasks_by_state(&[(TaskState::Running, 3)]);
        let text = one.render();
        assert!(
            text.contains("kinema_ledger_microcredits_total{entry=\"reserved\"} 500000"),
            "{text}"
        );
        assert!(!text.contains("entry=\"refunded\""), "{text}");
        assert!(text.contains("kinema_tasks{state=\"running\"} 3"), "{text}");
        assert!(text.contains("kinema_tasks{state=\"failed\"} 0"), "{text}");
        assert!(text.contains(
            "kinema_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/tasks/{id}/result\",status=\"200\",le=\"0.05\"} 1"
        ), "{text}");
        assert!(two
            .render()
            .contains("kinema_ledger_microcredits_total{entry=\"refunded\"} 100"));
    }
}
