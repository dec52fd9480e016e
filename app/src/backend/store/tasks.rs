//! Tasks and their ledger entries. Every engine write carries the epoch of its lease, so a
//! stale worker's late write changes nothing.

use super::{ledger::SPENT_SINCE, on_pool, NewElement, Store};
use crate::backend::BackendError;

/// A task row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRecord {
    pub id: String,
    pub owner_id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub state: String,
    pub params: String,
    pub image_upload_id: Option<String>,
    pub video_upload_id: Option<String>,
    pub quality: Option<String>,
    pub upstream_id: Option<String>,
    pub progress: i64,
    pub cost_reserved: i64,
    pub cost_final: Option<i64>,
    pub output_seconds: Option<i64>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub result_key: Option<String>,
    pub result_url: Option<String>,
    pub result_url_expires_at: Option<i64>,
    pub callback_token: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub epoch: i64,
    pub attempts: i64,
    pub next_run_at: i64,
    pub deadline_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

const TASK_COLUMNS: &str = "id, owner_id, kind, idempotency_key, state, params, image_upload_id, \
     video_upload_id, quality, upstream_id, progress, cost_reserved, cost_final, output_seconds, \
     failure_code, failure_message, result_key, result_url, result_url_expires_at, callback_token, \
     lease_owner, lease_until, epoch, attempts, next_run_at, deadline_at, created_at, updated_at, \
     finished_at, deleted_at";

/// States the engine still works on.
pub const ACTIVE_STATES: &str = "('queued', 'submitting', 'running', 'archiving')";

/// The history's status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateGroup {
    /// Not final yet.
    Running,
    Completed,
    Failed,
}

/// A ledger entry to write together with a task change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerWrite {
    /// `reserve`, `settle` or `refund`.
    pub kind: &'static str,
    pub amount: i64,
}

/// Runs `$body` inside a write transaction `$tx` that holds the write lock from the start
/// (SQLite: BEGIN IMMEDIATE, so a read-then-write cannot deadlock; PostgreSQL: BEGIN).
macro_rules! write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            Store::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

/// The refusal when a submit would pass a budget: the cost, what is left, and who to ask.
fn budget_message(cost: i64, limit: i64, spent: i64, team: bool) -> String {
    use crate::rules::pricing::format_credits;
    let left = (limit - spent).max(0);
    let whose = if team { "the team's" } else { "your" };
    format!(
        "This task costs {} credits, but only {} credits of {whose} monthly budget of {} are left. Ask an admin to raise the budget, or wait for next month.",
        format_credits(cost),
        format_credits(left),
        format_credits(limit)
    )
}

impl Store {
    /// In one transaction: the budget check, the task, its reservation and (for an element
    /// task) the element row. When the owner already
    /// used this idempotency key, nothing is written and the existing task is returned with
    /// `false`. Spending counts ledger entries since `month_start` (unix seconds). Submits are
    /// serialised (SQLite: the write lock taken at BEGIN; PostgreSQL: an advisory lock), so
    /// concurrent submits can never push spending past a budget.
    pub async fn create_task(
        &self,
        task: &TaskRecord,
        month_start: i64,
        element: Option<&NewElement>,
    ) -> Result<(TaskRecord, bool), BackendError> {
        let insert = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30) \
             ON CONFLICT (owner_id, idempotency_key) DO NOTHING RETURNING {TASK_COLUMNS}"
        );
        let existing = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND idempotency_key = $2"
        );
        let serialise = match self {
            Store::Postgres(_) => "SELECT CAST(pg_advisory_xact_lock(7340) AS TEXT)",
            Store::Sqlite(_) => "SELECT 'locked'",
        };
        write_tx!(self, tx => {
            sqlx::query_scalar::<_, Option<String>>(serialise).fetch_one(&mut *tx).await?;
            let found = sqlx::query_as::<_, TaskRecord>(&existing)
                .bind(task.owner_id)
                .bind(&task.idempotency_key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(found) = found {
                tx.commit().await?;
                return Ok((found, false));
            }
            let member_limit: Option<i64> =
                sqlx::query_scalar("SELECT monthly_limit FROM member_budgets WHERE user_id = $1")
                    .bind(task.owner_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(limit) = member_limit {
                let spent: i64 = sqlx::query_scalar(SPENT_SINCE)
                    .bind(month_start)
                    .bind(Some(task.owner_id))
                    .fetch_one(&mut *tx)
                    .await?;
                if spent + task.cost_reserved > limit {
                    tx.rollback().await?;
                    return Err(BackendError::Invalid(budget_message(task.cost_reserved, limit, spent, false)));
                }
            }
            let team_limit: Option<i64> =
                sqlx::query_scalar("SELECT monthly_limit FROM team_budget WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(limit) = team_limit {
                let spent: i64 = sqlx::query_scalar(SPENT_SINCE)
                    .bind(month_start)
                    .bind(None::<i64>)
                    .fetch_one(&mut *tx)
                    .await?;
                if spent + task.cost_reserved > limit {
                    tx.rollback().await?;
                    return Err(BackendError::Invalid(budget_message(task.cost_reserved, limit, spent, true)));
                }
            }
            let created = sqlx::query_as::<_, TaskRecord>(&insert)
                .bind(&task.id)
                .bind(task.owner_id)
                .bind(&task.kind)
                .bind(&task.idempotency_key)
                .bind(&task.state)
                .bind(&task.params)
                .bind(&task.image_upload_id)
                .bind(&task.video_upload_id)
                .bind(&task.quality)
                .bind(&task.upstream_id)
                .bind(task.progress)
                .bind(task.cost_reserved)
                .bind(task.cost_final)
                .bind(task.output_seconds)
                .bind(&task.failure_code)
                .bind(&task.failure_message)
                .bind(&task.result_key)
                .bind(&task.result_url)
                .bind(task.result_url_expires_at)
                .bind(&task.callback_token)
                .bind(&task.lease_owner)
                .bind(task.lease_until)
                .bind(task.epoch)
                .bind(task.attempts)
                .bind(task.next_run_at)
                .bind(task.deadline_at)
                .bind(task.created_at)
                .bind(task.updated_at)
                .bind(task.finished_at)
                .bind(task.deleted_at)
                .fetch_optional(&mut *tx)
                .await?;
            match created {
                Some(created) => {
                    sqlx::query(
                        "INSERT INTO ledger_entries (user_id, task_id, kind, amount, reason, created_at) \
                         VALUES ($1, $2, 'reserve', $3, NULL, $4)",
                    )
                    .bind(created.owner_id)
                    .bind(&created.id)
                    .bind(-created.cost_reserved)
                    .bind(created.created_at)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(element) = element {
                        sqlx::query(
                            "INSERT INTO elements (id, task_id, owner_id, name, description, reference_type, \
                             voice_id, preview_upload_id, upstream_element_id, removed_at, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9, $9)",
                        )
                        .bind(&element.id)
                        .bind(&created.id)
                        .bind(element.owner_id)
                        .bind(&element.name)
                        .bind(&element.description)
                        .bind(&element.reference_type)
                        .bind(&element.voice_id)
                        .bind(&element.preview_upload_id)
                        .bind(element.created_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok((created, true))
                }
                None => {
                    let found = sqlx::query_as::<_, TaskRecord>(&existing)
                        .bind(task.owner_id)
                        .bind(&task.idempotency_key)
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok((found, false))
                }
            }
        })
    }

    /// The task, only if `owner_id` owns it and it was not deleted.
    pub async fn task_of_owner(
        &self,
        id: &str,
        owner_id: i64,
    ) -> Result<Option<TaskRecord>, BackendError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL"
        );
        let row = on_pool!(self, pool => sqlx::query_as::<_, TaskRecord>(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Any task by id (the engine's view).
    pub async fn task_by_id(&self, id: &str) -> Result<Option<TaskRecord>, BackendError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, TaskRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// A page of the owner's tasks, newest first, optionally filtered by state group and quality.
    pub async fn tasks_of_owner(
        &self,
        owner_id: i64,
        group: Option<StateGroup>,
        quality: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<TaskRecord>, BackendError> {
        let state_filter = match group {
            None => "",
            Some(StateGroup::Running) => " AND state NOT IN ('completed', 'failed')",
            Some(StateGroup::Completed) => " AND state = 'completed'",
            Some(StateGroup::Failed) => " AND state = 'failed'",
        };
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND kind = 'motion' AND deleted_at IS NULL{state_filter} \
             AND ($2 IS NULL OR quality = $2) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let rows = on_pool!(self, pool => sqlx::query_as::<_, TaskRecord>(&sql)
            .bind(owner_id)
            .bind(quality)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// The owner's task counts per state.
    pub async fn task_counts_of_owner(
        &self,
        owner_id: i64,
    ) -> Result<Vec<(String, i64)>, BackendError> {
        let rows = on_pool!(self, pool => sqlx::query_as::<_, (String, i64)>(
            "SELECT state, COUNT(*) FROM tasks WHERE owner_id = $1 AND kind = 'motion' AND deleted_at IS NULL GROUP BY state"
        )
        .bind(owner_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Claims the most overdue active task whose lease is free, for `worker` until `lease_until`;
    /// the epoch goes up by one.
    pub async fn claim_due_task(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<TaskRecord>, BackendError> {
        let pick = format!(
            "SELECT id FROM tasks WHERE state IN {ACTIVE_STATES} AND next_run_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_run_at LIMIT 1"
        );
        let claim = format!(
            "UPDATE tasks SET lease_owner = $1, lease_until = $2, epoch = epoch + 1, updated_at = $3 \
             WHERE id = $4 AND (lease_until IS NULL OR lease_until < $3) RETURNING {TASK_COLUMNS}"
        );
        on_pool!(self, pool => {
            let candidate: Option<String> = sqlx::query_scalar(&pick).bind(now).fetch_optional(pool).await?;
            let Some(id) = candidate else { return Ok(None) };
            let claimed = sqlx::query_as::<_, TaskRecord>(&claim)
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(&id)
                .fetch_optional(pool)
                .await?;
            Ok(claimed)
        })
    }

    /// Writes the engine's view of a task back, if the lease's epoch is still current, together
    /// with a ledger entry when given. Releases the lease. `false` means a newer lease owns it.
    pub async fn save_task(
        &self,
        task: &TaskRecord,
        ledger: Option<LedgerWrite>,
        now: i64,
    ) -> Result<bool, BackendError> {
        let update =
            "UPDATE tasks SET state = $3, upstream_id = $4, progress = $5, cost_final = $6, \
             output_seconds = $7, failure_code = $8, failure_message = $9, result_key = $10, \
             result_url = $11, result_url_expires_at = $12, attempts = $13, next_run_at = $14, \
             finished_at = $15, lease_owner = NULL, lease_until = NULL, updated_at = $16 \
             WHERE id = $1 AND epoch = $2";
        write_tx!(self, tx => {
            let changed = sqlx::query(update)
                .bind(&task.id)
                .bind(task.epoch)
                .bind(&task.state)
                .bind(&task.upstream_id)
                .bind(task.progress)
                .bind(task.cost_final)
                .bind(task.output_seconds)
                .bind(&task.failure_code)
                .bind(&task.failure_message)
                .bind(&task.result_key)
                .bind(&task.result_url)
                .bind(task.result_url_expires_at)
                .bind(task.attempts)
                .bind(task.next_run_at)
                .bind(task.finished_at)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            if let Some(entry) = ledger {
                sqlx::query(
                    "INSERT INTO ledger_entries (user_id, task_id, kind, amount, reason, created_at) \
                     VALUES ($1, $2, $3, $4, NULL, $5)",
                )
                .bind(task.owner_id)
                .bind(&task.id)
                .bind(entry.kind)
                .bind(entry.amount)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records that the create call is about to be sent (kept under the current lease).
    pub async fn mark_submitting(&self, id: &str, epoch: i64) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET state = 'submitting' WHERE id = $1 AND epoch = $2 AND state = 'queued'"
        )
        .bind(id)
        .bind(epoch)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// A callback's wake-up: polls the task now, if the token matches and it is running.
    pub async fn wake_task(&self, id: &str, token: &str, now: i64) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET next_run_at = $3 WHERE id = $1 AND callback_token = $2 AND state = 'running'"
        )
        .bind(id)
        .bind(token)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Hides a task from its owner's history (its ledger entries stay).
    pub async fn delete_task_of_owner(
        &self,
        id: &str,
        owner_id: i64,
        now: i64,
    ) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET deleted_at = $3 WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL"
        )
        .bind(id)
        .bind(owner_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
