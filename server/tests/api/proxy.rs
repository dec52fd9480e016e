//! The README's deployment recipe, run: Debian's nginx with the committed `deploy/nginx.conf`
//! (only its ports, instance addresses and certificate swapped in) in front of two instances on
//! one PostgreSQL database and one EvoLink. Through the proxy: a body larger than nginx's default
//! limit reaches Kinema, sign-in and POSTs pass the Origin check, live updates arrive while the
//! stream stays open (no buffering), a task completes and its result plays with Range, a share
//! link to it opens and plays for a stranger, and both instances answered requests.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures_util::StreamExt;

use crate::helpers::{eventually, fixtures, holds, ok_json, Db, TestApp, TestDatabase, PASSWORD};
use evolink_sim::{RunningSimulator, SimulatorConfig};

/// nginx in the foreground with its own prefix, stopped when dropped.
struct Nginx {
    child: Child,
    _prefix: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `deploy/nginx.conf` with the test's ports, instances and a self-signed certificate.
fn site_config(https_port: u16, http_port: u16, instances: &[String]) -> String {
    let committed = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf"),
    )
    .unwrap();
    let mut servers = instances
        .iter()
        .map(|addr| format!("    server {addr} max_fails=2 fail_timeout=5s;"));
    let mut out = Vec::new();
    for line in committed.lines() {
        let trimmed = line.trim();
        let replaced = if trimmed.starts_with("server 127.0.0.1:300") {
            servers.next().expect("two instances")
        } else if trimmed == "listen [::]:80;" || trimmed == "listen [::]:443 ssl http2;" {
            String::new()
        } else if trimmed == "listen 80;" {
            format!("    listen 127.0.0.1:{http_port};")
        } else if trimmed == "listen 443 ssl http2;" {
            format!("    listen 127.0.0.1:{https_port} ssl http2;")
        } else {
            line.to_string()
        };
        out.push(replaced);
    }
    let site = out.join("\n");
    for committed_line in ["proxy_buffering off;", "proxy_request_buffering off;"] {
        assert!(
            site.contains(committed_line),
            "the recipe keeps {committed_line}"
        );
    }
    site
}

fn start_nginx(site: String) -> Nginx {
    let prefix = tempfile::tempdir().unwrap();
    let dir = prefix.path();
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success(), "a self-signed certificate");
    let site = site
        .replace(
            "/etc/letsencrypt/live/kinema.example.com/fullchain.pem",
            &dir.join("cert.pem").display().to_string(),
        )
        .replace(
            "/etc/letsencrypt/live/kinema.example.com/privkey.pem",
            &dir.join("key.pem").display().to_string(),
        );
    std::fs::write(dir.join("kinema.conf"), site).unwrap();
    let d = dir.display();
    // Run as the user running the test (workers of a root nginx would otherwise be `nobody`).
    let user = if is_root() { "user root;\n" } else { "" };
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  include {d}/kinema.conf;\n}}\n"
        ),
    )
    .unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Nginx {
        child,
        _prefix: prefix,
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

#[tokio::test]
async fn two_instances_behind_the_committed_nginx_config() {
    if Command::new("nginx").arg("-v").output().is_err() {
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
    let (https_port, http_port) = (free_port(), free_port());
    let public = format!("https://127.0.0.1:{https_port}");
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
    let nginx = start_nginx(site_config(https_port, http_port, &addrs));
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let health = eventually("nginx to answer", Duration::from_secs(20), || async {
        let status = browser
            .get(format!("{public}/healthz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|err| err.to_string());
        holds(status == Ok(200), status)
    })
    .await;
    assert_eq!(health, Ok(200));
    // Plain http is sent to https.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{http_port}/history"))
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
