//! Members who sign in with the team's identity provider: found by (issuer, subject), created
//! on their first sign-in together with their identity, their invite's use and their audit
//! entry, in one transaction.

use super::{
    audit::insert_audit, on_pool, users::USER_COLUMNS, NewAuditEntry, NewUser, Store, UserRecord,
};
use crate::backend::BackendError;

/// An unused, unexpired, unrevoked invite meant for an email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailInvite {
    pub id: i64,
    pub role: String,
}

/// Who signs in through the provider.
pub struct OidcIdentity<'a> {
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a str>,
}

impl Store {
    /// The member the provider's `subject` belongs to.
    pub async fn user_by_oidc_subject(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, BackendError> {
        let sql = format!(
            "SELECT {} FROM users WHERE id = \
             (SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2)",
            USER_COLUMNS
        );
        let row = on_pool!(self, pool => sqlx::query_as::<_, UserRecord>(&sql)
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// The newest open invite for `email` (compared in lower case).
    pub async fn open_invite_for_email(
        &self,
        email: &str,
        now: i64,
    ) -> Result<Option<EmailInvite>, BackendError> {
        let row = on_pool!(self, pool => sqlx::query_as::<_, EmailInvite>(
            "SELECT id, role FROM invites WHERE LOWER(email) = LOWER($1) AND used_at IS NULL \
             AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT 1"
        )
        .bind(email)
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        Ok(row)
    }

    /// In one transaction: uses up `invite` (when given; `Ok(None)` and nothing written when it
    /// is no longer open), creates the member and their identity, and writes the audit entry
    /// (actor and target become the new member).
    pub async fn create_oidc_member(
        &self,
        user: &NewUser<'_>,
        identity: &OidcIdentity<'_>,
        invite: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<Option<UserRecord>, BackendError> {
        let insert_user = format!(
            "INSERT INTO users (username, display_name, password_hash, role, disabled, created_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5) RETURNING {USER_COLUMNS}"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let created = sqlx::query_as::<_, UserRecord>(&insert_user)
                .bind(user.username)
                .bind(user.display_name)
                .bind(user.password_hash)
                .bind(user.role.as_str())
                .bind(user.created_at)
                .fetch_one(&mut *tx)
                .await?;
            if let Some(invite) = invite {
                let marked = sqlx::query(
                    "UPDATE invites SET used_by = $1, used_at = $2 WHERE id = $3 \
                     AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
                )
                .bind(created.id)
                .bind(now)
                .bind(invite)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if marked != 1 {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
            sqlx::query(
                "INSERT INTO oidc_identities (issuer, subject, user_id, email, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(identity.issuer)
            .bind(identity.subject)
            .bind(created.id)
            .bind(identity.email)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let entry = NewAuditEntry {
                actor_id: Some(created.id),
                actor_name: created.username.clone(),
                target: created.username.clone(),
                detail: format!("{} via single sign-on", created.role),
                ..audit.clone()
            };
            insert_audit!(&mut *tx, &entry)?;
            tx.commit().await?;
            Ok(Some(created))
        })
    }
}
