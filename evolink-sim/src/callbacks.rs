//! Callback delivery: POST the task body; per-attempt timeout; retries after 1 s, 2 s and 4 s
//! (configurable); dropped or duplicated on demand.

use std::time::Instant;

use serde_json::Value;

use crate::state::SimState;

/// Delivers the final task body to `url` following the documented retry schedule.
pub async fn deliver(state: SimState, task_id: String, url: String, body: Value) {
    let (drop, duplicate) = {
        let data = state.data();
        (data.faults.drop_callbacks, data.faults.duplicate_callbacks)
    };
    if drop {
        return;
    }
    let rounds = if duplicate { 2 } else { 1 };
    for _ in 0..rounds {
        deliver_once(&state, &task_id, &url, &body).await;
    }
}

async fn deliver_once(state: &SimState, task_id: &str, url: &str, body: &Value) {
    let first = Instant::now();
    let delays = state.config.callback_retry_delays.clone();
    for attempt in 0..=delays.len() {
        {
            let mut data = state.data();
            data.stats.callback_attempts += 1;
            data.stats
                .callback_attempt_offsets_ms
                .entry(task_id.to_string())
                .or_default()
                .push(first.elapsed().as_millis() as u64);
        }
        let sent = state
            .http
            .post(url)
            .timeout(state.config.callback_timeout)
            .json(body)
            .send()
            .await;
        if sent.is_ok_and(|response| response.status().is_success()) {
            state.data().stats.callbacks_delivered += 1;
            return;
        }
        if let Some(delay) = delays.get(attempt) {
            tokio::time::sleep(*delay).await;
        }
    }
}
