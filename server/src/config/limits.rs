//! Bounds on requests, connections and stopping, read from the settings.

use std::time::Duration;

use super::{invalid, ConfigError, Settings};

/// How much any one request or connection may take: body sizes, timeouts, live streams, and how
/// long a stop waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest body of a request that is not a file upload.
    pub max_body_bytes: usize,
    /// Longest wait for a request's headers, including idle time between requests.
    pub header_timeout: Duration,
    /// Longest pause in a request body, or in a client reading an answer.
    pub idle_timeout: Duration,
    /// Live-update streams per member.
    pub sse_per_member: usize,
    /// Live-update streams in all.
    pub sse_total: usize,
    /// Longest wait for requests in flight once a stop was asked for.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 256 * 1024,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            sse_per_member: 8,
            sse_total: 500,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Reads the limits from the settings; unset values take their defaults.
    pub(super) fn from_settings(settings: &Settings) -> Result<Limits, ConfigError> {
        let defaults = Limits::default();
        let seconds = |value: Option<u64>,
                       variable: &'static str,
                       range: std::ops::RangeInclusive<u64>,
                       default: Duration| {
            match value {
                None => Ok(default),
                Some(value) if range.contains(&value) => Ok(Duration::from_secs(value)),
                Some(_) => Err(invalid(
                    variable,
                    format!(
                        "must be between {} and {} seconds",
                        range.start(),
                        range.end()
                    ),
                )),
            }
        };
        let max_body_bytes = match settings.max_body_kb {
            None => defaults.max_body_bytes,
            Some(kb @ 1..=65_536) => kb as usize * 1024,
            Some(_) => return Err(invalid("KINEMA_MAX_BODY_KB", "must be between 1 and 65536")),
        };
        let count = |value: Option<usize>, variable: &'static str, default: usize| match value {
            None => Ok(default),
            Some(value @ 1..=1_000_000) => Ok(value),
            Some(_) => Err(invalid(variable, "must be between 1 and 1000000")),
        };
        Ok(Limits {
            max_body_bytes,
            header_timeout: seconds(
                settings.header_timeout_seconds,
                "KINEMA_HEADER_TIMEOUT_SECONDS",
                1..=3600,
                defaults.header_timeout,
            )?,
            idle_timeout: seconds(
                settings.idle_timeout_seconds,
                "KINEMA_IDLE_TIMEOUT_SECONDS",
                1..=3600,
                defaults.idle_timeout,
            )?,
            sse_per_member: count(
                settings.sse_per_member,
                "KINEMA_SSE_PER_MEMBER",
                defaults.sse_per_member,
            )?,
            sse_total: count(settings.sse_total, "KINEMA_SSE_TOTAL", defaults.sse_total)?,
            shutdown_grace: seconds(
                settings.shutdown_seconds,
                "KINEMA_SHUTDOWN_SECONDS",
                0..=600,
                defaults.shutdown_grace,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_have_defaults_and_refuse_zero_or_absurd_values() {
        let config = Limits::from_settings(&Settings::default()).unwrap();
        assert_eq!(config, Limits::default());
        assert_eq!(config.max_body_bytes, 256 * 1024);
        let config = Limits::from_settings(&Settings {
            max_body_kb: Some(64),
            header_timeout_seconds: Some(2),
            idle_timeout_seconds: Some(3),
            sse_per_member: Some(2),
            sse_total: Some(10),
            shutdown_seconds: Some(0),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            config,
            Limits {
                max_body_bytes: 64 * 1024,
                header_timeout: Duration::from_secs(2),
                idle_timeout: Duration::from_secs(3),
                sse_per_member: 2,
                sse_total: 10,
                shutdown_grace: Duration::ZERO,
            }
        );
        for (settings, variable) in [
            (
                Settings {
                    max_body_kb: Some(0),
                    ..Settings::default()
                },
                "KINEMA_MAX_BODY_KB",
            ),
            (
                Settings {
                    header_timeout_seconds: Some(0),
                    ..Settings::default()
                },
                "KINEMA_HEADER_TIMEOUT_SECONDS",
            ),
            (
                Settings {
                    idle_timeout_seconds: Some(u64::MAX),
                    ..Settings::default()
                },
                "KINEMA_IDLE_TIMEOUT_SECONDS",
            ),
            (
                Settings {
                    sse_per_member: Some(0),
                    ..Settings::default()
                },
                "KINEMA_SSE_PER_MEMBER",
            ),
            (
                Settings {
                    sse_total: Some(0),
                    ..Settings::default()
                },
                "KINEMA_SSE_TOTAL",
            ),
            (
                Settings {
                    shutdown_seconds: Some(601),
                    ..Settings::default()
                },
                "KINEMA_SHUTDOWN_SECONDS",
            ),
        ] {
            assert_eq!(
                Limits::from_settings(&settings).unwrap_err().variable,
                variable
            );
        }
    }
}
