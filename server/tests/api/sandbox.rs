//! Sandbox mode (no key: the simulator runs in-process), a real key (no simulator), the admin's
//! connection check, and proof that the API key never leaves the server.

use std::time::Duration;

use crate::helpers;
use crate::helpers::{setup_admin, Db, ServerProcess, TestApp, PASSWORD};
use evolink_sim::{RunningSimulator, SimulatorConfig};

async fn simulator(key: &str) -> RunningSimulator {
    RunningSimulator::start(
        SimulatorConfig::new(key, Duration::from_millis(200)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap()
}

async fn check(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let response = app.call(client, "check_evolink", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn without_a_key_the_simulator_runs_in_process_and_the_ui_says_sandbox() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let sim_url = app.sandbox_url.clone().expect("sandbox starts a simulator");
    assert!(sim_url.starts_with("http://127.0.0.1:"));
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let page = admin
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sandbox — no EvoLink API key is set"));

    let status = check(&app, &admin).await;
    assert_eq!(status["ok"], true, "{status}");
    assert_eq!(status["sandbox"], true);
    assert_eq!(status["token_remaining"], 10_000.0);

    // It is a working simulator speaking the contract, with a key nobody outside knows.
    let refused = reqwest::get(format!("{sim_url}/v1/credits")).await.unwrap();
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn with_a_key_no_simulator_starts_and_the_check_uses_the_configured_upstream() {
    let upstream = simulator("team-key-1").await;
    let base = upstream.base_url.clone();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.evolink_api_key = Some("team-key-1".into());
        settings.evolink_base_url = base.clone();
        settings.evolink_files_base_url = base.clone();
    })
    .await;
    assert!(app.sandbox_url.is_none(), "no simulator with a key");
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let page = admin
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Sandbox —"));
    let status = check(&app, &admin).await;
    assert_eq!(status["ok"], true, "{status}");
    assert_eq!(status["sandbox"], false);
    assert_eq!(
        upstream.stats().credits_queries,
        1,
        "the check went to the configured upstream"
    );

    // Members may not run the check.
    let token = helpers::invite(&app, &admin, "member").await;
    let member = app.client();
    assert_eq!(
        helpers::accept(&app, &member, &token, "moe").await.status(),
        200
    );
    assert_eq!(app.call(&member, "check_evolink", &[]).await.status(), 403);
    app.stop().await;
    upstream.stop().await;
}

#[tokio::test]
async fn a_wrong_key_is_reported_in_plain_words() {
    let upstream = simulator("the-right-key").await;
    let base = upstream.base_url.clone();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.evolink_api_key = Some("a-wrong-key".into());
        settings.evolink_base_url = base.clone();
        settings.evolink_files_base_url = base.clone();
    })
    .await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let status = check(&app, &admin).await;
    assert_eq!(status["ok"], false);
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("rejected the team's API key"), "{message}");
    assert!(!message.contains("a-wrong-key"));
    app.stop().await;
    upstream.stop().await;
}

/// Runs the real binary with a canary key and looks for the key everywhere it must not be.
#[tokio::test]
async fn the_api_key_appears_in_no_response_log_or_database() {
    const CANARY: &str = "sk-canary-7f3a9b2c1d";
    for (upstream_key, log_format) in [
        (CANARY, "text"),
        ("some-other-key", "text"),
        (CANARY, "json"),
    ] {
        let upstream = simulator(upstream_key).await;
        let dir = tempfile::tempdir().unwrap();
        let mut server = ServerProcess::start(
            dir.path(),
            &[
                ("KINEMA_LOG", "debug"),
                ("KINEMA_LOG_FORMAT", log_format),
                ("EVOLINK_API_KEY", CANARY),
                ("EVOLINK_BASE_URL", &upstream.base_url),
                ("EVOLINK_FILES_BASE_URL", &upstream.base_url),
            ],
        );
        let base = server.base.clone();
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut seen = Vec::new();
        let post = |path: &str, form: Vec<(&str, &str)>| {
            client
                .post(format!("{base}{path}"))
                .header("Accept", "application/json")
                .form(&form)
                .send()
        };
        let responses = vec![
            client.get(format!("{base}/")).send().await.unwrap(),
            client.get(format!("{base}/setup")).send().await.unwrap(),
            post(
                "/api/setup_admin",
                vec![
                    ("username", "ada"),
                    ("display_name", "Ada"),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await
            .unwrap(),
            client.get(format!("{base}/")).send().await.unwrap(),
            client.get(format!("{base}/admin")).send().await.unwrap(),
            post("/api/check_evolink", vec![]).await.unwrap(),
            post("/api/session_info", vec![]).await.unwrap(),
            post("/api/create_invite", vec![("role", "nope"), ("hours", "1")])
                .await
                .unwrap(),
            client
                .get(format!("{base}/admin/usage"))
                .send()
                .await
                .unwrap(),
            post("/api/team_usage", vec![]).await.unwrap(),
            client.get(format!("{base}/usage")).send().await.unwrap(),
            client
                .get(format!("{base}/api/admin/usage.csv"))
                .send()
                .await
                .unwrap(),
            client.get(format!("{base}/elements")).send().await.unwrap(),
            post("/api/list_elements", vec![("search", "")])
                .await
                .unwrap(),
            client.get(format!("{base}/readyz")).send().await.unwrap(),
            client
                .get(format!("{base}/no-such-page"))
                .send()
                .await
                .unwrap(),
            post("/api/sign_out", vec![]).await.unwrap(),
            post(
                "/api/sign_in",
                vec![("username", "ada"), ("password", "wrong password")],
            )
            .await
            .unwrap(),
        ];
        for response in responses {
            let headers = format!("{:?}", response.headers());
            let body = response.text().await.unwrap();
            seen.push(format!("{headers}\n{body}"));
        }
        assert!(seen.iter().any(|s| s.contains("\"ok\":")), "the check ran");
        assert!(
            upstream.stats().credits_queries >= 1,
            "the key went to the upstream"
        );
        for text in &seen {
            assert!(!text.contains(CANARY), "key leaked in a response: {text}");
        }
        server.terminate(Duration::from_secs(15));
        let log = server.take_log_lines();
        assert!(log.len() > 5, "the server logged: {log:?}");
        for line in server.startup_lines().iter().chain(&log) {
            assert!(!line.contains(CANARY), "key leaked in the log: {line}");
        }
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let leaked = bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes());
                assert!(!leaked, "key stored in {}", path.display());
            }
        }
        upstream.stop().await;
    }
}
