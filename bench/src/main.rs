//! `kinema-bench`: measures a release `kinema-server` from outside. Prints upload throughput and
//! the server's memory growth for a large video, and the time from the simulator finishing a task
//! to the history showing it. A dev tool: it is not part of the production binary.

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
    if let Err(message) = measure::run(&server, args.size_mb.clamp(1, 100), args.tasks).await {
        eprintln!("bench failed: {message}");
        std::process::exit(1);
    }
}
