//! Database access for SQLite and PostgreSQL behind one API. SQL is written once with `$1`
//! placeholders; [`on_pool!`] runs the same statement on whichever backend is active.

pub(crate) mod audit;
mod counts;
mod drift;
mod elements;
mod instance_keys;
mod invites;
mod ledger;
mod oidc;
mod revoke;
mod share_links;
mod tasks;
mod team_settings;
mod text;
mod throttle;
mod tokens;
mod uploads;
mod users;

pub use audit::{AuditFilter, AuditRecord, NewAuditEntry};
pub use drift::DriftRecord;
pub use elements::{ElementRecord, NewElement};
pub use invites::{InviteRecord, NewInvite};
pub use ledger::{BreakdownRecord, LedgerLine, LedgerRecord, MemberUsageRecord};
pub use oidc::{EmailInvite, OidcIdentity};
pub use share_links::{NewShareLink, ShareLinkRecord, SharedResult, SHARE_LIST_LIMIT};
pub use tasks::{claim_pick_sql, LedgerWrite, TaskRecord};
pub use throttle::{Budget, Reservation};
pub use tokens::{ApiTokenRecord, NewApiToken};
pub use uploads::UploadRecord;
pub use users::{NewUser, UserRecord};

use std::{str::FromStr, time::Duration};

use sqlx::{
    migrate::Migrator,
    postgres::{PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

use super::BackendError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// The active database.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the active backend's pool.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::backend::store::Store::Sqlite($pool) => $body,
            $crate::backend::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite:…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store, BackendError> {
        let store = if is_postgres_url(url) {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Store::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Store::Sqlite(pool)
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations of the active backend.
    pub async fn migrate(&self) -> Result<(), BackendError> {
        match self {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(|err| BackendError::Internal(format!("migration failed: {err}")))
    }

    /// Which backend is active, for logs and the readiness probe.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Ok when the database answers and every embedded migration is applied.
    pub async fn check_ready(&self) -> Result<(), BackendError> {
        let expected = match self {
            Store::Sqlite(_) => SQLITE_MIGRATIONS.iter().count(),
            Store::Postgres(_) => POSTGRES_MIGRATIONS.iter().count(),
        } as i64;
        let applied: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE"
        )
        .fetch_one(pool)
        .await)?;
        if applied < expected {
            return Err(BackendError::Internal(format!(
                "{applied} of {expected} migrations applied"
            )));
        }
        Ok(())
    }

    /// Closes every connection.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// True when the URL selects PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
