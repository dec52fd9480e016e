//! The `kinema-server` binary.

use std::time::Duration;

use clap::Parser;

use kinema_server::{
    cli::{run_command, Cli, Command},
    config::Config,
    signals::stop_signal,
    startup::Application,
    telemetry,
};

/// How long blocking work (a file probe, a password hash) may hold up the exit once everything
/// else has stopped; threads still busy after this are abandoned.
const BLOCKING_WORK_GRACE: Duration = Duration::from_secs(1);

fn main() {
    // At least two workers even on one core: with one, Leptos' server rendering can lose a
    // wake-up and leave a page half-sent (leptos-rs/leptos#4647).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::exit(1);
        }
    };
    runtime.block_on(run());
    // Dropping the runtime would wait for every blocking thread, for ever if one is stuck.
    runtime.shutdown_timeout(BLOCKING_WORK_GRACE);
}

async fn run() {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_settings(cli.settings) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    telemetry::init(&config.log, config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        command => match run_command(&config, command).await {
            Ok(message) => println!("{message}"),
            Err(message) => {
                eprintln!("error: {message}");
                std::process::exit(1);
            }
        },
    }
}

async fn serve(config: Config) {
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    };
    let stop = stop_signal();
    tracing::info!(address = %app.local_addr(), "listening");
    println!("Kinema is running at {}", app.public_url());
    if let Err(err) = app.run_until_stopped(stop).await {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
    tracing::info!("stopped");
}
