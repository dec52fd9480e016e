//! Backup and restore as the README's operations section describes them: a flow with history,
//! ledger entries, an element and an archived result; a backup taken while the instance runs
//! (SQLite: `kinema-server backup --to FILE`; PostgreSQL: `pg_dump`), the media copied with
//! `cp -a`; then a fresh data dir (and database), the restore (`kinema-server restore --from
//! FILE`; `pg_restore`), and a new instance that shows the same history, ledger sums, elements
//! and result bytes.

use std::{path::Path, process::Command, time::Duration};

use app::backend::store::Store;
use serde_json::Value;

use crate::helpers::{
    eventually, holds, inputs, ok_json, server_command, set_faults, sign_in, submit, team,
    until_final, upload, Db, TestApp, TestDatabase, PASSWORD,
};

/// What the restored instance must show again.
#[derive(Debug, PartialEq)]
struct Snapshot {
    history: Value,
    elements: Value,
    ledger: Vec<(String, i64, i64)>,
    result: Vec<u8>,
}

/// A member's tasks (one completed, one failed) and an element made by the admin.
async fn make_history(app: &TestApp) -> String {
    let (admin, member, _) = team(app).await;
    let inputs = inputs(app, &member, "valid-index-at-end.mp4").await;
    let mut ids = Vec::new();
    for key in ["kept", "refused"] {
        if key == "refused" {
            set_faults(
                app,
                serde_json::json!({ "fail_next_tasks": 1, "task_error_code": "content_policy_violation" }),
            )
            .await;
        }
        let task = ok_json(submit(app, &member, &inputs, "720p", "image", key).await).await;
        let id = task["id"].as_str().unwrap().to_string();
        until_final(app, &member, &id).await;
        ids.push(id);
    }
    let video = upload(app, &admin, "element_video", "element-face.mp4").await;
    let element = ok_json(
        app.call(
            &admin,
            "create_element",
            &[
                ("name", "Mia"),
                (
                    "description",
                    "A dancer with short dark hair in a red dress",
                ),
                ("reference_type", "video"),
                ("video_upload_id", &video),
                ("frontal_upload_id", ""),
                ("refer_upload_ids", ""),
                ("voice_id", "829824295735410756"),
                ("idempotency_key", "mia"),
            ],
        )
        .await,
    )
    .await;
    let element_id = element["id"].as_str().unwrap().to_string();
    eventually(
        "the element to be ready",
        Duration::from_secs(60),
        || async {
            let library = ok_json(app.call(&admin, "list_elements", &[("search", "")]).await).await;
            let ready = library
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["id"] == element_id.as_str() && e["status"] == "ready");
            holds(ready, library)
        },
    )
    .await;
    ids.remove(0)
}

async fn snapshot(app: &TestApp, completed: &str) -> Snapshot {
    let member = app.client();
    assert_eq!(sign_in(app, &member, "moe", PASSWORD).await.status(), 200);
    let history = ok_json(app.call(&member, "list_tasks", &[("page", "1")]).await).await;
    let mut elements = ok_json(app.call(&member, "list_elements", &[("search", "")]).await).await;
    // How old an element is depends on when it is asked.
    for element in elements.as_array_mut().unwrap() {
        element.as_object_mut().unwrap().remove("age_seconds");
    }
    let response = member
        .get(app.url(&format!("/api/tasks/{completed}/result")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let result = response.bytes().await.unwrap().to_vec();
    const SQL: &str = "SELECT kind, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM ledger_entries \
                       GROUP BY kind ORDER BY kind";
    let ledger = match app.state().store() {
        Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    };
    Snapshot {
        history,
        elements,
        ledger,
        result,
    }
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed: {text}");
    text
}

/// Copies the media folder as the README says (`cp -a DATA_DIR/media NEW_DATA_DIR/`).
fn copy_media(from: &Path, to: &Path) {
    run(Command::new("cp").arg("-a").arg(from.join("media")).arg(to));
}

fn check_restored(before: &Snapshot, after: &Snapshot) {
    assert_eq!(before.history["items"].as_array().unwrap().len(), 2);
    assert_eq!(before.elements.as_array().unwrap().len(), 1);
    assert_eq!(before.ledger.len(), 3, "reserve, settle, refund");
    assert!(before.result.len() > 12 && &before.result[4..8] == b"ftyp");
    assert_eq!(before.history, after.history, "the history");
    assert_eq!(before.elements, after.elements, "the elements");
    assert_eq!(before.ledger, after.ledger, "the ledger sums");
    assert!(before.result == after.result, "the result's bytes");
}

#[tokio::test]
async fn sqlite_and_local_media_come_back_from_a_backup() {
    let old = TestApp::spawn(Db::Sqlite).await;
    let completed = make_history(&old).await;
    let before = snapshot(&old, &completed).await;
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("kinema-backup.db");

    // Taken while the old instance runs and serves.
    let said = run(server_command(old.data_dir.path())
        .args(["backup", "--to"])
        .arg(&file));
    assert!(said.contains("Backed up the database"), "{said}");
    copy_media(old.data_dir.path(), backups.path());
    let again = server_command(old.data_dir.path())
        .args(["backup", "--to"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    old.stop().await;

    let fresh = tempfile::tempdir().unwrap();
    let said = run(server_command(fresh.path())
        .args(["restore", "--from"])
        .arg(&file));
    assert!(said.contains("Restored the database"), "{said}");
    copy_media(backups.path(), fresh.path());
    // A second restore would overwrite the database: refused.
    let twice = server_command(fresh.path())
        .args(["restore", "--from"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("exists already"));
    // Something that is not a backup is refused before anything is written.
    let elsewhere = tempfile::tempdir().unwrap();
    let junk = backups.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let refused = server_command(elsewhere.path())
        .args(["restore", "--from"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a Kinema backup"));
    assert!(!elsewhere.path().join("kinema.db").exists());

    let data_dir = fresh.path().to_path_buf();
    let new = TestApp::spawn_with(Db::Sqlite, |settings| settings.data_dir = data_dir).await;
    let after = snapshot(&new, &completed).await;
    check_restored(&before, &after);
    new.stop().await;
}

#[tokio::test]
async fn postgres_comes_back_from_pg_dump_and_pg_restore() {
    if Command::new("pg_dump").arg("--version").output().is_err() {
        eprintln!("pg_dump is not installed; the PostgreSQL backup test is skipped");
        return;
    }
    // Media on local disk here, copied as the README says (PostgreSQL apps default to the test
    // bucket; a bucket is backed up with the provider's tools).
    let old = TestApp::spawn_with(Db::Postgres, |settings| {
        settings.storage = Some("local".into())
    })
    .await;
    let completed = make_history(&old).await;
    let before = snapshot(&old, &completed).await;
    let backups = tempfile::tempdir().unwrap();
    let dump = backups.path().join("kinema.dump");
    // While the old instance runs, as the README shows.
    run(Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(old.database_url()));
    copy_media(old.data_dir.path(), backups.path());
    old.stop().await;

    let database = TestDatabase::create().await;
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(database.url())
        .arg(&dump));
    let fresh = tempfile::tempdir().unwrap();
    copy_media(backups.path(), fresh.path());
    let (data_dir, url) = (fresh.path().to_path_buf(), database.url());
    let new = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.data_dir = data_dir;
        settings.database_url = Some(url);
    })
    .await;
    let after = snapshot(&new, &completed).await;
    check_restored(&before, &after);
    new.stop().await;
    drop(database);
}
