//! The session store of the active database with a short-lived in-memory cache in front of it,
//! and the periodic deletion of expired sessions.

use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use app::backend::session_cache::SessionKey;
use app::backend::store::Store;
use app::backend::AppState;

/// tower-sessions' SQL store for whichever database Kinema runs on.
#[derive(Clone, Debug)]
pub enum SqlSessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl SqlSessionStore {
    /// Creates the store on the app's database and its table.
    pub async fn new(store: &Store) -> Result<Self, sqlx::Error> {
        Ok(match store {
            Store::Sqlite(pool) => {
                let sessions = SqliteStore::new(pool.clone());
                sessions.migrate().await?;
                SqlSessionStore::Sqlite(sessions)
            }
            Store::Postgres(pool) => {
                let sessions = PostgresStore::new(pool.clone());
                sessions.migrate().await?;
                SqlSessionStore::Postgres(sessions)
            }
        })
    }

    /// Deletes expired sessions every `period`, forever; failures are logged and retried.
    pub async fn delete_expired_periodically(self, period: Duration) {
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            if let Err(err) = self.delete_expired().await {
                tracing::warn!(error = %err, "deleting expired sessions failed");
            }
        }
    }
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SqlSessionStore::Sqlite(store) => store.create(record).await,
            SqlSessionStore::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SqlSessionStore::Sqlite(store) => store.save(record).await,
            SqlSessionStore::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SqlSessionStore::Sqlite(store) => store.load(id).await,
            SqlSessionStore::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SqlSessionStore::Sqlite(store) => store.delete(id).await,
            SqlSessionStore::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            SqlSessionStore::Sqlite(store) => store.delete_expired().await,
            SqlSessionStore::Postgres(store) => store.delete_expired().await,
        }
    }
}

/// The SQL store with the app's session cache in front of it: reads are served from memory while
/// fresh, every write goes to the database first, and a delete is announced to every instance.
#[derive(Clone)]
pub struct CachedSessionStore {
    sql: SqlSessionStore,
    state: AppState,
}

impl std::fmt::Debug for CachedSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSessionStore")
            .field("sql", &self.sql)
            .finish_non_exhaustive()
    }
}

impl CachedSessionStore {
    /// Puts `state`'s session cache in front of `sql`.
    pub fn new(sql: SqlSessionStore, state: AppState) -> CachedSessionStore {
        CachedSessionStore { sql, state }
    }
}

#[async_trait]
impl SessionStore for CachedSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.sql.create(record).await?;
        self.state.session_cache().put(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.sql.save(record).await?;
        self.state.session_cache().put(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc();
        if let Some(record) = self.state.session_cache().get(id, now) {
            return Ok(Some(record));
        }
        let record = self.sql.load(id).await?;
        if let Some(record) = &record {
            self.state.session_cache().put(record);
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.sql.delete(id).await?;
        self.state.session_deleted(SessionKey::of(id));
        Ok(())
    }
}
