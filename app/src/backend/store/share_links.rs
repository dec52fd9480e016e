//! Share links: stored as the SHA-256 of the link's token, never the token itself. A link is
//! read afresh on every request of the shared page and its video, together with its task, so
//! revoking it, deleting the task or disabling the owner stops it at once.

use super::{audit::insert_audit, on_pool, revoke::Revocable, NewAuditEntry, Store};
use crate::backend::BackendError;
use crate::rules::vocab::TaskState;

/// A link row (without its hash) and its owner's username.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ShareLinkRecord {
    pub id: i64,
    pub task_id: String,
    pub owner_id: i64,
    pub owner_username: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A link to store.
pub struct NewShareLink<'a> {
    pub token_hash: &'a str,
    pub task_id: &'a str,
    pub owner_id: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// What an open link shows: the archived result of a completed, undeleted task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SharedResult {
    /// The result's key in media storage.
    pub result_key: String,
    /// The result's length in seconds, when known.
    pub output_seconds: Option<i64>,
    /// When the link stops (unix seconds); `None`: until revoked.
    pub expires_at: Option<i64>,
}

/// The most links one list shows.
pub const SHARE_LIST_LIMIT: i64 = 200;

const LINK_SELECT: &str = "SELECT s.id, s.task_id, s.owner_id, u.username AS owner_username, \
     s.created_at, s.expires_at, s.revoked_at \
     FROM share_links s JOIN users u ON u.id = s.owner_id JOIN tasks t ON t.id = s.task_id";

impl Store {
    /// Stores a new link with its audit entry in one transaction; the entry's detail is
    /// prefixed with the new link's number (`link 7, …`), so a later revoke can be matched.
    pub async fn insert_share_link(
        &self,
        link: &NewShareLink<'_>,
        audit: &NewAuditEntry,
    ) -> Result<ShareLinkRecord, BackendError> {
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO share_links (token_hash, task_id, owner_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id"
            )
            .bind(link.token_hash)
            .bind(link.task_id)
            .bind(link.owner_id)
            .bind(link.created_at)
            .bind(link.expires_at)
            .fetch_one(&mut *tx)
            .await?;
            let entry = NewAuditEntry {
                detail: format!("link {id}, {}", audit.detail),
                ..audit.clone()
            };
            insert_audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok::<i64, BackendError>(id)
        })?;
        self.share_link_by_id(id)
            .await?
            .ok_or_else(|| BackendError::Internal("a stored share link vanished".into()))
    }

    /// A link of an undeleted task, by its id.
    pub async fn share_link_by_id(&self, id: i64) -> Result<Option<ShareLinkRecord>, BackendError> {
        let sql = format!("{LINK_SELECT} WHERE s.id = $1 AND t.deleted_at IS NULL");
        let row = on_pool!(self, pool => sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Links of undeleted tasks, newest first (at most [`SHARE_LIST_LIMIT`]), revoked and
    /// expired ones included: of `owner_id` (or everyone's with `None`), of `task_id` (or
    /// every task's with `None`).
    pub async fn share_links(
        &self,
        owner_id: Option<i64>,
        task_id: Option<&str>,
    ) -> Result<Vec<ShareLinkRecord>, BackendError> {
        let sql = format!(
            "{LINK_SELECT} WHERE t.deleted_at IS NULL AND ($1 IS NULL OR s.owner_id = $1) \
             AND ($2 IS NULL OR s.task_id = $2) ORDER BY s.id DESC LIMIT {SHARE_LIST_LIMIT}"
        );
        let rows = on_pool!(self, pool => sqlx::query_as::<_, ShareLinkRecord>(&sql)
            .bind(owner_id)
            .bind(task_id)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// What the link with this token hash shows at `now` (unix seconds): nothing unless the
    /// link is neither revoked nor expired, its task is completed, archived and not deleted,
    /// and its owner is enabled.
    pub async fn shared_result(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SharedResult>, BackendError> {
        let sql = "SELECT t.result_key, t.output_seconds, s.expires_at \
             FROM share_links s JOIN tasks t ON t.id = s.task_id JOIN users u ON u.id = s.owner_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL \
             AND (s.expires_at IS NULL OR s.expires_at > $2) \
             AND t.deleted_at IS NULL AND t.state = $3 AND t.result_key IS NOT NULL \
             AND u.disabled = FALSE";
        let row = on_pool!(self, pool => sqlx::query_as::<_, SharedResult>(sql)
            .bind(token_hash)
            .bind(now)
            .bind(TaskState::Completed)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Revokes a link (of `owner_id` only, unless `None`) with its audit entry, in one
    /// transaction; false (and nothing written) when there was none to revoke.
    pub async fn revoke_share_link(
        &self,
        id: i64,
        owner_id: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        self.revoke_once(Revocable::ShareLinks, id, owner_id, now, audit)
            .await
    }
}
