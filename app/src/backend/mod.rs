//! The server-side domain and its infrastructure. This is the one `ssr` gate of the app crate:
//! nothing below it is compiled into the browser.

pub mod accounts;
pub mod audit;
pub mod billing;
pub mod connection;
pub mod context;
pub mod elements;
pub mod error;
pub mod events;
pub mod evolink;
pub mod gateway;
pub mod media;
pub mod metrics;
pub mod oidc;
pub mod outbound;
pub mod page_policy;
pub mod passwords;
pub mod session;
pub mod session_cache;
pub mod share_links;
pub mod sign_in_methods;
pub mod storage;
pub mod storage_policy;
pub mod store;
pub mod tasks;
pub mod throttle;
pub mod tokens;
pub mod uploads;
pub mod usage;

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use billing::Billing;
pub use error::BackendError;
use evolink::EvoLinkClient;
use passwords::Passwords;
use storage::Storage;
use storage_policy::StoragePolicy;
use store::Store;
use tasks::{EngineSettings, TaskEvent};
use tokio::sync::broadcast;

/// How long a session read from the database is served from memory (see [`session_cache`]).
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything a request handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<AppStateInner>,
}

struct AppStateInner {
    store: Store,
    public_url: String,
    media_base_url: String,
    sandbox: bool,
    passwords: Passwords,
    setup_done: AtomicBool,
    evolink: Option<EvoLinkClient>,
    storage: Storage,
    storage_policy: StoragePolicy,
    engine: EngineSettings,
    events: events::EventBus,
    sessions: Arc<session_cache::SessionCache>,
    histories: Arc<tasks::history_cache::HistoryCache>,
    worker_id: String,
    downloads: outbound::Downloader,
    billing: Billing,
    running_tasks: tasks::RunningCount,
    metrics: metrics::Metrics,
    oidc: Option<Arc<oidc::Oidc>>,
}

impl AppState {
    /// Builds the shared state. `public_url` has no trailing slash; `evolink` is the client for the
    /// team's key or for the sandbox simulator (`None` for the headless account commands).
    pub fn new(
        store: Store,
        public_url: String,
        sandbox: bool,
        evolink: Option<EvoLinkClient>,
        storage: Storage,
        engine: EngineSettings,
    ) -> Self {
        let worker_id = accounts::random_token()[..8].to_string();
        let sessions = Arc::new(session_cache::SessionCache::new(SESSION_CACHE_TTL));
        let histories = Arc::new(tasks::history_cache::HistoryCache::new(
            tasks::history_cache::HISTORY_CACHE_TTL,
        ));
        let events = events::EventBus::new(&worker_id, &store, sessions.clone(), histories.clone());
        Self {
            inner: Arc::new(AppStateInner {
                store,
                public_url: public_url.trim_end_matches('/').to_string(),
                media_base_url: public_url.trim_end_matches('/').to_string(),
                sandbox,
                passwords: Passwords::default(),
                setup_done: AtomicBool::new(false),
                evolink,
                storage,
                storage_policy: StoragePolicy::default(),
                engine,
                events,
                sessions,
                histories,
                worker_id,
                downloads: outbound::Downloader::new(outbound::UrlPolicy::public_only()),
                billing: Billing::default(),
                running_tasks: tasks::RunningCount::default(),
                metrics: metrics::Metrics::new(),
                oidc: None,
            }),
        }
    }

    /// Stored media.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// How long unused uploads are kept and each member's upload quota.
    pub fn storage_policy(&self) -> &StoragePolicy {
        &self.inner.storage_policy
    }

    /// The same state with another storage policy. Call before the state is shared.
    pub fn with_storage_policy(mut self, policy: StoragePolicy) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.storage_policy = policy;
        }
        self
    }

    /// How the task engine paces itself.
    pub fn engine(&self) -> &EngineSettings {
        &self.inner.engine
    }

    /// This process's name for its workers' leases.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The SSRF-guarded client for URLs that came from outside (result links).
    pub fn downloads(&self) -> &outbound::Downloader {
        &self.inner.downloads
    }

    /// Recently served history pages of this instance (see [`tasks::history_cache`]).
    pub fn history_cache(&self) -> &tasks::history_cache::HistoryCache {
        &self.inner.histories
    }

    /// Recently used sessions of this instance (see [`session_cache`]).
    pub fn session_cache(&self) -> &session_cache::SessionCache {
        &self.inner.sessions
    }

    /// Drops a deleted session from every instance's session cache.
    pub fn session_deleted(&self, key: session_cache::SessionKey) {
        self.inner.events.session_deleted(key);
    }

    /// Tells listeners (SSE) on every instance that a task changed, and wakes the workers.
    pub fn notify_task(&self, event: TaskEvent) {
        self.inner.events.task_changed(event);
    }

    /// Task changes, for live updates.
    pub fn subscribe_tasks(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.events.subscribe()
    }

    /// Wakes idle workers on every instance.
    pub fn wake_workers(&self) {
        self.inner.events.wake_workers();
    }

    /// Completes when someone calls [`AppState::wake_workers`] or a task changes.
    pub async fn wait_for_work(&self) {
        self.inner.events.wait_for_work().await;
    }

    /// The bus that carries task changes and wake-ups between instances.
    pub fn events(&self) -> &events::EventBus {
        &self.inner.events
    }

    /// The EvoLink client.
    pub fn evolink(&self) -> Result<&EvoLinkClient, BackendError> {
        self.inner
            .evolink
            .as_ref()
            .ok_or_else(|| BackendError::Internal("no EvoLink client configured".into()))
    }

    /// The same state with another address for the `/media` URLs given to the upstream (sandbox
    /// mode: the local address, which the in-process simulator can always reach). Call before
    /// the state is shared.
    pub fn with_media_base_url(mut self, url: &str) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.media_base_url = url.trim_end_matches('/').to_string();
        }
        self
    }

    /// The same state with another policy for fetching URLs from outside (startup trusts the
    /// configured EvoLink origin). Call before the state is shared.
    pub fn with_url_policy(mut self, policy: outbound::UrlPolicy) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.downloads = outbound::Downloader::new(policy);
        }
        self
    }

    /// The same state with another billing calendar (time zone, USD rate, clock). Call before
    /// the state is shared.
    pub fn with_billing(mut self, billing: Billing) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.billing = billing;
        }
        self
    }

    /// The same state with sign-in through the team's identity provider. Call before the state
    /// is shared.
    pub fn with_oidc(mut self, oidc: oidc::Oidc) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.oidc = Some(Arc::new(oidc));
        }
        self
    }

    /// The team's identity provider, when configured.
    pub fn oidc(&self) -> Option<&oidc::Oidc> {
        self.inner.oidc.as_deref()
    }

    /// The billing calendar and the ledger's clock.
    pub fn billing(&self) -> &Billing {
        &self.inner.billing
    }

    /// How many tasks are running upstream (a recent count).
    pub fn running_tasks(&self) -> &tasks::RunningCount {
        &self.inner.running_tasks
    }

    /// This app's metrics (its own recorder; see [`metrics`]).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// The one clock: ledger times, task times, deadlines and leases.
    pub fn clock(&self) -> &billing::Clock {
        self.inner.billing.clock()
    }

    /// Where the upstream fetches Kinema's signed `/media` URLs from.
    pub fn media_base_url(&self) -> &str {
        &self.inner.media_base_url
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The address people and the upstream reach Kinema at, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// True when Kinema talks to its built-in EvoLink simulator.
    pub fn sandbox(&self) -> bool {
        self.inner.sandbox
    }

    /// The bounded password-hashing pool (and its count of hashes run).
    pub fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    /// True until the first admin exists. Once false it stays false, so the database is asked only
    /// until setup is done.
    pub async fn needs_setup(&self) -> Result<bool, BackendError> {
        if self.inner.setup_done.load(Ordering::Acquire) {
            return Ok(false);
        }
        let has_admin = self.store().has_admin().await?;
        if has_admin {
            self.inner.setup_done.store(true, Ordering::Release);
        }
        Ok(!has_admin)
    }
}

/// Current unix time in seconds.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
