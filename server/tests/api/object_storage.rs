//! Media in an S3 bucket: the test S3 server really checks signatures, the media signing key is
//! shared through the database, readiness follows the bucket, and results may be played from
//! short-lived presigned URLs.

use std::time::Duration;

use app::backend::{storage::load_signing_key, store::Store};
use object_store::{aws::AmazonS3Builder, signer::Signer, ObjectStoreExt, PutPayload};

use crate::helpers::{
    bucket::{ACCESS_KEY, BUCKET, SECRET_KEY},
    eventually,
    fixtures::file as fixture,
    holds, stepped_engine, Db, TestApp, TestBucket, TestDatabase,
};
use crate::motion::admin_with_a_finished_task;

fn client(bucket: &TestBucket, secret: &str) -> object_store::aws::AmazonS3 {
    AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(secret)
        .with_region("us-east-1")
        .with_endpoint(&bucket.endpoint)
        .with_allow_http(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_test_bucket_refuses_requests_and_urls_with_a_bad_signature() {
    let bucket = TestBucket::start().await;
    let path = object_store::path::Path::from("probe");
    // A wrong secret signs every request wrongly: refused, nothing stored.
    let forged = client(&bucket, "not-the-secret-key-at-all-000000");
    assert!(forged
        .put(&path, PutPayload::from_static(b"forged"))
        .await
        .is_err());
    assert!(bucket.objects().is_empty());
    // An unsigned request is refused too.
    let plain = reqwest::Client::new();
    let unsigned = plain
        .get(format!("{}/{BUCKET}/probe", bucket.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    // The right secret works, and so does a presigned URL it made…
    let honest = client(&bucket, SECRET_KEY);
    honest
        .put(&path, PutPayload::from_static(b"hello"))
        .await
        .unwrap();
    assert_eq!(bucket.objects(), vec!["probe".to_string()]);
    let url = honest
        .signed_url(reqwest::Method::GET, &path, Duration::from_secs(60))
        .await
        .unwrap();
    let fetched = plain.get(url.clone()).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"hello");
    // …but not once its signature is altered, nor one made with the wrong secret.
    let tampered = {
        let url = url.as_str();
        let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
        let flipped = if &url[at..=at] == "0" { "1" } else { "0" };
        format!("{}{flipped}{}", &url[..at], &url[at + 1..])
    };
    assert_eq!(plain.get(tampered).send().await.unwrap().status(), 403);
    let forged_url = forged
        .signed_url(reqwest::Method::GET, &path, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(plain.get(forged_url).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn readiness_fails_while_the_bucket_is_unreachable() {
    let app = TestApp::spawn_stepped(Db::Postgres).await;
    let ready = || async { app.client().get(app.url("/readyz")).send().await.unwrap() };
    assert_eq!(ready().await.status(), 200);
    app.bucket.as_ref().unwrap().stop_server();
    eventually("readiness to fail", Duration::from_secs(30), || async {
        let status = ready().await.status();
        holds(status == 503, status)
    })
    .await;
    let body = ready().await.text().await.unwrap();
    assert!(body.contains("media storage"), "{body}");
    app.stop().await;
}

async fn the_signing_key_is_shared_through_the_database(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let database = match db {
        Db::Postgres => Some(TestDatabase::create().await),
        Db::Sqlite => None,
    };
    let url = database.as_ref().map_or_else(
        || format!("sqlite://{}", dir.path().join("kinema.db").display()),
        TestDatabase::url,
    );
    // Two instances on one database: the first key made is the one both use.
    let first = Store::connect(&url).await.unwrap();
    let second = Store::connect(&url).await.unwrap();
    let (a, b) = tokio::join!(
        load_signing_key(&first, dir.path()),
        load_signing_key(&second, dir.path())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert!(a.len() >= 32);
    // A key file of an earlier version is not read once the database has a key…
    let file = dir.path().join("media/signing.key");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "f".repeat(64)).unwrap();
    assert_eq!(load_signing_key(&first, dir.path()).await.unwrap(), a);
    assert!(!file.exists(), "the old key file is removed");
    first.close().await;
    second.close().await;
    // …and becomes the key of a database that has none (an upgrade keeps signed URLs valid).
    let other = tempfile::tempdir().unwrap();
    let fresh = Store::connect(&format!(
        "sqlite://{}",
        other.path().join("kinema.db").display()
    ))
    .await
    .unwrap();
    let file = other.path().join("media/signing.key");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "e".repeat(64)).unwrap();
    let moved = load_signing_key(&fresh, other.path()).await.unwrap();
    assert_eq!(moved, "e".repeat(64).into_bytes());
    assert!(!file.exists());
    assert_eq!(load_signing_key(&fresh, other.path()).await.unwrap(), moved);
    fresh.close().await;
}

#[tokio::test]
async fn the_signing_key_is_shared_through_the_database_on_sqlite() {
    the_signing_key_is_shared_through_the_database(Db::Sqlite).await;
}

#[tokio::test]
async fn the_signing_key_is_shared_through_the_database_on_postgres() {
    the_signing_key_is_shared_through_the_database(Db::Postgres).await;
}

#[tokio::test]
async fn results_redirect_to_a_short_lived_presigned_url_when_asked() {
    let app = TestApp::spawn_with_engine(
        Db::Postgres,
        |settings| settings.result_redirect = true,
        stepped_engine(),
    )
    .await;
    let (admin, _inputs, id) = admin_with_a_finished_task(&app, "redirected").await;
    let result = admin
        .get(app.url(&format!("/api/tasks/{id}/result")))
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 307);
    assert_eq!(result.headers()["cache-control"], "no-store");
    let location = result.headers()["location"].to_str().unwrap().to_string();
    let bucket = app.bucket.as_ref().unwrap();
    assert!(
        location.starts_with(&format!("{}/{BUCKET}/result-{id}?", bucket.endpoint)),
        "{location}"
    );
    assert!(location.contains("X-Amz-Expires=600"), "{location}");
    // The bucket serves it, with Range for the player, to anyone holding the link…
    let plain = reqwest::Client::new();
    let played = plain
        .get(&location)
        .header("Range", "bytes=0-11")
        .send()
        .await
        .unwrap();
    assert_eq!(played.status(), 206);
    assert_eq!(&played.bytes().await.unwrap()[4..8], b"ftyp");
    // …and pages allow the bucket as a media source.
    let page = admin.get(app.url("/history")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains(&format!("media-src 'self' blob: {};", bucket.endpoint)),
        "{policy}"
    );
    // Only the owner gets the link.
    assert_eq!(
        app.client()
            .get(app.url(&format!("/api/tasks/{id}/result")))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn a_probe_reads_only_the_ranges_it_needs_from_the_bucket() {
    let app = TestApp::spawn_stepped(Db::Postgres).await;
    let storage = app.state().storage().clone();
    // A 40 MB video whose index sits at the very end, behind padding.
    let mut video = fixture("valid-index-at-end.mp4");
    let moov = find_box(&video, b"moov");
    let index = video.split_off(moov);
    let padding = 40 * 1024 * 1024;
    let mdat_at = find_box(&video, b"mdat");
    let mdat_size = u32::from_be_bytes(video[mdat_at..mdat_at + 4].try_into().unwrap());
    let grown = mdat_size as usize + padding;
    video[mdat_at..mdat_at + 4].copy_from_slice(&(grown as u32).to_be_bytes());
    video.resize(video.len() + padding, 0);
    video.extend_from_slice(&index);
    let size = video.len() as u64;
    let mut writer = storage.writer("upload-probe", "video/mp4").await.unwrap();
    for chunk in video.chunks(1024 * 1024) {
        writer
            .write(bytes::Bytes::copy_from_slice(chunk))
            .await
            .unwrap();
    }
    writer.finish().await.unwrap();
    let mut source = storage.source("upload-probe", size).unwrap();
    let (probed, fetches) = tokio::task::spawn_blocking(move || {
        let probed = app::backend::media::probe(&mut source);
        (probed, source.fetches)
    })
    .await
    .unwrap();
    assert!(
        matches!(probed, Ok(app::backend::media::Probed::Video(ref facts)) if facts.duration_ms == 5_000),
        "{probed:?}"
    );
    // A few 64 KB blocks at the start and the end, not 40 MB.
    println!("probing a {size}-byte video in the bucket took {fetches} ranged reads of 64 KB");
    assert!(fetches <= 8, "{fetches} ranged reads");
    app.stop().await;
}

/// Where the top-level box `kind` starts.
fn find_box(file: &[u8], kind: &[u8; 4]) -> usize {
    let mut at = 0;
    while at + 8 <= file.len() {
        let size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        if &file[at + 4..at + 8] == kind {
            return at;
        }
        at += size;
    }
    panic!("no {kind:?} box");
}
