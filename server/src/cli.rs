//! The command line: serve (default), and headless account commands.

use std::io::BufRead;

use clap::{Parser, Subcommand};

use app::backend::{
    accounts,
    audit::{Actor, Origin},
    sign_in_methods,
    storage::{load_signing_key, Storage},
    store::Store,
    tasks::EngineSettings,
    tokens, AppState,
};
use app::rules::audit::AuditAction;

use crate::config::{Config, Settings};

/// Kinema: a team studio for Kling 3.0 Motion Control and Custom Elements through EvoLink.
#[derive(Parser, Debug)]
#[command(name = "kinema-server", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

/// What to do.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run Kinema (the default).
    Serve,
    /// Create an admin account without the web setup page. The password is read from
    /// KINEMA_NEW_PASSWORD or, if unset, from the first line of standard input.
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
    },
    /// Set a new password for an account and end all its sessions. The password is read like
    /// for create-admin.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Create a personal API token for a member (for headless setups) and print it. It is
    /// shown only this once.
    CreateToken {
        #[arg(long)]
        username: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// full (default), motion, elements or read_only.
        #[arg(long, default_value = "")]
        scope: String,
        /// Days until it expires; none by default.
        #[arg(long, default_value = "")]
        expires_in_days: String,
    },
    /// Switch password sign-in back on (after an admin switched it off for single sign-on),
    /// e.g. when the identity provider is down or no admin can sign in through it. Takes
    /// effect at once, also on running instances.
    AllowPasswordSignIn,
    /// Copy the SQLite database to a new file while Kinema runs (a consistent copy of one
    /// moment). PostgreSQL: use pg_dump. Copy the data dir's media folder as well.
    Backup {
        /// The backup file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a backup made by `backup` in place as the SQLite database of a data dir that has
    /// none yet; run it with Kinema stopped. PostgreSQL: use pg_restore.
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: std::path::PathBuf,
    },
}

/// Reads the new password from `KINEMA_NEW_PASSWORD` or standard input.
fn read_new_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("KINEMA_NEW_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| format!("cannot read the password from standard input: {err}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs a headless command (accounts, backup, restore) against the configured database.
pub async fn run_command(config: &Config, command: Command) -> Result<String, String> {
    match command {
        Command::Backup { to } => crate::backup::backup(config, &to).await,
        Command::Restore { from } => crate::backup::restore(config, &from).await,
        command => run_account_command(config, command).await,
    }
}

/// Runs an account command against the configured database.
pub async fn run_account_command(config: &Config, command: Command) -> Result<String, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|err| format!("cannot create the data directory: {err}"))?;
    let store = Store::connect(config.database_url.expose())
        .await
        .map_err(|err| format!("cannot open the database: {err}"))?;
    let state = AppState::new(
        store.clone(),
        String::new(),
        config.sandbox(),
        None,
        Storage::open(
            &config.data_dir,
            config.media.clone(),
            load_signing_key(&store, &config.data_dir)
                .await
                .map_err(|err| err.to_string())?,
        )
        .await
        .map_err(|err| err.to_string())?,
        EngineSettings::default(),
    );
    let outcome = match command {
        Command::Serve | Command::Backup { .. } | Command::Restore { .. } => Ok(String::new()),
        Command::CreateAdmin {
            username,
            display_name,
        } => {
            let password = read_new_password()?;
            let form = accounts::AccountForm::parse(&username, &display_name, &password, &password)
                .map_err(|err| err.to_string())?;
            accounts::create_admin(&state, form)
                .await
                .map(|user| format!("Created admin '{}'.", user.username))
                .map_err(|err| err.to_string())
        }
        Command::ResetPassword { username } => {
            let password = read_new_password()?;
            accounts::reset_password(&state, &username, &password)
                .await
                .map(|()| format!("Password of '{username}' changed; their sessions were ended."))
                .map_err(|err| err.to_string())
        }
        Command::CreateToken {
            username,
            name,
            scope,
            expires_in_days,
        } => create_token(&state, &username, &name, &scope, &expires_in_days).await,
        Command::AllowPasswordSignIn => allow_password_sign_in(&state).await,
    };
    store.close().await;
    outcome
}

/// Creates a token for an enabled member; the output is the token alone, so scripts can take it.
async fn create_token(
    state: &AppState,
    username: &str,
    name: &str,
    scope: &str,
    expires_in_days: &str,
) -> Result<String, String> {
    let user = state
        .store()
        .user_by_username(username)
        .await
        .map_err(|err| err.to_string())?
        .filter(|user| !user.disabled)
        .ok_or_else(|| format!("There is no enabled member '{username}'."))?;
    // Made on the server's own command line: no client address or request behind it.
    let actor = Actor::member(&user, &Origin::default());
    tokens::create_token(state, &actor, &user, name, scope, expires_in_days)
        .await
        .map(|created| created.token)
        .map_err(|err| err.to_string())
}

/// Switches password sign-in back on, recorded in the audit log as the command line's doing.
async fn allow_password_sign_in(state: &AppState) -> Result<String, String> {
    let entry = Actor::unknown("kinema-server command line", &Origin::default()).entry(
        AuditAction::SettingsChanged,
        sign_in_methods::PASSWORD_SIGN_IN_TARGET,
        "on",
        state.clock().now_ms(),
    );
    state
        .store()
        .set_password_sign_in(true, app::backend::now_unix(), &entry)
        .await
        .map(|()| "Password sign-in is on again.".to_string())
        .map_err(|err| err.to_string())
}
