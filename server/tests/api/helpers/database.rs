//! A uniquely named PostgreSQL database for one test, dropped when the test ends, also when the
//! test panics.

use sqlx::{Connection, Executor, PgConnection};

/// Where the admin database for creating test databases lives.
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh `kinema_test_<uuid>` database on 127.0.0.1:5432; dropped (with `FORCE`, so open
/// connections do not keep it alive) when this value is dropped.
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// Creates the database.
    pub async fn create() -> TestDatabase {
        let name = format!("kinema_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(POSTGRES_ADMIN_URL)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|err| panic!("create test database {name}: {err}"));
        let _ = admin.close().await;
        TestDatabase { name }
    }

    /// The connection string of the database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for TestDatabase {
    /// `Drop` cannot await, and the test's runtime may be busy or unwinding, so the drop runs on a
    /// thread of its own with a small runtime of its own.
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(POSTGRES_ADMIN_URL)
                    .await
                    .map_err(|err| err.to_string())?;
                admin
                    .execute(statement.as_str())
                    .await
                    .map_err(|err| err.to_string())?;
                let _ = admin.close().await;
                Ok(())
            })
        })
        .join()
        .unwrap_or_else(|_| Err("the dropping thread panicked".into()));
        if let Err(err) = dropped {
            let message = format!("could not drop test database {}: {err}", self.name);
            // A second panic while unwinding would abort and hide the test's own failure.
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}
