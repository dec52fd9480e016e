//! Tasks whose upstream figures (reservation, reported charge) differ from Kinema's own, for
//! the admins' notice on the team usage page.

use super::{on_pool, Store};
use crate::backend::BackendError;
use crate::rules::vocab::{Quality, TaskKind, TaskState};

/// A task where EvoLink's figure and Kinema's price table disagree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DriftRecord {
    pub task_id: String,
    pub task_kind: TaskKind,
    pub quality: Option<Quality>,
    pub state: TaskState,
    pub username: String,
    pub created_at: i64,
    pub cost_reserved: i64,
    pub cost_final: Option<i64>,
    pub upstream_reserved: Option<i64>,
    pub upstream_charged: Option<i64>,
}

/// Kinema's charge in SQL, as `tasks::transition::kinema_charge` computes it: the final cost
/// of a task that was not refunded (`$4` is the failed state), else its reservation.
const KINEMA_CHARGE: &str =
    "CASE WHEN t.state = $4 OR t.cost_final IS NULL THEN t.cost_reserved ELSE t.cost_final END";

impl Store {
    /// Tasks created since `since` (unix seconds) whose upstream reservation or charge differs
    /// from Kinema's by more than `step` micro-credits, newest first, at most `limit`.
    pub async fn price_drift(
        &self,
        since: i64,
        step: i64,
        limit: i64,
    ) -> Result<Vec<DriftRecord>, BackendError> {
        let sql = format!(
            "SELECT t.id AS task_id, t.kind AS task_kind, t.quality, t.state, u.username, \
             t.created_at, t.cost_reserved, t.cost_final, t.upstream_reserved, t.upstream_charged \
             FROM tasks t JOIN users u ON u.id = t.owner_id \
             WHERE t.created_at >= $1 AND ( \
               (t.upstream_reserved IS NOT NULL AND ABS(t.upstream_reserved - t.cost_reserved) > $2) \
               OR (t.upstream_charged IS NOT NULL AND ABS(t.upstream_charged - {KINEMA_CHARGE}) > $2)) \
             ORDER BY t.created_at DESC, t.id LIMIT $3"
        );
        let rows = on_pool!(self, pool => sqlx::query_as::<_, DriftRecord>(&sql)
            .bind(since)
            .bind(step)
            .bind(limit)
            .bind(TaskState::Failed)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}
