//! The `kinema-server` binary: configuration errors, headless account commands, the access log
//! and graceful shutdown.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use crate::helpers::{sign_in, whoami, Db, TestApp, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_kinema-server");

fn server_command(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KINEMA_DATA_DIR", data_dir)
        .current_dir(data_dir);
    command
}

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
    let output = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for name in [
        "DATABASE_URL",
        "KINEMA_DATA_DIR",
        "KINEMA_LISTEN",
        "KINEMA_PUBLIC_URL",
        "EVOLINK_API_KEY",
        "EVOLINK_BASE_URL",
        "EVOLINK_FILES_BASE_URL",
        "create-admin",
        "reset-password",
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
    let mut child = server_command(dir.path())
        .env("KINEMA_LISTEN", "127.0.0.1:0")
        .env("KINEMA_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines_rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let base = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server prints its address");
        if let Some(url) = line.strip_prefix("Kinema is running at ") {
            break url.to_string();
        }
    };
    let status = raw_http::get(&format!("{base}/healthz?token=supersecret-query"));
    assert_eq!(status, 200);

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let exit = wait_with_deadline(&mut child, Duration::from_secs(15));
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    reader.join().unwrap();
    let mut log: Vec<String> = lines_rx.try_iter().collect();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    log.extend(stderr.lines().map(str::to_string));
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

fn wait_with_deadline(
    child: &mut std::process::Child,
    deadline: Duration,
) -> std::process::ExitStatus {
    let until = std::time::Instant::now() + deadline;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > until {
            let _ = child.kill();
            panic!("server did not stop within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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
