//! `kinema-bench`: measures a release `kinema-server` from outside. Prints upload throughput and
//! the server's memory growth for a large video, the time from the simulator finishing a task
//! to the history showing it, and how the engine copes with thousands of running tasks (requests
//! per second against the ceiling, poll gaps against the promised bound, memory, page latency).
//! A dev tool: it is not part of the production binary.

mod engine;
mod measure;
mod pages;

use std::path::PathBuf;

use clap::Parser;

/// Measure upload throughput and memory, and task-to-history latency, of a kinema-server binary
/// against the EvoLink simulator.
#[derive(Parser, Debug)]
#[command(name = "kinema-bench", version)]
struct Args {
    /// Size of the uploaded video in MB (at most 100).
    #[arg(long, default_value_t = 100)]
    size_mb: u64,
    /// Tasks to time from the simulator finishing to the history showing them.
    #[arg(long, default_value_t = 5)]
    tasks: usize,
    /// Running tasks for the engine scenario (0 skips it; 10000 for the full version).
    #[arg(long, default_value_t = 2_000)]
    engine_tasks: usize,
    /// The server's request ceiling (KINEMA_UPSTREAM_RPS) in the engine scenario.
    #[arg(long, default_value_t = 100)]
    engine_rps: u32,
    /// The server's KINEMA_POLL_MAX_SECONDS in the engine scenario.
    #[arg(long, default_value_t = 10)]
    engine_poll_max: u64,
    /// Seconds the engine scenario watches the engine.
    #[arg(long, default_value_t = 25)]
    engine_seconds: u64,
    /// Run only the engine scenario.
    #[arg(long)]
    engine_only: bool,
    /// The kinema-server binary to measure; by default the one next to this program (the same
    /// cargo profile directory, so build it first, e.g. with scripts/build.sh).
    #[arg(long, env = "KINEMA_SERVER_BIN")]
    server: Option<PathBuf>,
}

/// `kinema-server` in the directory of this executable.
fn sibling_server() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let dir = exe.parent().ok_or("this program has no parent directory")?;
    Ok(dir.join("kinema-server"))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let server = match args.server.map(Ok).unwrap_or_else(sibling_server) {
        Ok(server) if server.is_file() => server,
        Ok(server) => {
            eprintln!(
                "bench failed: no kinema-server binary at {}; build it (scripts/build.sh) or pass --server",
                server.display()
            );
            std::process::exit(2);
        }
        Err(message) => {
            eprintln!("bench failed: {message}");
            std::process::exit(2);
        }
    };
    if !args.engine_only {
        if let Err(message) = measure::run(&server, args.size_mb.clamp(1, 100), args.tasks).await {
            eprintln!("bench failed: {message}");
            std::process::exit(1);
        }
    }
    if args.engine_tasks > 0 {
        let run = engine::EngineRun {
            tasks: args.engine_tasks,
            rps: args.engine_rps.max(1),
            poll_max_seconds: args.engine_poll_max.clamp(1, 3600),
            seconds: args.engine_seconds.max(1),
        };
        let work = std::env::temp_dir().join(format!("kinema-bench-engine-{}", std::process::id()));
        let outcome = match std::fs::create_dir_all(&work) {
            Ok(()) => engine::run(&server, &work, run).await,
            Err(err) => Err(err.to_string()),
        };
        let _ = std::fs::remove_dir_all(&work);
        if let Err(message) = outcome {
            eprintln!("bench failed: {message}");
            std::process::exit(1);
        }
    }
}
