//! Building the app: `Application::build` (binds the port, connects the database), then
//! `run_until_stopped`. Tests build it on port 0 with a fresh database.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::{
    middleware::{from_fn, from_fn_with_state},
    routing::{get, post},
    Extension, Router,
};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::{net::TcpListener, task::JoinHandle};
use tower_http::{
    compression::{
        predicate::{NotForContentType, Predicate},
        CompressionLayer, DefaultPredicate,
    },
    CompressionLevel,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use app::backend::{
    billing::{Billing, Clock},
    evolink::{ApiKey, ClientSettings, EvoLinkClient, EvoLinkError},
    outbound::UrlPolicy,
    storage::{load_signing_key, Storage},
    storage_policy::sweep_periodically,
    store::Store,
    tasks::{run_workers, EngineSettings},
    AppState, BackendError,
};
use app::{shell, App};

use evolink_sim::{RunningSimulator, SimulatorConfig};

use crate::{
    assets::{Assets, SiteSource},
    config::{Config, Limits, TrustedProxies},
    limits::{bound_bodies, BodyLimits},
    media_headers::media_headers,
    middleware, routes,
    routes::event_slots::EventSlots,
    serve::{serve, ConnectionLimits, StopSwitch, Stopping},
    sessions::{CachedSessionStore, SqlSessionStore},
};

/// How long a session lives without activity.
pub const SESSION_IDLE_DAYS: i64 = 14;
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kinema_session";

/// Why start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Database(#[from] BackendError),
    #[error("cannot create the session table: {0}")]
    Sessions(#[from] sqlx::Error),
    #[error("cannot set up the EvoLink client: {0}")]
    EvoLink(#[from] EvoLinkError),
    #[error("cannot start the sandbox simulator: {0}")]
    Simulator(std::io::Error),
    #[error("invalid billing calendar: {0}")]
    Billing(String),
    #[error("{0}")]
    Site(String),
    #[error("cannot set up single sign-on: {0}")]
    Oidc(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How often unused uploads are looked for (also once at start).
const UPLOAD_SWEEP_PERIOD: Duration = Duration::from_secs(3600);

/// How often recent histogram samples are folded into their buckets between scrapes.
const METRICS_UPKEEP_PERIOD: Duration = Duration::from_secs(5);

/// How long each last step of a stop (closing the simulator, the database pool) may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A built, bound, not yet running Kinema.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    cleanup: JoinHandle<()>,
    simulator: Option<RunningSimulator>,
    limits: Limits,
    stop_switch: StopSwitch,
    /// `/metrics` on a listen address of its own, when configured.
    metrics_listener: Option<(TcpListener, Router)>,
}

impl Application {
    /// Connects the database (applying migrations), binds the listen address and builds the router.
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        let engine = EngineSettings {
            lease: Duration::from_secs(config.task_lease_seconds),
            upstream_rps: config.upstream_rps,
            workers: EngineSettings::workers_for(config.upstream_rps),
            poll_max: config.poll_max,
            ..EngineSettings::default()
        };
        Self::build_with_engine(config, engine).await
    }

    /// Like [`Application::build`], with the task engine paced by `engine` (tests speed it up).
    pub async fn build_with_engine(
        config: Config,
        engine: EngineSettings,
    ) -> Result<Application, StartupError> {
        Self::build_with_clock(config, engine, Clock::System).await
    }

    /// Like [`Application::build_with_engine`], with the ledger reading `clock` (tests fix it).
    pub async fn build_with_clock(
        config: Config,
        engine: EngineSettings,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let billing = Billing::new(&config.time_zone, config.credits_per_usd, clock)
            .map_err(StartupError::Billing)?;
        let assets = Assets::load(&config.site).map_err(StartupError::Site)?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartupError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let store = Store::connect(config.database_url.expose()).await?;
        let session_store = SqlSessionStore::new(&store).await?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartupError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: config.listen,
                source,
            })?;
        let public_url = config.public_url_for(bound);
        let (evolink, simulator) = connect_evolink(&config, &engine).await?;
        let signing_key = load_signing_key(&store, &config.data_dir).await?;
        let storage = Storage::open(&config.data_dir, config.media.clone(), signing_key).await?;
        // Result links may use plain http and any address only on the configured EvoLink
        // origin (in sandbox mode the loopback simulator); anything else must be public https.
        let url_policy = UrlPolicy::public_only().trusting(evolink.base_url());
        let state = AppState::new(
            store,
            public_url.clone(),
            config.sandbox(),
            Some(evolink),
            storage,
            engine,
        )
        .with_billing(billing)
        .with_storage_policy(config.storage.clone())
        .with_url_policy(url_policy);
        let state = if config.sandbox() {
            let host = if bound.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                bound.ip().to_string()
            };
            state.with_media_base_url(&format!("http://{host}:{}", bound.port()))
        } else {
            state
        };
        let state = match &config.oidc {
            Some(oidc) => state.with_oidc(
                app::backend::oidc::Oidc::new(oidc.app_settings())
                    .map_err(|err| StartupError::Oidc(err.to_string()))?,
            ),
            None => state,
        };
        let cleanup = tokio::spawn(
            session_store
                .clone()
                .delete_expired_periodically(Duration::from_secs(15 * 60)),
        );
        let sessions =
            SessionManagerLayer::new(CachedSessionStore::new(session_store, state.clone()))
                .with_name(SESSION_COOKIE)
                .with_http_only(true)
                .with_same_site(SameSite::Lax)
                .with_secure(public_url.starts_with("https://"))
                .with_expiry(Expiry::OnInactivity(time::Duration::days(
                    SESSION_IDLE_DAYS,
                )));
        // Pages link the browser files under their version (see `assets`); a site directory
        // also serves its other files, if any.
        let site_root = match &config.site {
            SiteSource::Directory(root) => root.clone(),
            SiteSource::Embedded => config.data_dir.join("site"),
        };
        let leptos_options = LeptosOptions::builder()
            .output_name("kinema")
            .site_root(site_root.to_string_lossy().to_string())
            .site_pkg_dir(assets.prefix())
            .site_addr(bound)
            .build();
        let (stop_switch, stopping) = Stopping::channel();
        let event_slots = EventSlots::new(config.limits.sse_per_member, config.limits.sse_total);
        let scrape = routes::metrics::Scrape {
            state: state.clone(),
            slots: event_slots.clone(),
            token: config.metrics.token.clone(),
        };
        let metrics_listener = match config.metrics.listen {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Listen { addr, source })?;
                Some((listener, routes::metrics::router(scrape.clone())))
            }
            None => None,
        };
        let gateway =
            app::backend::gateway::Gateway::new(i64::from(config.gateway_requests_per_minute));
        let router = build_router(
            leptos_options,
            gateway,
            assets,
            state.clone(),
            sessions,
            &config.limits,
            config.trusted_proxies.clone(),
            stopping,
            event_slots,
            config
                .metrics
                .on_main_listener()
                .then(|| routes::metrics::router(scrape)),
        );
        Ok(Application {
            listener,
            router,
            state,
            cleanup,
            simulator,
            limits: config.limits.clone(),
            stop_switch,
            metrics_listener,
        })
    }

    /// Where `/metrics` listens when it has an address of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The in-process simulator's address in sandbox mode; `None` when a key is set.
    pub fn sandbox_simulator_url(&self) -> Option<&str> {
        self.simulator.as_ref().map(|sim| sim.base_url.as_str())
    }

    /// The shared state (tests step its task engine with `tasks::run_once`).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address people reach this instance at.
    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    /// Serves until `shutdown` completes; then ends live-update streams, lets requests in flight
    /// finish for the configured grace period, and closes everything else within a second each,
    /// so a stop never hangs on a client or on stuck work.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            router,
            state,
            cleanup,
            simulator,
            limits,
            stop_switch,
            metrics_listener,
        } = self;
        let workers = tokio::spawn(run_workers(state.clone()));
        let upkeep_state = state.clone();
        let upkeep = tokio::spawn(async move {
            loop {
                tokio::time::sleep(METRICS_UPKEEP_PERIOD).await;
                upkeep_state.metrics().run_upkeep();
            }
        });
        let metrics_server = metrics_listener.map(|(listener, router)| {
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).await {
                    tracing::error!(error = %err, "the metrics listener stopped");
                }
            })
        });
        let sweeper = tokio::spawn(sweep_periodically(state.clone(), UPLOAD_SWEEP_PERIOD));
        let listener_state = state.clone();
        let instances = tokio::spawn(async move { listener_state.events().listen().await });
        let connection_limits = ConnectionLimits {
            header_timeout: limits.header_timeout,
            stall_timeout: limits.idle_timeout,
        };
        serve(
            listener,
            router,
            connection_limits,
            shutdown,
            stop_switch,
            limits.shutdown_grace,
        )
        .await;
        cleanup.abort();
        upkeep.abort();
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
        }
        sweeper.abort();
        workers.abort();
        instances.abort();
        if let Some(simulator) = simulator {
            if tokio::time::timeout(CLOSE_TIMEOUT, simulator.stop())
                .await
                .is_err()
            {
                tracing::warn!("the sandbox simulator did not stop in time");
            }
        }
        if tokio::time::timeout(CLOSE_TIMEOUT, state.store().close())
            .await
            .is_err()
        {
            tracing::warn!("database connections were still busy when stopping");
        }
        Ok(())
    }
}

/// The EvoLink client: for the team's key, or (sandbox) for a simulator started in-process on a
/// loopback port with a random key, reached over real HTTP like the real service. A create never
/// waits longer than three quarters of a task lease; requests stay under the engine's ceiling.
async fn connect_evolink(
    config: &Config,
    engine: &EngineSettings,
) -> Result<(EvoLinkClient, Option<RunningSimulator>), StartupError> {
    let within_lease = |mut settings: ClientSettings| {
        settings.create_timeout = settings.create_timeout.min(engine.lease.mul_f64(0.75));
        settings.requests_per_second = engine.upstream_rps;
        settings
    };
    if let Some(key) = &config.evolink_api_key {
        let settings = within_lease(ClientSettings::new(
            &config.evolink_base_url,
            &config.evolink_files_base_url,
            ApiKey::new(key.expose()),
        ));
        return Ok((EvoLinkClient::new(settings)?, None));
    }
    let key = app::backend::accounts::random_token();
    let sim_config = SimulatorConfig::new(
        key.clone(),
        Duration::from_secs_f64(config.sandbox_task_seconds),
    );
    let simulator = RunningSimulator::start(sim_config, ([127, 0, 0, 1], 0).into())
        .await
        .map_err(StartupError::Simulator)?;
    let settings = within_lease(ClientSettings::new(
        &simulator.base_url,
        &simulator.base_url,
        ApiKey::new(key),
    ));
    Ok((EvoLinkClient::new(settings)?, Some(simulator)))
}

#[allow(clippy::too_many_arguments)]
fn build_router(
    leptos_options: LeptosOptions,
    gateway: app::backend::gateway::Gateway,
    assets: Assets,
    state: AppState,
    sessions: SessionManagerLayer<CachedSessionStore>,
    limits: &Limits,
    trusted_proxies: TrustedProxies,
    stopping: Stopping,
    event_slots: EventSlots,
    metrics: Option<Router>,
) -> Router {
    let body_limits = BodyLimits {
        max_bytes: limits.max_body_bytes,
        idle_timeout: limits.idle_timeout,
    };
    let request_metrics = state.metrics().clone();
    let route_list = generate_route_list(App);
    let split_manifest = assets.split_manifest();
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route(
            "/api/uploads",
            post(routes::uploads::upload).layer(from_fn(media_headers)),
        )
        .route(
            "/api/uploads/{id}/file",
            get(routes::uploads::file).layer(from_fn(media_headers)),
        )
        .route(
            "/api/elements/{id}/preview",
            get(routes::uploads::element_preview).layer(from_fn(media_headers)),
        )
        .route(
            "/api/tasks/{id}/result",
            get(routes::tasks::result).layer(from_fn(media_headers)),
        )
        .route("/s/{token}", get(routes::share::page))
        .route(
            "/s/{token}/video.mp4",
            get(routes::share::video).layer(from_fn(media_headers)),
        )
        .route("/api/events", get(routes::events::task_events))
        .route("/api/usage/charges.csv", get(routes::usage::member_csv))
        .route("/api/admin/usage.csv", get(routes::usage::team_csv))
        .route("/api/admin/audit.csv", get(routes::audit::csv))
        .route("/auth/oidc/start", get(routes::oidc::start))
        .route(
            app::backend::oidc::CALLBACK_PATH,
            get(routes::oidc::callback),
        )
        .route(
            "/media/{id}",
            get(routes::tasks::signed_media).layer(from_fn(media_headers)),
        )
        .route(
            "/hooks/evolink/{id}/{token}",
            post(routes::tasks::evolink_callback),
        )
        .leptos_routes_with_context(
            &leptos_options,
            route_list,
            // Pages of lazily loaded routes name their WASM chunks for preloading.
            move || {
                if let Some(manifest) = split_manifest.clone() {
                    provide_context(manifest);
                }
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(leptos_options)
        .layer(from_fn(middleware::guard_pages))
        .layer(from_fn(middleware::resolve_user))
        .layer(sessions)
        // The gateway authorises by bearer token alone: no session, no signed-in user.
        .merge(routes::gateway::router(gateway))
        .layer(Extension(state))
        .layer(Extension(event_slots))
        .layer(Extension(stopping))
        .layer(from_fn(middleware::refuse_cross_site))
        .layer(from_fn_with_state(
            trusted_proxies,
            middleware::client_address,
        ))
        .layer(from_fn_with_state(body_limits, bound_bodies))
        // The browser files need no session, user or body checks.
        .merge(asset_routes(assets))
        // Scrapers need no session either; without a token and its own address it is absent.
        .merge(metrics.unwrap_or_default())
        .layer(from_fn_with_state(request_metrics, middleware::request_log))
        // Pages and server-function answers are compressed as they stream; the browser files
        // come precompressed, pictures and video are compressed already, live updates are not.
        // Level 1, not the codecs' default: brotli's default (11) is meant for files compressed
        // once; even level 4 cost a signed-in page more than half of its throughput under load.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(ON_THE_FLY_COMPRESSION_LEVEL))
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("video/"))
                        .and(NotForContentType::const_new("audio/"))
                        .and(NotForContentType::const_new("application/octet-stream")),
                ),
        )
}

/// Brotli and gzip level for answers compressed as they are sent (the fastest; HTML still comes
/// out several times smaller).
const ON_THE_FLY_COMPRESSION_LEVEL: i32 = 1;

fn asset_routes(assets: Assets) -> Router {
    Router::new()
        .route("/assets/{version}/{file}", get(Assets::versioned))
        .route("/pkg/{file}", get(Assets::plain))
        .with_state(assets)
}
