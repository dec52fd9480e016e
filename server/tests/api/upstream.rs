//! Upstream answers are bounded and reconciled: hostile result links are refused before any
//! connection, absurd output lengths settle at the reservation, a different reservation shows
//! admins a price-drift notice, 402 causes get their own words and `Retry-After` is honoured.

use std::{io::ErrorKind, time::Duration};

use app::backend::billing::Clock;
use evolink_sim::{RunningSimulator, SimulatorConfig};
use serde_json::json;

use crate::helpers::{
    eventually, holds, inputs, ok_json, post_faults, set_faults, setup_admin, stepped_engine,
    submit, team, until_final, Db, TestApp,
};

const KEY: &str = "upstream-test-key";

/// Kinema with the team's key against a simulator of its own (not sandbox mode), so only the
/// simulator's origin is trusted for result links.
async fn keyed_app() -> (TestApp, RunningSimulator) {
    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_millis(500)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let url = sim.base_url.clone();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.evolink_api_key = Some(KEY.into());
        settings.evolink_base_url = url.clone();
        settings.evolink_files_base_url = url;
    })
    .await;
    (app, sim)
}

#[tokio::test]
async fn hostile_result_links_are_refused_before_any_connection() {
    // The target every hostile link aims at: a loopback listener that must see nothing.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    target.set_nonblocking(true).unwrap();
    let port = target.local_addr().unwrap().port();
    let (app, sim) = keyed_app().await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let links = [
        format!("http://127.0.0.1:{port}/r.mp4"),
        format!("https://127.0.0.1:{port}/r.mp4"),
        format!("https://[::ffff:127.0.0.1]:{port}/r.mp4"),
        format!("https://localhost:{port}/r.mp4"),
        "https://10.0.0.1/r.mp4".to_string(),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "javascript:alert(document.cookie)".to_string(),
        format!("file:///proc/self/environ#{port}"),
    ];
    for (n, link) in links.iter().enumerate() {
        post_faults(&sim.base_url, json!({ "report_result_url": link })).await;
        let submitted =
            ok_json(submit(&app, &admin, &inputs, "720p", "image", &format!("link-{n}")).await)
                .await;
        let id = submitted["id"].as_str().unwrap();
        let done = until_final(&app, &admin, id).await;
        assert_eq!(done["state"], "failed", "{link}: {done}");
        let failure = done["failure"].as_str().unwrap();
        assert!(
            failure.contains("cannot be fetched safely") || failure.contains("not a web address"),
            "{link}: {failure}"
        );
        assert!(failure.contains("credits were returned"), "{failure}");
        assert_eq!(done["upstream_link"], serde_json::Value::Null);
    }
    match target.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("a hostile link reached the loopback target: {other:?}"),
    }
    // The same engine still archives the simulator's own (trusted) links.
    post_faults(&sim.base_url, json!({})).await;
    let submitted = ok_json(submit(&app, &admin, &inputs, "720p", "image", "fine").await).await;
    let done = until_final(&app, &admin, submitted["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "completed", "{done}");
    app.stop().await;
}

async fn absurd_output_lengths_settle_at_the_reservation(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    for (n, raw) in [json!("NaN"), json!(-3), json!(1e12), json!(0)]
        .into_iter()
        .enumerate()
    {
        set_faults(&app, json!({ "report_video_duration": raw })).await;
        let submitted =
            ok_json(submit(&app, &admin, &inputs, "720p", "image", &format!("len-{n}")).await)
                .await;
        let reserved = submitted["cost_reserved"].as_i64().unwrap();
        assert_eq!(reserved, 5 * 8_164_800);
        let done = until_final(&app, &admin, submitted["id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "completed", "{raw}: {done}");
        assert_eq!(
            done["cost_final"], reserved,
            "{raw}: settled at the reservation"
        );
        assert_eq!(done["output_seconds"], serde_json::Value::Null, "{raw}");
    }
    // The member's month shows four full reservations charged, never 0.
    let usage = ok_json(app.call(&admin, "my_usage", &[]).await).await;
    assert_eq!(usage["spent"], 4 * 5 * 8_164_800, "{usage}");
    app.stop().await;
}

#[tokio::test]
async fn absurd_output_lengths_settle_at_the_reservation_on_sqlite() {
    absurd_output_lengths_settle_at_the_reservation(Db::Sqlite).await;
}

#[tokio::test]
async fn absurd_output_lengths_settle_at_the_reservation_on_postgres() {
    absurd_output_lengths_settle_at_the_reservation(Db::Postgres).await;
}

async fn price_drift_shows_admins_a_notice(db: Db) {
    let app = TestApp::spawn(db).await;
    let (admin, member, _) = team(&app).await;
    let inputs = inputs(&app, &member, "valid-index-at-end.mp4").await;
    // The upstream agrees with the price table: no notice.
    let agreed = ok_json(submit(&app, &member, &inputs, "720p", "image", "agreed").await).await;
    until_final(&app, &member, agreed["id"].as_str().unwrap()).await;
    let usage = ok_json(app.call(&admin, "team_usage", &[]).await).await;
    assert_eq!(usage["price_drift"], json!([]), "{usage}");
    // EvoLink now reserves 50 credits for the same 5 s task Kinema prices at 40.824.
    set_faults(&app, json!({ "report_credits_reserved": 50.0 })).await;
    let drifted = ok_json(submit(&app, &member, &inputs, "720p", "image", "drifted").await).await;
    let id = drifted["id"].as_str().unwrap();
    let done = until_final(&app, &member, id).await;
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["cost_final"], 40_824_000, "members pay Kinema's price");
    let usage = ok_json(app.call(&admin, "team_usage", &[]).await).await;
    let notices = usage["price_drift"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{usage}");
    let notice = &notices[0];
    assert_eq!(notice["task_id"], id);
    assert_eq!(notice["member"], "moe");
    assert_eq!(notice["figure"], "reserved");
    assert_eq!(notice["upstream"], 50_000_000);
    assert_eq!(notice["kinema"], 40_824_000);
    let words = "EvoLink reserved 50.00 credits for this task; Kinema's price table says 40.824.";
    assert_eq!(notice["notice"], words);
    // Members cannot see the team's usage; admins see the notice on the page itself.
    assert_eq!(app.call(&member, "team_usage", &[]).await.status(), 403);
    let page = admin
        .get(app.url("/admin/usage"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(
            "EvoLink reserved 50.00 credits for this task; Kinema&#x27;s price table says 40.824."
        ) || page.contains(words),
        "the usage page shows the notice"
    );
    app.stop().await;
}

#[tokio::test]
async fn price_drift_shows_admins_a_notice_on_sqlite() {
    price_drift_shows_admins_a_notice(Db::Sqlite).await;
}

#[tokio::test]
async fn price_drift_shows_admins_a_notice_on_postgres() {
    price_drift_shows_admins_a_notice(Db::Postgres).await;
}

#[tokio::test]
async fn each_402_cause_is_explained_in_its_own_words() {
    // The test steps the engine itself: each create is refused at its first step.
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let mut seen = Vec::new();
    for (code, words) in [
        ("insufficient_user_quota", "account balance is too low"),
        ("key_quota_exhausted", "used up its own credit limit"),
        ("token_daily_quota_exceeded", "daily credit limit"),
        ("key_model_not_allowed", "may not use this model"),
    ] {
        set_faults(
            &app,
            json!({
                "fail_next_creates": 1,
                "fail_create_status": 402,
                "fail_create_body": { "error": { "code": code, "message": "m", "type": "insufficient_quota" } }
            }),
        )
        .await;
        let submitted = ok_json(submit(&app, &admin, &inputs, "720p", "image", code).await).await;
        let done = until_final(&app, &admin, submitted["id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "failed");
        let failure = done["failure"].as_str().unwrap().to_string();
        assert!(failure.contains(words), "{code}: {failure}");
        assert!(failure.contains("credits were returned"), "{failure}");
        seen.push(failure);
    }
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), 4, "four causes, four messages");
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limited_poll_waits_for_retry_after() {
    let clock = Clock::fixed(1_800_000_000);
    let app = TestApp::spawn_with_clock(Db::Sqlite, |_| {}, stepped_engine(), clock.clone()).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let submitted = ok_json(submit(&app, &admin, &inputs, "720p", "image", "limited").await).await;
    let id = submitted["id"].as_str().unwrap().to_string();
    let created = app.run_due().await;
    assert_eq!(created.len(), 1, "{created:?}");
    let sim = app.sandbox_url.clone().unwrap();
    let queries = || async {
        let stats: serde_json::Value = reqwest::get(format!("{sim}/__sim/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["task_queries"].as_u64().unwrap()
    };
    set_faults(
        &app,
        json!({ "read_error_burst": 100, "read_error_status": 429, "read_error_retry_after": "40" }),
    )
    .await;
    let before = queries().await;
    clock.advance(Duration::from_secs(1));
    let polled = app.run_due().await;
    assert_eq!(polled.len(), 1, "one poll: {polled:?}");
    assert_eq!(
        queries().await,
        before + 1,
        "a Retry-After longer than the client's longest pause is left to the engine"
    );
    // The engine's own backoff (at most 300 ms here) would poll again long before 40 s.
    clock.advance(Duration::from_secs(30));
    assert_eq!(app.run_due().await, Vec::new(), "not before Retry-After");
    assert_eq!(queries().await, before + 1);
    clock.advance(Duration::from_secs(15));
    set_faults(&app, json!({})).await;
    let again = app.run_due().await;
    assert!(!again.is_empty(), "polled again once Retry-After passed");
    assert_eq!(queries().await, before + 2);
    // Then it finishes as usual.
    let done = eventually("the task to finish", Duration::from_secs(30), || async {
        clock.advance(Duration::from_millis(200));
        app.run_due().await;
        let view = ok_json(app.call(&admin, "get_task", &[("id", &id)]).await).await;
        holds(view["state"] == "completed", view)
    })
    .await;
    assert_eq!(done["cost_final"], 5 * 8_164_800);
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limited_create_is_sent_again_later_not_refunded() {
    let clock = Clock::fixed(1_800_000_000);
    let app = TestApp::spawn_with_clock(Db::Sqlite, |_| {}, stepped_engine(), clock.clone()).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    for status in [429, 503] {
        set_faults(
            &app,
            json!({ "fail_next_creates": 1, "fail_create_status": status }),
        )
        .await;
        let key = format!("busy-{status}");
        let submitted = ok_json(submit(&app, &admin, &inputs, "720p", "image", &key).await).await;
        let id = submitted["id"].as_str().unwrap().to_string();
        let turned_away = app.run_due().await;
        assert_eq!(turned_away.len(), 1, "{status}: {turned_away:?}");
        let view = ok_json(app.call(&admin, "get_task", &[("id", &id)]).await).await;
        assert_ne!(
            view["state"], "failed",
            "{status}: kept to be sent again: {view}"
        );
        assert_eq!(view["failure"], serde_json::Value::Null, "{status}");
        let ledger = app.state().store().ledger_of_task(&id).await.unwrap();
        assert_eq!(ledger.len(), 1, "{status}: only the reservation, no refund");
        let done = eventually(
            "the task to be created and finish",
            Duration::from_secs(30),
            || async {
                clock.advance(Duration::from_millis(500));
                app.run_due().await;
                let view = ok_json(app.call(&admin, "get_task", &[("id", &id)]).await).await;
                holds(view["state"] == "completed", view)
            },
        )
        .await;
        assert_eq!(done["cost_final"], 5 * 8_164_800, "{status}");
    }
    app.stop().await;
}
