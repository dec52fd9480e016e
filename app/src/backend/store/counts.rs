//! Counts for the metrics scrape.

use super::{on_pool, Store};
use crate::backend::BackendError;
use crate::rules::vocab::TaskState;

impl Store {
    /// How many tasks are in each state (states without tasks are left out).
    pub async fn count_tasks_by_state(&self) -> Result<Vec<(TaskState, i64)>, BackendError> {
        let counts = on_pool!(self, pool => sqlx::query_as::<_, (TaskState, i64)>(
            "SELECT state, COUNT(*) FROM tasks GROUP BY state",
        )
        .fetch_all(pool)
        .await)?;
        Ok(counts)
    }
}
