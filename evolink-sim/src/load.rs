//! What a client's load looks like from the upstream's side: API requests per second, and for
//! each task how long it went between two reads. For benchmarks and the rate-ceiling test.
//! Counted from the last reset (`POST /__sim/load/reset`), read at `GET /__sim/load`.

use std::collections::HashMap;

use axum::{extract::State, http::StatusCode, middleware::Next, response::Response, Json};
use serde::{Deserialize, Serialize};

use crate::{clock, state::SimState};

/// The counters behind [`LoadReport`].
#[derive(Debug, Default)]
pub struct LoadMeter {
    /// When counting started (unix milliseconds); 0 before the first request or reset.
    since_ms: u64,
    /// API requests in each second since `since_ms` (index 0 is the first second).
    per_second: Vec<u64>,
    /// For each task read since `since_ms`: (last read, longest gap, reads).
    reads: HashMap<String, (u64, u64, u64)>,
}

impl LoadMeter {
    fn start_if_idle(&mut self, now: u64) {
        if self.since_ms == 0 {
            self.since_ms = now;
        }
    }

    /// Counts one API request at `now` (unix milliseconds).
    pub fn request(&mut self, now: u64) {
        self.start_if_idle(now);
        let second = (now.saturating_sub(self.since_ms) / 1000) as usize;
        if self.per_second.len() <= second {
            self.per_second.resize(second + 1, 0);
        }
        self.per_second[second] += 1;
    }

    /// Notes a read of `task_id` at `now`.
    pub fn task_read(&mut self, task_id: &str, now: u64) {
        self.start_if_idle(now);
        match self.reads.get_mut(task_id) {
            Some((last, gap, reads)) => {
                *gap = (*gap).max(now.saturating_sub(*last));
                *last = now;
                *reads += 1;
            }
            None => {
                self.reads.insert(task_id.to_string(), (now, 0, 1));
            }
        }
    }

    /// Starts counting afresh at `now`.
    pub fn reset(&mut self, now: u64) {
        *self = LoadMeter {
            since_ms: now,
            ..LoadMeter::default()
        };
    }

    /// The figures at `now`; `running` are the ids of tasks not yet finished, whose wait since
    /// their last read (or since the reset, when unread) is reported as the longest wait.
    pub fn report<'a>(&self, now: u64, running: impl Iterator<Item = &'a String>) -> LoadReport {
        let window_ms = now.saturating_sub(self.since_ms);
        let requests: u64 = self.per_second.iter().sum();
        // The last second is still filling; the busiest complete one is reported.
        let complete = (window_ms / 1000) as usize;
        let busiest_second = self
            .per_second
            .iter()
            .take(complete)
            .copied()
            .max()
            .unwrap_or(0);
        let mut report = LoadReport {
            window_ms,
            requests,
            requests_per_second: if window_ms > 0 {
                requests as f64 * 1000.0 / window_ms as f64
            } else {
                0.0
            },
            busiest_second,
            per_second: self.per_second.clone(),
            tasks_read: self.reads.len() as u64,
            ..LoadReport::default()
        };
        for (_, gap, reads) in self.reads.values() {
            if *reads >= 2 {
                report.tasks_read_twice += 1;
                report.max_gap_ms = report.max_gap_ms.max(*gap);
            }
        }
        for id in running {
            report.running += 1;
            let last = self.reads.get(id).map_or(self.since_ms, |(last, ..)| *last);
            report.longest_wait_ms = report.longest_wait_ms.max(now.saturating_sub(last));
        }
        report
    }
}

/// API requests and task reads since the last reset.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LoadReport {
    /// Milliseconds counted.
    pub window_ms: u64,
    /// API requests (creates, task reads, balance, file service) in the window.
    pub requests: u64,
    /// `requests` over the window.
    pub requests_per_second: f64,
    /// Requests in the busiest complete second.
    pub busiest_second: u64,
    /// Requests in each second of the window.
    pub per_second: Vec<u64>,
    /// Tasks read at least once.
    pub tasks_read: u64,
    /// Tasks read at least twice.
    pub tasks_read_twice: u64,
    /// The longest time between two reads of one task.
    pub max_gap_ms: u64,
    /// Tasks not finished now.
    pub running: u64,
    /// The longest any unfinished task has gone unread until now (since its last read, or since
    /// the reset if it was not read).
    pub longest_wait_ms: u64,
}

/// Middleware on the API routes: counts each request.
pub async fn count(
    State(state): State<SimState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    state.data().load.request(clock::unix_millis());
    next.run(request).await
}

/// `GET /__sim/load`: the figures since the last reset.
pub async fn report(State(state): State<SimState>) -> Json<LoadReport> {
    Json(state.load_report())
}

/// `POST /__sim/load/reset`: counts afresh from now.
pub async fn reset(State(state): State<SimState>) -> StatusCode {
    state.data().load.reset(clock::unix_millis());
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::LoadMeter;

    #[test]
    fn requests_and_gaps_are_counted_from_the_reset() {
        let mut meter = LoadMeter::default();
        meter.reset(10_000);
        for at in [10_100, 10_200, 11_500, 12_100, 12_200, 12_300] {
            meter.request(at);
        }
        meter.task_read("a", 10_100);
        meter.task_read("a", 12_100);
        meter.task_read("a", 12_300);
        meter.task_read("b", 10_200);
        let running = ["a".to_string(), "b".into(), "c".into()];
        let report = meter.report(13_000, running.iter());
        assert_eq!(report.requests, 6);
        assert_eq!(report.per_second, vec![2, 1, 3]);
        assert_eq!(report.busiest_second, 3);
        assert!((report.requests_per_second - 2.0).abs() < 1e-9);
        assert_eq!((report.tasks_read, report.tasks_read_twice), (2, 1));
        assert_eq!(report.max_gap_ms, 2_000);
        assert_eq!(report.running, 3);
        // "c" was never read: it has waited since the reset.
        assert_eq!(report.longest_wait_ms, 3_000);
    }
}
