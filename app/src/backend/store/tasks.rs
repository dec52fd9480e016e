//! Tasks and their ledger entries. Every engine write carries the epoch of its lease, so a
//! stale worker's late write changes nothing.

use super::{audit::insert_audit, ledger::SPENT_SINCE, on_pool, NewAuditEntry, NewElement, Store};
use crate::backend::{tasks::TaskParams, BackendError};
use crate::rules::vocab::{EntryKind, Quality, StatusFilter, TaskKind, TaskState};

/// A task as the engine and the views use it: words typed, parameters decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub owner_id: i64,
    pub kind: TaskKind,
    pub idempotency_key: String,
    pub state: TaskState,
    pub params: TaskParams,
    pub image_upload_id: Option<String>,
    pub video_upload_id: Option<String>,
    pub quality: Option<Quality>,
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
    /// When the create was first sent (unix ms).
    pub submitted_at: Option<i64>,
    /// What EvoLink said it reserved for the task, in micro-credits, when it said.
    pub upstream_reserved: Option<i64>,
    /// What EvoLink said it charged for the task, in micro-credits, when it said.
    pub upstream_charged: Option<i64>,
    /// The API token the task was created with through the gateway; `None` from the studio.
    pub token_id: Option<i64>,
}

/// A task row as stored; becomes a [`TaskRecord`] at this boundary.
#[derive(Debug, Clone, sqlx::FromRow)]
struct TaskRow {
    id: String,
    owner_id: i64,
    kind: TaskKind,
    idempotency_key: String,
    state: TaskState,
    params: String,
    image_upload_id: Option<String>,
    video_upload_id: Option<String>,
    quality: Option<Quality>,
    upstream_id: Option<String>,
    progress: i64,
    cost_reserved: i64,
    cost_final: Option<i64>,
    output_seconds: Option<i64>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    result_key: Option<String>,
    result_url: Option<String>,
    result_url_expires_at: Option<i64>,
    callback_token: String,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    epoch: i64,
    attempts: i64,
    next_run_at: i64,
    deadline_at: i64,
    created_at: i64,
    updated_at: i64,
    finished_at: Option<i64>,
    deleted_at: Option<i64>,
    submitted_at: Option<i64>,
    upstream_reserved: Option<i64>,
    upstream_charged: Option<i64>,
    token_id: Option<i64>,
}

impl TryFrom<TaskRow> for TaskRecord {
    type Error = BackendError;

    fn try_from(row: TaskRow) -> Result<Self, Self::Error> {
        let params = TaskParams::decode(row.kind, &row.params).map_err(|err| {
            BackendError::Internal(format!("task {}: unreadable params: {err}", row.id))
        })?;
        Ok(TaskRecord {
            id: row.id,
            owner_id: row.owner_id,
            kind: row.kind,
            idempotency_key: row.idempotency_key,
            state: row.state,
            params,
            image_upload_id: row.image_upload_id,
            video_upload_id: row.video_upload_id,
            quality: row.quality,
            upstream_id: row.upstream_id,
            progress: row.progress,
            cost_reserved: row.cost_reserved,
            cost_final: row.cost_final,
            output_seconds: row.output_seconds,
            failure_code: row.failure_code,
            failure_message: row.failure_message,
            result_key: row.result_key,
            result_url: row.result_url,
            result_url_expires_at: row.result_url_expires_at,
            callback_token: row.callback_token,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until,
            epoch: row.epoch,
            attempts: row.attempts,
            next_run_at: row.next_run_at,
            deadline_at: row.deadline_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
            deleted_at: row.deleted_at,
            submitted_at: row.submitted_at,
            upstream_reserved: row.upstream_reserved,
            upstream_charged: row.upstream_charged,
            token_id: row.token_id,
        })
    }
}

/// Converts an optional row.
fn record(row: Option<TaskRow>) -> Result<Option<TaskRecord>, BackendError> {
    row.map(TaskRecord::try_from).transpose()
}

const TASK_COLUMNS: &str = "id, owner_id, kind, idempotency_key, state, params, image_upload_id, \
     video_upload_id, quality, upstream_id, progress, cost_reserved, cost_final, output_seconds, \
     failure_code, failure_message, result_key, result_url, result_url_expires_at, callback_token, \
     lease_owner, lease_until, epoch, attempts, next_run_at, deadline_at, created_at, updated_at, \
     finished_at, deleted_at, submitted_at, upstream_reserved, upstream_charged, token_id";

/// The query that picks the most overdue task with a free lease among `state_count` states
/// (`$1` is now, `$2`… the states). One branch per state, each reading the `tasks_due` index
/// `(state, next_run_at)` in order and stopping at its first free task, so a claim reads a few
/// index entries however many tasks are due or running, with custom and generic plans alike.
pub fn claim_pick_sql(state_count: usize) -> String {
    let branches: Vec<String> = (0..state_count)
        .map(|n| {
            format!(
                "SELECT id, next_run_at FROM (SELECT id, next_run_at FROM tasks \
                 WHERE state = ${} AND next_run_at <= $1 \
                 AND (lease_until IS NULL OR lease_until < $1) \
                 ORDER BY next_run_at LIMIT 1) AS due{n}",
                n + 2
            )
        })
        .collect();
    format!(
        "{} ORDER BY next_run_at LIMIT 1",
        branches.join(" UNION ALL ")
    )
}

/// A ledger entry to write together with a task change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerWrite {
    /// `Settle` or `Refund`.
    pub kind: EntryKind,
    pub amount: i64,
}

impl LedgerWrite {
    /// Settles a task, releasing `released` micro-credits of its reservation.
    pub fn settle(released: i64) -> LedgerWrite {
        LedgerWrite {
            kind: EntryKind::Settle,
            amount: released,
        }
    }

    /// Refunds a task's whole reservation of `reserved` micro-credits.
    pub fn refund(reserved: i64) -> LedgerWrite {
        LedgerWrite {
            kind: EntryKind::Refund,
            amount: reserved,
        }
    }
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
    ///
    /// The audit entry is written with a new task (not when the key was used before).
    pub async fn create_task(
        &self,
        task: &TaskRecord,
        month_start: i64,
        element: Option<&NewElement>,
        audit: &NewAuditEntry,
    ) -> Result<(TaskRecord, bool), BackendError> {
        let insert = format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34) \
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
            let found = sqlx::query_as::<_, TaskRow>(&existing)
                .bind(task.owner_id)
                .bind(&task.idempotency_key)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(found) = record(found)? {
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
                    return Err(BackendError::OverBudget(budget_message(task.cost_reserved, limit, spent, false)));
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
                    return Err(BackendError::OverBudget(budget_message(task.cost_reserved, limit, spent, true)));
                }
            }
            let created = sqlx::query_as::<_, TaskRow>(&insert)
                .bind(&task.id)
                .bind(task.owner_id)
                .bind(task.kind)
                .bind(&task.idempotency_key)
                .bind(task.state)
                .bind(task.params.encode())
                .bind(&task.image_upload_id)
                .bind(&task.video_upload_id)
                .bind(task.quality)
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
                .bind(task.submitted_at)
                .bind(task.upstream_reserved)
                .bind(task.upstream_charged)
                .bind(task.token_id)
                .fetch_optional(&mut *tx)
                .await?;
            match record(created)? {
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
                        .bind(element.reference_type)
                        .bind(&element.voice_id)
                        .bind(&element.preview_upload_id)
                        .bind(element.created_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    insert_audit!(&mut *tx, audit)?;
                    tx.commit().await?;
                    Ok((created, true))
                }
                None => {
                    let found = sqlx::query_as::<_, TaskRow>(&existing)
                        .bind(task.owner_id)
                        .bind(&task.idempotency_key)
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok((found.try_into()?, false))
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
        let row = on_pool!(self, pool => sqlx::query_as::<_, TaskRow>(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(pool)
            .await)?;
        record(row)
    }

    /// The owner's task made with `idempotency_key`, if any (deleted ones too: a retried
    /// create must not make a second task).
    pub async fn task_by_idempotency_key(
        &self,
        owner_id: i64,
        idempotency_key: &str,
    ) -> Result<Option<TaskRecord>, BackendError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND idempotency_key = $2"
        );
        let row = on_pool!(self, pool => sqlx::query_as::<_, TaskRow>(&sql)
            .bind(owner_id)
            .bind(idempotency_key)
            .fetch_optional(pool)
            .await)?;
        record(row)
    }

    /// Any task by id (the engine's view).
    pub async fn task_by_id(&self, id: &str) -> Result<Option<TaskRecord>, BackendError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, TaskRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        record(row)
    }

    /// A page of the owner's motion tasks, newest first, optionally filtered by status and
    /// quality.
    pub async fn tasks_of_owner(
        &self,
        owner_id: i64,
        status: Option<StatusFilter>,
        quality: Option<Quality>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<TaskRecord>, BackendError> {
        // The states the filter admits, bound as parameters ($5 onwards); no filter admits all.
        let admitted: Vec<TaskState> = TaskState::ALL
            .iter()
            .copied()
            .filter(|state| status.is_none_or(|filter| filter.admits(*state)))
            .collect();
        let marks: Vec<String> = (0..admitted.len()).map(|n| format!("${}", n + 6)).collect();
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND kind = $2 AND deleted_at IS NULL \
             AND state IN ({}) AND ($3 IS NULL OR quality = $3) ORDER BY created_at DESC, id DESC \
             LIMIT $4 OFFSET $5",
            marks.join(", ")
        );
        let rows = on_pool!(self, pool => {
            let mut query = sqlx::query_as::<_, TaskRow>(&sql)
                .bind(owner_id)
                .bind(TaskKind::Motion)
                .bind(quality)
                .bind(limit)
                .bind(offset);
            for state in &admitted {
                query = query.bind(*state);
            }
            query.fetch_all(pool).await
        })?;
        rows.into_iter().map(TaskRecord::try_from).collect()
    }

    /// The owner's motion task counts per state.
    pub async fn task_counts_of_owner(
        &self,
        owner_id: i64,
    ) -> Result<Vec<(TaskState, i64)>, BackendError> {
        let rows = on_pool!(self, pool => sqlx::query_as::<_, (TaskState, i64)>(
            "SELECT state, COUNT(*) FROM tasks WHERE owner_id = $1 AND kind = $2 AND deleted_at IS NULL GROUP BY state"
        )
        .bind(owner_id)
        .bind(TaskKind::Motion)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// How many tasks are in `state`.
    pub async fn count_tasks_in(&self, state: TaskState) -> Result<i64, BackendError> {
        let count = on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE state = $1")
            .bind(state)
            .fetch_one(pool)
            .await)?;
        Ok(count)
    }

    /// Claims the most overdue task in one of `states` whose lease is free, for `worker` until
    /// `lease_until`; the epoch goes up by one. A claim lost to another worker between the pick
    /// and the update picks again (a few times), so busy workers do not idle on a lost race; the
    /// update checks the task is still due, so one just stepped and saved is not taken again.
    pub async fn claim_due_task(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
        states: &[TaskState],
    ) -> Result<Option<TaskRecord>, BackendError> {
        const TRIES: usize = 4;
        let pick = claim_pick_sql(states.len());
        let claim = format!(
            "UPDATE tasks SET lease_owner = $1, lease_until = $2, epoch = epoch + 1, updated_at = $3 \
             WHERE id = $4 AND next_run_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING {TASK_COLUMNS}"
        );
        for _ in 0..TRIES {
            let claimed = on_pool!(self, pool => {
                let mut query = sqlx::query_scalar(&pick).bind(now);
                for state in states {
                    query = query.bind(*state);
                }
                let candidate: Option<String> = query.fetch_optional(pool).await?;
                let Some(id) = candidate else { return Ok(None) };
                sqlx::query_as::<_, TaskRow>(&claim)
                    .bind(worker)
                    .bind(lease_until)
                    .bind(now)
                    .bind(&id)
                    .fetch_optional(pool)
                    .await?
            });
            if claimed.is_some() {
                return record(claimed);
            }
        }
        Ok(None)
    }

    /// Extends the lease of `worker` on a task to `lease_until`, if its epoch is still current;
    /// `false` means the lease was lost.
    pub async fn renew_lease(
        &self,
        id: &str,
        epoch: i64,
        worker: &str,
        lease_until: i64,
    ) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET lease_until = $4 WHERE id = $1 AND epoch = $2 AND lease_owner = $3"
        )
        .bind(id)
        .bind(epoch)
        .bind(worker)
        .bind(lease_until)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Writes the engine's view of a task back, if the lease's epoch is still current, together
    /// with a ledger entry and the element's EvoLink id when given, in one transaction. Releases
    /// the lease. `false` means a newer lease owns it.
    pub async fn save_task(
        &self,
        task: &TaskRecord,
        ledger: Option<LedgerWrite>,
        element_id: Option<&str>,
        now: i64,
    ) -> Result<bool, BackendError> {
        let update =
            "UPDATE tasks SET state = $3, upstream_id = $4, progress = $5, cost_final = $6, \
             output_seconds = $7, failure_code = $8, failure_message = $9, result_key = $10, \
             result_url = $11, result_url_expires_at = $12, attempts = $13, next_run_at = $14, \
             finished_at = $15, lease_owner = NULL, lease_until = NULL, updated_at = $16, \
             upstream_reserved = $17, upstream_charged = $18 \
             WHERE id = $1 AND epoch = $2";
        write_tx!(self, tx => {
            let changed = sqlx::query(update)
                .bind(&task.id)
                .bind(task.epoch)
                .bind(task.state)
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
                .bind(task.upstream_reserved)
                .bind(task.upstream_charged)
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
            if let Some(element_id) = element_id {
                sqlx::query(
                    "UPDATE elements SET upstream_element_id = $2, updated_at = $3 WHERE task_id = $1",
                )
                .bind(&task.id)
                .bind(element_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Records that the create call is about to be sent, at `now` (unix ms), under the current
    /// lease.
    pub async fn mark_submitting(
        &self,
        id: &str,
        epoch: i64,
        now: i64,
    ) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET state = $3, submitted_at = $5 WHERE id = $1 AND epoch = $2 AND state = $4"
        )
        .bind(id)
        .bind(epoch)
        .bind(TaskState::Submitting)
        .bind(TaskState::Queued)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// A callback's wake-up: polls the task now, if the token matches and it is running.
    pub async fn wake_task(&self, id: &str, token: &str, now: i64) -> Result<bool, BackendError> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE tasks SET next_run_at = $3 WHERE id = $1 AND callback_token = $2 AND state = $4"
        )
        .bind(id)
        .bind(token)
        .bind(now)
        .bind(TaskState::Running)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Hides a task from its owner's history (its ledger entries stay), with its audit entry;
    /// `false` (nothing written) when it was not there.
    pub async fn delete_task_of_owner(
        &self,
        id: &str,
        owner_id: i64,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE tasks SET deleted_at = $3 WHERE id = $1 AND owner_id = $2 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(owner_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                insert_audit!(&mut *tx, audit)?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }
}
