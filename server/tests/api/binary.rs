//! The `kinema-server` binary: configuration errors, headless account commands, the access log
//! and graceful shutdown.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use crate::helpers::{
    server_command, sign_in, whoami, Db, ServerProcess, TestApp, PASSWORD, SERVER_BIN,
};

#[test]
fn invalid_configuration_stops_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let output = server_command(dir.path())
        .env("KINEMA_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("invalid configuration: KINEMA_LISTEN:"),
        "{stderr}"
    );

    let output = server_command(dir.path())
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("DATABASE_URL"));
}

#[test]
fn help_lists_every_setting() {
    let output = Command::new(SERVER_BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for name in [
        "DATABASE_URL",
        "KINEMA_DATA_DIR",
        "KINEMA_LISTEN",
        "KINEMA_PUBLIC_URL",
        "EVOLINK_API_KEY",
        "EVOLINK_BASE_URL",
        "EVOLINK_FILES_BASE_URL",
        "KINEMA_TRUSTED_PROXIES",
        "KINEMA_LOG_FORMAT",
        "KINEMA_METRICS_TOKEN",
        "KINEMA_METRICS_ADDR",
        "create-admin",
        "reset-password",
        "allow-password-sign-in",
        "backup",
        "restore",
    ] {
        assert!(help.contains(name), "--help lacks {name}:\n{help}");
    }
}

#[tokio::test]
async fn headless_admin_creation_and_password_reset() {
    let dir = tempfile::tempdir().unwrap();
    let output = server_command(dir.path())
        .args([
            "create-admin",
            "--username",
            "Root",
            "--display-name",
            "Root Admin",
        ])
        .env("KINEMA_NEW_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Created admin 'root'"));

    let mut reset = server_command(dir.path())
        .args(["reset-password", "--username", "root"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    reset
        .stdin
        .take()
        .unwrap()
        .write_all(b"another long password\n")
        .unwrap();
    assert!(reset.wait().unwrap().success());

    let output = server_command(dir.path())
        .args(["reset-password", "--username", "ghost"])
        .env("KINEMA_NEW_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("There is no account 'ghost'"));

    // The web app on the same data dir sees the admin with the new password.
    let data_dir = dir.path().to_path_buf();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| settings.data_dir = data_dir).await;
    let client = app.client();
    assert_eq!(sign_in(&app, &client, "root", PASSWORD).await.status(), 422);
    assert_eq!(
        sign_in(&app, &client, "root", "another long password")
            .await
            .status(),
        200
    );
    assert_eq!(whoami(&app, &client).await.as_deref(), Some("root"));
    app.stop().await;
}

#[test]
fn logs_one_line_per_request_without_query_strings_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &[("KINEMA_LOG", "info"), ("NO_COLOR", "1")]);
    let status = raw_http::get(&format!("{}/healthz?token=supersecret-query", server.base));
    assert_eq!(status, 200);

    let exit = server.terminate(Duration::from_secs(15));
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    let log: Vec<String> = server
        .startup_lines()
        .iter()
        .cloned()
        .chain(server.take_log_lines())
        .collect();
    let access: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("route=/healthz"))
        .collect();
    assert_eq!(access.len(), 1, "one access line for one request: {log:#?}");
    let line = access[0];
    for field in ["method=GET", "status=200", "latency_ms=", "request_id="] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    assert!(
        !log.iter().any(|l| l.contains("supersecret-query")),
        "query strings never reach the log"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(
        dir.path(),
        &[("KINEMA_LOG", "info"), ("KINEMA_LOG_FORMAT", "json")],
    );
    let status = raw_http::get(&format!("{}/healthz?token=supersecret-query", server.base));
    assert_eq!(status, 200);
    let exit = server.terminate(Duration::from_secs(15));
    assert!(exit.success(), "{exit:?}");
    let lines: Vec<String> = server
        .startup_lines()
        .iter()
        .cloned()
        .chain(server.take_log_lines())
        .filter(|line| !line.starts_with("Kinema is running at "))
        .collect();
    assert!(lines.len() >= 3, "{lines:#?}");
    let entries: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    for entry in &entries {
        assert!(
            entry["timestamp"].is_string() && entry["level"].is_string(),
            "{entry}"
        );
    }
    let access: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|entry| entry["fields"]["route"] == "/healthz")
        .collect();
    assert_eq!(access.len(), 1, "{entries:#?}");
    let fields = &access[0]["fields"];
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["status"], 200);
    assert_eq!(access[0]["target"], "kinema::access");
    assert_eq!(fields["request_id"].as_str().map(str::len), Some(12));
    assert!(entries.iter().any(|e| e["fields"]["message"] == "stopped"));
    assert!(!lines.iter().any(|l| l.contains("supersecret-query")));
}

/// A tiny blocking GET over a plain TCP socket (the test runs outside a runtime).
mod raw_http {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub fn get(url: &str) -> u16 {
        let rest = url.strip_prefix("http://").expect("http url");
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap();
        let mut stream = TcpStream::connect(host).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }
}
