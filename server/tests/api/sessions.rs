//! Sessions across instances: each instance serves recently used sessions from memory, and a
//! session ended on one instance must stop working on every other one at once.

use std::time::Duration;

use crate::helpers::*;

/// A second instance on the same PostgreSQL database as `first`.
async fn second_instance(first: &TestApp) -> TestApp {
    let url = first.database_url();
    TestApp::spawn_with(Db::Sqlite, move |settings| {
        settings.database_url = Some(url)
    })
    .await
}

/// Who `cookie` signs in as on `app`, asked with no cookie jar (as a copied cookie would be).
async fn who_with(app: &TestApp, cookie: &str) -> Option<String> {
    let response = reqwest::Client::new()
        .post(app.url("/api/session_info"))
        .header("Accept", "application/json")
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["user"]["username"].as_str().map(str::to_string)
}

#[tokio::test]
async fn a_session_ended_on_one_instance_is_refused_on_the_other_within_a_second() {
    let a = TestApp::spawn(Db::Postgres).await;
    let b = second_instance(&a).await;
    let admin = a.client();
    let response = setup_admin(&a, &admin, "ada").await;
    assert_eq!(response.status(), 200);
    let cookie = cookie_pair(&set_cookie(&response, "kinema_session").expect("a session cookie"));

    // Both instances now hold the session in memory (the second read on B is served from it).
    for app in [&a, &b, &b] {
        assert_eq!(who_with(app, &cookie).await.as_deref(), Some("ada"));
    }

    // Signing out on A deletes the session; B's copy, good for 30 s, must go at once.
    let response = reqwest::Client::new()
        .post(a.url("/api/sign_out"))
        .header("Accept", "application/json")
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(who_with(&a, &cookie).await, None);
    eventually(
        "instance B refusing the session instance A signed out",
        Duration::from_secs(1),
        || async {
            match who_with(&b, &cookie).await {
                None => Ok(()),
                Some(user) => Err(user),
            }
        },
    )
    .await;
    b.stop().await;
    a.stop().await;
}
