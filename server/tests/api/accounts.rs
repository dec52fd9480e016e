//! Accounts, invites, roles and disabling, over real HTTP on SQLite and PostgreSQL.

use crate::helpers::*;

async fn account_lifecycle(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();

    // First run: every page leads to setup.
    let response = admin.get(app.url("/")).send().await.unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/setup");

    let response = setup_admin(&app, &admin, "ada").await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(whoami(&app, &admin).await.as_deref(), Some("ada"));

    // Setup refuses once an admin exists.
    let stranger = app.client();
    let response = setup_admin(&app, &stranger, "mallory").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("already set up"));
    assert_eq!(whoami(&app, &stranger).await, None);
    let response = stranger.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(response.headers()["location"], "/login");

    // Invite a member, who picks a name and password.
    let token = invite(&app, &admin, "member").await;
    let member = app.client();
    let details = app
        .call(&member, "invite_details", &[("token", &token)])
        .await;
    assert_eq!(details.status(), 200);
    let details: serde_json::Value = details.json().await.unwrap();
    assert_eq!(details["role"], "Member");
    assert_eq!(details["invited_by"], "Ada Admin");
    let response = accept(&app, &member, &token, "moe").await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(whoami(&app, &member).await.as_deref(), Some("moe"));

    // The invite is single use.
    let response = accept(&app, &app.client(), &token, "moe2").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("already used"));

    // The member signs out and in again.
    assert_eq!(app.call(&member, "sign_out", &[]).await.status(), 200);
    assert_eq!(whoami(&app, &member).await, None);
    assert_eq!(sign_in(&app, &member, "moe", PASSWORD).await.status(), 200);
    assert_eq!(whoami(&app, &member).await.as_deref(), Some("moe"));
    let response = member.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Studio") && page.contains("History") && page.contains("Elements"));
    assert!(!page.contains(">Admin<"), "members see no Admin link");

    // The member is refused on every admin server function and page.
    for (function, form) in [
        ("list_members", vec![]),
        ("list_invites", vec![]),
        ("create_invite", vec![("role", "admin"), ("hours", "1")]),
        (
            "set_member_disabled",
            vec![("user_id", "1"), ("disabled", "true")],
        ),
    ] {
        let response = app.call(&member, function, &form).await;
        assert_eq!(response.status(), 403, "{function} must be refused");
    }
    let response = member.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Admins only"));
    let response = admin.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(response.status(), 200);

    // The admin disables the member: the member's existing session stops working at once.
    let members: serde_json::Value = app
        .call(&admin, "list_members", &[])
        .await
        .json()
        .await
        .unwrap();
    let moe_id = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "moe")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let response = app
        .call(
            &admin,
            "set_member_disabled",
            &[("user_id", &moe_id), ("disabled", "true")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(whoami(&app, &member).await, None);
    let response = member.get(app.url("/history")).send().await.unwrap();
    assert_eq!(response.headers()["location"], "/login?next=%2Fhistory");
    let response = sign_in(&app, &member, "moe", PASSWORD).await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Wrong username or password"));

    // The admin cannot disable themselves.
    let response = app
        .call(
            &admin,
            "set_member_disabled",
            &[("user_id", "1"), ("disabled", "true")],
        )
        .await;
    assert_eq!(response.status(), 422);

    app.stop().await;
}

#[tokio::test]
async fn account_lifecycle_on_sqlite() {
    account_lifecycle(Db::Sqlite).await;
}

#[tokio::test]
async fn account_lifecycle_on_postgres() {
    account_lifecycle(Db::Postgres).await;
}

#[tokio::test]
async fn bad_account_input_gets_a_specific_message_and_writes_nothing() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let client = app.client();
    let response = app
        .call(
            &client,
            "setup_admin",
            &[
                ("username", "ada"),
                ("display_name", "Ada"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Password is 5 characters; it must be at least 10."));
    // Nothing was written: setup is still open.
    let response = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(response.headers()["location"], "/setup");

    assert_eq!(setup_admin(&app, &client, "ada").await.status(), 200);
    let token = invite(&app, &client, "member").await;
    let response = accept(&app, &app.client(), &token, "ADA").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("'ada' is taken"));
    // The failed acceptance left the invite usable.
    assert_eq!(
        accept(&app, &app.client(), &token, "bea").await.status(),
        200
    );
    app.stop().await;
}

/// True when the answer (re)sets the session cookie, which tower-sessions does exactly when it
/// writes the session back to the store.
fn session_saved(response: &reqwest::Response) -> bool {
    set_cookie(response, kinema_server::startup::SESSION_COOKIE).is_some()
}

#[tokio::test]
async fn an_active_session_is_extended_once_a_day_not_written_on_every_request() {
    let clock = app::backend::billing::Clock::fixed(1_800_000_000);
    let app = TestApp::spawn_with_clock(Db::Sqlite, |_| {}, fast_engine(), clock.clone()).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let page = || async { admin.get(app.url("/history")).send().await.unwrap() };
    // The first request after signing in records the activity; the next ones write nothing.
    let first = page().await;
    assert_eq!(first.status(), 200);
    assert!(session_saved(&first), "the first visit is recorded");
    for _ in 0..3 {
        clock.advance(std::time::Duration::from_secs(3600));
        let again = page().await;
        assert_eq!(again.status(), 200);
        assert!(!session_saved(&again), "no write within the day");
    }
    // A day after the last write, activity extends the session (a fresh cookie and expiry).
    clock.advance(std::time::Duration::from_secs(24 * 3600));
    let next_day = page().await;
    assert_eq!(next_day.status(), 200);
    assert!(session_saved(&next_day), "extended after a day of activity");
    assert_eq!(whoami(&app, &admin).await.as_deref(), Some("ada"));
    app.stop().await;
}
