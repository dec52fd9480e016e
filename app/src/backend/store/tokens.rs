//! Personal API tokens: stored as the SHA-256 of the token, never the token itself.

use super::{audit::insert_audit, on_pool, revoke::Revocable, NewAuditEntry, Store};
use crate::backend::BackendError;
use crate::rules::vocab::TokenScope;

/// A token row (without its hash) and its owner's username.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub owner_id: i64,
    pub owner_username: String,
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub scope: TokenScope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiTokenRecord {
    /// True when the token may be used at `now` (not revoked, not expired).
    pub fn usable_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires| expires > now)
    }
}

/// A token to store.
pub struct NewApiToken<'a> {
    pub owner_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub scope: TokenScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

const TOKEN_SELECT: &str = "SELECT t.id, t.owner_id, u.username AS owner_username, t.name, \
     t.prefix, t.scope, t.created_at, t.last_used_at, t.expires_at, t.revoked_at \
     FROM api_tokens t JOIN users u ON u.id = t.owner_id";

impl Store {
    /// Stores a new token with its audit entry (which gets the new token's id) in one
    /// transaction, and returns its row.
    pub async fn insert_api_token(
        &self,
        token: &NewApiToken<'_>,
        audit: &NewAuditEntry,
    ) -> Result<ApiTokenRecord, BackendError> {
        let id: i64 = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (owner_id, name, prefix, token_hash, scope, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
            )
            .bind(token.owner_id)
            .bind(token.name)
            .bind(token.prefix)
            .bind(token.token_hash)
            .bind(token.scope)
            .bind(token.created_at)
            .bind(token.expires_at)
            .fetch_one(&mut *tx)
            .await?;
            let entry = NewAuditEntry {
                token_id: Some(id),
                ..audit.clone()
            };
            insert_audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok::<i64, BackendError>(id)
        })?;
        self.api_token_by_id(id)
            .await?
            .ok_or_else(|| BackendError::Internal("a stored token vanished".into()))
    }

    /// A token by its id.
    pub async fn api_token_by_id(&self, id: i64) -> Result<Option<ApiTokenRecord>, BackendError> {
        let sql = format!("{TOKEN_SELECT} WHERE t.id = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, ApiTokenRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// A token by the hash of its text.
    pub async fn api_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<ApiTokenRecord>, BackendError> {
        let sql = format!("{TOKEN_SELECT} WHERE t.token_hash = $1");
        let row = on_pool!(self, pool => sqlx::query_as::<_, ApiTokenRecord>(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// A member's tokens (or, with `None`, everyone's), newest first, revoked ones included.
    pub async fn api_tokens(
        &self,
        owner_id: Option<i64>,
    ) -> Result<Vec<ApiTokenRecord>, BackendError> {
        let sql =
            format!("{TOKEN_SELECT} WHERE ($1 IS NULL OR t.owner_id = $1) ORDER BY t.id DESC");
        let rows = on_pool!(self, pool => sqlx::query_as::<_, ApiTokenRecord>(&sql)
            .bind(owner_id)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Revokes a token (of `owner_id` only, unless `None`) with its audit entry, in one
    /// transaction; false (and nothing written) when there was none to revoke.
    pub async fn revoke_api_token(
        &self,
        id: i64,
        owner_id: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        self.revoke_once(Revocable::ApiTokens, id, owner_id, now, audit)
            .await
    }

    /// Notes that a token was used at `now`; written at most once a minute per token.
    pub async fn touch_api_token(&self, id: i64, now: i64) -> Result<(), BackendError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)"
        )
        .bind(now)
        .bind(id)
        .bind(now - 60)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
