//! Revoking invites, ending sessions on a password reset, a first-run setup that cannot make
//! two admins, and the security headers of pages and stored files.

use futures_util::future::join_all;

use app::backend::{page_policy::page_policy, store::NewUser};
use kinema_server::media_headers::MEDIA_POLICY;

use crate::helpers::*;

/// Creates an invite as `admin`; returns its id and token.
async fn invite_with_id(app: &TestApp, admin: &reqwest::Client, role: &str) -> (String, String) {
    let body = ok_json(
        app.call(admin, "create_invite", &[("role", role), ("hours", "72")])
            .await,
    )
    .await;
    let token = body["link"].as_str().unwrap().rsplit('/').next().unwrap();
    (body["id"].as_i64().unwrap().to_string(), token.to_string())
}

async fn refused_with(response: reqwest::Response, status: u16, words: &str) {
    assert_eq!(response.status(), status);
    let text = response.text().await.unwrap();
    assert!(text.contains(words), "{text}");
}

async fn invites_can_be_revoked(db: Db) {
    let app = TestApp::spawn(db).await;
    let (admin, member, _) = team(&app).await;

    // An unused invite is revoked: its link stops working and it cannot be revoked twice.
    let (id, token) = invite_with_id(&app, &admin, "member").await;
    refused_with(
        app.call(&member, "revoke_invite", &[("invite_id", &id)])
            .await,
        403,
        "",
    )
    .await;
    ok_json(
        app.call(&admin, "revoke_invite", &[("invite_id", &id)])
            .await,
    )
    .await;
    refused_with(
        app.call(&app.client(), "invite_details", &[("token", &token)])
            .await,
        422,
        "revoked",
    )
    .await;
    refused_with(
        accept(&app, &app.client(), &token, "late").await,
        422,
        "revoked",
    )
    .await;
    refused_with(
        app.call(&admin, "revoke_invite", &[("invite_id", &id)])
            .await,
        422,
        "cannot be revoked",
    )
    .await;
    let listed = ok_json(app.call(&admin, "list_invites", &[]).await).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_i64().map(|n| n.to_string()) == Some(id.clone()))
        .unwrap()
        .clone();
    assert_eq!(row["revoked"], true);

    // A used invite cannot be revoked.
    let (used_id, used_token) = invite_with_id(&app, &admin, "admin").await;
    let bea = app.client();
    assert_eq!(accept(&app, &bea, &used_token, "bea").await.status(), 200);
    refused_with(
        app.call(&admin, "revoke_invite", &[("invite_id", &used_id)])
            .await,
        422,
        "already used",
    )
    .await;

    // Disabling bea revokes the invites she created and did not see used; others' stay.
    let (_, beas_token) = invite_with_id(&app, &bea, "member").await;
    let (_, adas_token) = invite_with_id(&app, &admin, "member").await;
    let members = ok_json(app.call(&admin, "list_members", &[]).await).await;
    let bea_id = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "bea")
        .unwrap()["id"]
        .to_string();
    ok_json(
        app.call(
            &admin,
            "set_member_disabled",
            &[("user_id", &bea_id), ("disabled", "true")],
        )
        .await,
    )
    .await;
    refused_with(
        app.call(&app.client(), "invite_details", &[("token", &beas_token)])
            .await,
        422,
        "revoked",
    )
    .await;
    ok_json(
        app.call(&app.client(), "invite_details", &[("token", &adas_token)])
            .await,
    )
    .await;
    // Enabling bea again does not bring her invites back.
    ok_json(
        app.call(
            &admin,
            "set_member_disabled",
            &[("user_id", &bea_id), ("disabled", "false")],
        )
        .await,
    )
    .await;
    refused_with(
        accept(&app, &app.client(), &beas_token, "cyd").await,
        422,
        "revoked",
    )
    .await;

    // The admin page offers Revoke for the open invite only.
    let page = admin.get(app.url("/admin")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert_eq!(html.matches(">Revoke<").count(), 1, "{html}");
    app.stop().await;
}

#[tokio::test]
async fn invites_can_be_revoked_on_sqlite() {
    invites_can_be_revoked(Db::Sqlite).await;
}

#[tokio::test]
async fn invites_can_be_revoked_on_postgres() {
    invites_can_be_revoked(Db::Postgres).await;
}

async fn reset_password_ends_every_session(db: Db) {
    let app = TestApp::spawn(db).await;
    let (admin, member, _) = team(&app).await;
    let laptop = app.client();
    assert_eq!(sign_in(&app, &laptop, "moe", PASSWORD).await.status(), 200);
    assert_eq!(whoami(&app, &member).await.as_deref(), Some("moe"));
    assert_eq!(whoami(&app, &laptop).await.as_deref(), Some("moe"));

    let database_url = app.database_url();
    let data_dir = app.data_dir.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        server_command(&data_dir)
            .args(["reset-password", "--username", "moe"])
            .env("DATABASE_URL", database_url)
            .env("KINEMA_NEW_PASSWORD", "a brand new passphrase")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("their sessions were ended"));

    // Both of moe's sessions are over at once; the admin's is not.
    assert_eq!(whoami(&app, &member).await, None);
    assert_eq!(whoami(&app, &laptop).await, None);
    let page = laptop.get(app.url("/history")).send().await.unwrap();
    assert_eq!(page.headers()["location"], "/login?next=%2Fhistory");
    assert_eq!(whoami(&app, &admin).await.as_deref(), Some("ada"));
    // Only the new password works, and a new session lasts.
    assert_eq!(sign_in(&app, &laptop, "moe", PASSWORD).await.status(), 422);
    assert_eq!(
        sign_in(&app, &laptop, "moe", "a brand new passphrase")
            .await
            .status(),
        200
    );
    assert_eq!(whoami(&app, &laptop).await.as_deref(), Some("moe"));
    assert_eq!(whoami(&app, &laptop).await.as_deref(), Some("moe"));
    app.stop().await;
}

#[tokio::test]
async fn reset_password_ends_every_session_on_sqlite() {
    reset_password_ends_every_session(Db::Sqlite).await;
}

#[tokio::test]
async fn reset_password_ends_every_session_on_postgres() {
    reset_password_ends_every_session(Db::Postgres).await;
}

async fn concurrent_setups_make_one_admin(db: Db) {
    let app = TestApp::spawn(db).await;
    let names: Vec<String> = (0..20).map(|i| format!("admin{i}")).collect();
    let answers = join_all(names.iter().map(|name| async {
        let response = setup_admin(&app, &app.client(), name).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }))
    .await;
    let created = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, text) in answers.iter().filter(|(status, _)| *status != 200) {
        let clear = (*status == 422 && text.contains("Kinema is already set up; sign in instead."))
            || (*status == 429 && text.contains("try again shortly"));
        assert!(clear, "{status} {text}");
    }
    let admins = app
        .state()
        .store()
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|user| user.role == "admin")
        .count();
    assert_eq!(admins, 1);
    app.stop().await;

    // The same race without the hashing that spreads requests out: straight at the store.
    let app = TestApp::spawn(db).await;
    let store = app.state().store().clone();
    let created = join_all(names.iter().map(|name| {
        let store = store.clone();
        async move {
            store
                .create_first_admin(&NewUser {
                    username: name,
                    display_name: "Racer",
                    password_hash: "not-a-real-hash",
                    role: app::model::Role::Admin,
                    created_at: 0,
                })
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(created.iter().flatten().count(), 1);
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_first_run_setups_make_exactly_one_admin_on_sqlite() {
    concurrent_setups_make_one_admin(Db::Sqlite).await;
}

#[tokio::test]
async fn concurrent_first_run_setups_make_exactly_one_admin_on_postgres() {
    concurrent_setups_make_one_admin(Db::Postgres).await;
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} lacks {name}", response.url()))
        .to_str()
        .unwrap()
}

fn assert_media_headers(response: &reqwest::Response) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "content-security-policy"), MEDIA_POLICY);
    assert_eq!(
        MEDIA_POLICY,
        "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"
    );
}

#[tokio::test]
async fn stored_files_and_uploads_carry_nosniff_and_a_sandbox_policy() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (_, member, _) = team(&app).await;
    let response = member
        .post(app.url("/api/uploads?purpose=character_image&name=valid.png"))
        .header("Origin", &app.base)
        .body(fixtures::file("valid.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_media_headers(&response);
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = member
        .get(app.url(&format!("/api/uploads/{id}/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_media_headers(&file);
    // Refusals of these routes carry them too.
    for path in [
        "/api/uploads/nope/file".to_string(),
        "/api/elements/nope/preview".into(),
        "/api/tasks/nope/result".into(),
        "/media/nope?exp=1&sig=00".into(),
    ] {
        let response = member.get(app.url(&path)).send().await.unwrap();
        assert!(response.status().is_client_error(), "{path}");
        assert_media_headers(&response);
    }
    app.stop().await;
}

/// The nonce of the page's hydration script.
fn hydration_nonce(html: &str) -> String {
    let start = html
        .find("<script type=\"module\" nonce=\"")
        .unwrap_or_else(|| panic!("no hydration script with a nonce: {html}"))
        + "<script type=\"module\" nonce=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn pages_carry_a_policy_with_their_own_nonce() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (admin, _, _) = team(&app).await;
    let mut nonces = Vec::new();
    for (client, path) in [
        (app.client(), "/login"),
        (admin.clone(), "/"),
        (admin.clone(), "/admin"),
        (admin.clone(), "/no-such-page"),
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        let policy = header(&response, "content-security-policy").to_string();
        let html = response.text().await.unwrap();
        let nonce = hydration_nonce(&html);
        assert!(nonce.len() >= 16, "{nonce}");
        assert_eq!(policy, page_policy(&nonce), "{path}");
        // Every inline script on the page carries the nonce.
        let scripts = html.matches("<script").count();
        let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(scripts >= 1 && with_nonce >= scripts, "{path}: {html}");
        nonces.push(nonce);
    }
    assert_eq!(
        page_policy("N"),
        "default-src 'self'; script-src 'self' 'nonce-N' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "every answer has its own nonce");
    app.stop().await;
}
