//! What the member (and the admin who lets them in) does through the proxy.

use std::sync::Arc;

use reqwest::cookie::Jar;

use crate::helpers::{fixtures, proxy_browser, proxy_browser_with, Http, PASSWORD};

/// Calls server function `function` through the proxy as `browser`; panics unless it answers
/// 200; returns the JSON answer.
pub async fn call(
    browser: &reqwest::Client,
    public: &str,
    function: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let response = browser
        .post(format!("{public}/api/{function}"))
        .header("Origin", public)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{function}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Runs setup as admin `ada` and lets member `moe` join; returns the cookies of moe's browser,
/// signed in, and a client of that browser.
pub async fn member(public: &str) -> (Arc<Jar>, reqwest::Client) {
    let admin = proxy_browser();
    let form = [
        ("username", "ada"),
        ("display_name", "Ada Admin"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    call(&admin, public, "setup_admin", &form).await;
    let invite = call(
        &admin,
        public,
        "create_invite",
        &[("role", "member"), ("hours", "72")],
    )
    .await;
    let token = invite["link"].as_str().unwrap().rsplit('/').next().unwrap();
    let jar = Arc::new(Jar::default());
    let moe = proxy_browser_with(jar.clone(), Http::Negotiated);
    let form = [
        ("token", token),
        ("username", "moe"),
        ("display_name", "Mo Member"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    call(&moe, public, "accept_invite", &form).await;
    (jar, moe)
}

/// Uploads the committed fixture `name` for `purpose`; returns the upload id.
pub async fn upload(browser: &reqwest::Client, public: &str, purpose: &str, name: &str) -> String {
    let response = browser
        .post(format!(
            "{public}/api/uploads?purpose={purpose}&name={name}"
        ))
        .header("Origin", public)
        .body(fixtures::file(name))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{name}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

/// Submits a 720p motion task with `key`; returns its id.
pub async fn submit(
    browser: &reqwest::Client,
    public: &str,
    image: &str,
    video: &str,
    key: &str,
) -> String {
    let form = [
        ("image_upload_id", image),
        ("video_upload_id", video),
        ("quality", "720p"),
        ("orientation", "image"),
        ("keep_sound", "false"),
        ("prompt", "A calm dance"),
        ("idempotency_key", key),
        ("element_id", ""),
    ];
    let task = call(browser, public, "submit_motion", &form).await;
    task["id"].as_str().unwrap().to_string()
}
