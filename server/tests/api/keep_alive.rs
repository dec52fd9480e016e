//! Pages on a kept-alive connection answer as fast as on a new one: a regression test for the
//! 40 ms stall that Nagle's algorithm and delayed ACKs cause on responses written in pieces when
//! the accepted socket lacks `TCP_NODELAY`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{cookie_pair, set_cookie, setup_admin, Db, TestApp};
use kinema_server::startup::SESSION_COOKIE;

/// Sends one GET on `stream` and reads the whole answer (length-delimited or chunked); returns
/// how long it took and the status line.
fn fetch(stream: &mut TcpStream, path: &str, cookie: &str) -> (Duration, String) {
    let started = Instant::now();
    // One write, as a browser sends a request: the client's side must not stall either.
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: kinema.test\r\nAccept: text/html\r\nCookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).expect("an answer");
        assert!(n > 0, "the server closed a kept-alive connection");
        received.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&received, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
            let body = &received[end + 4..];
            let complete = if let Some(length) = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
            {
                body.len() >= length.trim().parse::<usize>().unwrap()
            } else {
                assert!(head.contains("transfer-encoding: chunked"), "{head}");
                body.ends_with(b"0\r\n\r\n")
            };
            if complete {
                let status = head.lines().next().unwrap_or_default().to_string();
                return (started.elapsed(), status);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn a_page_on_a_kept_alive_connection_is_not_slower_than_on_a_new_one() {
    let app = TestApp::spawn(Db::Sqlite).await;
    // A signed-in page, as members load them: the history of a member with tasks.
    let admin = app.client();
    let response = setup_admin(&app, &admin, "ada").await;
    let cookie = cookie_pair(&set_cookie(&response, SESSION_COOKIE).expect("a session cookie"));
    let address = app.base.trim_start_matches("http://").to_string();
    let path = "/history";
    let (fresh, kept) = tokio::task::spawn_blocking(move || {
        let connect = || {
            let stream = TcpStream::connect(&address).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            stream
        };
        // Warm up the server's caches and the page's code paths.
        let (_, status) = fetch(&mut connect(), path, &cookie);
        assert!(status.contains(" 200"), "{status}");
        let fresh: Vec<Duration> = (0..10)
            .map(|_| fetch(&mut connect(), path, &cookie).0)
            .collect();
        let mut stream = connect();
        let kept: Vec<Duration> = (0..10)
            .map(|_| fetch(&mut stream, path, &cookie).0)
            .collect();
        (median(fresh), median(kept))
    })
    .await
    .unwrap();
    println!("page on a new connection: {fresh:?}; on a kept-alive one: {kept:?}");
    assert!(
        kept < fresh + Duration::from_millis(15),
        "a kept-alive connection stalls: {kept:?} per page against {fresh:?} on new connections"
    );
    app.stop().await;
}
