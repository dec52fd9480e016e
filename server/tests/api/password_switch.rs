//! An admin switches password sign-in off once single sign-on works: refused before any admin
//! signs in through the provider and without single sign-on at all; then the sign-in page
//! offers only the provider, the server refuses passwords (sign-in and invites) in plain words,
//! single sign-on goes on working, the change is in the audit log, and
//! `kinema-server allow-password-sign-in` switches passwords back on at once.

use serde_json::json;

use crate::helpers::{
    accept, invite,
    oidc::{single_sign_on, Provider},
    server_command, setup_admin, sign_in, whoami, Db, TestApp, PASSWORD,
};

const OFF_MESSAGE: &str =
    "Password sign-in is switched off for this team: sign in with Acme ID instead.";

async fn switch(app: &TestApp, client: &reqwest::Client, enabled: bool) -> reqwest::Response {
    app.call(
        client,
        "set_password_sign_in",
        &[("enabled", &enabled.to_string())],
    )
    .await
}

async fn settings_changes(app: &TestApp) -> Vec<(String, String, String)> {
    app.state()
        .store()
        .audit_entries(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str() == "settings_changed")
        .map(|e| (e.actor_name, e.target, e.detail))
        .collect()
}

async fn login_page(app: &TestApp) -> String {
    app.client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn password_sign_in_can_be_switched_off(db: Db) {
    // Without single sign-on there is nothing to switch to.
    let plain = TestApp::spawn(db).await;
    let admin = plain.client();
    assert_eq!(setup_admin(&plain, &admin, "ada").await.status(), 200);
    let refused = switch(&plain, &admin, false).await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Password sign-in can be switched off only when single sign-on is set up"));
    plain.stop().await;

    let provider = Provider::start().await;
    let app = TestApp::spawn_with(db, |settings| {
        provider.configure(settings, "example.com");
        settings.oidc_admin_group = Some("kinema-admins".into());
    })
    .await;
    let ada = app.client();
    assert_eq!(setup_admin(&app, &ada, "ada").await.status(), 200);
    let token = invite(&app, &ada, "member").await;
    assert_eq!(
        accept(&app, &app.client(), &token, "moe").await.status(),
        200
    );

    // Members may not touch it; admins may not lock every admin out.
    let moe = app.client();
    assert_eq!(sign_in(&app, &moe, "moe", PASSWORD).await.status(), 200);
    assert_eq!(switch(&app, &moe, false).await.status(), 403);
    let refused = switch(&app, &ada, false).await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Switch password sign-in off only once an admin has signed in with Acme ID"));
    assert!(settings_changes(&app).await.is_empty());

    // Once an admin signs in through the provider, passwords can go.
    provider
        .set_claims(
            "boss@example.com",
            json!({"email": "boss@example.com", "groups": ["kinema-admins"]}),
        )
        .await;
    let boss = app.client();
    assert_eq!(
        single_sign_on(&app, &boss, "boss@example.com")
            .await
            .status(),
        303
    );
    let settings: serde_json::Value = app
        .call(&ada, "sign_in_settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings,
        json!({"sso_provider": "Acme ID", "password_sign_in": true, "sso_admins": 1})
    );
    assert!(login_page(&app).await.contains("name=\"password\""));
    assert_eq!(switch(&app, &ada, false).await.status(), 200);
    let settings: serde_json::Value = app
        .call(&boss, "sign_in_settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["password_sign_in"], false);
    assert_eq!(
        settings_changes(&app).await,
        [("ada".into(), "password sign-in".into(), "off".into())]
    );

    // The sign-in page offers only the provider; the server refuses passwords in plain words,
    // for sign-in and for joining by invite alike, and writes nothing for them.
    let page = login_page(&app).await;
    assert!(page.contains("Sign in with Acme ID"), "{page}");
    assert!(!page.contains("name=\"password\""), "{page}");
    assert!(!page.contains("Or with your Kinema password"), "{page}");
    let audit_before = app.count_rows("audit_log").await;
    let again = app.client();
    let refused = sign_in(&app, &again, "moe", PASSWORD).await;
    assert_eq!(refused.status(), 422);
    let body = refused.text().await.unwrap();
    assert!(body.contains(OFF_MESSAGE), "{body}");
    assert_eq!(whoami(&app, &again).await, None);
    let token = invite(&app, &ada, "member").await;
    let audit_before_join = app.count_rows("audit_log").await;
    let joining = accept(&app, &app.client(), &token, "newbie").await;
    assert_eq!(joining.status(), 422);
    assert!(joining.text().await.unwrap().contains(OFF_MESSAGE));
    assert_eq!(app.count_rows("audit_log").await, audit_before_join);
    assert_eq!(
        audit_before + 1,
        audit_before_join,
        "only the invite was recorded"
    );
    // Sessions made before stay; single sign-on goes on working.
    assert_eq!(whoami(&app, &moe).await.as_deref(), Some("moe"));
    let boss_again = app.client();
    assert_eq!(
        single_sign_on(&app, &boss_again, "boss@example.com")
            .await
            .status(),
        303
    );
    assert_eq!(whoami(&app, &boss_again).await.as_deref(), Some("boss"));

    // Locked out? The command line switches passwords back on, at once, on the running app.
    let cli_dir = tempfile::tempdir().unwrap();
    let output = server_command(cli_dir.path())
        .env("DATABASE_URL", app.database_url())
        .arg("allow-password-sign-in")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Password sign-in is on again."));
    assert_eq!(sign_in(&app, &again, "moe", PASSWORD).await.status(), 200);
    assert_eq!(whoami(&app, &again).await.as_deref(), Some("moe"));
    assert!(login_page(&app).await.contains("name=\"password\""));
    assert_eq!(
        settings_changes(&app).await,
        [
            ("ada".into(), "password sign-in".into(), "off".into()),
            (
                "kinema-server command line".into(),
                "password sign-in".into(),
                "on".into()
            ),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn password_sign_in_can_be_switched_off_on_sqlite() {
    password_sign_in_can_be_switched_off(Db::Sqlite).await;
}

#[tokio::test]
async fn password_sign_in_can_be_switched_off_on_postgres() {
    password_sign_in_can_be_switched_off(Db::Postgres).await;
}
