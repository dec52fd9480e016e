//! A consistent copy of a SQLite database while Kinema runs.

use std::path::Path;

use super::Store;
use crate::backend::BackendError;

impl Store {
    /// Writes a consistent copy of the SQLite database to `target`, which must not exist yet.
    /// `VACUUM INTO` reads inside one transaction, so writers may go on meanwhile and the copy
    /// is the database as of one moment (compacted, with the WAL folded in). PostgreSQL is
    /// backed up with `pg_dump` instead.
    pub async fn backup_sqlite_to(&self, target: &Path) -> Result<(), BackendError> {
        let Store::Sqlite(pool) = self else {
            return Err(BackendError::Invalid(
                "the database is PostgreSQL: back it up with pg_dump (see the README)".into(),
            ));
        };
        if target.exists() {
            return Err(BackendError::Invalid(format!(
                "{} exists already; choose a new file",
                target.display()
            )));
        }
        let target = target
            .to_str()
            .ok_or_else(|| BackendError::Invalid("the backup path must be valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await?;
        Ok(())
    }
}
