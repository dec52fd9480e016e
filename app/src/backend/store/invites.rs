//! Invite links: single use, expiring, stored as a hash of their token.

use super::{audit::insert_audit, on_pool, users::NewUser, NewAuditEntry, Store, UserRecord};
use crate::backend::BackendError;

/// An invite row joined with the names of its creator and user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRecord {
    pub id: i64,
    pub role: String,
    pub created_by_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_by_name: Option<String>,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// An invite to create.
pub struct NewInvite<'a> {
    pub token_hash: &'a str,
    pub role: &'a str,
    pub created_by: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// The email the invite is meant for (lets that person join by single sign-on).
    pub email: Option<&'a str>,
}

const INVITE_SELECT: &str =
    "SELECT i.id, i.role, c.display_name AS created_by_name, i.created_at, \
     i.expires_at, u.display_name AS used_by_name, i.used_at, i.revoked_at \
     FROM invites i JOIN users c ON c.id = i.created_by LEFT JOIN users u ON u.id = i.used_by";

impl Store {
    /// Stores a new invite and returns its id, with its audit entry (whose target becomes
    /// `invite <id>`) in the same transaction.
    pub async fn create_invite(
        &self,
        invite: &NewInvite<'_>,
        audit: &NewAuditEntry,
    ) -> Result<i64, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO invites (token_hash, role, created_by, created_at, expires_at, email) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(invite.token_hash)
            .bind(invite.role)
            .bind(invite.created_by)
            .bind(invite.created_at)
            .bind(invite.expires_at)
            .bind(invite.email)
            .fetch_one(&mut *tx)
            .await?;
            let entry = NewAuditEntry {
                target: format!("invite {id}"),
                ..audit.clone()
            };
            insert_audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The newest invites first.
    pub async fn list_invites(&self, limit: i64) -> Result<Vec<InviteRecord>, BackendError> {
        let sql = format!("{INVITE_SELECT} ORDER BY i.id DESC LIMIT $1");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, InviteRecord>(&sql)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Finds an invite by its token hash.
    pub async fn invite_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<InviteRecord>, BackendError> {
        let sql = format!("{INVITE_SELECT} WHERE i.token_hash = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, InviteRecord>(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// In one transaction: creates the user with the invite's role and marks the invite used.
    /// `Ok(None)` when the invite is unknown, used or expired (nothing is written then). The
    /// audit entry is recorded in the same transaction as the new member's (actor and target
    /// become the new member, the detail their role).
    pub async fn accept_invite(
        &self,
        token_hash: &str,
        user: &NewUser<'_>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<UserRecord>, BackendError> {
        let sql_user = "INSERT INTO users (username, display_name, password_hash, role, disabled, created_at) \
             SELECT $1, $2, $3, role, FALSE, $4 FROM invites \
             WHERE token_hash = $5 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $4 \
             RETURNING id, username, display_name, password_hash, role, disabled, created_at, \
             session_epoch";
        let sql_mark = "UPDATE invites SET used_by = $1, used_at = $2 \
             WHERE token_hash = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let created = sqlx::query_as::<_, UserRecord>(sql_user)
                .bind(user.username)
                .bind(user.display_name)
                .bind(user.password_hash)
                .bind(now)
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(created) = created else {
                tx.rollback().await?;
                return Ok(None);
            };
            let marked = sqlx::query(sql_mark)
                .bind(created.id)
                .bind(now)
                .bind(token_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked != 1 {
                tx.rollback().await?;
                return Ok(None);
            }
            let entry = NewAuditEntry {
                actor_id: Some(created.id),
                actor_name: created.username.clone(),
                target: created.username.clone(),
                detail: created.role.clone(),
                ..audit.clone()
            };
            insert_audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(Some(created))
        })
    }

    /// Revokes an unused invite, with its audit entry; false (and nothing written) when it is
    /// unknown, used or already revoked.
    pub async fn revoke_invite(
        &self,
        id: i64,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let revoked = sqlx::query(
                "UPDATE invites SET revoked_at = $1 \
                 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if revoked != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
