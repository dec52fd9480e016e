//! Typed configuration, read once at start from flags with environment fallbacks (and `.env`).

use std::{fmt, net::SocketAddr, path::PathBuf};

use clap::Args;

use crate::assets::SiteSource;

mod limits;
mod oidc;
mod operations;
mod proxies;
mod storage;

pub use app::backend::storage::StorageSettings;
pub use app::backend::storage_policy::StoragePolicy;
pub use limits::Limits;
pub use oidc::OidcConfig;
pub use operations::{LogFormat, MetricsConfig};
pub use proxies::TrustedProxies;

/// A value that must never be printed: Debug and Display show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is sent to its one rightful receiver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The settings as given on the command line or in the environment, before validation.
#[derive(Args, Clone, Debug, Default)]
pub struct Settings {
    /// Database: `postgres://…` for PostgreSQL, `sqlite:PATH` for SQLite
    /// [default: a SQLite file `kinema.db` in the data dir]
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the SQLite database and stored media.
    #[arg(long, env = "KINEMA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address and port to listen on.
    #[arg(long, env = "KINEMA_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// The address people and the upstream reach Kinema at, e.g. https://kinema.example.com
    /// [default: http:// plus the listen address]
    #[arg(long, env = "KINEMA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The team's EvoLink API key; without it Kinema runs in sandbox mode against its built-in
    /// simulator.
    #[arg(long, env = "EVOLINK_API_KEY", hide_env_values = true)]
    pub evolink_api_key: Option<String>,
    /// EvoLink API base URL.
    #[arg(
        long,
        env = "EVOLINK_BASE_URL",
        default_value = "https://api.evolink.ai"
    )]
    pub evolink_base_url: String,
    /// EvoLink file service base URL.
    #[arg(
        long,
        env = "EVOLINK_FILES_BASE_URL",
        default_value = "https://files-api.evolink.ai"
    )]
    pub evolink_files_base_url: String,
    /// Seconds a sandbox task takes from submit to its final state.
    #[arg(long, env = "KINEMA_SANDBOX_TASK_SECONDS", default_value_t = 20.0)]
    pub sandbox_task_seconds: f64,
    /// How long a worker holds a task before another process may take it over (after a crash).
    #[arg(long, env = "KINEMA_TASK_LEASE_SECONDS", default_value_t = 60)]
    pub task_lease_seconds: u64,
    /// The most requests per second this process sends to EvoLink; polls of many running tasks
    /// are spaced to stay under it.
    #[arg(long, env = "KINEMA_UPSTREAM_RPS", default_value_t = 20)]
    pub upstream_rps: u32,
    /// Requests per minute each personal API token may make on the EvoLink-compatible gateway
    /// (more get 429 with Retry-After) [default: 300]
    #[arg(long, env = "KINEMA_GATEWAY_REQUESTS_PER_MINUTE")]
    pub gateway_requests_per_minute: Option<u32>,
    /// Longest pause between two polls of a running task while few are running; with many, each
    /// is polled at least every running tasks ÷ KINEMA_UPSTREAM_RPS seconds instead [default: 60]
    #[arg(long, env = "KINEMA_POLL_MAX_SECONDS")]
    pub poll_max_seconds: Option<u64>,
    /// For development: serve the browser files (`pkg/`) from this site directory, as `cargo
    /// leptos build` leaves it, instead of the ones built into the binary [default: the embedded
    /// files; `target/site` when the binary has none]
    #[arg(long, env = "KINEMA_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
    /// Time zone whose calendar months budgets follow (an IANA name).
    #[arg(long, env = "KINEMA_TIME_ZONE", default_value = "UTC")]
    pub time_zone: String,
    /// Credits one US dollar buys; when set, estimated dollars are shown next to credits.
    #[arg(long, env = "KINEMA_CREDITS_PER_USD")]
    pub credits_per_usd: Option<f64>,
    /// Log filter, e.g. `info` or `kinema_server=debug,info`.
    #[arg(long, env = "KINEMA_LOG", default_value = "info")]
    pub log: String,
    /// Log line format: `text` or `json` (one object per line, for log collectors)
    /// [default: text]
    #[arg(long, env = "KINEMA_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Serves `GET /metrics` (Prometheus) on the main address to scrapers that send
    /// `Authorization: Bearer <token>` (at least 16 characters) [default: not served]
    #[arg(long, env = "KINEMA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serves `GET /metrics` on this address of its own instead (e.g. 127.0.0.1:9100), and
    /// not on the main one; with a token set it is asked for there too [default: not served]
    #[arg(long, env = "KINEMA_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Largest request body in KB for everything but file uploads (server functions, callbacks);
    /// larger ones get 413 [default: 256]
    #[arg(long, env = "KINEMA_MAX_BODY_KB")]
    pub max_body_kb: Option<u64>,
    /// Seconds a connection may take to send a request's headers, and may sit idle between
    /// requests, before it is closed [default: 30]
    #[arg(long, env = "KINEMA_HEADER_TIMEOUT_SECONDS")]
    pub header_timeout_seconds: Option<u64>,
    /// Seconds a request body may stop arriving, or a client may stop reading an answer, before
    /// the connection is closed [default: 60]
    #[arg(long, env = "KINEMA_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    /// Live-update streams (open pages) one member may hold at once [default: 8]
    #[arg(long, env = "KINEMA_SSE_PER_MEMBER")]
    pub sse_per_member: Option<usize>,
    /// Live-update streams the whole server holds at once [default: 500]
    #[arg(long, env = "KINEMA_SSE_TOTAL")]
    pub sse_total: Option<usize>,
    /// Seconds a stop (SIGTERM, Ctrl-C) waits for requests in flight before exiting anyway
    /// [default: 5]
    #[arg(long, env = "KINEMA_SHUTDOWN_SECONDS")]
    pub shutdown_seconds: Option<u64>,
    /// Reverse proxies whose X-Forwarded-For is believed: comma-separated CIDRs or addresses,
    /// e.g. `10.0.0.0/8,::1` [default: none; the client address is the connection's peer]
    #[arg(long, env = "KINEMA_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Hours an upload no task or element uses is kept before it is removed [default: 168]
    #[arg(long, env = "KINEMA_UPLOAD_RETENTION_HOURS")]
    pub upload_retention_hours: Option<u64>,
    /// MB of uploads one member may have stored; more is refused [default: 2048]
    #[arg(long, env = "KINEMA_UPLOAD_QUOTA_MB")]
    pub upload_quota_mb: Option<f64>,
    /// Single sign-on: the OpenID Connect issuer (its discovery document is read from it)
    /// [default: password sign-in only]
    #[arg(long, env = "KINEMA_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// Single sign-on: Kinema's client id at the provider.
    #[arg(long, env = "KINEMA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// Single sign-on: Kinema's client secret at the provider.
    #[arg(long, env = "KINEMA_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// Single sign-on: comma-separated email domains whose people may join on their first
    /// sign-in [default: none; only people with an invite for their email]
    #[arg(long, env = "KINEMA_OIDC_ALLOWED_DOMAINS")]
    pub oidc_allowed_domains: Option<String>,
    /// Single sign-on: people in this group join as admins [default: none]
    #[arg(long, env = "KINEMA_OIDC_ADMIN_GROUP")]
    pub oidc_admin_group: Option<String>,
    /// Single sign-on: the ID token claim listing the person's groups [default: groups]
    #[arg(long, env = "KINEMA_OIDC_GROUPS_CLAIM")]
    pub oidc_groups_claim: Option<String>,
    /// Single sign-on: the provider's name on the sign-in button [default: the issuer's host]
    #[arg(long, env = "KINEMA_OIDC_PROVIDER_NAME")]
    pub oidc_provider_name: Option<String>,
    /// Where media is stored: `local` (the data dir) or `s3://BUCKET[/PREFIX]` (an S3-compatible
    /// bucket reached with the AWS_* settings below) [default: local]
    #[arg(long, env = "KINEMA_STORAGE")]
    pub storage: Option<String>,
    /// Hours the input URLs handed to EvoLink work (presigned with S3, signed /media URLs on
    /// local disk) [default: 6]
    #[arg(long, env = "KINEMA_INPUT_URL_HOURS")]
    pub input_url_hours: Option<u64>,
    /// With S3: send result playback and downloads to a short-lived presigned bucket URL
    /// instead of passing the bytes through Kinema (the bucket must be reachable by browsers)
    #[arg(long, env = "KINEMA_RESULT_REDIRECT")]
    pub result_redirect: bool,
    /// S3 access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub aws_access_key_id: Option<String>,
    /// S3 secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub aws_secret_access_key: Option<String>,
    /// S3 region [default: us-east-1]
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,
    /// S3 endpoint for non-AWS servers, e.g. http://127.0.0.1:9000 [default: AWS]
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// Allows a plain http:// S3 endpoint.
    #[arg(long, env = "AWS_ALLOW_HTTP")]
    pub aws_allow_http: bool,
}

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: Secret,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Explicit public URL (no trailing slash); when `None` it is derived from the bound address.
    pub public_url: Option<String>,
    pub evolink_api_key: Option<Secret>,
    pub evolink_base_url: String,
    pub evolink_files_base_url: String,
    pub sandbox_task_seconds: f64,
    pub task_lease_seconds: u64,
    pub upstream_rps: u32,
    /// Requests per minute per API token on the gateway.
    pub gateway_requests_per_minute: u32,
    /// Longest pause between two polls of a running task while few are running.
    pub poll_max: std::time::Duration,
    /// Where the browser files come from.
    pub site: SiteSource,
    pub log: String,
    /// Text or JSON log lines.
    pub log_format: LogFormat,
    /// Who may scrape `/metrics`, and where.
    pub metrics: MetricsConfig,
    /// An IANA zone name, checked at start.
    pub time_zone: String,
    pub credits_per_usd: Option<f64>,
    /// Bounds on requests, connections and stopping.
    pub limits: Limits,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Upload retention and quota.
    pub storage: StoragePolicy,
    /// Single sign-on, when configured.
    pub oidc: Option<OidcConfig>,
    /// Where media is stored and how its URLs behave.
    pub media: StorageSettings,
}

/// A configuration value that stops start-up; its Display is one line naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn check_http_url(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(value)
        .map_err(|err| invalid(variable, format!("'{value}' is not a URL ({err})")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            variable,
            format!("'{value}' must be an http:// or https:// address"),
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

impl Config {
    /// Validates the settings.
    pub fn from_settings(settings: Settings) -> Result<Config, ConfigError> {
        let limits = Limits::from_settings(&settings)?;
        let trusted_proxies =
            TrustedProxies::parse(settings.trusted_proxies.as_deref().unwrap_or_default())?;
        let storage = storage::from_settings(&settings)?;
        let media = storage::media_from_settings(&settings)?;
        let metrics = operations::metrics_from_settings(&settings)?;
        let oidc = oidc::from_settings(&settings)?;
        let log_format = operations::log_format_from_settings(&settings)?;
        let listen: SocketAddr = settings.listen.parse().map_err(|_| {
            invalid(
                "KINEMA_LISTEN",
                format!(
                    "'{}' is not an address and port like 127.0.0.1:3000",
                    settings.listen
                ),
            )
        })?;
        let database_url = match settings.database_url.filter(|url| !url.trim().is_empty()) {
            Some(url)
                if url.starts_with("sqlite:") || app::backend::store::is_postgres_url(&url) =>
            {
                url
            }
            Some(_) => {
                return Err(invalid(
                    "DATABASE_URL",
                    "must start with postgres://, postgresql:// or sqlite:",
                ))
            }
            None => format!(
                "sqlite://{}",
                settings.data_dir.join("kinema.db").to_string_lossy()
            ),
        };
        let public_url = settings
            .public_url
            .filter(|url| !url.trim().is_empty())
            .map(|url| check_http_url("KINEMA_PUBLIC_URL", &url))
            .transpose()?;
        let evolink_base_url = check_http_url("EVOLINK_BASE_URL", &settings.evolink_base_url)?;
        let evolink_files_base_url =
            check_http_url("EVOLINK_FILES_BASE_URL", &settings.evolink_files_base_url)?;
        let evolink_api_key = settings
            .evolink_api_key
            .map(|key| key.trim().to_string())
            .filter(|key| !key.is_empty())
            .map(Secret::new);
        if !(settings.sandbox_task_seconds.is_finite() && settings.sandbox_task_seconds >= 0.0) {
            return Err(invalid(
                "KINEMA_SANDBOX_TASK_SECONDS",
                "must be a number of seconds, 0 or more",
            ));
        }
        if settings.task_lease_seconds == 0 {
            return Err(invalid("KINEMA_TASK_LEASE_SECONDS", "must be at least 1"));
        }
        if settings.upstream_rps == 0 {
            return Err(invalid("KINEMA_UPSTREAM_RPS", "must be at least 1"));
        }
        let gateway_requests_per_minute = settings
            .gateway_requests_per_minute
            .unwrap_or(app::backend::gateway::DEFAULT_REQUESTS_PER_MINUTE as u32);
        if gateway_requests_per_minute == 0 {
            return Err(invalid(
                "KINEMA_GATEWAY_REQUESTS_PER_MINUTE",
                "must be at least 1",
            ));
        }
        let poll_max_seconds = settings.poll_max_seconds.unwrap_or(60);
        if !(1..=3600).contains(&poll_max_seconds) {
            return Err(invalid(
                "KINEMA_POLL_MAX_SECONDS",
                "must be between 1 and 3600 seconds",
            ));
        }
        let time_zone = if settings.time_zone.trim().is_empty() {
            "UTC".to_string()
        } else {
            settings.time_zone.trim().to_string()
        };
        app::backend::billing::parse_time_zone(&time_zone)
            .map_err(|message| invalid("KINEMA_TIME_ZONE", message))?;
        if let Some(rate) = settings.credits_per_usd {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(invalid(
                    "KINEMA_CREDITS_PER_USD",
                    "must be a positive number of credits per US dollar",
                ));
            }
        }
        if settings.data_dir.as_os_str().is_empty() {
            return Err(invalid("KINEMA_DATA_DIR", "must not be empty"));
        }
        Ok(Config {
            database_url: Secret::new(database_url),
            data_dir: settings.data_dir,
            listen,
            public_url,
            evolink_api_key,
            evolink_base_url,
            evolink_files_base_url,
            sandbox_task_seconds: settings.sandbox_task_seconds,
            task_lease_seconds: settings.task_lease_seconds,
            upstream_rps: settings.upstream_rps,
            gateway_requests_per_minute,
            poll_max: std::time::Duration::from_secs(poll_max_seconds),
            site: SiteSource::choose(settings.site_root),
            log: settings.log,
            log_format,
            metrics,
            time_zone,
            credits_per_usd: settings.credits_per_usd,
            limits,
            oidc,
            trusted_proxies,
            storage,
            media,
        })
    }

    /// True when no EvoLink key is set.
    pub fn sandbox(&self) -> bool {
        self.evolink_api_key.is_none()
    }

    /// The public URL, or one derived from the address actually bound.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = if bound.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else if bound.is_ipv6() {
            format!("[{}]", bound.ip())
        } else {
            bound.ip().to_string()
        };
        format!("http://{host}:{}", bound.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            data_dir: "./data".into(),
            listen: "127.0.0.1:3000".into(),
            evolink_base_url: "https://api.evolink.ai".into(),
            evolink_files_base_url: "https://files-api.evolink.ai".into(),
            site_root: None,
            log: "info".into(),
            sandbox_task_seconds: 20.0,
            task_lease_seconds: 60,
            upstream_rps: 20,
            time_zone: "UTC".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn defaults_give_sqlite_in_the_data_dir_and_sandbox() {
        let config = Config::from_settings(settings()).unwrap();
        assert_eq!(config.database_url.expose(), "sqlite://./data/kinema.db");
        assert!(config.sandbox());
        assert_eq!(config.upstream_rps, 20);
        assert_eq!(config.poll_max, std::time::Duration::from_secs(60));
        assert_eq!(
            config.public_url_for("127.0.0.1:3000".parse().unwrap()),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            config.public_url_for("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let err = Config::from_settings(Settings {
            listen: "nonsense".into(),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(err.variable, "KINEMA_LISTEN");
        assert!(err
            .to_string()
            .starts_with("invalid configuration: KINEMA_LISTEN:"));
        let err = Config::from_settings(Settings {
            database_url: Some("mysql://x".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
        let err = Config::from_settings(Settings {
            public_url: Some("ftp://x".into()),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(err.variable, "KINEMA_PUBLIC_URL");
        let err = Config::from_settings(Settings {
            time_zone: "Atlantis/Capital".into(),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(err.variable, "KINEMA_TIME_ZONE");
        let err = Config::from_settings(Settings {
            credits_per_usd: Some(0.0),
            ..settings()
        })
        .unwrap_err();
        assert_eq!(err.variable, "KINEMA_CREDITS_PER_USD");
        for (rps, poll_max, variable) in [
            (0, None, "KINEMA_UPSTREAM_RPS"),
            (20, Some(0), "KINEMA_POLL_MAX_SECONDS"),
            (20, Some(3601), "KINEMA_POLL_MAX_SECONDS"),
        ] {
            let err = Config::from_settings(Settings {
                upstream_rps: rps,
                poll_max_seconds: poll_max,
                ..settings()
            })
            .unwrap_err();
            assert_eq!(err.variable, variable);
        }
        let config = Config::from_settings(Settings {
            time_zone: "Europe/Berlin".into(),
            credits_per_usd: Some(100.0),
            ..settings()
        })
        .unwrap();
        assert_eq!(config.time_zone, "Europe/Berlin");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let config = Config::from_settings(Settings {
            evolink_api_key: Some("sk-very-secret".into()),
            database_url: Some("postgres://user:pw-secret@localhost/db".into()),
            metrics_token: Some("metrics-token-secret".into()),
            oidc_issuer: Some("https://idp.example.com".into()),
            oidc_client_id: Some("kinema".into()),
            oidc_client_secret: Some("oidc-client-secret".into()),
            ..settings()
        })
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("oidc-client-secret"));
        assert!(
            !format!("{:?}", config.oidc.as_ref().unwrap().app_settings())
                .contains("oidc-client-secret")
        );
        assert!(!shown.contains("sk-very-secret"));
        assert!(!shown.contains("pw-secret"));
        assert!(!shown.contains("metrics-token-secret"));
        assert!(shown.contains("[redacted]"));
        assert!(!config.sandbox());
    }
}
