//! The SSRF table: every hostile link is refused before any connection reaches a listener.

use std::{
    io::ErrorKind,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Downloader, FetchError, Refusal, UrlPolicy};

/// A trusted stand-in upstream on loopback that answers every request with a redirect to
/// `location`; returns its base URL and how many connections it took.
async fn redirector(location: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let location = location.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (base, served)
}

#[tokio::test]
async fn hostile_links_are_refused_before_any_connection() {
    // The target every hostile link aims at: a loopback listener that must see nothing.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    target.set_nonblocking(true).unwrap();
    let port = target.local_addr().unwrap().port();
    let (to_ip, to_ip_hits) = redirector(format!("http://127.0.0.1:{port}/a.mp4")).await;
    let (to_name, to_name_hits) = redirector(format!("https://localhost:{port}/a.mp4")).await;
    let downloader = Downloader::new(UrlPolicy::public_only().trusting(&to_ip).trusting(&to_name));
    let table = [
        format!("https://127.0.0.1:{port}/a.mp4"),
        format!("http://127.0.0.1:{port}/a.mp4"),
        format!("https://[::ffff:127.0.0.1]:{port}/a.mp4"),
        format!("https://2130706433:{port}/a.mp4"),
        format!("https://localhost:{port}/a.mp4"),
        "https://10.0.0.1/a.mp4".to_string(),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        format!("{to_ip}/redirect"),
        format!("{to_name}/redirect"),
        "javascript:alert(document.cookie)".to_string(),
        "file:///etc/passwd".to_string(),
    ];
    for url in &table {
        match downloader.get(url).await {
            Err(FetchError::Refused(_)) => {}
            other => panic!("{url} must be refused, got {other:?}"),
        }
    }
    // The redirectors were reached (so connections did happen where allowed) ...
    assert_eq!(to_ip_hits.load(Ordering::SeqCst), 1);
    assert_eq!(to_name_hits.load(Ordering::SeqCst), 1);
    // ... and the target took none: a connection made would be waiting in its backlog.
    match target.accept() {
        Err(err) if err.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the loopback target was connected to: {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_names_its_refusal() {
    let (base, _) = redirector("http://10.1.2.3/a.mp4".into()).await;
    let downloader = Downloader::new(UrlPolicy::public_only().trusting(&base));
    match downloader.get(&format!("{base}/x")).await {
        Err(FetchError::Refused(refusal)) => {
            assert_eq!(refusal, Refusal::NotHttps("http".into()))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
