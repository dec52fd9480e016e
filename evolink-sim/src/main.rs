//! `evolink-sim`: the EvoLink simulator as a standalone HTTP server.

use std::{net::SocketAddr, time::Duration};

use clap::Parser;

use evolink_sim::{RunningSimulator, SimulatorConfig};

/// A faithful EvoLink simulator (API and file service on one address) with fault injection at
/// /__sim/faults, counters at /__sim/stats and early link expiry at /__sim/expire-results.
#[derive(Parser, Debug)]
#[command(name = "evolink-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4010")]
    listen: SocketAddr,
    /// The only API key accepted.
    #[arg(
        long,
        env = "EVOLINK_SIM_API_KEY",
        hide_env_values = true,
        default_value = "sim-key"
    )]
    api_key: String,
    /// Seconds a task takes from create to its final state (fractions allowed).
    #[arg(long, default_value_t = 20.0)]
    task_seconds: f64,
    /// Seconds result links work after completion.
    #[arg(long, default_value_t = 86_400)]
    result_ttl_seconds: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !(args.task_seconds.is_finite() && args.task_seconds >= 0.0) {
        eprintln!("invalid --task-seconds: must be a non-negative number");
        std::process::exit(2);
    }
    let mut config = SimulatorConfig::new(args.api_key, Duration::from_secs_f64(args.task_seconds));
    config.result_ttl = Duration::from_secs(args.result_ttl_seconds);
    let sim = match RunningSimulator::start(config, args.listen).await {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", args.listen);
            std::process::exit(1);
        }
    };
    // Listen for signals before announcing the address, so a stop right after start is clean.
    let stop = stop_signal();
    println!("EvoLink simulator listening at {}", sim.base_url);
    stop.await;
    sim.stop().await;
}

/// Completes on SIGINT or SIGTERM. The handlers are installed on the call, before the address is
/// announced, so a signal right after start-up is not missed.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
