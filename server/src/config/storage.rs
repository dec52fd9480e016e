//! Where media is stored and how its URLs behave; how long unused uploads are kept and how much
//! one member may store. Read from the settings.

use std::time::Duration;

use app::backend::{
    storage::{S3Location, SecretKey, StorageLocation, StorageSettings},
    storage_policy::StoragePolicy,
};

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

/// The longest input URL lifetime: a week (the most an S3 presigned URL allows).
const MAX_INPUT_URL_HOURS: u64 = 7 * 24;

/// Reads `KINEMA_STORAGE` (`local` or `s3://BUCKET[/PREFIX]`), the S3 settings, the input URL
/// lifetime and the result redirect option.
pub(super) fn media_from_settings(settings: &Settings) -> Result<StorageSettings, ConfigError> {
    let defaults = StorageSettings::default();
    let location = match settings.storage.as_deref().map(str::trim) {
        None | Some("") | Some("local") => StorageLocation::Local,
        Some(value) => StorageLocation::S3(s3_location(value, settings)?),
    };
    let input_url_lifetime = match settings.input_url_hours {
        None => defaults.input_url_lifetime,
        Some(hours @ 1..=MAX_INPUT_URL_HOURS) => Duration::from_secs(hours * 3600),
        Some(_) => {
            return Err(invalid(
                "KINEMA_INPUT_URL_HOURS",
                format!("must be between 1 and {MAX_INPUT_URL_HOURS} hours"),
            ))
        }
    };
    if settings.result_redirect && location == StorageLocation::Local {
        return Err(invalid(
            "KINEMA_RESULT_REDIRECT",
            "needs S3 storage (KINEMA_STORAGE=s3://BUCKET); local results are always served by Kinema",
        ));
    }
    Ok(StorageSettings {
        location,
        input_url_lifetime,
        redirect_results: settings.result_redirect,
    })
}

fn s3_location(value: &str, settings: &Settings) -> Result<S3Location, ConfigError> {
    let usage = || {
        invalid(
            "KINEMA_STORAGE",
            format!("'{value}' must be local or s3://BUCKET or s3://BUCKET/PREFIX"),
        )
    };
    let rest = value.strip_prefix("s3://").ok_or_else(usage)?;
    let (bucket, prefix) = match rest.split_once('/') {
        Some((bucket, prefix)) => (bucket, prefix.trim_matches('/')),
        None => (rest, ""),
    };
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !valid_bucket {
        return Err(usage());
    }
    let nonempty = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let endpoint = nonempty(&settings.aws_endpoint_url)
        .map(|url| super::check_http_url("AWS_ENDPOINT_URL", &url))
        .transpose()?;
    Ok(S3Location {
        bucket: bucket.to_string(),
        prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        access_key_id: nonempty(&settings.aws_access_key_id),
        secret_access_key: nonempty(&settings.aws_secret_access_key).map(SecretKey::new),
        region: nonempty(&settings.aws_region),
        endpoint,
        allow_http: settings.aws_allow_http,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_local_by_default_and_s3_urls_are_checked() {
        let media = media_from_settings(&Settings::default()).unwrap();
        assert_eq!(media, StorageSettings::default());
        assert_eq!(media.input_url_lifetime, Duration::from_secs(6 * 3600));
        let media = media_from_settings(&Settings {
            storage: Some("s3://kinema-media/team/a/".into()),
            aws_endpoint_url: Some("http://127.0.0.1:9000/".into()),
            aws_secret_access_key: Some("very-secret".into()),
            aws_allow_http: true,
            input_url_hours: Some(12),
            result_redirect: true,
            ..Settings::default()
        })
        .unwrap();
        let StorageLocation::S3(s3) = &media.location else {
            panic!("{media:?}");
        };
        assert_eq!(s3.bucket, "kinema-media");
        assert_eq!(s3.prefix.as_deref(), Some("team/a"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.allow_http && media.redirect_results);
        assert_eq!(media.input_url_lifetime, Duration::from_secs(12 * 3600));
        assert!(!format!("{media:?}").contains("very-secret"));
        for (settings, variable) in [
            (
                Settings {
                    storage: Some("gs://bucket".into()),
                    ..Settings::default()
                },
                "KINEMA_STORAGE",
            ),
            (
                Settings {
                    storage: Some("s3://".into()),
                    ..Settings::default()
                },
                "KINEMA_STORAGE",
            ),
            (
                Settings {
                    input_url_hours: Some(0),
                    ..Settings::default()
                },
                "KINEMA_INPUT_URL_HOURS",
            ),
            (
                Settings {
                    result_redirect: true,
                    ..Settings::default()
                },
                "KINEMA_RESULT_REDIRECT",
            ),
            (
                Settings {
                    storage: Some("s3://bucket".into()),
                    aws_endpoint_url: Some("localhost:9000".into()),
                    ..Settings::default()
                },
                "AWS_ENDPOINT_URL",
            ),
        ] {
            assert_eq!(
                media_from_settings(&settings).unwrap_err().variable,
                variable
            );
        }
    }

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
