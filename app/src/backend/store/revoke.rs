//! Revoking a member's credential (an API token, a share link): one UPDATE and its audit entry.

use super::{audit::insert_audit, on_pool, NewAuditEntry, Store};
use crate::backend::BackendError;

/// The tables whose rows are revoked by stamping `revoked_at` once.
#[derive(Clone, Copy, Debug)]
pub(super) enum Revocable {
    ApiTokens,
    ShareLinks,
}

impl Revocable {
    fn update_sql(self) -> &'static str {
        match self {
            Revocable::ApiTokens => {
                "UPDATE api_tokens SET revoked_at = $1 \
                 WHERE id = $2 AND ($3 IS NULL OR owner_id = $3) AND revoked_at IS NULL"
            }
            Revocable::ShareLinks => {
                "UPDATE share_links SET revoked_at = $1 \
                 WHERE id = $2 AND ($3 IS NULL OR owner_id = $3) AND revoked_at IS NULL"
            }
        }
    }
}

impl Store {
    /// Revokes row `id` of `table` (of `owner_id` only, unless `None`) with its audit entry, in
    /// one transaction; false (and nothing written) when there was none to revoke.
    pub(super) async fn revoke_once(
        &self,
        table: Revocable,
        id: i64,
        owner_id: Option<i64>,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, BackendError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(table.update_sql())
                .bind(now)
                .bind(id)
                .bind(owner_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed != 1 {
                tx.rollback().await?;
                return Ok(false);
            }
            insert_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
