//! A faithful EvoLink simulator: a real HTTP server speaking the upstream contract
//! (`docs/upstream.md`) for both models, task queries, credits and the file service, with
//! fault injection for tests. Runs as the `evolink-sim` binary or in-process (sandbox mode).
//! Unlike the real service it accepts loopback input and callback URLs, since tests run on one
//! machine.

mod api;
mod callbacks;
mod clock;
mod control;
mod files;
mod load;
mod media;
mod pricing;
mod reported;
mod state;
mod validate;

use std::{net::SocketAddr, time::Duration};

use axum::{
    extract::DefaultBodyLimit,
    routing::{get, post},
    Router,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use load::LoadReport;
use state::SimState;
pub use state::{Faults, SimStats};

/// How the simulator behaves.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// The only key it accepts.
    pub api_key: String,
    /// Time from create to the final state.
    pub task_duration: Duration,
    /// How long result URLs work after completion.
    pub result_ttl: Duration,
    /// How long uploaded files are served.
    pub file_ttl: Duration,
    /// Credits on the simulated account at start.
    pub starting_balance: f64,
    /// Per-attempt callback timeout.
    pub callback_timeout: Duration,
    /// Pauses before the callback retries.
    pub callback_retry_delays: Vec<Duration>,
}

impl SimulatorConfig {
    /// The documented behaviour, with the given key and task duration.
    pub fn new(api_key: impl Into<String>, task_duration: Duration) -> SimulatorConfig {
        SimulatorConfig {
            api_key: api_key.into(),
            task_duration,
            result_ttl: Duration::from_secs(24 * 3600),
            file_ttl: Duration::from_secs(72 * 3600),
            starting_balance: 10_000.0,
            callback_timeout: Duration::from_secs(10),
            callback_retry_delays: vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4),
            ],
        }
    }
}

/// A running simulator.
pub struct RunningSimulator {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://addr`, the base URL of both the API and the file service.
    pub base_url: String,
    state: SimState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl RunningSimulator {
    /// Binds `listen` and serves until stopped or dropped.
    pub async fn start(
        config: SimulatorConfig,
        listen: SocketAddr,
    ) -> std::io::Result<RunningSimulator> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let state = SimState::new(config, base_url.clone());
        let router = router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(RunningSimulator {
            addr,
            base_url,
            state,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// Counters and the last bodies seen.
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// Replaces the active faults.
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// Requests per second and the gaps between reads of each task, since the last reset.
    pub fn load(&self) -> LoadReport {
        self.state.load_report()
    }

    /// Counts requests and reads afresh from now.
    pub fn reset_load(&self) {
        self.state.data().load.reset(clock::unix_millis());
    }

    /// Adds `count` running motion tasks that finish after `duration`, as if created through
    /// the API (for load tests); returns their ids.
    pub fn seed_running_tasks(&self, count: usize, duration: Duration) -> Vec<String> {
        api::seed_tasks(&self.state, count, duration)
    }

    /// Stops serving.
    pub async fn stop(mut self) {
        self.state.stop_hanging();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for RunningSimulator {
    fn drop(&mut self) {
        self.state.stop_hanging();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn router(state: SimState) -> Router {
    // The API and the file service: each request is counted for the load report.
    let api = Router::new()
        .route("/v1/videos/generations", post(api::create))
        .route("/v1/tasks/{task_id}", get(api::get_task))
        .route("/v1/credits", get(api::credits))
        .route("/api/v1/files/upload/stream", post(files::upload_stream))
        .route("/api/v1/files/quota", get(files::quota))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            load::count,
        ));
    Router::new()
        .merge(api)
        .route("/files/{*path}", get(files::serve_file))
        .route("/results/{file}", get(files::serve_result))
        .route(
            "/__sim/faults",
            post(control::set_faults).get(control::get_faults),
        )
        .route("/__sim/stats", get(control::stats))
        .route("/__sim/load", get(load::report))
        .route("/__sim/load/reset", post(load::reset))
        .route("/__sim/expire-results", post(control::expire_results))
        .route("/__sim/expire-files", post(control::expire_files))
        .layer(DefaultBodyLimit::max(110 * 1024 * 1024))
        .with_state(state)
}
