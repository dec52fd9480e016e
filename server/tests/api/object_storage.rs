//! Media in an S3 bucket: the test S3 server really checks signatures, the media signing key is
//! shared through the database, readiness follows the bucket, and results may be played from
//! short-lived presigned URLs.

use std::time::Duration;

use app::backend::{storage::load_signing_key, store::Store};
use object_store::{aws::AmazonS3Builder, signer::Signer, ObjectStoreExt, PutPayload};

use crate::helpers::{
    bucket::{ACCESS_KEY, BUCKET, SECRET_KEY},
    eventually, holds, Db, TestApp, TestBucket, TestDatabase,
};

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
