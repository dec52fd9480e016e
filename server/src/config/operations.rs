//! Settings for running Kinema in production: who may scrape `/metrics` and where, and the log
//! format.

use std::net::SocketAddr;

use super::{invalid, ConfigError, Secret, Settings};

/// The shortest metrics token accepted (a guessable token would expose the metrics).
const MIN_TOKEN_LEN: usize = 16;

/// Where `/metrics` is served and what it asks for. Without a token and an address it is not
/// served at all.
#[derive(Clone, Debug, Default)]
pub struct MetricsConfig {
    /// Scrapers must send `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// A listen address of its own for `/metrics` (then the main address does not serve it).
    pub listen: Option<SocketAddr>,
}

impl MetricsConfig {
    /// True when `/metrics` is served on the main listen address (a token is set and no
    /// address of its own).
    pub fn on_main_listener(&self) -> bool {
        self.token.is_some() && self.listen.is_none()
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Reads the metrics settings.
pub(super) fn metrics_from_settings(settings: &Settings) -> Result<MetricsConfig, ConfigError> {
    let token = match settings
        .metrics_token
        .as_deref()
        .map(str::trim)
        .filter(|token| !token.is_empty())
    {
        None => None,
        Some(token) if token.len() < MIN_TOKEN_LEN || token.contains(char::is_whitespace) => {
            return Err(invalid(
                "KINEMA_METRICS_TOKEN",
                format!("must be at least {MIN_TOKEN_LEN} characters without spaces"),
            ))
        }
        Some(token) => Some(Secret::new(token)),
    };
    let listen = match settings
        .metrics_addr
        .as_deref()
        .map(str::trim)
        .filter(|addr| !addr.is_empty())
    {
        None => None,
        Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "KINEMA_METRICS_ADDR",
                format!("'{addr}' is not an address and port like 127.0.0.1:9100"),
            )
        })?),
    };
    Ok(MetricsConfig { token, listen })
}

/// Reads the log format: `text` (default) or `json`.
pub(super) fn log_format_from_settings(settings: &Settings) -> Result<LogFormat, ConfigError> {
    match settings
        .log_format
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(invalid(
            "KINEMA_LOG_FORMAT",
            format!("'{other}' is not a log format; use text or json"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_off_unless_a_token_or_an_address_is_set() {
        let off = metrics_from_settings(&Settings::default()).unwrap();
        assert!(off.token.is_none() && off.listen.is_none());
        assert!(!off.on_main_listener());
        let token = metrics_from_settings(&Settings {
            metrics_token: Some("a-long-enough-token".into()),
            ..Settings::default()
        })
        .unwrap();
        assert!(token.on_main_listener());
        assert_eq!(token.token.unwrap().expose(), "a-long-enough-token");
        let own = metrics_from_settings(&Settings {
            metrics_addr: Some("127.0.0.1:9100".into()),
            ..Settings::default()
        })
        .unwrap();
        assert!(!own.on_main_listener());
        assert_eq!(own.listen, Some("127.0.0.1:9100".parse().unwrap()));
        for (settings, variable) in [
            (
                Settings {
                    metrics_token: Some("short".into()),
                    ..Settings::default()
                },
                "KINEMA_METRICS_TOKEN",
            ),
            (
                Settings {
                    metrics_addr: Some("localhost".into()),
                    ..Settings::default()
                },
                "KINEMA_METRICS_ADDR",
            ),
        ] {
            assert_eq!(
                metrics_from_settings(&settings).unwrap_err().variable,
                variable
            );
        }
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        let format = |value: Option<&str>| {
            log_format_from_settings(&Settings {
                log_format: value.map(str::to_string),
                ..Settings::default()
            })
        };
        assert_eq!(format(None).unwrap(), LogFormat::Text);
        assert_eq!(format(Some("JSON")).unwrap(), LogFormat::Json);
        assert_eq!(
            format(Some("xml")).unwrap_err().variable,
            "KINEMA_LOG_FORMAT"
        );
    }
}
