//! The task engine: submit (task row and reservation in one transaction); the pure transition
//! that decides each step; the runner that claims a due task, publishes its inputs, creates the
//! upstream task, polls it, archives the result and settles or refunds; the owner's view.

mod archive;
pub mod drift;
mod history;
pub mod history_cache;
mod pacing;
mod params;
mod publish;
mod requests;
mod runner;
mod submit;
pub mod transition;
mod view;

use std::time::Duration;

pub use history::history_page;
pub use params::{ElementParamsRecord, ElementUse, MotionParamsRecord, TaskParams};
pub use publish::{verify_media_signature, MEDIA_URL_LIFETIME_SECS};
pub use runner::{run_once, run_workers, wake_from_callback, Outcome};
pub use submit::{enqueue, submit_motion, NewTask};
pub use view::task_view;

/// Something about one of `owner_id`'s tasks changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub owner_id: i64,
    pub task_id: String,
}

/// How the engine paces itself.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Parallel workers for creating and polling (0: none; tests then step the engine with
    /// [`run_once`]).
    pub workers: usize,
    /// Parallel workers that copy results into storage, apart from the others so that slow
    /// downloads never hold up polling.
    pub archive_workers: usize,
    /// How long a claimed task stays leased (a crashed worker's task is picked up after it).
    pub lease: Duration,
    /// Idle wait between looks for due work.
    pub tick: Duration,
    /// First pause between polls; grows by half each time, up to `poll_max`, with jitter.
    pub poll_first: Duration,
    pub poll_max: Duration,
    /// Every task is final by this long after submit.
    pub deadline: Duration,
    /// How long an unconfirmed create is asked again (same idempotency key) before the task is
    /// given up and refunded.
    pub reconcile_grace: Duration,
    /// Largest result accepted when archiving.
    pub max_result_bytes: u64,
    /// The ceiling on requests per second to EvoLink; polls of many running tasks are spaced
    /// to stay under it.
    pub upstream_rps: u32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            workers: 4,
            archive_workers: 2,
            lease: Duration::from_secs(60),
            tick: Duration::from_millis(500),
            poll_first: Duration::from_secs(2),
            poll_max: Duration::from_secs(60),
            deadline: Duration::from_secs(2 * 3600),
            reconcile_grace: Duration::from_secs(15 * 60),
            max_result_bytes: 1024 * 1024 * 1024,
            upstream_rps: 20,
        }
    }
}

impl EngineSettings {
    /// Creating-and-polling workers for a request ceiling: enough to keep `upstream_rps`
    /// requests a second going when each step (claim, request, save) takes up to half a second,
    /// and never fewer than four. Each waits its turn at the shared rate limiter, so more
    /// workers never mean more requests than the ceiling.
    pub fn workers_for(upstream_rps: u32) -> usize {
        (upstream_rps as usize).div_ceil(2).max(4)
    }
}

/// How many tasks are running upstream, counted at most every two seconds (a count of the
/// `tasks_due` index's running entries; a stale count briefly spaces polls for fewer tasks than
/// run, which the rate limiter absorbs).
#[derive(Debug, Default)]
pub struct RunningCount {
    count: std::sync::atomic::AtomicI64,
    counted_at_ms: std::sync::atomic::AtomicI64,
}

impl RunningCount {
    /// How long a count is used before it is counted again.
    const FRESH_MS: i64 = 2_000;

    /// The number of running tasks, counted again when the last count is older than a few
    /// seconds (a failed count keeps the last one).
    pub async fn estimate(&self, store: &crate::backend::store::Store, now_ms: i64) -> i64 {
        use std::sync::atomic::Ordering;
        let counted_at = self.counted_at_ms.load(Ordering::Relaxed);
        if now_ms - counted_at >= Self::FRESH_MS
            && self
                .counted_at_ms
                .compare_exchange(counted_at, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            if let Ok(count) = store
                .count_tasks_in(crate::rules::vocab::TaskState::Running)
                .await
            {
                self.count.store(count, Ordering::Relaxed);
            }
        }
        self.count.load(Ordering::Relaxed)
    }
}

/// Current unix time in milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::EngineSettings;

    #[test]
    fn the_workers_keep_the_ceiling_busy_with_half_second_steps() {
        assert_eq!(EngineSettings::workers_for(1), 4);
        assert_eq!(EngineSettings::workers_for(20), 10);
        assert_eq!(EngineSettings::workers_for(101), 51);
    }
}
