//! Stopping is bounded: SIGTERM ends live-update streams and the process exits within seconds even
//! with a browser connected.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::PASSWORD;

const BIN: &str = env!("CARGO_BIN_EXE_kinema-server");

fn server_command(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KINEMA_DATA_DIR", data_dir)
        .env("KINEMA_LISTEN", "127.0.0.1:0")
        .env("KINEMA_LOG", "warn")
        .current_dir(data_dir);
    command
}

/// Starts the server and returns it with the address it prints; the caller waits for it.
#[allow(clippy::zombie_processes)]
fn start(data_dir: &std::path::Path) -> (Child, String) {
    start_with(server_command(data_dir))
}

/// Like [`start`], with a prepared command.
#[allow(clippy::zombie_processes)]
fn start_with(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server exited before printing its address");
        }
        if let Some(url) = line.trim().strip_prefix("Kinema is running at ") {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in stdout.lines() {});
            return (child, url.to_string());
        }
    }
}

/// Waits for the process to exit; panics (after killing it) if it is still running at `deadline`.
fn exit_within(child: &mut Child, deadline: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server was still running {deadline:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn sigterm_with_an_open_live_update_stream_exits_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let created = server_command(dir.path())
        .args(["create-admin", "--username", "ada", "--display-name", "Ada"])
        .env("KINEMA_NEW_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let (mut child, base) = start(dir.path());

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_in = browser
        .post(format!("{base}/api/sign_in"))
        .header("Origin", &base)
        .header("Accept", "application/json")
        .form(&[("username", "ada"), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let mut events = browser
        .get(format!("{base}/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let (status, took) =
        tokio::task::spawn_blocking(move || exit_within(&mut child, Duration::from_secs(5)))
            .await
            .unwrap();
    assert!(status.success(), "a stop exits 0: {status:?}");
    assert!(took < Duration::from_secs(5), "exited after {took:?}");

    // The stream was ended by the server, not cut mid-event.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.chunk().await {
                Ok(Some(_keep_alive)) => continue,
                other => return other.map(|_| ()),
            }
        }
    })
    .await
    .expect("the stream ends once the server has stopped");
    assert!(ended.is_ok(), "the stream ended cleanly: {ended:?}");
}

#[test]
fn sigterm_gives_a_request_in_flight_the_grace_period_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = server_command(dir.path());
    command.env("KINEMA_SHUTDOWN_SECONDS", "1");
    let (mut child, base) = start_with(command);
    let host = base.strip_prefix("http://").unwrap();

    // A request whose body never comes: the server is inside it once it asks for the body.
    let mut stalled = TcpStream::connect(host).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stalled,
        "POST /api/list_tasks HTTP/1.1\r\nHost: {host}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\
         Expect: 100-continue\r\n\r\n"
    )
    .unwrap();
    let mut continued = [0u8; 25];
    stalled.read_exact(&mut continued).unwrap();
    assert!(
        continued.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&continued)
    );

    let signalled = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let (status, took) = exit_within(&mut child, Duration::from_secs(5));
    assert!(status.success(), "a stop exits 0: {status:?}");
    assert!(
        took >= Duration::from_millis(900),
        "the request in flight was given its grace period: exited after {took:?}"
    );
    // The stalled request's connection is closed with the process.
    let mut rest = Vec::new();
    let closed = stalled.read_to_end(&mut rest);
    assert!(
        closed.is_ok() || closed.unwrap_err().kind() == std::io::ErrorKind::ConnectionReset,
        "closed, not left open"
    );
}
