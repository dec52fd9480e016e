//! The ledger over months and for admins: month rollover in the configured time zone with a fixed
//! clock, adjustments, the admin's usage figures, CSV exports, and estimated dollars.

use std::time::Duration;

use crate::helpers;
use crate::helpers::{
    eventually, fast_engine, holds, inputs, ok_json, set_faults, submit, team, until_final, Db,
    TestApp,
};
use app::backend::{billing::Clock, tasks::EngineSettings};

/// 2026-11-01 00:00:00 UTC.
const NOV_1_UTC: i64 = 1_793_491_200;
/// Tokyo is UTC+9 all year: its November begins at 2026-10-31 15:00 UTC.
const NOV_1_TOKYO: i64 = NOV_1_UTC - 9 * 3600;
/// 2026-10-01 00:00 in Tokyo.
const OCT_1_TOKYO: i64 = 1_790_812_800 - 9 * 3600;
/// A 5 s video at 720p.
const TASK_720P: i64 = 40_824_000;

async fn submit_and_finish(
    app: &TestApp,
    client: &reqwest::Client,
    key: &str,
) -> serde_json::Value {
    let inputs = inputs(app, client, "valid-index-at-end.mp4").await;
    let task = ok_json(submit(app, client, &inputs, "720p", "image", key).await).await;
    until_final(app, client, task["id"].as_str().unwrap()).await
}

/// Sums the credits column of an exported CSV, in micro-credits.
fn csv_credit_sum(csv: &str) -> i64 {
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "credits").unwrap();
    csv.lines()
        .skip(1)
        .map(|line| {
            let value = line.split(',').nth(column).unwrap();
            let (negative, value) = match value.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, value),
            };
            let (whole, fraction) = value.split_once('.').unwrap();
            let micro = whole.parse::<i64>().unwrap() * 1_000_000
                + format!("{fraction:0<6}").parse::<i64>().unwrap();
            if negative {
                -micro
            } else {
                micro
            }
        })
        .sum()
}

async fn adjust(
    app: &TestApp,
    client: &reqwest::Client,
    user_id: &str,
    credits: &str,
    reason: &str,
) -> reqwest::Response {
    let form = [
        ("user_id", user_id),
        ("credits", credits),
        ("reason", reason),
    ];
    app.call(client, "adjust_credits", &form).await
}

/// Kinema on `clock` with months in Tokyo, sandbox tasks taking `task_seconds`, and member moe
/// holding a monthly budget for exactly two 720p tasks; returns the app, ada's and moe's clients.
async fn tokyo_team_with_budget_for_two(
    db: Db,
    clock: &Clock,
    task_seconds: f64,
) -> (TestApp, reqwest::Client, reqwest::Client) {
    let app = TestApp::spawn_with_clock(
        db,
        |settings| {
            settings.time_zone = "Asia/Tokyo".into();
            settings.sandbox_task_seconds = task_seconds;
        },
        // Long enough that moving the clock past midnight does not time tasks out.
        EngineSettings {
            deadline: Duration::from_secs(3 * 3600),
            ..fast_engine()
        },
        clock.clone(),
    )
    .await;
    let (admin, member, moe) = team(&app).await;
    let budget = app
        .call(
            &admin,
            "set_member_budget",
            &[("user_id", &moe.to_string()), ("credits", "81.648")],
        )
        .await;
    assert_eq!(budget.status(), 200);
    (app, admin, member)
}

async fn month_rollover_with_a_fixed_clock(db: Db) {
    // 2026-10-31 23:00 in Tokyo (14:00 UTC).
    let clock = Clock::fixed(NOV_1_TOKYO - 3600);
    let (app, admin, member) = tokyo_team_with_budget_for_two(db, &clock, 1.0).await;
    for key in ["october-1", "october-2"] {
        assert_eq!(
            submit_and_finish(&app, &member, key).await["state"],
            "completed"
        );
    }
    let october = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(october["month_start"], OCT_1_TOKYO);
    assert_eq!(october["time_zone"], "Asia/Tokyo");
    assert_eq!(october["spent"], 2 * TASK_720P);
    let inputs = inputs(&app, &member, "valid-index-at-end.mp4").await;
    let refused = submit(&app, &member, &inputs, "720p", "image", "october-3").await;
    assert_eq!(refused.status(), 422, "the October budget is used up");

    // 00:30 on 1 November in Tokyo, still 31 October in UTC: a new month here.
    clock.set(NOV_1_TOKYO + 1800);
    let november = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(november["month_start"], NOV_1_TOKYO);
    assert_eq!(november["spent"], 0, "spending resets with the month");
    assert_eq!(
        november["charges"].as_array().unwrap().len(),
        4,
        "October's reservations and settlements stay in the history"
    );
    assert_eq!(
        submit_and_finish(&app, &member, "november-1").await["state"],
        "completed"
    );
    let november = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(november["spent"], TASK_720P);
    let days = november["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    assert_eq!(days[89]["day"], "2026-11-01");
    assert_eq!(days[89]["spent"], TASK_720P);
    assert_eq!(days[88]["day"], "2026-10-31");
    assert_eq!(days[88]["spent"], 2 * TASK_720P);
    let history = ok_json(app.call(&member, "list_tasks", &[("page", "1")]).await).await;
    assert_eq!(
        history["completed"], 3,
        "old months' tasks stay in the history"
    );
    let team = ok_json(app.call(&admin, "team_usage", &[]).await).await;
    assert_eq!(team["spent"], TASK_720P);
    let row = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "moe")
        .unwrap()
        .clone();
    assert_eq!(row["spent"], TASK_720P);
    assert_eq!(row["tasks"], 1, "tasks this month");
    // Exported times carry Tokyo's offset.
    let csv = member
        .get(app.url("/api/usage/charges.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("time (Asia/Tokyo),"), "{csv}");
    assert!(csv.contains("2026-10-31T23:00:00+09:00"), "{csv}");
    assert!(csv.contains("2026-11-01T00:30:00+09:00"), "{csv}");
    assert_eq!(csv_credit_sum(&csv), -3 * TASK_720P);
    app.stop().await;
}

#[tokio::test]
async fn month_rollover_with_a_fixed_clock_on_sqlite() {
    month_rollover_with_a_fixed_clock(Db::Sqlite).await;
}

#[tokio::test]
async fn month_rollover_with_a_fixed_clock_on_postgres() {
    month_rollover_with_a_fixed_clock(Db::Postgres).await;
}

#[tokio::test]
async fn admins_see_the_team_adjust_and_export_members_only_their_own() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.credits_per_usd = Some(100.0)
    })
    .await;
    let (admin, member, moe) = team(&app).await;
    let moe = moe.to_string();
    assert_eq!(
        submit_and_finish(&app, &member, "ok").await["state"],
        "completed"
    );
    set_faults(&app, serde_json::json!({ "fail_next_tasks": 1 })).await;
    assert_eq!(
        submit_and_finish(&app, &member, "fails").await["state"],
        "failed"
    );
    let admin_inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let admin_task =
        ok_json(submit(&app, &admin, &admin_inputs, "1080p", "video", "a").await).await;
    assert_eq!(
        until_final(&app, &admin, admin_task["id"].as_str().unwrap()).await["state"],
        "completed"
    );

    // Adjustments: admins only, with a reason, for an existing member, never zero.
    assert_eq!(adjust(&app, &member, &moe, "5", "mine").await.status(), 403);
    let response = adjust(&app, &admin, &moe, "5", "  ").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("Give a reason"));
    let response = adjust(&app, &admin, &moe, "lots", "why").await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("not an amount of credits"));
    assert_eq!(
        adjust(&app, &admin, &moe, "0", "nothing").await.status(),
        422
    );
    assert_eq!(
        adjust(&app, &admin, "999999", "5", "ghost").await.status(),
        404
    );
    assert_eq!(
        adjust(&app, &admin, &moe, "5", "Goodwill, for Tuesday's outage")
            .await
            .status(),
        200
    );

    // The member's own figures.
    let usage = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(usage["spent"], TASK_720P - 5_000_000);
    assert_eq!(usage["reserved"], 0);
    let reasons: Vec<&str> = usage["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["Goodwill, for Tuesday's outage"]);

    // The team's figures, for admins only.
    assert_eq!(app.call(&member, "team_usage", &[]).await.status(), 403);
    let team = ok_json(app.call(&admin, "team_usage", &[]).await).await;
    let admin_cost = ok_json(
        app.call(
            &admin,
            "get_task",
            &[("id", admin_task["id"].as_str().unwrap())],
        )
        .await,
    )
    .await["cost_final"]
        .as_i64()
        .unwrap();
    assert_eq!(team["spent"], TASK_720P - 5_000_000 + admin_cost);
    let evolink = ok_json(app.call(&admin, "check_evolink", &[]).await).await;
    assert_eq!(evolink["ok"], true, "{evolink}");
    let row = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "moe")
        .unwrap()
        .clone();
    assert_eq!(row["spent"], TASK_720P - 5_000_000);
    assert_eq!(row["tasks"], 2);
    assert_eq!(row["failures"], 1);
    assert_eq!(row["refunds"], TASK_720P);
    assert!(row["last_activity"].as_i64().is_some());
    let breakdown = team["breakdown"].as_array().unwrap();
    let p720 = breakdown.iter().find(|b| b["quality"] == "720p").unwrap();
    assert_eq!(p720["model"], "kling-v3-motion-control");
    assert_eq!(
        (p720["tasks"].as_i64(), p720["spent"].as_i64()),
        (Some(2), Some(TASK_720P))
    );
    let p1080 = breakdown.iter().find(|b| b["quality"] == "1080p").unwrap();
    assert_eq!(p1080["spent"], admin_cost);

    // CSV: the member gets only their own entries, the team file is for admins.
    let response = member
        .get(app.url("/api/usage/charges.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"kinema-charges-"));
    let csv = response.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
    assert!(csv
        .lines()
        .skip(1)
        .all(|line| line.split(',').nth(1) == Some("moe")));
    assert!(csv.lines().next().unwrap().contains("usd_estimate"));
    assert!(csv.contains("\"Goodwill, for Tuesday's outage\""), "{csv}");
    assert_eq!(csv_credit_sum(&csv), -(TASK_720P - 5_000_000));
    let response = member
        .get(app.url("/api/admin/usage.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .client()
        .get(app.url("/api/usage/charges.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let csv = admin
        .get(app.url("/api/admin/usage.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1 + 7);
    assert_eq!(csv_credit_sum(&csv), -(TASK_720P - 5_000_000 + admin_cost));

    // Pages: estimated dollars next to credits, reserved vs final on history entries.
    let page = |client: &reqwest::Client, path: &str| {
        let request = client.get(app.url(path));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, usage_page) = page(&member, "/usage").await;
    assert_eq!(status, 200);
    assert!(
        usage_page.contains("35.82 credits spent this month"),
        "{usage_page}"
    );
    assert!(usage_page.contains("≈ $0.36"), "{usage_page}");
    assert!(usage_page.contains("<svg"), "a chart");
    assert!(
        usage_page.contains("Adjusted by an admin: Goodwill"),
        "{usage_page}"
    );
    let (_, history) = page(&member, "/history").await;
    assert!(
        history.contains("reserved 40.82 · final 40.82 credits (≈ $0.41)"),
        "{history}"
    );
    assert!(
        history.contains("reserved 40.82 · final 0.00 credits"),
        "{history}"
    );
    let (_, pricing) = page(&member, "/pricing").await;
    assert!(
        pricing.contains("8 s: 65.32 credits (≈ $0.65)"),
        "{pricing}"
    );
    let (status, _) = page(&member, "/admin/usage").await;
    assert_eq!(status, 403);
    let (status, admin_page) = page(&admin, "/admin/usage").await;
    assert_eq!(status, 200);
    assert!(admin_page.contains("data-username=\"moe\""), "{admin_page}");
    assert!(admin_page.contains("Monthly budget for Mo Member"));
    assert!(admin_page.contains("kling-v3-motion-control"));
    assert!(admin_page.contains("Connected to the built-in EvoLink simulator"));
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .unwrap();
}

#[tokio::test]
async fn settle_uses_the_output_length_the_upstream_reports() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (_admin, member, _) = team(&app).await;
    // The input is 5 s (40.824 credits held); the upstream says it made 3 s.
    set_faults(&app, serde_json::json!({ "output_seconds": 3 })).await;
    let done = submit_and_finish(&app, &member, "trimmed").await;
    assert_eq!(done["state"], "completed");
    assert_eq!(done["cost_reserved"], TASK_720P);
    assert_eq!(done["output_seconds"], 3);
    assert_eq!(done["cost_final"], 3 * 8_164_800);
    let usage = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(usage["spent"], 3 * 8_164_800);
    let amounts: Vec<i64> = usage["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(
        amounts,
        [TASK_720P - 3 * 8_164_800, -TASK_720P],
        "settle releases the rest"
    );
    app.stop().await;
}

async fn a_refund_after_midnight_gives_the_new_month_nothing(db: Db) {
    // 23:00 on 31 October in Tokyo; sandbox tasks take 3 s, so the clock can pass midnight
    // while one is running.
    let clock = Clock::fixed(NOV_1_TOKYO - 3600);
    let (app, admin, member) = tokyo_team_with_budget_for_two(db, &clock, 3.0).await;
    set_faults(&app, serde_json::json!({ "fail_next_tasks": 1 })).await;
    let inputs = inputs(&app, &member, "valid-index-at-end.mp4").await;
    let task = ok_json(submit(&app, &member, &inputs, "720p", "image", "late").await).await;
    let id = task["id"].as_str().unwrap().to_string();
    eventually(
        "the upstream to have the task",
        Duration::from_secs(30),
        || async {
            let state = helpers::task(&app, &member, &id).await["state"].clone();
            holds(state == "running", state)
        },
    )
    .await;
    // Midnight passes; the task then fails and is refunded in November.
    clock.set(NOV_1_TOKYO + 60);
    assert_eq!(until_final(&app, &member, &id).await["state"], "failed");
    let november = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(
        november["spent"], 0,
        "October's refund is not November's credit"
    );
    let days = november["days"].as_array().unwrap();
    assert_eq!(days[88]["day"], "2026-10-31");
    assert_eq!(
        days[88]["spent"], 0,
        "reserve and refund net out on the day of submit"
    );
    assert_eq!(days[89]["spent"], 0);
    // November's budget holds two tasks, not three.
    for key in ["nov-1", "nov-2"] {
        let response = submit(&app, &member, &inputs, "720p", "image", key).await;
        assert_eq!(response.status(), 200, "{key}");
    }
    let third = submit(&app, &member, &inputs, "720p", "image", "nov-3").await;
    assert_eq!(
        third.status(),
        422,
        "the budget is not stretched by the refund"
    );
    let team = ok_json(app.call(&admin, "team_usage", &[]).await).await;
    assert_eq!(team["spent"], 2 * TASK_720P);
    app.stop().await;
}

#[tokio::test]
async fn a_refund_after_midnight_gives_the_new_month_nothing_on_sqlite() {
    a_refund_after_midnight_gives_the_new_month_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn a_refund_after_midnight_gives_the_new_month_nothing_on_postgres() {
    a_refund_after_midnight_gives_the_new_month_nothing(Db::Postgres).await;
}
