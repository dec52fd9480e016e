//! Test harness: builds Kinema on port 0 with a fresh database (a temporary SQLite file, or a
//! uniquely named PostgreSQL database that is dropped afterwards) and talks to it over real HTTP.

pub mod bucket;
mod database;
mod eventually;
pub mod fixtures;
pub mod live_page;
mod nginx;
pub mod oidc;
mod own_process;
pub mod prometheus;
mod server_process;

pub use bucket::TestBucket;
pub use database::TestDatabase;
pub use eventually::{eventually, holds};
pub use nginx::{
    free_port, nginx_installed, proxy_browser, proxy_browser_with, until_proxy_answers, Http,
    Nginx, ProxyPorts,
};
pub use own_process::{in_own_process, run_in_own_process};
pub use server_process::{server_command, ServerProcess, SERVER_BIN};

use std::time::Duration;

use app::backend::{
    billing::Clock,
    store::Store,
    tasks::{run_once, EngineSettings, Outcome},
    AppState,
};
use kinema_server::{
    config::{Config, Settings},
    startup::Application,
};
use reqwest::{redirect::Policy, Client, Response};
use tokio::sync::oneshot;

/// Which database a test app runs on; it also picks the media storage: SQLite apps keep media
/// on local disk (the embedded default), PostgreSQL apps in an S3 bucket ([`TestBucket`]), the
/// way a hosted team runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running Kinema on a fresh database.
pub struct TestApp {
    pub base: String,
    pub data_dir: tempfile::TempDir,
    /// The in-process simulator's address in sandbox mode.
    pub sandbox_url: Option<String>,
    /// `http://…` of the metrics listener, when `KINEMA_METRICS_ADDR` gave it one of its own.
    pub metrics_base: Option<String>,
    /// The ledger's clock (fixed only when the test asked for it).
    pub clock: Clock,
    settings: Settings,
    engine: EngineSettings,
    /// The running app's state, for stepping its engine.
    state: Option<AppState>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Dropped by `stop` after the server halted, or with the app when a test panics (the drop
    /// forces the server's connections closed).
    postgres_db: Option<TestDatabase>,
    /// The S3 server holding the media (PostgreSQL apps).
    pub bucket: Option<TestBucket>,
}

/// A task engine paced for tests: quick polls, short leases.
pub fn fast_engine() -> EngineSettings {
    EngineSettings {
        workers: 2,
        archive_workers: 1,
        upstream_rps: 1000,
        reconcile_grace: Duration::from_secs(30),
        lease: Duration::from_secs(3),
        tick: Duration::from_millis(50),
        poll_first: Duration::from_millis(100),
        poll_max: Duration::from_millis(300),
        deadline: Duration::from_secs(120),
        max_result_bytes: 50 * 1024 * 1024,
    }
}

/// The same pacing with no workers: the test takes every step of the engine itself with
/// [`TestApp::run_due`], so it knows exactly which steps happened.
pub fn stepped_engine() -> EngineSettings {
    EngineSettings {
        workers: 0,
        archive_workers: 0,
        ..fast_engine()
    }
}

/// Default settings for tests: port 0, sandbox.
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    Settings {
        data_dir: data_dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        evolink_base_url: "https://api.evolink.ai".into(),
        evolink_files_base_url: "https://files-api.evolink.ai".into(),
        site_root: Some(data_dir.join("site")),
        log: "warn".into(),
        sandbox_task_seconds: 1.0,
        task_lease_seconds: 3,
        upstream_rps: 1000,
        ..Settings::default()
    }
}

impl TestApp {
    /// Starts Kinema on `db`.
    pub async fn spawn(db: Db) -> TestApp {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts Kinema on `db` with no task workers: the test drives the engine.
    pub async fn spawn_stepped(db: Db) -> TestApp {
        Self::spawn_with_engine(db, |_| {}, stepped_engine()).await
    }

    /// Starts Kinema on `db` after `adjust` changed the settings.
    pub async fn spawn_with(db: Db, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_with_engine(db, adjust, fast_engine()).await
    }

    /// Starts Kinema on `db` with the given settings and engine pacing.
    pub async fn spawn_with_engine(
        db: Db,
        adjust: impl FnOnce(&mut Settings),
        engine: EngineSettings,
    ) -> TestApp {
        Self::spawn_with_clock(db, adjust, engine, Clock::System).await
    }

    /// Starts Kinema on `db` with the ledger reading `clock`.
    pub async fn spawn_with_clock(
        db: Db,
        adjust: impl FnOnce(&mut Settings),
        engine: EngineSettings,
        clock: Clock,
    ) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut settings = test_settings(data_dir.path());
        let (postgres_db, bucket) = match db {
            Db::Sqlite => (None, None),
            Db::Postgres => {
                let database = TestDatabase::create().await;
                settings.database_url = Some(database.url());
                let bucket = TestBucket::start().await;
                bucket.apply(&mut settings);
                (Some(database), Some(bucket))
            }
        };
        adjust(&mut settings);
        let mut app = TestApp {
            base: String::new(),
            data_dir,
            sandbox_url: None,
            metrics_base: None,
            clock,
            postgres_db,
            bucket,
            settings,
            engine,
            state: None,
            stop: None,
            server: None,
        };
        app.start().await;
        app
    }

    async fn start(&mut self) {
        let config = Config::from_settings(self.settings.clone()).expect("valid test config");
        let app = Application::build_with_clock(config, self.engine.clone(), self.clock.clone())
            .await
            .expect("app builds");
        self.base = format!("http://{}", app.local_addr());
        // A restart comes back on the same address, so links handed out stay valid.
        self.settings.listen = app.local_addr().to_string();
        self.sandbox_url = app.sandbox_simulator_url().map(str::to_string);
        self.metrics_base = app.metrics_addr().map(|addr| format!("http://{addr}"));
        self.state = Some(app.state().clone());
        let (stop, stopped) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    async fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }

    /// The running app's shared state (its store, clock, engine settings and password pool's
    /// counters; tests call its background jobs, such as the upload sweep, directly).
    pub fn state(&self) -> &AppState {
        self.state.as_ref().expect("a started app")
    }

    /// True when the test drives the engine (no workers run).
    pub fn is_stepped(&self) -> bool {
        self.engine.workers == 0 && self.engine.archive_workers == 0
    }

    /// When the test drives the engine, takes every task that is due one step further, as often
    /// as something is due (at most 100 steps), and returns what the steps did. With workers
    /// running it does nothing: they take the steps.
    pub async fn run_due(&self) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        if !self.is_stepped() {
            return outcomes;
        }
        let state = self.state.as_ref().expect("a started app");
        while outcomes.len() < 100 {
            match run_once(state).await.expect("an engine step") {
                Some(outcome) => outcomes.push(outcome),
                None => break,
            }
        }
        outcomes
    }

    /// Stops the server (its workers stop mid-step) and starts it again on the same database,
    /// data and address.
    pub async fn restart(&mut self) {
        self.halt().await;
        self.start().await;
    }

    /// A direct connection string for the test's database (to inspect or tamper with it).
    pub fn database_url(&self) -> String {
        self.settings.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.path().join("kinema.db").display()
            )
        })
    }

    /// The keys of the objects in the app's media storage (either backend).
    pub async fn stored_objects(&self) -> Vec<String> {
        self.state()
            .storage()
            .keys()
            .await
            .expect("list stored objects")
    }

    /// Uploads still in progress: open multipart uploads in the bucket, or partial files
    /// (`KEY#N`) on local disk.
    pub fn open_uploads(&self) -> Vec<String> {
        match &self.bucket {
            Some(bucket) => bucket.open_multipart_uploads(),
            None => std::fs::read_dir(self.data_dir.path().join("media/objects"))
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|entry| entry.file_name().to_string_lossy().into_owned())
                        .filter(|name| name.contains('#'))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// How the input URLs handed to the upstream start: presigned bucket URLs with S3, signed
    /// `/media` URLs on local disk.
    pub fn input_url_prefix(&self) -> String {
        match &self.bucket {
            Some(bucket) => format!("{}/{}/upload-", bucket.endpoint, bucket::BUCKET),
            None => format!("{}/media/", self.base),
        }
    }

    /// The number of rows in `table`.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self.state().store() {
            Store::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
            Store::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        }
    }

    /// What uploads leave behind: uploads in progress, stored objects, upload rows.
    pub async fn leftovers(&self) -> (usize, usize, i64) {
        (
            self.open_uploads().len(),
            self.stored_objects().await.len(),
            self.count_rows("uploads").await,
        )
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client")
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Calls a server function the way the hydrated page does (same-origin, form-encoded).
    pub async fn call(&self, client: &Client, function: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.url(&format!("/api/{function}")))
            .header("Origin", &self.base)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    /// Stops the server, then drops the PostgreSQL database, if any.
    pub async fn stop(mut self) {
        self.halt().await;
        drop(self.postgres_db.take());
    }
}

/// The value of the named cookie in the response's `Set-Cookie` headers, with its attributes.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The bare `name=value` part of a Set-Cookie header.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// A password that passes the rules.
pub const PASSWORD: &str = "correct horse battery";

/// Runs first-run setup on `client`, which ends up signed in as admin `username`.
pub async fn setup_admin(app: &TestApp, client: &Client, username: &str) -> Response {
    app.call(
        client,
        "setup_admin",
        &[
            ("username", username),
            ("display_name", "Ada Admin"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await
}

/// Creates an invite as the signed-in admin and returns its token.
pub async fn invite(app: &TestApp, admin: &Client, role: &str) -> String {
    let response = app
        .call(admin, "create_invite", &[("role", role), ("hours", "72")])
        .await;
    assert_eq!(response.status(), 200, "create_invite");
    let body: serde_json::Value = response.json().await.expect("invite json");
    let link = body["link"].as_str().expect("invite link").to_string();
    assert!(
        link.starts_with(&app.base),
        "link {link} uses the public URL"
    );
    link.rsplit('/').next().unwrap().to_string()
}

/// Accepts an invite on `client`, which ends up signed in as `username`.
pub async fn accept(app: &TestApp, client: &Client, token: &str, username: &str) -> Response {
    app.call(
        client,
        "accept_invite",
        &[
            ("token", token),
            ("username", username),
            ("display_name", "Mo Member"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await
}

/// Signs in on `client`.
pub async fn sign_in(app: &TestApp, client: &Client, username: &str, password: &str) -> Response {
    app.call(
        client,
        "sign_in",
        &[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ],
    )
    .await
}

/// The signed-in username according to the server, if any.
pub async fn whoami(app: &TestApp, client: &Client) -> Option<String> {
    let response = app.call(client, "session_info", &[]).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("session json");
    body["user"]["username"].as_str().map(str::to_string)
}

/// Uploads a committed fixture as the signed-in `client`; returns the upload id.
pub async fn upload(app: &TestApp, client: &reqwest::Client, purpose: &str, name: &str) -> String {
    let response = client
        .post(app.url(&format!("/api/uploads?purpose={purpose}&name={name}")))
        .header("Origin", &app.base)
        .body(fixtures::file(name))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{name}");
    response.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A character image and a motion video, uploaded.
pub struct Inputs {
    pub image: String,
    pub video: String,
}

/// Uploads `valid.png` and the motion video fixture `video`.
pub async fn inputs(app: &TestApp, client: &reqwest::Client, video: &str) -> Inputs {
    Inputs {
        image: upload(app, client, "character_image", "valid.png").await,
        video: upload(app, client, "motion_video", video).await,
    }
}

/// Submits a motion task (sound off, prompt 'A calm dance') with the given options and key.
pub async fn submit(
    app: &TestApp,
    client: &reqwest::Client,
    inputs: &Inputs,
    quality: &str,
    orientation: &str,
    key: &str,
) -> reqwest::Response {
    submit_with_element(app, client, inputs, quality, orientation, key, "").await
}

/// Like [`submit`], with a library element (empty for none).
pub async fn submit_with_element(
    app: &TestApp,
    client: &reqwest::Client,
    inputs: &Inputs,
    quality: &str,
    orientation: &str,
    key: &str,
    element_id: &str,
) -> reqwest::Response {
    app.call(
        client,
        "submit_motion",
        &[
            ("image_upload_id", &inputs.image),
            ("video_upload_id", &inputs.video),
            ("quality", quality),
            ("orientation", orientation),
            ("keep_sound", "false"),
            ("prompt", "A calm dance"),
            ("idempotency_key", key),
            ("element_id", element_id),
        ],
    )
    .await
}

/// A task as its owner sees it (`get_task`).
pub async fn task(app: &TestApp, client: &reqwest::Client, id: &str) -> serde_json::Value {
    let response = app.call(client, "get_task", &[("id", id)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits (up to a minute) until the task is completed or failed, and returns it.
pub async fn until_final(app: &TestApp, client: &reqwest::Client, id: &str) -> serde_json::Value {
    eventually(
        "the task to complete or fail",
        Duration::from_secs(60),
        || async {
            // A fixed clock only moves when told: let the engine's time pass with the test's.
            app.clock.advance(Duration::from_millis(100));
            app.run_due().await;
            let view = task(app, client, id).await;
            holds(
                view["state"] == "completed" || view["state"] == "failed",
                view,
            )
        },
    )
    .await
}

/// Sets faults on the simulator at `sim`.
pub async fn post_faults(sim: &str, faults: serde_json::Value) {
    let status = reqwest::Client::new()
        .post(format!("{sim}/__sim/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
}

/// Sets faults on the sandbox simulator.
pub async fn set_faults(app: &TestApp, faults: serde_json::Value) {
    post_faults(app.sandbox_url.as_ref().unwrap(), faults).await;
}

/// Runs setup (admin `ada`) and adds member `moe`; returns both clients and moe's user id.
pub async fn team(app: &TestApp) -> (Client, Client, i64) {
    let admin = app.client();
    assert_eq!(setup_admin(app, &admin, "ada").await.status(), 200);
    let token = invite(app, &admin, "member").await;
    let member = app.client();
    assert_eq!(accept(app, &member, &token, "moe").await.status(), 200);
    let members: serde_json::Value = app
        .call(&admin, "list_members", &[])
        .await
        .json()
        .await
        .unwrap();
    let id = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "moe")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (admin, member, id)
}

/// The body of a successful server-function call as JSON.
pub async fn ok_json(response: Response) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}
