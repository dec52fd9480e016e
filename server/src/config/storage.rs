//! How long unused uploads are kept and how much one member may store, read from the settings.

use std::time::Duration;

use app::backend::storage_policy::StoragePolicy;

use super::{invalid, ConfigError, Settings};

/// The longest retention accepted: ten years.
const MAX_RETENTION_HOURS: u64 = 10 * 366 * 24;
/// The largest quota accepted: ten million MB (about 10 TB).
const MAX_QUOTA_MB: f64 = 10_000_000.0;

/// Reads the storage policy; unset values take their defaults (7 days, 2048 MB).
pub(super) fn from_settings(settings: &Settings) -> Result<StoragePolicy, ConfigError> {
    let defaults = StoragePolicy::default();
    let upload_retention = match settings.upload_retention_hours {
        None => defaults.upload_retention,
        Some(hours @ 1..=MAX_RETENTION_HOURS) => Duration::from_secs(hours * 3600),
        Some(_) => {
            return Err(invalid(
                "KINEMA_UPLOAD_RETENTION_HOURS",
                format!("must be between 1 and {MAX_RETENTION_HOURS} hours"),
            ))
        }
    };
    let upload_quota_bytes = match settings.upload_quota_mb {
        None => defaults.upload_quota_bytes,
        Some(mb) if mb.is_finite() && mb > 0.0 && mb <= MAX_QUOTA_MB => {
            (mb * 1024.0 * 1024.0).round().max(1.0) as u64
        }
        Some(_) => {
            return Err(invalid(
                "KINEMA_UPLOAD_QUOTA_MB",
                "must be a number of MB above 0 and at most 10000000",
            ))
        }
    };
    Ok(StoragePolicy {
        upload_retention,
        upload_quota_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_storage_policy_has_defaults_and_refuses_zero_or_absurd_values() {
        let policy = from_settings(&Settings::default()).unwrap();
        assert_eq!(policy.upload_retention, Duration::from_secs(168 * 3600));
        assert_eq!(policy.upload_quota_bytes, 2048 * 1024 * 1024);
        let policy = from_settings(&Settings {
            upload_retention_hours: Some(2),
            upload_quota_mb: Some(0.5),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(policy.upload_retention, Duration::from_secs(7200));
        assert_eq!(policy.upload_quota_bytes, 512 * 1024);
        for (settings, variable) in [
            (
                Settings {
                    upload_retention_hours: Some(0),
                    ..Settings::default()
                },
                "KINEMA_UPLOAD_RETENTION_HOURS",
            ),
            (
                Settings {
                    upload_retention_hours: Some(u64::MAX),
                    ..Settings::default()
                },
                "KINEMA_UPLOAD_RETENTION_HOURS",
            ),
            (
                Settings {
                    upload_quota_mb: Some(0.0),
                    ..Settings::default()
                },
                "KINEMA_UPLOAD_QUOTA_MB",
            ),
            (
                Settings {
                    upload_quota_mb: Some(f64::NAN),
                    ..Settings::default()
                },
                "KINEMA_UPLOAD_QUOTA_MB",
            ),
            (
                Settings {
                    upload_quota_mb: Some(-5.0),
                    ..Settings::default()
                },
                "KINEMA_UPLOAD_QUOTA_MB",
            ),
        ] {
            assert_eq!(from_settings(&settings).unwrap_err().variable, variable);
        }
    }
}
