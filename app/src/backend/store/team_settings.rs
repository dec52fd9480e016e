//! Team-wide settings kept in one row (`team_settings`, id = 1; no row means the defaults):
//! whether password sign-in is on.

use super::{audit::insert_audit, on_pool, NewAuditEntry, Store};
use crate::backend::BackendError;

impl Store {
    /// Whether the team lets people sign in with passwords (on unless an admin switched it off).
    pub async fn password_sign_in_setting(&self) -> Result<bool, BackendError> {
        let stored: Option<bool> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT password_sign_in FROM team_settings WHERE id = 1"
        )
        .fetch_optional(pool)
        .await)?;
        Ok(stored.unwrap_or(true))
    }

    /// Switches password sign-in on or off, with its audit entry, in one transaction.
    pub async fn set_password_sign_in(
        &self,
        enabled: bool,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<(), BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO team_settings (id, password_sign_in, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET password_sign_in = $1, updated_at = $2",
            )
            .bind(enabled)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// How many enabled admins sign in through the provider `issuer` (they keep the team
    /// administrable when passwords are switched off).
    pub async fn admins_signing_in_with(&self, issuer: &str) -> Result<i64, BackendError> {
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT CAST(COUNT(DISTINCT users.id) AS BIGINT) FROM users \
             JOIN oidc_identities ON oidc_identities.user_id = users.id \
             WHERE oidc_identities.issuer = $1 AND users.role = 'admin' AND users.disabled = FALSE"
        )
        .bind(issuer)
        .fetch_one(pool)
        .await)?;
        Ok(count)
    }
}
