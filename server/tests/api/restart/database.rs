//! The database a restarted server runs on, as the test reads it: the SQLite file in its data
//! dir, or a PostgreSQL database of the test's own.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::helpers::{eventually, holds, TestDatabase};

/// Which database the server processes use.
pub enum Database {
    /// `kinema.db` in this data dir (the embedded default).
    Sqlite(PathBuf),
    /// `DATABASE_URL` pointing at this database.
    Postgres(TestDatabase),
}

/// Runs `$body` with `$conn` a fresh connection to `$db`, whichever kind it is.
macro_rules! on_connection {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            Database::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.join("kinema.db").display());
                let mut $conn = SqliteConnection::connect(&url).await.unwrap();
                $body
            }
            Database::Postgres(database) => {
                let mut $conn = PgConnection::connect(&database.url()).await.unwrap();
                $body
            }
        }
    };
}

/// A task as the test checks it: id, state, upstream id, final cost.
pub type TaskRow = (String, String, Option<String>, Option<i64>);

impl Database {
    /// SQLite in `dir`.
    pub fn sqlite(dir: &Path) -> Database {
        Database::Sqlite(dir.to_path_buf())
    }

    /// A fresh PostgreSQL database.
    pub async fn postgres() -> Database {
        Database::Postgres(TestDatabase::create().await)
    }

    /// The `DATABASE_URL` the server gets, if any (SQLite is its default).
    pub fn server_env(&self) -> Option<(&'static str, String)> {
        match self {
            Database::Sqlite(_) => None,
            Database::Postgres(database) => Some(("DATABASE_URL", database.url())),
        }
    }

    /// Every task, by creation.
    pub async fn rows(&self) -> Vec<TaskRow> {
        const SQL: &str =
            "SELECT id, state, upstream_id, cost_final FROM tasks ORDER BY created_at, id";
        on_connection!(self, conn => sqlx::query_as(SQL).fetch_all(&mut conn).await.unwrap())
    }

    /// How often task `id` was tried.
    pub async fn attempts(&self, id: &str) -> i64 {
        const SQL: &str = "SELECT attempts FROM tasks WHERE id = $1";
        on_connection!(self, conn => sqlx::query_scalar(SQL)
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .unwrap())
    }

    /// The number of ledger entries and the sum of their amounts.
    pub async fn ledger_count_and_sum(&self) -> (i64, i64) {
        const SQL: &str = "SELECT COUNT(*), CAST(SUM(amount) AS BIGINT) FROM ledger_entries";
        on_connection!(self, conn => sqlx::query_as(SQL).fetch_one(&mut conn).await.unwrap())
    }

    /// The state of task `id` (empty if there is no such task).
    pub async fn state_of(&self, id: &str) -> String {
        self.rows()
            .await
            .into_iter()
            .find(|r| r.0 == id)
            .map(|r| r.1)
            .unwrap_or_default()
    }

    /// Waits until task `id` is in `state`.
    pub async fn until_state(&self, id: &str, state: &str, timeout: Duration) {
        let what = format!("task {id} to be {state}");
        eventually(&what, timeout, || async {
            let seen = self.state_of(id).await;
            holds(seen == state, seen)
        })
        .await;
    }
}
