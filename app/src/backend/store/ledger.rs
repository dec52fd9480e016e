//! The credit ledger (append-only entries in micro-credits), budgets, and the sums the usage
//! pages and exports show.

use super::{audit::insert_audit, on_pool, NewAuditEntry, Store};
use crate::backend::BackendError;
use crate::rules::vocab::{EntryKind, Quality, TaskKind, TaskState};

/// A ledger row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRecord {
    pub id: i64,
    pub user_id: i64,
    pub task_id: Option<String>,
    pub kind: EntryKind,
    pub amount: i64,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// A ledger entry with who made it and what the task was, for the admin's views and exports.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerLine {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub task_id: Option<String>,
    /// What the task made, when the entry belongs to a task.
    pub task_kind: Option<TaskKind>,
    pub quality: Option<Quality>,
    pub kind: EntryKind,
    pub amount: i64,
    pub reason: Option<String>,
    pub created_at: i64,
    /// The name of the API token the entry's task came through, if any.
    pub token_name: Option<String>,
}

/// One member's figures for the admin's usage page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberUsageRecord {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    /// Micro-credits since the month began (entries negated).
    pub spent: i64,
    pub budget: Option<i64>,
    /// Tasks submitted this month, and how many of them failed.
    pub tasks: i64,
    pub failures: i64,
    /// Micro-credits refunded this month.
    pub refunds: i64,
    /// Unix seconds of the newest ledger entry or task, if any.
    pub last_activity: Option<i64>,
}

/// Spending this month on one model and quality.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BreakdownRecord {
    pub task_kind: TaskKind,
    pub quality: Option<Quality>,
    pub tasks: i64,
    pub spent: i64,
}

/// Spending (entries negated) of member `$2`, or of everyone when `$2` is NULL, in the months
/// from `$1` on. A task's entries count in the month it was submitted, so a refund or settle
/// after midnight on the first returns credits to the month that held them, never to the next.
pub(super) const SPENT_SINCE: &str = "SELECT CAST(COALESCE(-SUM(l.amount), 0) AS BIGINT) \
     FROM ledger_entries l LEFT JOIN tasks t ON t.id = l.task_id \
     WHERE COALESCE(t.created_at, l.created_at) >= $1 AND ($2 IS NULL OR l.user_id = $2)";

const LINE_SELECT: &str = "SELECT l.id, l.user_id, u.username, l.task_id, t.kind AS task_kind, \
     t.quality, l.kind, l.amount, l.reason, l.created_at, a.name AS token_name FROM ledger_entries l \
     JOIN users u ON u.id = l.user_id LEFT JOIN tasks t ON t.id = l.task_id \
     LEFT JOIN api_tokens a ON a.id = t.token_id";

impl Store {
    /// Sets (or with `None` removes) a member's monthly budget, with its audit entry.
    pub async fn set_member_budget(
        &self,
        user_id: i64,
        limit: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<(), BackendError> {
        on_pool!(self, pool => {
        let mut tx = pool.begin().await?;
        match limit {
            Some(limit) => sqlx::query(
                "INSERT INTO member_budgets (user_id, monthly_limit, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET monthly_limit = $2, updated_at = $3",
            )
            .bind(user_id)
            .bind(limit)
            .bind(now)
            .execute(&mut *tx)
            .await?,
            None => sqlx::query("DELETE FROM member_budgets WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?,
        };
        insert_audit!(&mut *tx, audit)?;
        tx.commit().await?;
        Ok(())
        })
    }

    /// Sets (or with `None` removes) the team's monthly budget, with its audit entry.
    pub async fn set_team_budget(
        &self,
        limit: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<(), BackendError> {
        on_pool!(self, pool => {
        let mut tx = pool.begin().await?;
        match limit {
            Some(limit) => sqlx::query(
                "INSERT INTO team_budget (id, monthly_limit, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET monthly_limit = $1, updated_at = $2",
            )
            .bind(limit)
            .bind(now)
            .execute(&mut *tx)
            .await?,
            None => sqlx::query("DELETE FROM team_budget WHERE id = 1")
                .execute(&mut *tx)
                .await?,
        };
        insert_audit!(&mut *tx, audit)?;
        tx.commit().await?;
        Ok(())
        })
    }

    /// A member's spending since `month_start`, what their running tasks hold, and their budget.
    pub async fn usage_of_user(
        &self,
        user_id: i64,
        month_start: i64,
    ) -> Result<(i64, i64, Option<i64>), BackendError> {
        // What running tasks hold: everything not final yet.
        let reserved_sql = "SELECT CAST(COALESCE(SUM(cost_reserved), 0) AS BIGINT) FROM tasks \
             WHERE owner_id = $1 AND state NOT IN ($2, $3)";
        on_pool!(self, pool => {
            let spent: i64 = sqlx::query_scalar(SPENT_SINCE)
                .bind(month_start)
                .bind(Some(user_id))
                .fetch_one(pool)
                .await?;
            let reserved: i64 = sqlx::query_scalar(reserved_sql)
                .bind(user_id)
                .bind(TaskState::Completed)
                .bind(TaskState::Failed)
                .fetch_one(pool)
                .await?;
            let budget: Option<i64> =
                sqlx::query_scalar("SELECT monthly_limit FROM member_budgets WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(pool)
                    .await?;
            Ok((spent, reserved, budget))
        })
    }

    /// A member's newest ledger entries, with what their tasks were.
    pub async fn ledger_of_user(
        &self,
        user_id: i64,
        limit: i64,
    ) -> Result<Vec<LedgerLine>, BackendError> {
        let sql = format!("{LINE_SELECT} WHERE l.user_id = $1 ORDER BY l.id DESC LIMIT $2");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, LedgerLine>(&sql)
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// The ledger entries of a task, oldest first.
    pub async fn ledger_of_task(&self, task_id: &str) -> Result<Vec<LedgerRecord>, BackendError> {
        let rows = on_pool!(self, pool => sqlx::query_as::<_, LedgerRecord>(
            "SELECT id, user_id, task_id, kind, amount, reason, created_at FROM ledger_entries \
             WHERE task_id = $1 ORDER BY id"
        )
        .bind(task_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// The sum of a user's ledger entries (negative = spent or held).
    pub async fn ledger_balance(&self, user_id: i64) -> Result<i64, BackendError> {
        let sum: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE user_id = $1"
        )
        .bind(user_id)
        .fetch_one(pool)
        .await)?;
        Ok(sum.unwrap_or(0))
    }

    /// `(user_id, amount, billed_at)` of every entry billed since `since` (unix seconds), of one
    /// member or (with `None`) of the whole team, oldest first; a task's entries are billed when
    /// the task was submitted.
    pub async fn ledger_amounts_since(
        &self,
        user_id: Option<i64>,
        since: i64,
    ) -> Result<Vec<(i64, i64, i64)>, BackendError> {
        let rows = on_pool!(self, pool => sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT l.user_id, l.amount, COALESCE(t.created_at, l.created_at) FROM ledger_entries l \
             LEFT JOIN tasks t ON t.id = l.task_id \
             WHERE COALESCE(t.created_at, l.created_at) >= $1 AND ($2 IS NULL OR l.user_id = $2) ORDER BY l.id"
        )
        .bind(since)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Every entry of one member or (with `None`) of the team, oldest first, for CSV exports.
    pub async fn ledger_lines(
        &self,
        user_id: Option<i64>,
    ) -> Result<Vec<LedgerLine>, BackendError> {
        let sql = format!("{LINE_SELECT} WHERE ($1 IS NULL OR l.user_id = $1) ORDER BY l.id");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, LedgerLine>(&sql)
            .bind(user_id)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Every member's figures since `month_start`, by username.
    pub async fn member_usage(
        &self,
        month_start: i64,
    ) -> Result<Vec<MemberUsageRecord>, BackendError> {
        let sql = "SELECT u.id AS user_id, u.username, u.display_name, u.disabled, \
             CAST(COALESCE((SELECT -SUM(l.amount) FROM ledger_entries l LEFT JOIN tasks t ON t.id = l.task_id WHERE l.user_id = u.id AND COALESCE(t.created_at, l.created_at) >= $1), 0) AS BIGINT) AS spent, \
             b.monthly_limit AS budget, \
             (SELECT COUNT(*) FROM tasks t WHERE t.owner_id = u.id AND t.created_at >= $1) AS tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.owner_id = u.id AND t.created_at >= $1 AND t.state = $2) AS failures, \
             CAST(COALESCE((SELECT SUM(l.amount) FROM ledger_entries l JOIN tasks t ON t.id = l.task_id WHERE l.user_id = u.id AND t.created_at >= $1 AND l.kind = 'refund'), 0) AS BIGINT) AS refunds, \
             (SELECT MAX(created_at) FROM ledger_entries l WHERE l.user_id = u.id) AS last_activity \
             FROM users u LEFT JOIN member_budgets b ON b.user_id = u.id ORDER BY u.username";
        let rows = on_pool!(self, pool => sqlx::query_as::<_, MemberUsageRecord>(sql)
            .bind(month_start)
            .bind(TaskState::Failed)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Spending since `month_start` by task kind and quality.
    pub async fn usage_breakdown(
        &self,
        month_start: i64,
    ) -> Result<Vec<BreakdownRecord>, BackendError> {
        let rows = on_pool!(self, pool => sqlx::query_as::<_, BreakdownRecord>(
            "SELECT t.kind AS task_kind, t.quality, COUNT(DISTINCT t.id) AS tasks, \
             CAST(COALESCE(-SUM(l.amount), 0) AS BIGINT) AS spent \
             FROM ledger_entries l JOIN tasks t ON t.id = l.task_id \
             WHERE t.created_at >= $1 GROUP BY t.kind, t.quality ORDER BY t.kind, t.quality"
        )
        .bind(month_start)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// The whole team's spending since `month_start` and its budget, if any.
    pub async fn team_spending(
        &self,
        month_start: i64,
    ) -> Result<(i64, Option<i64>), BackendError> {
        on_pool!(self, pool => {
            let spent: i64 = sqlx::query_scalar(SPENT_SINCE)
                .bind(month_start)
                .bind(None::<i64>)
                .fetch_one(pool)
                .await?;
            let budget: Option<i64> =
                sqlx::query_scalar("SELECT monthly_limit FROM team_budget WHERE id = 1")
                    .fetch_optional(pool)
                    .await?;
            Ok((spent, budget))
        })
    }

    /// An admin's correction of a member's balance: positive gives credits back, negative
    /// charges. The reason is kept with the entry; the audit entry is written with it.
    pub async fn add_adjustment(
        &self,
        user_id: i64,
        amount: i64,
        reason: &str,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<(), BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO ledger_entries (user_id, task_id, kind, amount, reason, created_at) \
                 VALUES ($1, NULL, 'adjust', $2, $3, $4)",
            )
            .bind(user_id)
            .bind(amount)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            Ok(())
        })
    }
}
