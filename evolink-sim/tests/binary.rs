//! The `evolink-sim` binary: its flags, its announced address, the key check and a clean stop on
//! SIGINT.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    time::Duration,
};

/// Waits for the child to exit, killing it and failing the test after `deadline`.
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
            panic!("the simulator did not stop within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_simulator_binary_serves_the_contract_with_its_flags() {
    let help = Command::new(env!("CARGO_BIN_EXE_evolink-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    for flag in ["--listen", "--api-key", "--task-seconds"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_evolink-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "bin-key",
            "--task-seconds",
            "0.5",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("EvoLink simulator listening at ")
        .expect("prints its address")
        .to_string();
    let host = base.strip_prefix("http://").unwrap().to_string();
    let status = |key: Option<&str>| {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET /v1/credits HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    assert!(status(Some("bin-key")).starts_with("HTTP/1.1 200"));
    let refused = status(None);
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(refused.contains("\"unauthorized\""));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(wait_with_deadline(&mut child, Duration::from_secs(10)).success());
}
