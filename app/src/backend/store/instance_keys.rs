//! Keys shared by every instance on this database (the media signing key), made once.

use super::{on_pool, Store};
use crate::backend::BackendError;

/// Keeps the first key written under a name; later candidates are dropped.
const INSERT_IF_ABSENT: &str = "INSERT INTO instance_keys (name, secret, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING";

const SELECT_KEY: &str = "SELECT secret FROM instance_keys WHERE name = $1";

impl Store {
    /// The key stored under `name`, storing `candidate` first when there is none. Two instances
    /// starting at once both end up with the one key that won the insert.
    pub async fn instance_key(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String, BackendError> {
        on_pool!(self, pool => sqlx::query(INSERT_IF_ABSENT)
            .bind(name)
            .bind(candidate)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ()))?;
        let key: String = on_pool!(self, pool => sqlx::query_scalar(SELECT_KEY)
            .bind(name)
            .fetch_one(pool)
            .await)?;
        Ok(key)
    }
}
