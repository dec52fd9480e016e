//! Every request is bounded: body sizes, the header-read and idle timeouts, live-update stream
//! caps, and numeric parameters.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use crate::helpers::{cookie_pair, ok_json, set_cookie, setup_admin, team, Db, TestApp};
use futures_util::stream;

/// Calls a server function with a raw form body (the helper in `common` encodes a form).
async fn call_raw(
    app: &TestApp,
    client: &reqwest::Client,
    function: &str,
    body: reqwest::Body,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{function}")))
        .header("Origin", &app.base)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The plain words of a refused server-function call, as the browser decodes them.
async fn refusal(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.unwrap();
    body["Invalid"]
        .as_str()
        .unwrap_or_else(|| panic!("an AppError::Invalid: {body}"))
        .to_string()
}

#[tokio::test]
async fn an_oversized_server_function_body_gets_413_with_plain_words() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (admin, _, _) = team(&app).await;
    let megabyte = format!("page=1&status={}", "a".repeat(1024 * 1024));

    // Declared with Content-Length: refused before it is read.
    let response = call_raw(&app, &admin, "list_tasks", megabyte.clone().into()).await;
    assert_eq!(response.status(), 413);
    assert!(response.headers().contains_key("serverfnerror"));
    assert_eq!(
        refusal(response).await,
        "This request is larger than the 256 KB Kinema accepts here. Shorten what you entered \
         and try again."
    );

    // Chunked, with no length given: refused once the limit is passed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = megabyte
        .into_bytes()
        .chunks(64 * 1024)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let response = call_raw(
        &app,
        &admin,
        "list_tasks",
        reqwest::Body::wrap_stream(stream::iter(chunks)),
    )
    .await;
    assert_eq!(response.status(), 413);
    assert!(refusal(response).await.contains("larger than the 256 KB"));

    // A body just under the limit is served as before.
    let filler = format!("page=1&status={}", "a".repeat(200 * 1024));
    let response = call_raw(&app, &admin, "list_tasks", filler.into()).await;
    assert_eq!(ok_json(response).await["items"], serde_json::json!([]));
    app.stop().await;
}

#[tokio::test]
async fn page_numbers_out_of_range_are_refused_with_plain_words() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let (admin, _, _) = team(&app).await;
    for page in ["9223372036854775807", "0", "-3", "10001"] {
        let response = app.call(&admin, "list_tasks", &[("page", page)]).await;
        assert_eq!(response.status(), 422, "page={page}");
        assert_eq!(
            refusal(response).await,
            format!("There is no page {page}; pages are numbered from 1 to 10000.")
        );
    }
    let last = ok_json(app.call(&admin, "list_tasks", &[("page", "10000")]).await).await;
    assert_eq!(last["items"], serde_json::json!([]));
    app.stop().await;
}

/// Opens a live-update stream; returns the response with the stream still open.
async fn open_events(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client.get(app.url("/api/events")).send().await.unwrap()
}

#[tokio::test]
async fn live_update_streams_are_capped_per_member_and_in_all() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.sse_per_member = Some(2);
        settings.sse_total = Some(3);
    })
    .await;
    let (admin, member, _) = team(&app).await;

    let first = open_events(&app, &admin).await;
    let second = open_events(&app, &admin).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open_events(&app, &admin).await;
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(
        body["error"],
        "You already have 2 Kinema pages open with live updates. Close one and reload this page \
         to see updates here."
    );

    // Another member still gets one; then the server as a whole is full.
    let members_first = open_events(&app, &member).await;
    assert_eq!(members_first.status(), 200);
    let full = open_events(&app, &member).await;
    assert_eq!(full.status(), 503);
    let body: serde_json::Value = full.json().await.unwrap();
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("Kinema has too many pages with live updates open right now."));

    // Closing a page frees its slot (once the server notices the connection is gone).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    let reopened = loop {
        let response = open_events(&app, &admin).await;
        if response.status() == 200 || Instant::now() > deadline {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(reopened.status(), 200, "a closed stream frees its slot");
    drop((second, members_first, reopened));
    app.stop().await;
}

/// Connects to the app with a plain socket that gives up reading after `limit`.
fn raw_connection(app: &TestApp, limit: Duration) -> TcpStream {
    let stream = TcpStream::connect(app.base.strip_prefix("http://").unwrap()).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    stream
}

/// Reads until the server closes the connection; returns what it sent and how long that took.
/// Panics if the server keeps the connection open past the socket's read timeout.
fn read_until_closed(mut stream: TcpStream, started: Instant) -> (String, Duration) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(err) => panic!(
                "the server kept the connection open for {:?} ({err}); received {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_client_that_sends_half_a_request_line_is_disconnected_after_the_header_timeout() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.header_timeout_seconds = Some(1);
    })
    .await;
    let (received, took) = tokio::task::spawn_blocking({
        let stream = raw_connection(&app, Duration::from_secs(10));
        move || {
            let mut stream = stream;
            let started = Instant::now();
            stream.write_all(b"GET /healthz HT").unwrap();
            read_until_closed(stream, started)
        }
    })
    .await
    .unwrap();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 408"),
        "{received}"
    );

    // A connection that sends nothing at all is closed the same way.
    let (received, took) = tokio::task::spawn_blocking({
        let stream = raw_connection(&app, Duration::from_secs(10));
        move || read_until_closed(stream, Instant::now())
    })
    .await
    .unwrap();
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    assert!(received.is_empty() || received.starts_with("HTTP/1.1 408"));
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_after_the_idle_timeout() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.idle_timeout_seconds = Some(1);
    })
    .await;
    let host = app.base.strip_prefix("http://").unwrap().to_string();
    let (received, took) = tokio::task::spawn_blocking({
        let stream = raw_connection(&app, Duration::from_secs(10));
        move || {
            let mut stream = stream;
            let started = Instant::now();
            write!(
                stream,
                "POST /api/list_tasks HTTP/1.1\r\nHost: {host}\r\nContent-Type: \
                 application/x-www-form-urlencoded\r\nAccept: application/json\r\n\
                 Content-Length: 100\r\n\r\npage=1"
            )
            .unwrap();
            read_until_closed(stream, started)
        }
    })
    .await
    .unwrap();
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("did not arrive in time"), "{received}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_upload_that_stops_arriving_is_ended_after_the_idle_timeout() {
    let app = TestApp::spawn_with(Db::Sqlite, |settings| {
        settings.idle_timeout_seconds = Some(1);
    })
    .await;
    let admin = app.client();
    let signed_up = setup_admin(&app, &admin, "ada").await;
    assert_eq!(signed_up.status(), 200);
    let cookie = cookie_pair(&set_cookie(&signed_up, "kinema_session").expect("session cookie"));
    let host = app.base.strip_prefix("http://").unwrap().to_string();
    let origin = app.base.clone();
    let (received, took) = tokio::task::spawn_blocking({
        let stream = raw_connection(&app, Duration::from_secs(10));
        move || {
            let mut stream = stream;
            let started = Instant::now();
            write!(
                stream,
                "POST /api/uploads?purpose=motion_video&name=a.mp4 HTTP/1.1\r\nHost: {host}\r\n\
                 Origin: {origin}\r\nCookie: {cookie}\r\nContent-Length: 100000\r\n\r\n\
                 \x00\x00\x00\x18ftypmp42"
            )
            .unwrap();
            read_until_closed(stream, started)
        }
    })
    .await
    .unwrap();
    assert!(received.starts_with("HTTP/1.1 400"), "{received}");
    assert!(
        received.contains("The upload was interrupted."),
        "{received}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );
    app.stop().await;
}

#[test]
fn help_lists_every_limit() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kinema-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for name in [
        "KINEMA_MAX_BODY_KB",
        "KINEMA_HEADER_TIMEOUT_SECONDS",
        "KINEMA_IDLE_TIMEOUT_SECONDS",
        "KINEMA_SSE_PER_MEMBER",
        "KINEMA_SSE_TOTAL",
        "KINEMA_SHUTDOWN_SECONDS",
    ] {
        assert!(help.contains(name), "--help lacks {name}:\n{help}");
    }
}
