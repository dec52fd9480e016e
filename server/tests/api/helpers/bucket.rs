//! A real S3 server for one test: `s3s-fs` (files under a temporary directory) behind `s3s`'s
//! SigV4 checks (`SimpleAuth` with one key pair), served over HTTP on a loopback port inside the
//! test's runtime. It refuses requests and presigned URLs with a wrong signature, so a test
//! cannot pass against a store that checks nothing.

use std::path::Path;

use hyper_util::rt::TokioIo;
use kinema_server::config::Settings;
use s3s::{
    auth::SimpleAuth,
    service::{S3Service, S3ServiceBuilder},
};

/// The one bucket tests use.
pub const BUCKET: &str = "kinema-test";
/// The key pair the server accepts.
pub const ACCESS_KEY: &str = "kinema-test-access";
pub const SECRET_KEY: &str = "kinema-test-secret-key-0123456789";

/// A running S3 server with [`BUCKET`] created; stops when dropped.
pub struct TestBucket {
    /// e.g. `http://127.0.0.1:40123`
    pub endpoint: String,
    root: tempfile::TempDir,
    address: std::net::SocketAddr,
    service: S3Service,
    server: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TestBucket {
    /// Starts the server on a free loopback port.
    pub async fn start() -> TestBucket {
        let root = tempfile::tempdir().expect("bucket root");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bucket port");
        let address = listener.local_addr().unwrap();
        let bucket = TestBucket {
            endpoint: format!("http://{address}"),
            root,
            address,
            service,
            server: std::sync::Mutex::new(None),
        };
        bucket.serve(listener);
        bucket
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let service = self.service.clone();
        // Connections live in the server task's set, so stopping the server ends them too.
        let server = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                let service = service.clone();
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        if let Some(old) = self.server.lock().unwrap().replace(server) {
            old.abort();
        }
    }

    /// Stops the server and closes its connections (the bucket becomes unreachable).
    pub fn stop_server(&self) {
        if let Some(server) = self.server.lock().unwrap().take() {
            server.abort();
        }
    }

    /// Serves the same bucket on the same address again.
    pub async fn start_server(&self) {
        let listener = tokio::net::TcpListener::bind(self.address)
            .await
            .expect("the bucket's port again");
        self.serve(listener);
    }

    /// The variables that point Kinema at this bucket (for a server run as a process).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KINEMA_STORAGE", format!("s3://{BUCKET}")),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Points in-process settings at this bucket.
    pub fn apply(&self, settings: &mut Settings) {
        settings.storage = Some(format!("s3://{BUCKET}"));
        settings.aws_access_key_id = Some(ACCESS_KEY.into());
        settings.aws_secret_access_key = Some(SECRET_KEY.into());
        settings.aws_region = Some("us-east-1".into());
        settings.aws_endpoint_url = Some(self.endpoint.clone());
        settings.aws_allow_http = true;
    }

    /// The keys of the objects in the bucket.
    pub fn objects(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect(&self.root.path().join(BUCKET), "", &mut found);
        found
    }

    /// Multipart uploads started and neither completed nor aborted. s3s-fs does not implement
    /// ListMultipartUploads; it keeps each open upload as `.upload-<id>.json` (and its parts as
    /// `.upload_id-<id>.part-N`) in its root until it is completed or aborted, so those files are
    /// the list.
    pub fn open_multipart_uploads(&self) -> Vec<String> {
        std::fs::read_dir(self.root.path())
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .filter(|name| {
                        (name.starts_with(".upload-") && name.ends_with(".json"))
                            || name.starts_with(".upload_id-")
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn collect(dir: &Path, prefix: &str, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let key = format!("{prefix}{name}");
        if entry.path().is_dir() {
            collect(&entry.path(), &format!("{key}/"), found);
        } else {
            found.push(key);
        }
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        self.stop_server();
    }
}
