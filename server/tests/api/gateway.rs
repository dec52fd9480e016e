//! The EvoLink-compatible gateway over HTTP, on SQLite and PostgreSQL: budgets hold under
//! concurrent creates exactly like studio submits; revoked tokens and disabled members get 401
//! at once; one member cannot read another's task; a retried create gives one task; input URLs
//! to loopback or private addresses are refused without any connection; and a full flow from
//! the file endpoint to the archived result, history and ledger.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use reqwest::{multipart, Client, Response};
use serde_json::{json, Value};

use crate::helpers::{accept, eventually, fixtures, holds, invite, ok_json, team, Db, TestApp};

/// Creates an API token for the signed-in `client`; returns its text.
pub async fn token(app: &TestApp, client: &Client, name: &str, scope: &str) -> String {
    let created = ok_json(
        app.call(
            client,
            "create_api_token",
            &[("name", name), ("scope", scope)],
        )
        .await,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("kin_") && token.len() == 47, "{token}");
    assert_eq!(created["view"]["prefix"], &token[..12]);
    token
}

/// Uploads a committed fixture through the gateway's file endpoint; returns `data.file_url`.
pub async fn upload_file(app: &TestApp, token: &str, name: &str) -> String {
    let form = multipart::Form::new()
        .text("file_name", name.to_string())
        .part(
            "file",
            multipart::Part::bytes(fixtures::file(name)).file_name(name.to_string()),
        );
    let response = Client::new()
        .post(app.url("/api/v1/files/upload/stream"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    body["data"]["file_url"].as_str().unwrap().to_string()
}

/// A motion-control create body with the given input URLs.
pub fn motion_body(image: &str, video: &str) -> Value {
    json!({
        "model": "kling-v3-motion-control",
        "image_urls": [image],
        "video_urls": [video],
        "prompt": "A calm dance",
        "quality": "720p",
        "model_params": { "character_orientation": "image", "keep_sound": false }
    })
}

/// `POST /v1/videos/generations` with `token` (and an `Idempotency-Key` when given).
pub async fn create(app: &TestApp, token: &str, body: &Value, key: Option<&str>) -> Response {
    let mut request = Client::new()
        .post(app.url("/v1/videos/generations"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    request.send().await.unwrap()
}

/// `GET {path}` with `token`.
pub async fn get(app: &TestApp, token: &str, path: &str) -> Response {
    Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts EvoLink's error shape with `status` and `code`; returns the message.
pub async fn refused(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["type"].is_string(), "{body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

async fn sim_creates(app: &TestApp) -> i64 {
    let stats: Value = reqwest::get(format!("{}/__sim/stats", app.sandbox_url.as_ref().unwrap()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["creates"].as_i64().unwrap()
}

/// Starts Kinema with a per-token limit no test's polling reaches.
pub async fn spawn_roomy(db: Db) -> TestApp {
    TestApp::spawn_with(db, |settings| {
        settings.gateway_requests_per_minute = Some(100_000);
    })
    .await
}

async fn fifty_creates_against_a_budget_for_three(db: Db) {
    let app = spawn_roomy(db).await;
    let (admin, member, moe) = team(&app).await;
    let moe = moe.to_string();
    // 3 × 40.824 credits (5 s at 720p).
    let response = app
        .call(
            &admin,
            "set_member_budget",
            &[("user_id", &moe), ("credits", "122.472")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let token = token(&app, &member, "batch", "").await;
    let image = upload_file(&app, &token, "valid.png").await;
    let video = upload_file(&app, &token, "valid-index-at-end.mp4").await;
    let body = motion_body(&image, &video);
    let keys: Vec<String> = (0..50).map(|n| format!("burst-{n}")).collect();
    let creates = keys
        .iter()
        .map(|key| create(&app, &token, &body, Some(key)));
    let responses = futures_util::future::join_all(creates).await;
    let (mut accepted, mut over_budget) = (Vec::new(), 0);
    for response in responses {
        match response.status().as_u16() {
            200 => {
                let task: Value = response.json().await.unwrap();
                assert_eq!(task["status"], "pending");
                assert_eq!(task["object"], "video.generation.task");
                assert_eq!(task["usage"]["credits_reserved"], 40.824);
                accepted.push(task["id"].as_str().unwrap().to_string());
            }
            402 => {
                let message = refused(response, 402, "insufficient_quota").await;
                assert!(
                    message.contains("This task costs 40.82 credits, but only 0.00 credits of your monthly budget of 122.47 are left"),
                    "{message}"
                );
                over_budget += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((accepted.len(), over_budget), (3, 47));
    eventually("three completed tasks", Duration::from_secs(60), || async {
        let mut done = 0;
        for id in &accepted {
            let task: Value = get(&app, &token, &format!("/v1/tasks/{id}"))
                .await
                .json()
                .await
                .unwrap();
            done += usize::from(task["status"] == "completed");
        }
        holds(done == 3, done)
    })
    .await;
    assert_eq!(sim_creates(&app).await, 3, "exactly three upstream creates");
    let credits: Value = get(&app, &token, "/v1/credits").await.json().await.unwrap();
    assert_eq!(credits["data"]["token"]["remaining_credits"], 0.0);
    assert_eq!(credits["data"]["token"]["used_credits"], 122.472);
    assert_eq!(credits["data"]["token"]["unlimited_credits"], false);
    assert_eq!(credits["data"]["user"]["used_credits"], 122.472);
    app.stop().await;
}

#[tokio::test]
async fn gateway_budgets_hold_under_concurrent_creates_on_sqlite() {
    fifty_creates_against_a_budget_for_three(Db::Sqlite).await;
}

#[tokio::test]
async fn gateway_budgets_hold_under_concurrent_creates_on_postgres() {
    fifty_creates_against_a_budget_for_three(Db::Postgres).await;
}

async fn tokens_stop_at_once_and_see_only_their_own(db: Db) {
    let app = TestApp::spawn(db).await;
    let (admin, member, moe) = team(&app).await;
    let other = app.client();
    let link = invite(&app, &admin, "member").await;
    assert_eq!(accept(&app, &other, &link, "bea").await.status(), 200);
    let moe_token = token(&app, &member, "notebook", "").await;
    let bea_token = token(&app, &other, "pipeline", "").await;

    // Bad, missing and foreign-scheme tokens: 401 in EvoLink's shape.
    let response = get(&app, "kin_not-a-real-token", "/v1/credits").await;
    refused(response, 401, "unauthorized").await;
    let response = Client::new()
        .get(app.url("/v1/credits"))
        .send()
        .await
        .unwrap();
    refused(response, 401, "unauthorized").await;

    // A retried create with the same Idempotency-Key gives one task.
    let image = upload_file(&app, &moe_token, "valid.png").await;
    let video = upload_file(&app, &moe_token, "valid-index-at-end.mp4").await;
    let body = motion_body(&image, &video);
    let first: Value = create(&app, &moe_token, &body, Some("retry-1"))
        .await
        .json()
        .await
        .unwrap();
    let again: Value = create(&app, &moe_token, &body, Some("retry-1"))
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap().to_string();
    assert_eq!(again["id"], id.as_str());
    let page = ok_json(app.call(&member, "list_tasks", &[("page", "1")]).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["items"][0]["api_token"], "notebook");
    let ledger = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(
        ledger["charges"].as_array().unwrap().len(),
        1,
        "one reservation"
    );

    // Another member's token cannot see the task, nor use moe's uploads.
    let response = get(&app, &bea_token, &format!("/v1/tasks/{id}")).await;
    refused(response, 404, "task_not_found").await;
    let response = create(&app, &bea_token, &body, None).await;
    refused(response, 400, "invalid_request").await;
    assert_eq!(
        get(&app, &moe_token, &format!("/v1/tasks/{id}"))
            .await
            .status(),
        200
    );

    // A token opens no session: server functions and session routes do not know it.
    let session: Value = Client::new()
        .post(app.url("/api/session_info"))
        .bearer_auth(&moe_token)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(session["user"].is_null(), "{session}");
    let csv = Client::new()
        .get(app.url("/api/admin/usage.csv"))
        .bearer_auth(&moe_token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 401);

    // A read-only token may read but not create.
    let reader = token(&app, &member, "dashboard", "read_only").await;
    assert_eq!(
        get(&app, &reader, &format!("/v1/tasks/{id}"))
            .await
            .status(),
        200
    );
    let response = create(&app, &reader, &body, None).await;
    refused(response, 403, "model_access_denied").await;

    // Revoked: 401 at once. Another member cannot revoke it; the owner can.
    let tokens = ok_json(app.call(&member, "list_api_tokens", &[]).await).await;
    let notebook = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "notebook")
        .unwrap()["id"]
        .to_string();
    assert_eq!(
        app.call(&other, "revoke_api_token", &[("id", &notebook)])
            .await
            .status(),
        404
    );
    assert_eq!(get(&app, &moe_token, "/v1/credits").await.status(), 200);
    ok_json(
        app.call(&member, "revoke_api_token", &[("id", &notebook)])
            .await,
    )
    .await;
    let response = get(&app, &moe_token, "/v1/credits").await;
    refused(response, 401, "unauthorized").await;

    // A disabled member's tokens: 401 at once; enabled again, they work again.
    let moe = moe.to_string();
    assert_eq!(get(&app, &reader, "/v1/credits").await.status(), 200);
    ok_json(
        app.call(
            &admin,
            "set_member_disabled",
            &[("user_id", &moe), ("disabled", "true")],
        )
        .await,
    )
    .await;
    let response = get(&app, &reader, "/v1/credits").await;
    let message = refused(response, 401, "unauthorized").await;
    assert!(message.contains("disabled"), "{message}");
    ok_json(
        app.call(
            &admin,
            "set_member_disabled",
            &[("user_id", &moe), ("disabled", "false")],
        )
        .await,
    )
    .await;
    assert_eq!(get(&app, &reader, "/v1/credits").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn gateway_tokens_stop_at_once_and_see_only_their_own_on_sqlite() {
    tokens_stop_at_once_and_see_only_their_own(Db::Sqlite).await;
}

#[tokio::test]
async fn gateway_tokens_stop_at_once_and_see_only_their_own_on_postgres() {
    tokens_stop_at_once_and_see_only_their_own(Db::Postgres).await;
}

/// A loopback listener that counts every connection made to it.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, count)
}

async fn private_input_urls_are_refused_without_connecting(db: Db) {
    let app = TestApp::spawn(db).await;
    let (_admin, member, _) = team(&app).await;
    let token = token(&app, &member, "ssrf", "").await;
    let video = upload_file(&app, &token, "valid-index-at-end.mp4").await;
    let (port, connections) = counting_listener().await;
    let urls = [
        format!("https://127.0.0.1:{port}/a.png"),
        format!("https://localhost:{port}/a.png"),
        format!("http://127.0.0.1:{port}/a.png"),
        format!("https://[::ffff:127.0.0.1]:{port}/a.png"),
        "https://10.0.0.7/a.png".to_string(),
        "https://192.168.1.1/a.png".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
    ];
    for url in &urls {
        let response = create(&app, &token, &motion_body(url, &video), None).await;
        assert_eq!(response.status(), 400, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_request", "{url}: {body}");
        assert_eq!(body["error"]["param"], "image_urls", "{url}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("The character image URL was refused"),
            "{url}: {body}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing connected");
    let page = ok_json(app.call(&member, "list_tasks", &[("page", "1")]).await).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0, "no task");
    assert_eq!(sim_creates(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn gateway_refuses_private_input_urls_without_connecting_on_sqlite() {
    private_input_urls_are_refused_without_connecting(Db::Sqlite).await;
}

#[tokio::test]
async fn gateway_refuses_private_input_urls_without_connecting_on_postgres() {
    private_input_urls_are_refused_without_connecting(Db::Postgres).await;
}

#[tokio::test]
async fn gateway_limits_requests_per_token() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.gateway_requests_per_minute = Some(3);
    })
    .await;
    let (_admin, member, _) = team(&app).await;
    let first = token(&app, &member, "fast", "").await;
    let second = token(&app, &member, "other", "").await;
    for _ in 0..3 {
        assert_eq!(get(&app, &first, "/v1/credits").await.status(), 200);
    }
    let response = get(&app, &first, "/v1/credits").await;
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    refused(response, 429, "rate_limit_exceeded").await;
    // The limit is per token.
    assert_eq!(get(&app, &second, "/v1/credits").await.status(), 200);
    app.stop().await;
}
