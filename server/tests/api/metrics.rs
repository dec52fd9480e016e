//! `GET /metrics`: after a scripted flow (uploads, two tasks that complete, one that fails) the
//! scraped counters match what happened, checked against the database and the simulator's own
//! counts; scrapes without the token are refused; without a token or an address of its own the
//! route does not exist; on an address of its own it needs no token and the main one has none.
//!
//! Each app owns its recorder (see `app::backend::metrics`), so the counts below are exact even
//! though other tests run apps in the same process at the same time.

use app::backend::store::Store;
use serde_json::Value;

use crate::helpers::{
    fixtures, inputs, prometheus::sample, set_faults, setup_admin, stepped_engine, submit,
    until_final, Db, TestApp,
};

const TOKEN: &str = "scrape-token-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client().get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn metrics_text(app: &TestApp) -> String {
    let response = scrape(app, Some(TOKEN)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

/// Ledger entries by kind: (kind, count, sum of amounts).
async fn ledger_by_kind(app: &TestApp) -> Vec<(String, i64, i64)> {
    const SQL: &str = "SELECT kind, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM ledger_entries \
                       GROUP BY kind ORDER BY kind";
    match app.state().store() {
        Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    }
}

async fn sim_creates(app: &TestApp) -> f64 {
    let stats: Value = reqwest::get(format!("{}/__sim/stats", app.sandbox_url.as_ref().unwrap()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["creates"].as_f64().unwrap()
}

async fn counters_match_a_scripted_flow(db: Db) {
    let app = TestApp::spawn_with_engine(
        db,
        |settings| settings.metrics_token = Some(TOKEN.into()),
        stepped_engine(),
    )
    .await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    set_faults(
        &app,
        serde_json::json!({ "fail_next_tasks": 1, "task_error_code": "content_policy_violation" }),
    )
    .await;
    let mut finals = Vec::new();
    for key in ["fails", "one", "two"] {
        let submitted: Value = submit(&app, &admin, &inputs, "720p", "image", key)
            .await
            .json()
            .await
            .unwrap();
        let id = submitted["id"].as_str().unwrap().to_string();
        finals.push(until_final(&app, &admin, &id).await);
    }
    let states: Vec<&str> = finals
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "completed", "completed"]);
    let result = admin
        .get(app.url(&format!(
            "/api/tasks/{}/result",
            finals[1]["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 200);

    // No token, a wrong one, another scheme: refused, and nothing is shown.
    for token in [None, Some("scrape-token-wrong-000000")] {
        let response = scrape(&app, token).await;
        assert_eq!(response.status(), 401);
        assert!(!response.text().await.unwrap().contains("kinema_"));
    }
    let basic = app
        .client()
        .get(app.url("/metrics"))
        .basic_auth("prometheus", Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    let text = metrics_text(&app).await;
    let value = |name: &str, labels: &[(&str, &str)]| sample(&text, name, labels);
    // Tasks: finished on this instance, and in the database by state.
    assert_eq!(
        value("kinema_tasks_finished_total", &[("state", "completed")]),
        2.0
    );
    assert_eq!(
        value("kinema_tasks_finished_total", &[("state", "failed")]),
        1.0
    );
    assert_eq!(value("kinema_tasks", &[("state", "completed")]), 2.0);
    assert_eq!(value("kinema_tasks", &[("state", "failed")]), 1.0);
    assert_eq!(value("kinema_tasks", &[("state", "queued")]), 0.0);
    // Upstream: one create per task, as the simulator counted them; every result downloaded.
    let creates = value(
        "kinema_upstream_requests_total",
        &[("kind", "create"), ("outcome", "ok")],
    );
    assert_eq!(creates, 3.0);
    assert_eq!(creates, sim_creates(&app).await);
    assert_eq!(
        value("kinema_upstream_requests_total", &[("kind", "create")]),
        3.0,
        "no failed creates"
    );
    assert!(
        value(
            "kinema_upstream_requests_total",
            &[("kind", "poll"), ("outcome", "ok")]
        ) >= 3.0
    );
    assert_eq!(
        value(
            "kinema_upstream_requests_total",
            &[("kind", "download"), ("outcome", "ok")]
        ),
        2.0
    );
    assert_eq!(
        value(
            "kinema_upstream_request_duration_seconds_count",
            &[("kind", "create"), ("outcome", "ok")]
        ),
        3.0
    );
    // The ledger: the counters match the entries in the database, kind by kind.
    let ledger = ledger_by_kind(&app).await;
    assert_eq!(ledger.len(), 3, "{ledger:?}");
    for (kind, count, sum) in ledger {
        let entry = match kind.as_str() {
            "reserve" => "reserved",
            "settle" => "settled",
            "refund" => "refunded",
            other => panic!("unexpected ledger entry {other}"),
        };
        assert_eq!(
            value("kinema_ledger_entries_total", &[("entry", entry)]),
            count as f64,
            "{entry} entries"
        );
        assert_eq!(
            value("kinema_ledger_microcredits_total", &[("entry", entry)]),
            sum.unsigned_abs() as f64,
            "{entry} micro-credits"
        );
    }
    assert_eq!(
        value("kinema_ledger_entries_total", &[("entry", "reserved")]),
        3.0
    );
    assert_eq!(
        value("kinema_ledger_entries_total", &[("entry", "settled")]),
        2.0
    );
    assert_eq!(
        value("kinema_ledger_entries_total", &[("entry", "refunded")]),
        1.0
    );
    // Every task is final, so what was kept is what was reserved and not given back.
    let kept = value("kinema_ledger_microcredits_total", &[("entry", "reserved")])
        - value("kinema_ledger_microcredits_total", &[("entry", "settled")])
        - value("kinema_ledger_microcredits_total", &[("entry", "refunded")]);
    assert!(kept > 0.0);
    assert_eq!(value("kinema_ledger_charged_microcredits_total", &[]), kept);
    // Uploads: the bytes of both files.
    let uploaded =
        fixtures::file("valid.png").len() + fixtures::file("valid-index-at-end.mp4").len();
    assert_eq!(value("kinema_upload_bytes_total", &[]), uploaded as f64);
    assert_eq!(value("kinema_uploads_total", &[("outcome", "stored")]), 2.0);
    // Requests by matched route and status, never by the raw URL.
    assert_eq!(
        value(
            "kinema_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/uploads"),
                ("status", "201")
            ]
        ),
        2.0
    );
    assert_eq!(
        value(
            "kinema_http_requests_total",
            &[("route", "/api/tasks/{id}/result"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        value(
            "kinema_http_requests_total",
            &[("route", "/metrics"), ("status", "401")]
        ),
        3.0
    );
    assert!(
        value(
            "kinema_http_request_duration_seconds_bucket",
            &[("route", "/api/uploads"), ("le", "+Inf")]
        ) == 2.0,
        "{text}"
    );
    for task in &finals {
        let id = task["id"].as_str().unwrap();
        assert!(!text.contains(id), "a task id reached a label: {id}");
    }
    assert!(!text.contains(TOKEN));
    app.stop().await;
}

#[tokio::test]
async fn counters_match_what_happened_on_sqlite() {
    counters_match_a_scripted_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn counters_match_what_happened_on_postgres() {
    counters_match_a_scripted_flow(Db::Postgres).await;
}

#[tokio::test]
async fn open_live_update_streams_are_counted() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.metrics_token = Some(TOKEN.into())
    })
    .await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let text = metrics_text(&app).await;
    assert_eq!(sample(&text, "kinema_sse_connections", &[]), 0.0);
    let stream = admin.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let text = metrics_text(&app).await;
    assert_eq!(sample(&text, "kinema_sse_connections", &[]), 1.0);
    drop(stream);
    crate::helpers::eventually(
        "the closed stream to be uncounted",
        std::time::Duration::from_secs(10),
        || async {
            let open = sample(&metrics_text(&app).await, "kinema_sse_connections", &[]);
            crate::helpers::holds(open == 0.0, open)
        },
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn metrics_are_absent_unless_configured_and_may_have_an_address_of_their_own() {
    let plain = TestApp::spawn(Db::Sqlite).await;
    let admin = plain.client();
    assert_eq!(setup_admin(&plain, &admin, "ada").await.status(), 200);
    for client in [plain.client(), admin] {
        let response = client
            .get(plain.url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert!(!response.text().await.unwrap().contains("kinema_http"));
    }
    assert!(plain.metrics_base.is_none());
    plain.stop().await;

    let own = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.metrics_addr = Some("127.0.0.1:0".into())
    })
    .await;
    let metrics_base = own.metrics_base.clone().expect("a metrics address");
    assert_ne!(metrics_base, own.base);
    let _ = own.client().get(own.url("/healthz")).send().await.unwrap();
    let main = own.client().get(own.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404, "not on the main address");
    let text = reqwest::get(format!("{metrics_base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(
            &text,
            "kinema_http_requests_total",
            &[("route", "/healthz"), ("status", "200")]
        ),
        1.0,
        "{text}"
    );
    own.stop().await;

    // Both: the address of its own asks for the token too.
    let both = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.metrics_addr = Some("127.0.0.1:0".into());
        settings.metrics_token = Some(TOKEN.into());
    })
    .await;
    let url = format!("{}/metrics", both.metrics_base.as_ref().unwrap());
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    let allowed = client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(allowed.text().await.unwrap().contains("kinema_tasks{"));
    let main = both.client().get(both.url("/metrics")).bearer_auth(TOKEN);
    assert_eq!(main.send().await.unwrap().status(), 404);
    both.stop().await;
}
