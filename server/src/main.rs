//! The `kinema-server` binary.

use clap::Parser;

use kinema_server::{
    cli::{run_account_command, Cli, Command},
    config::Config,
    startup::Application,
    telemetry,
};

#[tokio::main]
async fn main() {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_settings(cli.settings) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    telemetry::init(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        command => match run_account_command(&config, command).await {
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
    tracing::info!(address = %app.local_addr(), "listening");
    println!("Kinema is running at {}", app.public_url());
    if let Err(err) = app.run_until_stopped(shutdown_signal()).await {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
    tracing::info!("stopped");
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
