//! Debian's nginx in front of Kinema instances, run with the committed `deploy/nginx.conf` (only
//! its ports, instance addresses and certificate swapped in): the README's deployment recipe, as
//! the multi-instance tests use it.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use reqwest::cookie::Jar;

use super::{eventually, holds};

/// Whether nginx can be run here (the tests that need it are skipped otherwise).
pub fn nginx_installed() -> bool {
    Command::new("nginx").arg("-v").output().is_ok()
}

/// A free loopback port (bound and released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The ports the proxy will listen on, chosen before the instances start (they need the public
/// URL).
#[derive(Clone, Copy, Debug)]
pub struct ProxyPorts {
    pub https: u16,
    pub http: u16,
}

impl ProxyPorts {
    /// Two free loopback ports.
    pub fn free() -> ProxyPorts {
        ProxyPorts {
            https: free_port(),
            http: free_port(),
        }
    }

    /// The address people reach Kinema at: `https://127.0.0.1:PORT`.
    pub fn public_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https)
    }
}

/// nginx in the foreground with its own prefix, stopped when dropped.
pub struct Nginx {
    child: Child,
    _prefix: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `deploy/nginx.conf` with the test's ports and instances (`host:port` each).
fn site_config(ports: ProxyPorts, instances: &[String]) -> String {
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
            format!("    listen 127.0.0.1:{};", ports.http)
        } else if trimmed == "listen 443 ssl http2;" {
            format!("    listen 127.0.0.1:{} ssl http2;", ports.https)
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

impl Nginx {
    /// Starts nginx on `ports` in front of `instances` (`host:port` each, two of them) with a
    /// fresh self-signed certificate.
    pub fn start(ports: ProxyPorts, instances: &[String]) -> Nginx {
        let site = site_config(ports, instances);
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
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A browser talking to the proxy: keeps cookies, follows no redirects, accepts the test's
/// self-signed certificate.
pub fn proxy_browser() -> reqwest::Client {
    proxy_browser_with(Arc::new(Jar::default()), Http::Negotiated)
}

/// Which HTTP version a browser speaks to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Http {
    /// HTTP/2 when the proxy offers it (nginx does), as browsers do.
    Negotiated,
    /// HTTP/1.1 only.
    OneOne,
}

/// Like [`proxy_browser`], keeping its cookies in `jar` (several clients can share one browser's
/// cookies) and speaking `http`.
pub fn proxy_browser_with(jar: Arc<Jar>, http: Http) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(30));
    match http {
        Http::Negotiated => builder,
        Http::OneOne => builder.http1_only(),
    }
    .build()
    .unwrap()
}

/// Waits (up to 20 s) until `GET {public}/healthz` answers 200 through the proxy.
pub async fn until_proxy_answers(browser: &reqwest::Client, public: &str) {
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
}
