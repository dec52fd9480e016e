//! The audit log: entries are only ever inserted (the database refuses UPDATE and DELETE). An
//! action that writes to the database inserts its entry in its own transaction with
//! [`insert_audit!`], so no action is kept without its entry.

use super::{on_pool, Store};
use crate::backend::BackendError;
use crate::rules::audit::AuditAction;

/// An entry to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who acted; `None` for a failed sign-in.
    pub actor_id: Option<i64>,
    /// The actor's username at the time, or the name a failed sign-in tried.
    pub actor_name: String,
    pub action: AuditAction,
    /// What the action was done to: a task or element id, a username, `invite 3`, `team`.
    pub target: String,
    /// Particulars in words (a budget's amount, an adjustment's reason); may be empty.
    pub detail: String,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
    /// The API token a gateway call came with.
    pub token_id: Option<i64>,
    /// Unix milliseconds (UTC).
    pub at_ms: i64,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: AuditAction,
    pub target: String,
    pub detail: String,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
    pub token_id: Option<i64>,
    pub at_ms: i64,
}

/// Which entries to read: every bound is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub action: Option<AuditAction>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until_ms: Option<i64>,
}

/// The insert of one entry, for [`insert_audit!`].
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (actor_id, actor_name, action, \
     target, detail, client_address, request_id, token_id, at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Inserts the [`NewAuditEntry`] `$entry` on `$executor` (a transaction or a pool).
macro_rules! insert_audit {
    ($executor:expr, $entry:expr) => {{
        let entry: &$crate::backend::store::NewAuditEntry = $entry;
        sqlx::query($crate::backend::store::audit::INSERT_AUDIT)
            .bind(entry.actor_id)
            .bind(&entry.actor_name)
            .bind(entry.action)
            .bind(&entry.target)
            .bind(&entry.detail)
            .bind(&entry.client_address)
            .bind(&entry.request_id)
            .bind(entry.token_id)
            .bind(entry.at_ms)
            .execute($executor)
            .await
            .map(|_| ())
    }};
}
pub(crate) use insert_audit;

const SELECT: &str = "SELECT id, actor_id, actor_name, action, target, detail, client_address, \
     request_id, token_id, at_ms FROM audit_log";

const WHERE: &str = "WHERE ($1 IS NULL OR actor_id = $1) AND ($2 IS NULL OR action = $2) \
     AND ($3 IS NULL OR at_ms >= $3) AND ($4 IS NULL OR at_ms < $4)";

impl Store {
    /// Records an entry on its own (for actions that write nothing else).
    pub async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), BackendError> {
        on_pool!(self, pool => insert_audit!(pool, entry))?;
        Ok(())
    }

    /// One page of matching entries, newest first, and how many match in all.
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditRecord>, i64), BackendError> {
        let rows_sql = format!("{SELECT} {WHERE} ORDER BY id DESC LIMIT $5 OFFSET $6");
        let count_sql = format!("SELECT COUNT(*) FROM audit_log {WHERE}");
        on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, AuditRecord>(&rows_sql)
                .bind(filter.actor_id)
                .bind(filter.action)
                .bind(filter.from_ms)
                .bind(filter.until_ms)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(filter.actor_id)
                .bind(filter.action)
                .bind(filter.from_ms)
                .bind(filter.until_ms)
                .fetch_one(pool)
                .await?;
            Ok((rows, total))
        })
    }

    /// Every matching entry, oldest first (the CSV export).
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, BackendError> {
        let sql = format!("{SELECT} {WHERE} ORDER BY id");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, AuditRecord>(&sql)
            .bind(filter.actor_id)
            .bind(filter.action)
            .bind(filter.from_ms)
            .bind(filter.until_ms)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}
