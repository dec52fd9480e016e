//! `kinema-server backup --to FILE` and `kinema-server restore --from FILE` for SQLite. The
//! backup is taken while Kinema runs (`VACUUM INTO`, one consistent moment); a restore goes into
//! a data directory with no database yet, with Kinema stopped. PostgreSQL is backed up with
//! `pg_dump` and restored with `pg_restore`; the media with a file copy (see the README).

use std::{path::Path, str::FromStr};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteConnection},
    ConnectOptions, Connection,
};

use app::backend::store::is_postgres_url;

use crate::config::Config;

/// How long the backup waits for a writer's lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

const POSTGRES_HINT: &str = "the database is PostgreSQL: use pg_dump to back it up and \
     pg_restore to restore it (see the README's operations section)";

/// Copies the configured SQLite database to `target` (a new file) while Kinema may be running.
pub async fn backup(config: &Config, target: &Path) -> Result<String, String> {
    if is_postgres_url(config.database_url.expose()) {
        return Err(POSTGRES_HINT.into());
    }
    let source = sqlite_path(config)?;
    if !source.exists() {
        return Err(format!("there is no database at {}", source.display()));
    }
    if target.exists() {
        return Err(format!(
            "{} exists already; choose a new file",
            target.display()
        ));
    }
    let target_text = target
        .to_str()
        .ok_or("the backup path must be valid UTF-8")?;
    // A plain connection, no migrations: the running server's schema is copied as it is.
    let mut connection = SqliteConnectOptions::new()
        .filename(&source)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|err| format!("cannot open the database: {err}"))?;
    // VACUUM INTO reads inside one transaction, so writers go on meanwhile and the copy is the
    // database as of one moment (compacted, with the WAL folded in).
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(target_text)
        .execute(&mut connection)
        .await;
    let _ = connection.close().await;
    copied.map_err(|err| format!("the backup failed: {err}"))?;
    let bytes = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "Backed up the database to {} ({bytes} bytes). Copy {} as well: it holds the media.",
        target.display(),
        config.data_dir.join("media").display()
    ))
}

/// Puts a backup made by [`backup`] in place as the configured SQLite database, after checking
/// it; refuses when a database is there already. Run it with Kinema stopped.
pub async fn restore(config: &Config, backup: &Path) -> Result<String, String> {
    if is_postgres_url(config.database_url.expose()) {
        return Err(POSTGRES_HINT.into());
    }
    let target = sqlite_path(config)?;
    for existing in [
        target.clone(),
        with_suffix(&target, "-wal"),
        with_suffix(&target, "-shm"),
    ] {
        if existing.exists() {
            return Err(format!(
                "{} exists already: restore into a data directory without a database (move \
                 the old one aside first)",
                existing.display()
            ));
        }
    }
    check_backup(backup).await?;
    if let Some(dir) = target.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    }
    // Copied beside the target first, so a crash never leaves half a database in its place.
    let partial = with_suffix(&target, ".restoring");
    let copied = std::fs::copy(backup, &partial)
        .and_then(|_| std::fs::File::open(&partial)?.sync_all())
        .and_then(|()| std::fs::rename(&partial, &target));
    if let Err(err) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("cannot write {}: {err}", target.display()));
    }
    Ok(format!(
        "Restored the database to {}. Put the media back into {} before starting Kinema.",
        target.display(),
        config.data_dir.join("media").display()
    ))
}

/// Opens the backup read-only: it must be an intact SQLite file with Kinema's tables.
async fn check_backup(backup: &Path) -> Result<(), String> {
    let not_a_backup = |why: String| format!("{} is not a Kinema backup: {why}", backup.display());
    if !backup.is_file() {
        return Err(format!("there is no file {}", backup.display()));
    }
    let mut connection: SqliteConnection = SqliteConnectOptions::new()
        .filename(backup)
        .read_only(true)
        .connect()
        .await
        .map_err(|err| not_a_backup(err.to_string()))?;
    let integrity: Result<String, sqlx::Error> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await;
    let migrations: Result<i64, sqlx::Error> =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut connection)
            .await;
    let tasks: Result<i64, sqlx::Error> = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
        .fetch_one(&mut connection)
        .await;
    let _ = connection.close().await;
    match integrity.map_err(|err| not_a_backup(err.to_string()))? {
        ok if ok == "ok" => {}
        problem => return Err(not_a_backup(format!("the integrity check says {problem}"))),
    }
    match (migrations, tasks) {
        (Ok(applied), Ok(_)) if applied > 0 => Ok(()),
        _ => Err(not_a_backup("Kinema's tables are missing".into())),
    }
}

/// The file of the configured SQLite database.
fn sqlite_path(config: &Config) -> Result<std::path::PathBuf, String> {
    let options = SqliteConnectOptions::from_str(config.database_url.expose())
        .map_err(|err| format!("DATABASE_URL is not a SQLite address: {err}"))?;
    Ok(options.get_filename().to_path_buf())
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}
