//! The README's deployment recipe, run: Debian's nginx with the committed `deploy/nginx.conf`
//! (only its ports, instance addresses and certificate swapped in) in front of two instances on
//! one PostgreSQL database and one EvoLink. Through the proxy: a body larger than nginx's default
//! limit reaches Kinema, sign-in and POSTs pass the Origin check, live updates arrive while the
//! stream stays open (no buffering), a task completes and its result plays with Range, a share
//! link to it opens and plays for a stranger, and both instances answered requests.

use std::time::Duration;

use futures_util::StreamExt;

use crate::helpers::{
    eventually, fixtures, holds, nginx_installed, ok_json, proxy_browser, until_proxy_answers, Db,
    Nginx, ProxyPorts, TestApp, TestDatabase, PASSWORD,
};
use evolink_sim::{RunningSimulator, SimulatorConfig};

#[tokio::test]
async fn two_instances_behind_the_committed_nginx_config() {
    if !nginx_installed() {
        eprintln!("nginx is not installed; the proxy test is skipped");
        return;
    }
    let upstream = RunningSimulator::start(
        SimulatorConfig::new("proxy-test-key", Duration::from_millis(300)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let database = TestDatabase::create().await;
    let shared = tempfile::tempdir().unwrap();
    let ports = ProxyPorts::free();
    let public = ports.public_url();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let (url, dir, public, sim) = (
            database.url(),
            shared.path().to_path_buf(),
            public.clone(),
            upstream.base_url.clone(),
        );
        instances.push(
            TestApp::spawn_with(Db::Sqlite, move |settings| {
                settings.database_url = Some(url);
                settings.data_dir = dir;
                settings.public_url = Some(public);
                settings.trusted_proxies = Some("127.0.0.1".into());
                settings.evolink_api_key = Some("proxy-test-key".into());
                settings.evolink_base_url = sim.clone();
                settings.evolink_files_base_url = sim;
                settings.metrics_token = Some("proxy-test-metrics-token".into());
            })
            .await,
        );
    }
    let addrs: Vec<String> = instances
        .iter()
        .map(|app| app.base.trim_start_matches("http://").to_string())
        .collect();
    let nginx = Nginx::start(ports, &addrs);
    let browser = proxy_browser();
    until_proxy_answers(&browser, &public).await;
    // Plain http is sent to https.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{}/history", ports.http))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 301);

    let call = |function: &str, form: Vec<(&str, String)>| {
        browser
            .post(format!("{public}/api/{function}"))
            .header("Origin", &public)
            .header("Accept", "application/json")
            .form(&form)
            .send()
    };
    let setup = call(
        "setup_admin",
        vec![
            ("username", "ada".into()),
            ("display_name", "Ada Admin".into()),
            ("password", PASSWORD.into()),
            ("password_confirm", PASSWORD.into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        setup.status(),
        200,
        "the Origin check passes through the proxy"
    );
    assert!(setup
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().contains("Secure")));

    // 3 MB, three times nginx's default limit: Kinema (not nginx) judges it.
    let junk = browser
        .post(format!(
            "{public}/api/uploads?purpose=motion_video&name=junk.mp4"
        ))
        .header("Origin", &public)
        .body(vec![7u8; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 422);
    assert!(junk.text().await.unwrap().contains("\"error\""));

    let upload = |purpose: &'static str, name: &'static str| {
        let browser = browser.clone();
        let public = public.clone();
        async move {
            let response = browser
                .post(format!(
                    "{public}/api/uploads?purpose={purpose}&name={name}"
                ))
                .header("Origin", &public)
                .body(fixtures::file(name))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{name}");
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let image = upload("character_image", "valid.png").await;
    let video = upload("motion_video", "valid-index-at-end.mp4").await;

    // A live-update stream through the proxy; the events must arrive while it stays open.
    let events = browser
        .get(format!("{public}/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let mut events = events.bytes_stream();
    let task = ok_json(
        call(
            "submit_motion",
            vec![
                ("image_upload_id", image),
                ("video_upload_id", video),
                ("quality", "720p".into()),
                ("orientation", "image".into()),
                ("keep_sound", "false".into()),
                ("prompt", "A calm dance".into()),
                ("idempotency_key", "through-the-proxy".into()),
                ("element_id", String::new()),
            ],
        )
        .await
        .unwrap(),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_string();
    // SSE comments (keep-alives, a bare ":") may come first; the task event must follow.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        let mut seen = String::new();
        while let Some(chunk) = events.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if seen.contains("event: task") {
                break;
            }
        }
        seen
    })
    .await
    .expect("an event within 10 s through the proxy");
    assert!(first.contains("event: task"), "{first}");
    eventually("the task to complete", Duration::from_secs(60), || async {
        let view = ok_json(call("get_task", vec![("id", id.clone())]).await.unwrap()).await;
        holds(view["state"] == "completed", view)
    })
    .await;
    let part = browser
        .get(format!("{public}/api/tasks/{id}/result"))
        .header("Range", "bytes=0-11")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(&part.bytes().await.unwrap()[4..8], b"ftyp");
    drop(events);

    // A share link opens through the proxy for someone who never signed in, and plays.
    let shared = ok_json(
        call(
            "create_share_link",
            vec![("task_id", id.clone()), ("expiry", "1h".into())],
        )
        .await
        .unwrap(),
    )
    .await;
    let path = shared["path"].as_str().unwrap().to_string();
    let stranger = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = stranger
        .get(format!("{public}{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Shared video"));
    let shared_part = stranger
        .get(format!("{public}{path}/video.mp4"))
        .header("Range", "bytes=0-11")
        .send()
        .await
        .unwrap();
    assert_eq!(shared_part.status(), 206);
    assert_eq!(&shared_part.bytes().await.unwrap()[4..8], b"ftyp");

    // Both instances served requests that came through the proxy.
    for app in &instances {
        let text = reqwest::Client::new()
            .get(app.url("/metrics"))
            .bearer_auth("proxy-test-metrics-token")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let proxied: f64 = text
            .lines()
            .filter(|line| line.starts_with("kinema_http_requests_total{"))
            .filter(|line| !line.contains("route=\"/metrics\""))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        assert!(proxied > 0.0, "an instance got no proxied request:\n{text}");
    }
    drop(nginx);
    for app in instances {
        app.stop().await;
    }
    upstream.stop().await;
    drop(database);
}
