//! Sessions, cookie flags, cross-site refusal and sign-in throttling.

use crate::helpers::*;
use kinema_server::startup::SESSION_COOKIE;

async fn session_ids_rotate_and_die(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    let response = setup_admin(&app, &admin, "ada").await;
    let first = set_cookie(&response, SESSION_COOKIE).expect("session cookie at setup");
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    assert!(
        !first.contains("Secure"),
        "plain http must not set Secure: {first}"
    );

    // Signing in again issues a new id; the old one no longer works.
    let response = sign_in(&app, &admin, "ada", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let second = set_cookie(&response, SESSION_COOKIE).expect("new cookie at sign-in");
    assert_ne!(cookie_pair(&first), cookie_pair(&second));
    let old = app.client();
    let response = old
        .post(app.url("/api/session_info"))
        .header("Cookie", cookie_pair(&first))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["user"].is_null(), "the pre-sign-in id is dead");

    // After sign-out the id is invalid on the server, even if a client keeps sending it.
    assert_eq!(app.call(&admin, "sign_out", &[]).await.status(), 200);
    let replay = app.client();
    let response = replay
        .post(app.url("/api/session_info"))
        .header("Cookie", cookie_pair(&second))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["user"].is_null(), "the signed-out id is dead");
    app.stop().await;
}

#[tokio::test]
async fn session_ids_rotate_and_die_on_sqlite() {
    session_ids_rotate_and_die(Db::Sqlite).await;
}

#[tokio::test]
async fn session_ids_rotate_and_die_on_postgres() {
    session_ids_rotate_and_die(Db::Postgres).await;
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.public_url = Some("https://kinema.example.com".into());
    })
    .await;
    let response = setup_admin(&app, &app.client(), "ada").await;
    let cookie = set_cookie(&response, SESSION_COOKIE).unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let before: serde_json::Value = app
        .call(&admin, "list_invites", &[])
        .await
        .json()
        .await
        .unwrap();

    let by_origin = admin
        .post(app.url("/api/create_invite"))
        .header("Origin", "http://evil.example")
        .form(&[("role", "admin"), ("hours", "72")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_origin.status(), 403);
    let by_fetch_metadata = admin
        .post(app.url("/api/create_invite"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("role", "admin"), ("hours", "72")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_fetch_metadata.status(), 403);
    let sign_out = admin
        .post(app.url("/api/sign_out"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(sign_out.status(), 403);

    let after: serde_json::Value = app
        .call(&admin, "list_invites", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "no invite was created");
    assert_eq!(
        whoami(&app, &admin).await.as_deref(),
        Some("ada"),
        "still signed in"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_eleventh_wrong_password_is_refused_without_checking() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let token = invite(&app, &admin, "member").await;
    assert_eq!(
        accept(&app, &app.client(), &token, "moe").await.status(),
        200
    );

    let attacker = app.client();
    for attempt in 1..=10 {
        let response = sign_in(&app, &attacker, "moe", "wrong password!").await;
        assert_eq!(response.status(), 422, "attempt {attempt}");
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password."));
    }
    // The 11th is refused, and so is the right password: it is not even checked.
    for password in ["wrong password!", PASSWORD] {
        let response = sign_in(&app, &attacker, "moe", password).await;
        assert_eq!(response.status(), 429);
        let text = response.text().await.unwrap();
        assert!(
            text.contains("Too many failed sign-ins. Try again in 15 minutes."),
            "{text}"
        );
    }
    // An unknown account gets the same words, so nothing tells whether an account exists.
    for _ in 0..10 {
        sign_in(&app, &attacker, "nobody", "wrong password!").await;
    }
    let response = sign_in(&app, &attacker, "nobody", "wrong password!").await;
    assert_eq!(response.status(), 429);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins."));

    // Another account from the same address still signs in.
    let other = app.client();
    assert_eq!(sign_in(&app, &other, "ada", PASSWORD).await.status(), 200);
    assert_eq!(whoami(&app, &other).await.as_deref(), Some("ada"));
    app.stop().await;
}

#[tokio::test]
async fn internal_errors_show_a_request_id_and_no_details() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    // Break the database under the running app: the invites table disappears.
    let db_path = app.data_dir.path().join("kinema.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        db_path.display()
    ))
    .await
    .unwrap();
    sqlx::Executor::execute(&mut conn, "DROP TABLE invites")
        .await
        .unwrap();
    let response = app.call(&admin, "list_invites", &[]).await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let text = response.text().await.unwrap();
    assert!(text.contains(&request_id), "{text}");
    assert!(
        !text.to_lowercase().contains("invites"),
        "no SQL details: {text}"
    );
    assert!(
        !text.to_lowercase().contains("sqlite"),
        "no driver details: {text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let client = app.client();
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
    // Only POST reaches server functions: a GET is refused as such and changes nothing, also for a
    // signed-in admin.
    let get = client.get(app.url("/api/sign_out")).send().await.unwrap();
    assert_eq!(get.status(), 405);
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let invites = ok_json(app.call(&admin, "list_invites", &[]).await).await;
    for path in ["/api/sign_out", "/api/create_invite?role=admin&hours=72"] {
        let get = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(get.status(), 405, "GET {path}");
    }
    assert_eq!(
        whoami(&app, &admin).await.as_deref(),
        Some("ada"),
        "still signed in"
    );
    assert_eq!(
        ok_json(app.call(&admin, "list_invites", &[]).await).await,
        invites,
        "no invite was created"
    );
    app.stop().await;
}
