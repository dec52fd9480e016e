//! Budgets: a member with budget for exactly three tasks fires fifty submits at once; on SQLite
//! and on PostgreSQL exactly three are accepted and reach the upstream, the rest are refused with
//! the budget message, and spending never passes the budget.

use std::time::Duration;

use crate::helpers::{eventually, holds, inputs, submit, team, Db, TestApp};

async fn fifty_submits_against_a_budget_for_three(db: Db) {
    let app = TestApp::spawn(db).await;
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
    // Members cannot set budgets.
    let response = app
        .call(
            &member,
            "set_member_budget",
            &[("user_id", &moe), ("credits", "1000")],
        )
        .await;
    assert_eq!(response.status(), 403);

    let inputs = inputs(&app, &member, "valid-index-at-end.mp4").await;
    let keys: Vec<String> = (0..50).map(|n| format!("burst-{n}")).collect();
    let submits = keys
        .iter()
        .map(|key| submit(&app, &member, &inputs, "720p", "image", key));
    let responses = futures_util::future::join_all(submits).await;
    let mut accepted = 0;
    let mut refused = 0;
    for response in responses {
        match response.status().as_u16() {
            200 => accepted += 1,
            422 => {
                let text = response.text().await.unwrap();
                assert!(text.contains("This task costs 40.82 credits, but only 0.00 credits of your monthly budget of 122.47 are left"), "{text}");
                assert!(text.contains("Ask an admin"));
                refused += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((accepted, refused), (3, 47));
    let sim = app.sandbox_url.clone().unwrap();
    eventually("three completed tasks", Duration::from_secs(60), || async {
        let page: serde_json::Value = app
            .call(&member, "list_tasks", &[("page", "1")])
            .await
            .json()
            .await
            .unwrap();
        holds(page["completed"] == 3, page)
    })
    .await;
    let stats: serde_json::Value = reqwest::get(format!("{sim}/__sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["creates"], 3, "exactly three upstream creates");
    // The member's usage adds up from the ledger.
    let usage: serde_json::Value = app
        .call(&member, "my_usage", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["spent"], 3 * 40_824_000i64);
    assert_eq!(usage["reserved"], 0);
    assert_eq!(usage["budget"], 122_472_000i64);
    assert_eq!(
        usage["charges"].as_array().unwrap().len(),
        6,
        "three reservations, three settlements"
    );
    let page = member
        .get(app.url("/usage"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("122.47 of your 122.47 credit monthly budget spent · 0.00 left"),
        "{page}"
    );

    // A raised budget lets the member go on; removing it means no limit.
    let response = app
        .call(
            &admin,
            "set_member_budget",
            &[("user_id", &moe), ("credits", "")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let again = submit(&app, &member, &inputs, "720p", "image", "after-raise").await;
    assert_eq!(again.status(), 200);
    // A team budget binds everyone, the admin too.
    assert_eq!(
        app.call(&admin, "set_team_budget", &[("credits", "10")])
            .await
            .status(),
        200
    );
    let response = submit(&app, &member, &inputs, "720p", "image", "team").await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("of the team's monthly budget"));
    app.stop().await;
}

#[tokio::test]
async fn budgets_hold_under_concurrent_submits_on_sqlite() {
    fifty_submits_against_a_budget_for_three(Db::Sqlite).await;
}

#[tokio::test]
async fn budgets_hold_under_concurrent_submits_on_postgres() {
    fifty_submits_against_a_budget_for_three(Db::Postgres).await;
}
