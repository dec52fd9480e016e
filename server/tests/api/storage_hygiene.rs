//! Storage hygiene: uploads nobody used are swept after the retention (by the app's clock) while
//! everything a task or element uses stays, also when a submit races the sweep; each member's
//! uploads stay within a quota, refused with plain words and nothing left behind; the media
//! signing key is private to its user.

use std::time::Duration;

use app::backend::billing::Clock;
use app::backend::{storage_policy::sweep_unused_uploads, store::Store};
use serde_json::{json, Value};

use crate::helpers::{
    eventually, holds, inputs, ok_json, set_faults, stepped_engine, submit, task, team,
    until_final, upload, Db, TestApp,
};

/// Where the fixed clocks of these tests start (2027-01-15).
const START: i64 = 1_800_000_000;
const HOUR: Duration = Duration::from_secs(3600);

async fn sweep(app: &TestApp) -> u64 {
    sweep_unused_uploads(app.state())
        .await
        .expect("a sweep succeeds")
}

/// True when the upload's row and its file both exist.
async fn kept(app: &TestApp, id: &str) -> bool {
    let row = app.state().store().upload_by_id(id).await.unwrap();
    let file = app
        .state()
        .storage()
        .size(&format!("upload-{id}"))
        .await
        .unwrap()
        .is_some();
    match row {
        Some(_) => {
            assert!(file, "upload {id} has a row but no file");
            true
        }
        None => {
            assert!(!file, "upload {id} has a file but no row");
            false
        }
    }
}

async fn file_status(app: &TestApp, client: &reqwest::Client, id: &str) -> u16 {
    client
        .get(app.url(&format!("/api/uploads/{id}/file")))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs `sql` with `id` bound, straight on the app's database.
async fn execute(app: &TestApp, sql: &str, id: &str) -> Result<u64, sqlx::Error> {
    match app.state().store() {
        Store::Sqlite(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()),
        Store::Postgres(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()),
    }
}

async fn create_element(
    app: &TestApp,
    client: &reqwest::Client,
    frontal: &str,
    refer: &str,
    key: &str,
) -> reqwest::Response {
    app.call(
        client,
        "create_element",
        &[
            ("name", "Mia"),
            (
                "description",
                "A dancer with short dark hair in a red dress",
            ),
            ("reference_type", "images"),
            ("video_upload_id", ""),
            ("frontal_upload_id", frontal),
            ("refer_upload_ids", refer),
            ("voice_id", ""),
            ("idempotency_key", key),
        ],
    )
    .await
}

/// Steps the engine until the element is ready.
async fn until_ready(app: &TestApp, client: &reqwest::Client, id: &str) {
    eventually(
        "the element to be ready",
        Duration::from_secs(60),
        || async {
            app.clock.advance(Duration::from_millis(100));
            app.run_due().await;
            let library = ok_json(app.call(client, "list_elements", &[("search", "")]).await).await;
            let element = library
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == id)
                .cloned();
            holds(
                element.as_ref().is_some_and(|e| e["status"] == "ready"),
                element,
            )
        },
    )
    .await;
}

async fn unused_uploads_are_swept_and_used_ones_kept(db: Db) {
    let clock = Clock::fixed(START);
    let app = TestApp::spawn_with_clock(
        db,
        |settings| settings.upload_retention_hours = Some(48),
        stepped_engine(),
        clock.clone(),
    )
    .await;
    let (_admin, member, _) = team(&app).await;
    let unused_image = upload(&app, &member, "character_image", "valid.png").await;
    let unused_video = upload(&app, &member, "motion_video", "valid-index-at-start.mp4").await;
    // A motion task that fails upstream: its inputs stay, for its history and Run again.
    set_faults(
        &app,
        json!({ "fail_next_tasks": 1, "task_error_code": "content_policy_violation" }),
    )
    .await;
    let motion = inputs(&app, &member, "valid-index-at-start.mp4").await;
    let submitted = ok_json(submit(&app, &member, &motion, "720p", "image", "k1").await).await;
    let task_id = submitted["id"].as_str().unwrap().to_string();
    assert_eq!(
        until_final(&app, &member, &task_id).await["state"],
        "failed"
    );
    // An element from images: the frontal image is on the task row, the other angle only in the
    // task's parameters.
    let frontal = upload(&app, &member, "element_image", "valid.png").await;
    let side = upload(&app, &member, "element_image", "valid.jpg").await;
    let element = ok_json(create_element(&app, &member, &frontal, &side, "e1").await).await;
    let element_id = element["id"].as_str().unwrap().to_string();
    until_ready(&app, &member, &element_id).await;

    clock.advance(47 * HOUR);
    assert_eq!(sweep(&app).await, 0, "nothing is old enough yet");
    let young = upload(&app, &member, "character_image", "valid.png").await;
    clock.advance(2 * HOUR);
    assert_eq!(sweep(&app).await, 2, "the two unused uploads are removed");
    for id in [&unused_image, &unused_video] {
        assert!(!kept(&app, id).await, "{id} was unused and old");
        assert_eq!(file_status(&app, &member, id).await, 404);
    }
    for id in [&motion.image, &motion.video, &frontal, &side, &young] {
        assert!(kept(&app, id).await, "{id} is used or young");
        assert_eq!(file_status(&app, &member, id).await, 200);
    }
    // History still shows the failed task with its inputs, and the element's preview is served.
    let failed = task(&app, &member, &task_id).await;
    assert_eq!(failed["image_upload_id"], motion.image.as_str());
    assert_eq!(failed["video_upload_id"], motion.video.as_str());
    let preview = member
        .get(app.url(&format!("/api/elements/{element_id}/preview")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    // The database itself refuses to delete an upload a task uses, also one named only in the
    // task's parameters.
    for id in [&side, &motion.image] {
        let err = execute(&app, "DELETE FROM uploads WHERE id = $1", id)
            .await
            .expect_err("deleting an upload in use");
        assert!(
            err.as_database_error()
                .is_some_and(|db| db.is_foreign_key_violation()),
            "{err}"
        );
    }
    assert_eq!(sweep(&app).await, 0, "a second sweep finds nothing");
    clock.advance(47 * HOUR);
    assert_eq!(sweep(&app).await, 1, "the young upload's time came too");
    assert!(!kept(&app, &young).await);
    assert!(kept(&app, &side).await);
    app.stop().await;
}

#[tokio::test]
async fn unused_uploads_are_swept_and_used_ones_kept_sqlite() {
    unused_uploads_are_swept_and_used_ones_kept(Db::Sqlite).await;
}

#[tokio::test]
async fn unused_uploads_are_swept_and_used_ones_kept_postgres() {
    unused_uploads_are_swept_and_used_ones_kept(Db::Postgres).await;
}

/// Every upload a task names (row columns and parameters), each must have its row and file.
async fn uploads_named_by_tasks(app: &TestApp) -> Vec<String> {
    let sql = "SELECT image_upload_id, video_upload_id, params FROM tasks";
    let rows: Vec<(Option<String>, Option<String>, String)> = match app.state().store() {
        Store::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
    };
    let mut ids = Vec::new();
    for (image, video, params) in rows {
        ids.extend(image);
        ids.extend(video);
        let params: Value = serde_json::from_str(&params).unwrap();
        if let Some(refer) = params["refer_upload_ids"].as_array() {
            ids.extend(refer.iter().map(|id| id.as_str().unwrap().to_string()));
        }
    }
    ids
}

async fn a_sweep_racing_submits_never_removes_an_upload_in_use(db: Db) {
    let clock = Clock::fixed(START);
    let app = TestApp::spawn_with_clock(
        db,
        |settings| settings.upload_retention_hours = Some(1),
        stepped_engine(),
        clock.clone(),
    )
    .await;
    let (_admin, member, _) = team(&app).await;
    // The sweep runs first, then together with the create at staggered moments, then after it.
    let mut created = 0;
    for round in 0..10u64 {
        let frontal = upload(&app, &member, "element_image", "valid.png").await;
        let side = upload(&app, &member, "element_image", "valid.jpg").await;
        clock.advance(2 * HOUR);
        let key = format!("race-{round}");
        let response = match round {
            0 => {
                sweep(&app).await;
                create_element(&app, &member, &frontal, &side, &key).await
            }
            9 => {
                let response = create_element(&app, &member, &frontal, &side, &key).await;
                sweep(&app).await;
                response
            }
            _ => {
                let stagger = Duration::from_millis(round * 10);
                let (response, swept) = tokio::join!(
                    create_element(&app, &member, &frontal, &side, &key),
                    async {
                        tokio::time::sleep(stagger).await;
                        sweep_unused_uploads(app.state()).await
                    }
                );
                swept.expect("the sweep succeeds");
                response
            }
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        if status == 200 {
            created += 1;
            assert!(kept(&app, &frontal).await && kept(&app, &side).await);
        } else {
            // The sweep came first: the create is refused and leaves no task.
            assert!(status >= 400, "{status} {text}");
        }
        if round == 0 {
            assert_eq!(status, 422, "{text}");
            assert!(text.contains("upload it again"), "{text}");
        }
        if round == 9 {
            assert_eq!(status, 200, "{text}");
        }
    }
    let named = uploads_named_by_tasks(&app).await;
    assert_eq!(named.len(), created * 2);
    for id in &named {
        assert!(kept(&app, id).await, "upload {id} of a task was removed");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_sweep_racing_submits_never_removes_an_upload_in_use_sqlite() {
    a_sweep_racing_submits_never_removes_an_upload_in_use(Db::Sqlite).await;
}

#[tokio::test]
async fn a_sweep_racing_submits_never_removes_an_upload_in_use_postgres() {
    a_sweep_racing_submits_never_removes_an_upload_in_use(Db::Postgres).await;
}

/// Uploads in progress, stored objects, and upload rows.
async fn leftovers(app: &TestApp) -> (usize, usize, i64) {
    app.leftovers().await
}

async fn post_png(app: &TestApp, client: &reqwest::Client, body: reqwest::Body) -> (u16, String) {
    let response = client
        .post(app.url("/api/uploads?purpose=character_image&name=valid.png"))
        .header("Origin", &app.base)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn uploads_stay_within_the_quota(db: Db) {
    // 0.05 MB = 52,429 bytes: two copies of valid.png (20,649 bytes) fit, a third does not.
    let app = TestApp::spawn_with(db, |settings| settings.upload_quota_mb = Some(0.05)).await;
    let (admin, member, _) = team(&app).await;
    let png = crate::helpers::fixtures::file("valid.png");
    upload(&app, &member, "character_image", "valid.png").await;
    upload(&app, &member, "character_image", "valid.png").await;
    let before = leftovers(&app).await;
    assert_eq!(before, (0, 2, 2));

    // Refused from its Content-Length, before it is read.
    let (status, text) = post_png(&app, &member, png.clone().into()).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains(
            "Your uploads use 40.3 KB of your 51.2 KB, and this file (20.2 KB) does not fit."
        ),
        "{text}"
    );
    assert!(
        text.contains("ask an admin to raise the upload limit"),
        "{text}"
    );
    assert_eq!(leftovers(&app).await, before, "nothing left behind");

    // Without a Content-Length: refused while streaming, once it passes what is left.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        png.chunks(4096).map(|chunk| Ok(chunk.to_vec())).collect();
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let (status, text) = post_png(&app, &member, streamed).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("this file does not fit in the 10.9 KB left"),
        "{text}"
    );
    assert_eq!(leftovers(&app).await, before, "nothing left behind");

    // The quota is per member; concurrent uploads cannot pass it together.
    let attempts = (0..4).map(|_| post_png(&app, &admin, png.clone().into()));
    let results = futures_util::future::join_all(attempts).await;
    let accepted = results.iter().filter(|(status, _)| *status == 201).count();
    let refused: Vec<&String> = results
        .iter()
        .filter(|(status, _)| *status == 413)
        .map(|(_, text)| text)
        .collect();
    assert_eq!((accepted, refused.len()), (2, 2), "{results:?}");
    assert!(refused.iter().all(|text| text.contains("Your uploads use")));
    assert_eq!(leftovers(&app).await, (0, 4, 4));
    app.stop().await;
}

#[tokio::test]
async fn uploads_stay_within_the_quota_sqlite() {
    uploads_stay_within_the_quota(Db::Sqlite).await;
}

#[tokio::test]
async fn uploads_stay_within_the_quota_postgres() {
    uploads_stay_within_the_quota(Db::Postgres).await;
}
