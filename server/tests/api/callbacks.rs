//! EvoLink callbacks into Kinema: only with an https public URL, a per-task token, the body never
//! trusted (the worker re-reads the task), duplicates harmless, and polling as the fallback.

use crate::helpers;
use crate::helpers::fixtures::file as fixture;

use std::time::Duration;

use crate::helpers::{
    cookie_pair, eventually, holds, set_cookie, stepped_engine, Db, TestApp, PASSWORD,
};
use app::backend::tasks::EngineSettings;
use kinema_server::startup::SESSION_COOKIE;

/// The form of a 720p "Match image" motion submit of the two uploads.
fn motion_form(uploads: &[String], key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("image_upload_id", uploads[0].clone()),
        ("video_upload_id", uploads[1].clone()),
        ("quality", "720p".into()),
        ("orientation", "image".into()),
        ("keep_sound", "true".into()),
        ("prompt", String::new()),
        ("idempotency_key", key.into()),
    ]
}

/// Behind an https public URL the session cookie is Secure, so this plain-http client carries it
/// by hand: sets up the admin and uploads a character image and a motion video.
async fn secure_admin_with_inputs(app: &TestApp) -> (reqwest::Client, String, Vec<String>) {
    let http = reqwest::Client::new();
    let setup = http
        .post(app.url("/api/setup_admin"))
        .header("Accept", "application/json")
        .form(&[
            ("username", "ada"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = cookie_pair(&set_cookie(&setup, SESSION_COOKIE).unwrap());
    let mut uploads = Vec::new();
    for (purpose, name) in [
        ("character_image", "valid.png"),
        ("motion_video", "valid-index-at-end.mp4"),
    ] {
        let response = http
            .post(app.url(&format!("/api/uploads?purpose={purpose}&name={name}")))
            .header("Cookie", &cookie)
            .body(fixture(name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let view: serde_json::Value = response.json().await.unwrap();
        uploads.push(view["id"].as_str().unwrap().to_string());
    }
    (http, cookie, uploads)
}

/// The sandbox simulator's counters (`GET /__sim/stats`).
async fn sim_stats(sim: &str) -> serde_json::Value {
    reqwest::get(format!("{sim}/__sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_callback_wakes_the_task_but_its_body_is_not_believed() {
    // The first poll is due an hour after the create, so within this test only a callback can
    // make Kinema read the task.
    let engine = EngineSettings {
        poll_first: Duration::from_secs(3600),
        poll_max: Duration::from_secs(3600),
        ..stepped_engine()
    };
    let app = TestApp::spawn_with_engine(
        Db::Sqlite,
        |settings| settings.public_url = Some("https://kinema.invalid".into()),
        engine,
    )
    .await;
    let (http, cookie, uploads) = secure_admin_with_inputs(&app).await;
    let call = |function: &'static str, form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = app.url(&format!("/api/{function}"));
        async move {
            http.post(url)
                .header("Cookie", cookie)
                .header("Accept", "application/json")
                .form(&form)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let task = call("submit_motion", motion_form(&uploads, "cb")).await;
    let id = task["id"].as_str().unwrap().to_string();
    let state = || {
        let id = id.clone();
        async move {
            call("get_task", vec![("id", id)]).await["state"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    // One step publishes the inputs and sends the create.
    let sent = app.run_due().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(state().await, "running");

    // The create asked EvoLink to call back on the public https address, with the task's token.
    let sim = app.sandbox_url.clone().unwrap();
    let stats = sim_stats(&sim).await;
    let callback_url = stats["last_create_body"]["callback_url"]
        .as_str()
        .unwrap()
        .to_string();
    let prefix = format!("https://kinema.invalid/hooks/evolink/{id}/");
    assert!(callback_url.starts_with(&prefix), "{callback_url}");
    let token = callback_url.trim_start_matches(&prefix).to_string();
    assert!(token.len() >= 32, "the token is unguessable");
    let local = app.url(&format!("/hooks/evolink/{id}/{token}"));

    // A wrong token is refused and changes nothing.
    let forged = http
        .post(app.url(&format!("/hooks/evolink/{id}/not-the-token")))
        .json(&serde_json::json!({ "id": id, "status": "completed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 404);

    // Once the simulator has finished, a callback whose body lies ("failed") wakes the task,
    // which reads the truth (completed) from EvoLink. A duplicate is harmless.
    eventually(
        "the simulator to finish the task",
        Duration::from_secs(10),
        || async {
            let finished = sim_stats(&sim).await["finished_at_ms"].clone();
            holds(
                finished.as_object().is_some_and(|m| !m.is_empty()),
                finished,
            )
        },
    )
    .await;
    assert_eq!(
        app.run_due().await,
        vec![],
        "nothing is due: the first poll is an hour away"
    );
    assert_eq!(
        sim_stats(&sim).await["task_queries"],
        0,
        "Kinema has not read the task"
    );
    let lying = serde_json::json!({ "id": id, "status": "failed", "error": { "code": "content_policy_violation" } });
    let first = http.post(&local).json(&lying).send().await.unwrap();
    assert_eq!(first.status(), 204);
    let duplicate = http.post(&local).json(&lying).send().await.unwrap();
    assert!(duplicate.status() == 204 || duplicate.status() == 404);
    // The callback made the task due now: one read finds it completed, then its result is
    // archived, and nothing is left to do.
    let woken = app.run_due().await;
    assert_eq!(woken.len(), 2, "a poll, then the archive: {woken:?}");
    assert!(woken.iter().all(|step| step.task_id == id && step.saved));
    assert_eq!(state().await, "completed");
    assert_eq!(
        sim_stats(&sim).await["task_queries"],
        1,
        "the callback woke the task: exactly one read, long before the first poll"
    );
    let view = call("get_task", vec![("id", id.clone())]).await;
    assert_eq!(view["failure"], serde_json::Value::Null);

    let db = format!(
        "sqlite://{}",
        app.data_dir.path().join("kinema.db").display()
    );
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db)
        .await
        .unwrap();
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries WHERE task_id = $1")
        .bind(&id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        entries, 2,
        "one reservation, one settlement, despite two callbacks"
    );
    app.stop().await;
}

#[tokio::test]
async fn with_callbacks_dropped_polling_still_finishes_the_task() {
    let app = TestApp::spawn_with_engine(
        Db::Sqlite,
        |settings| settings.public_url = Some("https://kinema.invalid".into()),
        stepped_engine(),
    )
    .await;
    let sim = app.sandbox_url.clone().unwrap();
    reqwest::Client::new()
        .post(format!("{sim}/__sim/faults"))
        .json(&serde_json::json!({ "drop_callbacks": true }))
        .send()
        .await
        .unwrap();
    let (http, cookie, uploads) = secure_admin_with_inputs(&app).await;
    let post = |function: &str, form: Vec<(&str, String)>| {
        http.post(app.url(&format!("/api/{function}")))
            .header("Cookie", &cookie)
            .header("Accept", "application/json")
            .form(&form)
            .send()
    };
    let task: serde_json::Value = post("submit_motion", motion_form(&uploads, "dropped"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = task["id"].as_str().unwrap().to_string();
    eventually(
        "polling to complete the task",
        Duration::from_secs(30),
        || async {
            app.run_due().await;
            let view: serde_json::Value = post("get_task", vec![("id", id.clone())])
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            holds(view["state"] == "completed", view)
        },
    )
    .await;
    let stats = sim_stats(&sim).await;
    assert_eq!(stats["callback_attempts"], 0, "no callback was sent");
    assert!(
        stats["last_create_body"]["callback_url"].is_string(),
        "one was asked for"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_task_past_its_deadline_ends_as_timed_out_and_is_refunded() {
    let engine = EngineSettings {
        deadline: Duration::from_secs(2),
        ..stepped_engine()
    };
    let app = TestApp::spawn_with_engine(
        Db::Sqlite,
        |settings| settings.sandbox_task_seconds = 60.0,
        engine,
    )
    .await;
    let client = app.client();
    assert_eq!(
        helpers::setup_admin(&app, &client, "ada").await.status(),
        200
    );
    let inputs = helpers::inputs(&app, &client, "valid-index-at-end.mp4").await;
    let task =
        helpers::ok_json(helpers::submit(&app, &client, &inputs, "720p", "image", "slow").await)
            .await;
    let id = task["id"].as_str().unwrap().to_string();
    // No spinner runs forever.
    let view = eventually(
        "the task to fail at its deadline",
        Duration::from_secs(20),
        || async {
            app.run_due().await;
            let view = helpers::task(&app, &client, &id).await;
            holds(view["state"] == "failed", view)
        },
    )
    .await;
    let failure = view["failure"].as_str().unwrap();
    assert!(failure.starts_with("Timed out"), "{failure}");
    assert!(failure.contains("credits were returned"));
    assert_eq!(view["cost_final"], 0);
    app.stop().await;
}
