//! The upload route: streaming into storage, type and facts from the bytes, the shared rules,
//! size limits while reading, nothing left behind on refusal or cancellation, owner-only reads.

use crate::helpers::fixtures::file as fixture;

use std::{io::Write, time::Duration};

use crate::helpers::{
    accept, cookie_pair, eventually, holds, invite, set_cookie, setup_admin, Db, TestApp,
};
use kinema_server::startup::SESSION_COOKIE;

async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    purpose: &str,
    name: &str,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/uploads?purpose={purpose}&name={name}")))
        .header("Origin", &app.base)
        .body(fixture(name))
        .send()
        .await
        .unwrap()
}

/// Uploads in progress, stored objects, and upload rows.
async fn leftovers(app: &TestApp) -> (usize, usize, i64) {
    app.leftovers().await
}

async fn valid_files_are_stored_with_their_probed_facts_and_served_to_their_owner(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    for (purpose, name, kind, width, height, duration) in [
        ("character_image", "valid.jpg", "image", 768, 1024, None),
        ("character_image", "valid.png", "image", 600, 800, None),
        (
            "motion_video",
            "valid-index-at-end.mp4",
            "video",
            360,
            640,
            Some(5_000),
        ),
        (
            "motion_video",
            "valid-index-at-start.mp4",
            "video",
            360,
            640,
            Some(5_000),
        ),
        ("motion_video", "valid.mov", "video", 640, 360, Some(4_000)),
        (
            "motion_video",
            "fragmented.mp4",
            "video",
            360,
            640,
            Some(6_000),
        ),
        (
            "motion_video",
            "rotated.mp4",
            "video",
            360,
            640,
            Some(4_000),
        ),
        (
            "motion_video",
            "too-long-for-match-image.mp4",
            "video",
            360,
            640,
            Some(12_000),
        ),
    ] {
        let response = upload(&app, &admin, purpose, name).await;
        assert_eq!(
            response.status(),
            201,
            "{name}: {:?}",
            response.text().await
        );
        let view: serde_json::Value = response.json().await.unwrap();
        assert_eq!(view["kind"], kind, "{name}");
        assert_eq!(
            (view["width"].as_u64(), view["height"].as_u64()),
            (Some(width), Some(height)),
            "{name}"
        );
        assert_eq!(view["duration_ms"].as_u64(), duration, "{name}");
        assert_eq!(view["name"], name);
        let id = view["id"].as_str().unwrap();
        assert_eq!(id.len(), 32);
        let served = admin
            .get(app.url(&format!("/api/uploads/{id}/file")))
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(
            served.bytes().await.unwrap().as_ref(),
            fixture(name).as_slice(),
            "{name}"
        );
    }
    // Range requests let the player seek.
    let response = upload(&app, &admin, "motion_video", "valid.mov").await;
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let part = admin
        .get(app.url(&format!("/api/uploads/{id}/file")))
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-type"], "video/quicktime");
    assert_eq!(
        part.bytes().await.unwrap().as_ref(),
        &fixture("valid.mov")[..100]
    );
    let mov = fixture("valid.mov");
    let ranged = |range: &'static str| {
        admin
            .get(app.url(&format!("/api/uploads/{id}/file")))
            .header("Range", range)
            .send()
    };
    // The end of the file, and a range past it.
    let tail = ranged("bytes=-10").await.unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.headers()["content-range"],
        format!("bytes {}-{}/{}", mov.len() - 10, mov.len() - 1, mov.len()).as_str()
    );
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &mov[mov.len() - 10..]);
    let past = ranged("bytes=99999999-").await.unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{}", mov.len()).as_str()
    );
    let (tmp, objects, rows) = leftovers(&app).await;
    assert_eq!((tmp, objects, rows), (0, 9, 9));
    app.stop().await;
}

async fn refused_files_get_their_message_and_leave_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    for (purpose, name, message) in [
        (
            "character_image",
            "too-small.png",
            "Character image is 200×200 px; both sides must be at least 300 px.",
        ),
        (
            "character_image",
            "bad-aspect.jpg",
            "it must be between 1:2.5 and 2.5:1",
        ),
        (
            "motion_video",
            "too-short.mp4",
            "Video is 2.0 s; it must be at least 3 s.",
        ),
        (
            "motion_video",
            "too-small.mp4",
            "Motion video is 320 px wide; each side must be 340–3850 px.",
        ),
        ("motion_video", "truncated.mp4", "truncated or damaged"),
        (
            "motion_video",
            "archive-named-video.mp4",
            "neither a JPG/PNG image nor an MP4/MOV video",
        ),
        (
            "character_image",
            "page-named-image.png",
            "neither a JPG/PNG image nor an MP4/MOV video",
        ),
        (
            "motion_video",
            "valid.png",
            "This file is an image; the motion video must be an MP4 or MOV file.",
        ),
        (
            "character_image",
            "valid.mov",
            "This file is a video; the character image must be a JPG or PNG file.",
        ),
    ] {
        let response = upload(&app, &admin, purpose, name).await;
        assert_eq!(response.status(), 422, "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        let text = body["error"].as_str().unwrap();
        assert!(text.contains(message), "{name}: {text}");
    }
    assert_eq!(leftovers(&app).await, (0, 0, 0));
    app.stop().await;
}

async fn size_limits_are_enforced_before_and_while_reading(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let mut big = fixture("valid.png");
    big.resize(11 * 1024 * 1024, 0);
    // Declared too large: refused from the header.
    let response = admin
        .post(app.url("/api/uploads?purpose=character_image&name=big.png"))
        .header("Origin", &app.base)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        "Character image is 11.0 MB; it must be at most 10 MB."
    );
    // Not declared (chunked): refused once the limit is crossed while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(256 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = admin
        .post(app.url("/api/uploads?purpose=character_image&name=big.png"))
        .header("Origin", &app.base)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await;
    // The server may answer before the client finished sending; either way nothing is kept.
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body["error"],
            "Character image is larger than 10 MB; it must be at most 10 MB."
        );
    }
    eventually(
        "no temp files, stored objects or upload rows",
        Duration::from_secs(10),
        || async {
            let left = leftovers(&app).await;
            holds(left == (0, 0, 0), left)
        },
    )
    .await;
    app.stop().await;
}

async fn an_upload_cancelled_halfway_leaves_nothing(db: Db) {
    let app = TestApp::spawn(db).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = setup_admin(&app, &plain, "ada").await;
    let cookie = cookie_pair(&set_cookie(&response, SESSION_COOKIE).unwrap());
    let host = app.base.strip_prefix("http://").unwrap().to_string();
    // The client runs on a thread of its own: its blocking writes must not stall the runtime
    // the server (and the S3 server) run on.
    let request = format!(
        "POST /api/uploads?purpose=motion_video&name=half.mp4 HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nCookie: {cookie}\r\nContent-Length: 16000000\r\n\r\n",
        app.base
    );
    let (give_up, given_up) = std::sync::mpsc::channel::<()>();
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        // More than one 5 MB part, so a part is already stored when the client goes away.
        let mut head = fixture("valid-index-at-end.mp4");
        head.resize(7 * 1024 * 1024, 0);
        stream.write_all(&head).unwrap();
        stream.flush().unwrap();
        let _ = given_up.recv();
        drop(stream);
    });
    // The upload in progress exists while the request is open (with S3: a multipart upload
    // and its first part)…
    let parts = if db == Db::Postgres { 2 } else { 1 };
    eventually(
        "the upload to be in progress",
        Duration::from_secs(10),
        || async {
            let open = app.open_uploads();
            holds(open.len() >= parts, open)
        },
    )
    .await;
    // …and is aborted once the client gives up: no object, no open multipart upload, no row.
    give_up.send(()).unwrap();
    tokio::task::spawn_blocking(move || client.join().unwrap())
        .await
        .unwrap();
    eventually(
        "no uploads in progress, stored objects or upload rows",
        Duration::from_secs(10),
        || async {
            let left = leftovers(&app).await;
            holds(left == (0, 0, 0), left)
        },
    )
    .await;
    if let Some(bucket) = &app.bucket {
        assert_eq!(bucket.objects(), Vec::<String>::new());
    }
    app.stop().await;
}

async fn uploads_belong_to_their_uploader(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let response = upload(&app, &admin, "character_image", "valid.png").await;
    let id = response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = invite(&app, &admin, "member").await;
    let member = app.client();
    assert_eq!(accept(&app, &member, &token, "moe").await.status(), 200);
    let url = app.url(&format!("/api/uploads/{id}/file"));
    assert_eq!(member.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(app.client().get(&url).send().await.unwrap().status(), 401);
    let anonymous = app
        .client()
        .post(app.url("/api/uploads?purpose=character_image&name=x.png"))
        .header("Origin", &app.base)
        .body(fixture("valid.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(admin.get(&url).send().await.unwrap().status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn valid_files_are_stored_with_their_probed_facts_and_served_to_their_owner_on_sqlite_and_local_disk(
) {
    valid_files_are_stored_with_their_probed_facts_and_served_to_their_owner(Db::Sqlite).await;
}

#[tokio::test]
async fn valid_files_are_stored_with_their_probed_facts_and_served_to_their_owner_on_postgres_and_s3(
) {
    valid_files_are_stored_with_their_probed_facts_and_served_to_their_owner(Db::Postgres).await;
}

#[tokio::test]
async fn refused_files_get_their_message_and_leave_nothing_on_sqlite_and_local_disk() {
    refused_files_get_their_message_and_leave_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn refused_files_get_their_message_and_leave_nothing_on_postgres_and_s3() {
    refused_files_get_their_message_and_leave_nothing(Db::Postgres).await;
}

#[tokio::test]
async fn size_limits_are_enforced_before_and_while_reading_on_sqlite_and_local_disk() {
    size_limits_are_enforced_before_and_while_reading(Db::Sqlite).await;
}

#[tokio::test]
async fn size_limits_are_enforced_before_and_while_reading_on_postgres_and_s3() {
    size_limits_are_enforced_before_and_while_reading(Db::Postgres).await;
}

#[tokio::test]
async fn an_upload_cancelled_halfway_leaves_nothing_on_sqlite_and_local_disk() {
    an_upload_cancelled_halfway_leaves_nothing(Db::Sqlite).await;
}

#[tokio::test]
async fn an_upload_cancelled_halfway_leaves_nothing_on_postgres_and_s3() {
    an_upload_cancelled_halfway_leaves_nothing(Db::Postgres).await;
}

#[tokio::test]
async fn uploads_belong_to_their_uploader_on_sqlite_and_local_disk() {
    uploads_belong_to_their_uploader(Db::Sqlite).await;
}

#[tokio::test]
async fn uploads_belong_to_their_uploader_on_postgres_and_s3() {
    uploads_belong_to_their_uploader(Db::Postgres).await;
}
