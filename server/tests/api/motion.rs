//! Motion Control end to end over HTTP against the sandbox simulator: submit, engine, archive,
//! ledger, idempotency, failures, isolation and live events.

use crate::helpers::fixtures::file as fixture;
use app::backend::store::Store;

use std::time::Duration;

use crate::helpers::{
    accept, eventually, holds, inputs, invite, ok_json, set_faults, setup_admin, submit,
    until_final, Db, Inputs, TestApp,
};

/// Sets up admin `ada`, uploads the 5 s fixture pair and runs one 720p task to its end;
/// returns ada's client, the inputs and the task id.
pub(crate) async fn admin_with_a_finished_task(
    app: &TestApp,
    key: &str,
) -> (reqwest::Client, Inputs, String) {
    let admin = app.client();
    assert_eq!(setup_admin(app, &admin, "ada").await.status(), 200);
    let inputs = inputs(app, &admin, "valid-index-at-end.mp4").await;
    let submitted = ok_json(submit(app, &admin, &inputs, "720p", "image", key).await).await;
    let id = submitted["id"].as_str().unwrap().to_string();
    until_final(app, &admin, &id).await;
    (admin, inputs, id)
}

async fn sim(app: &TestApp, path: &str) -> serde_json::Value {
    let url = format!("{}{path}", app.sandbox_url.as_ref().unwrap());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn ledger_sum(app: &TestApp, task_id: &str) -> (i64, i64) {
    let sql = "SELECT COUNT(*), CAST(SUM(amount) AS BIGINT) FROM ledger_entries WHERE task_id = $1";
    let (count, sum): (i64, Option<i64>) = match app.state().store() {
        Store::Sqlite(pool) => sqlx::query_as(sql).bind(task_id).fetch_one(pool).await,
        Store::Postgres(pool) => sqlx::query_as(sql).bind(task_id).fetch_one(pool).await,
    }
    .unwrap();
    (count, sum.unwrap_or(0))
}

async fn both_qualities_and_orientations_complete_archive_and_settle(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    for (quality, orientation, rate) in [
        ("720p", "image", 8_164_800i64),
        ("1080p", "image", 10_883_680),
        ("720p", "video", 8_164_800),
        ("1080p", "video", 10_883_680),
    ] {
        let response = submit(
            &app,
            &admin,
            &inputs,
            quality,
            orientation,
            &format!("{quality}-{orientation}"),
        )
        .await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let submitted: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            submitted["cost_reserved"],
            5 * rate,
            "5 s × the {quality} rate"
        );
        let id = submitted["id"].as_str().unwrap().to_string();
        let done = until_final(&app, &admin, &id).await;
        assert_eq!(done["state"], "completed", "{done}");
        assert_eq!(done["cost_final"], 5 * rate);
        assert_eq!(done["output_seconds"], 5);
        assert_eq!(done["result_ready"], true);
        // What the simulator received.
        let body = sim(&app, "/__sim/stats").await["last_create_body"].clone();
        assert_eq!(body["quality"], quality);
        assert_eq!(body["model_params"]["character_orientation"], orientation);
        assert_eq!(body["model_params"]["keep_sound"], false);
        assert_eq!(body["prompt"], "A calm dance");
        assert!(body["image_urls"][0]
            .as_str()
            .unwrap()
            .starts_with(&app.input_url_prefix()));
        // The archived result is Kinema's own copy, served with Range.
        let result = admin
            .get(app.url(&format!("/api/tasks/{id}/result")))
            .send()
            .await
            .unwrap();
        assert_eq!(result.status(), 200);
        assert_eq!(
            result.bytes().await.unwrap().as_ref(),
            fixture("valid-index-at-end.mp4").as_slice()
        );
        // Reserve, then settle: the ledger holds exactly the final cost.
        assert_eq!(ledger_sum(&app, &id).await, (2, -5 * rate));
    }
    // Upstream links die; Kinema's copies do not.
    reqwest::Client::new()
        .post(format!(
            "{}/__sim/expire-results",
            app.sandbox_url.as_ref().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let page: serde_json::Value = app
        .call(&admin, "list_tasks", &[("page", "1")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["completed"], 4);
    assert_eq!(page["running"], 0);
    for item in page["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        let result = admin
            .get(app.url(&format!("/api/tasks/{id}/result")))
            .header("Range", "bytes=0-11")
            .send()
            .await
            .unwrap();
        assert_eq!(result.status(), 206);
        assert_eq!(&result.bytes().await.unwrap()[4..8], b"ftyp");
    }
    app.stop().await;
}

async fn the_same_idempotency_key_never_makes_a_second_task(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let attempts = (0..6).map(|_| submit(&app, &admin, &inputs, "720p", "image", "double-click"));
    let responses = futures_util::future::join_all(attempts).await;
    let mut ids = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        ids.push(
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one task for one key");
    until_final(&app, &admin, &ids[0]).await;
    assert_eq!(
        sim(&app, "/__sim/stats").await["creates"],
        1,
        "one create upstream"
    );
    assert_eq!(
        ledger_sum(&app, &ids[0]).await.0,
        2,
        "one reservation, one settlement"
    );
    app.stop().await;
}

async fn an_upstream_failure_is_explained_and_refunded(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    set_faults(
        &app,
        serde_json::json!({ "fail_next_tasks": 1, "task_error_code": "content_policy_violation" }),
    )
    .await;
    let submitted: serde_json::Value = submit(&app, &admin, &inputs, "720p", "image", "k1")
        .await
        .json()
        .await
        .unwrap();
    let id = submitted["id"].as_str().unwrap();
    let done = until_final(&app, &admin, id).await;
    assert_eq!(done["state"], "failed");
    let failure = done["failure"].as_str().unwrap();
    assert!(failure.contains("safety filters"), "{failure}");
    assert!(failure.contains("credits were returned"), "{failure}");
    assert_eq!(
        ledger_sum(&app, id).await,
        (2, 0),
        "reserved and refunded in full"
    );
    // A refused create is a failure with a refund too, and is not retried.
    set_faults(
        &app,
        serde_json::json!({ "fail_next_creates": 1, "fail_create_status": 402 }),
    )
    .await;
    let submitted: serde_json::Value = submit(&app, &admin, &inputs, "720p", "image", "k2")
        .await
        .json()
        .await
        .unwrap();
    let id = submitted["id"].as_str().unwrap();
    let done = until_final(&app, &admin, id).await;
    assert!(
        done["failure"]
            .as_str()
            .unwrap()
            .contains("balance is too low"),
        "{done}"
    );
    assert_eq!(ledger_sum(&app, id).await, (2, 0));
    app.stop().await;
}

#[tokio::test]
async fn the_chosen_orientation_is_checked_before_anything_is_charged() {
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "too-long-for-match-image.mp4").await;
    let response = submit(&app, &admin, &inputs, "720p", "image", "long").await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Video is 12.0 s; it must be at most 10 s with \\\"Match image\\\""));
    let page: serde_json::Value = app
        .call(&admin, "list_tasks", &[("page", "1")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    assert_eq!(sim(&app, "/__sim/stats").await["creates"], 0);
    // "Match video" allows it.
    let response = submit(&app, &admin, &inputs, "720p", "video", "long-ok").await;
    assert_eq!(response.status(), 200);
    let submitted: serde_json::Value = response.json().await.unwrap();
    assert_eq!(submitted["cost_reserved"], 12 * 8_164_800i64);
    app.stop().await;
}

async fn members_see_only_their_own_tasks_uploads_and_results(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let (admin, inputs, id) = admin_with_a_finished_task(&app, "mine").await;

    let token = invite(&app, &admin, "member").await;
    let other = app.client();
    assert_eq!(accept(&app, &other, &token, "moe").await.status(), 200);
    assert_eq!(
        app.call(&other, "get_task", &[("id", &id)]).await.status(),
        404
    );
    assert_eq!(
        app.call(&other, "delete_task", &[("id", &id)])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.call(&other, "get_upload", &[("id", &inputs.image)])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.call(&admin, "get_upload", &[("id", &inputs.image)])
            .await
            .status(),
        200
    );
    assert_eq!(
        other
            .get(app.url(&format!("/api/tasks/{id}/result")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        other
            .get(app.url(&format!("/api/uploads/{}/file", inputs.image)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page: serde_json::Value = app
        .call(&other, "list_tasks", &[("page", "1")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    // Someone else's uploads cannot be used in a submit either.
    let response = submit(&app, &other, &inputs, "720p", "image", "theirs").await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("character image is missing"));
    // The owner can delete it; the result file goes, the ledger stays.
    assert_eq!(
        app.call(&admin, "delete_task", &[("id", &id)])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.call(&admin, "get_task", &[("id", &id)]).await.status(),
        404
    );
    assert_eq!(ledger_sum(&app, &id).await.0, 2);
    assert_eq!(
        app.state()
            .storage()
            .size(&format!("result-{id}"))
            .await
            .unwrap(),
        None
    );
    app.stop().await;
}

#[tokio::test]
async fn live_events_name_the_members_changed_tasks() {
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let mut events = admin.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // The stream says it is open before any task changes (proxies hold headers until a body).
    let opened = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("the stream sends its first bytes at once")
        .unwrap()
        .unwrap();
    let opened = String::from_utf8_lossy(&opened);
    assert!(opened.contains("retry: 3000"), "{opened}");
    assert!(!opened.contains("event:"), "{opened}");
    let submitted: serde_json::Value = submit(&app, &admin, &inputs, "720p", "image", "live")
        .await
        .json()
        .await
        .unwrap();
    let id = submitted["id"].as_str().unwrap().to_string();
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(chunk)) = events.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains(&format!("data: {id}")) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "no event for the task: {seen}");
    assert!(seen.contains("event: task"));
    app.stop().await;
}

#[tokio::test]
async fn every_page_renders_completely_on_the_server() {
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let (admin, _, id) = admin_with_a_finished_task(&app, "pages").await;
    for path in [
        "/".to_string(),
        format!("/?again={id}"),
        "/history".to_string(),
        "/history?status=completed&quality=720p&page=1".to_string(),
        format!("/tasks/{id}"),
        "/elements".to_string(),
        "/usage".to_string(),
        "/usage?days=90".to_string(),
        "/pricing".to_string(),
        "/admin".to_string(),
        "/admin/usage".to_string(),
        "/admin/usage?days=90".to_string(),
    ] {
        let response = admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        // Leptos appends its resource scripts after </html>; a render that broke off has neither.
        assert!(
            html.contains("</main>")
                && html.contains("</html>")
                && html.contains("__INCOMPLETE_CHUNKS"),
            "{path} was cut short: …{}",
            &html[html.len().saturating_sub(200)..]
        );
    }
    let task_page = admin
        .get(app.url(&format!("/tasks/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        task_page.contains("Completed")
            && task_page.contains("Run again")
            && task_page.contains("Download")
    );
    let pricing = admin
        .get(app.url("/pricing"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for figure in [
        "8.1648 credits per output second",
        "10.88368 credits per output second",
        "8 s: 65.32 credits",
        "8 s: 87.07 credits",
        "1.00 credit per element",
    ] {
        assert!(pricing.contains(figure), "pricing lacks {figure}");
    }
    let history = admin
        .get(app.url("/history"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(history.contains("0 running · 1 completed · 0 failed"));
    app.stop().await;
}

#[tokio::test]
async fn history_pages_and_filters() {
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    for n in 0..21 {
        let quality = if n % 3 == 0 { "1080p" } else { "720p" };
        let response = submit(&app, &admin, &inputs, quality, "image", &format!("k{n}")).await;
        assert_eq!(response.status(), 200);
    }
    let page = |form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let admin = &admin;
        async move {
            app.call(admin, "list_tasks", &form)
                .await
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let first = page(vec![("page", "1")]).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    assert_eq!(first["has_more"], true);
    let second = page(vec![("page", "2")]).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["has_more"], false);
    // Newest first, across pages.
    let newest = first["items"][0]["created_at"].as_i64().unwrap();
    let oldest = second["items"][0]["created_at"].as_i64().unwrap();
    assert!(newest >= oldest);
    let hd = page(vec![("page", "1"), ("quality", "1080p")]).await;
    assert_eq!(hd["items"].as_array().unwrap().len(), 7);
    assert!(hd["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["quality"] == "1080p"));
    // Once everything is done, the status filter splits them.
    eventually("no task to be running", Duration::from_secs(90), || async {
        app.clock.advance(Duration::from_millis(100));
        app.run_due().await;
        let running = page(vec![("page", "1")]).await["running"].clone();
        holds(running == 0, running)
    })
    .await;
    let completed = page(vec![("page", "1"), ("status", "completed")]).await;
    assert_eq!(completed["completed"], 21);
    assert_eq!(completed["items"].as_array().unwrap().len(), 20);
    let failed = page(vec![("page", "1"), ("status", "failed")]).await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

#[tokio::test]
async fn both_qualities_and_orientations_complete_archive_and_settle_on_sqlite_and_local_disk() {
    both_qualities_and_orientations_complete_archive_and_settle(Db::Sqlite).await;
}

#[tokio::test]
async fn both_qualities_and_orientations_complete_archive_and_settle_on_postgres_and_s3() {
    both_qualities_and_orientations_complete_archive_and_settle(Db::Postgres).await;
}

#[tokio::test]
async fn the_same_idempotency_key_never_makes_a_second_task_on_sqlite_and_local_disk() {
    the_same_idempotency_key_never_makes_a_second_task(Db::Sqlite).await;
}

#[tokio::test]
async fn the_same_idempotency_key_never_makes_a_second_task_on_postgres_and_s3() {
    the_same_idempotency_key_never_makes_a_second_task(Db::Postgres).await;
}

#[tokio::test]
async fn an_upstream_failure_is_explained_and_refunded_on_sqlite_and_local_disk() {
    an_upstream_failure_is_explained_and_refunded(Db::Sqlite).await;
}

#[tokio::test]
async fn an_upstream_failure_is_explained_and_refunded_on_postgres_and_s3() {
    an_upstream_failure_is_explained_and_refunded(Db::Postgres).await;
}

#[tokio::test]
async fn members_see_only_their_own_tasks_uploads_and_results_on_sqlite_and_local_disk() {
    members_see_only_their_own_tasks_uploads_and_results(Db::Sqlite).await;
}

#[tokio::test]
async fn members_see_only_their_own_tasks_uploads_and_results_on_postgres_and_s3() {
    members_see_only_their_own_tasks_uploads_and_results(Db::Postgres).await;
}
