//! The browser files: linked under their version, cached for good, revalidated by ETag under
//! their plain name; pages compressed on the way out, video never. (The release binary's
//! embedded, precompressed files are checked in the browser tests.)

use crate::helpers::{Db, TestApp};

/// A site directory with a tiny `pkg/`.
fn site(wasm: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("kinema.wasm"), wasm).unwrap();
    std::fs::write(pkg.join("kinema.js"), b"export default function () {}").unwrap();
    std::fs::write(pkg.join("kinema.css"), b"body { margin: 0 }").unwrap();
    dir
}

/// The `/assets/<version>` prefix the setup page links its files under.
async fn linked_prefix(app: &TestApp, client: &reqwest::Client) -> String {
    let html = client
        .get(app.url("/setup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("/assets/").expect("a versioned link in the page");
    let end = html[start..].find("/kinema.css").expect("the stylesheet") + start;
    html[start..end].to_string()
}

#[tokio::test]
async fn browser_files_are_versioned_cached_for_good_and_revalidated() {
    let files = site(b"\0asm version one");
    let root = files.path().to_path_buf();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| settings.site_root = Some(root)).await;
    let client = reqwest::Client::new();
    let prefix = linked_prefix(&app, &client).await;
    assert_eq!(prefix.len(), "/assets/".len() + 16, "{prefix}");

    let wasm = client
        .get(app.url(&format!("{prefix}/kinema.wasm")))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    let headers = wasm.headers().clone();
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_string();
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), b"\0asm version one");

    // Another version's link is not answered with this version's file.
    let stale = client
        .get(app.url("/assets/0123456789abcdef/kinema.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    let missing = client
        .get(app.url(&format!("{prefix}/nothing.js")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The plain name is revalidated: the same ETag gets 304 with no body.
    let plain = client
        .get(app.url("/pkg/kinema.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    assert_eq!(plain.headers()["etag"].to_str().unwrap(), etag);
    let again = client
        .get(app.url("/pkg/kinema.wasm"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    app.stop().await;

    // New files, new version: the page links elsewhere.
    std::fs::write(files.path().join("pkg/kinema.wasm"), b"\0asm version two").unwrap();
    let root = files.path().to_path_buf();
    let app = TestApp::spawn_with(Db::Sqlite, |settings| settings.site_root = Some(root)).await;
    assert_ne!(linked_prefix(&app, &client).await, prefix);
    app.stop().await;
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_accept_it() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let client = reqwest::Client::new();
    for (accept, expected) in [
        ("br", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let page = client
            .get(app.url("/setup"))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let encoding = page
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(encoding.as_deref(), expected, "Accept-Encoding: {accept}");
        let body = page.bytes().await.unwrap();
        if expected.is_none() {
            assert!(String::from_utf8_lossy(&body).contains("<html"));
        } else {
            assert!(
                !body.starts_with(b"<!DOCTYPE"),
                "compressed bytes, not HTML"
            );
        }
    }
    app.stop().await;
}
