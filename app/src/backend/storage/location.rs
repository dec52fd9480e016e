//! Where media is stored and how its URLs behave, as the configuration decided.

use std::{fmt, time::Duration};

/// Where media is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageLocation {
    /// `data_dir/media/objects` on local disk.
    Local,
    /// An S3-compatible bucket.
    S3(S3Location),
}

/// A bucket, an optional key prefix, and how to reach it. Unset values come from the standard
/// `AWS_*` variables (read by the S3 client itself).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct S3Location {
    pub bucket: String,
    /// Keys are stored under `PREFIX/` (no leading or trailing slash).
    pub prefix: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretKey>,
    pub region: Option<String>,
    /// e.g. `http://127.0.0.1:9000` for a self-hosted S3 server.
    pub endpoint: Option<String>,
    /// Allows a plain `http://` endpoint.
    pub allow_http: bool,
}

/// A secret access key: Debug shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps the secret.
    pub fn new(value: impl Into<String>) -> SecretKey {
        SecretKey(value.into())
    }

    /// The secret itself, for the S3 client only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How storage is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageSettings {
    pub location: StorageLocation,
    /// How long a presigned input URL handed to the upstream works (S3 only).
    pub input_url_lifetime: Duration,
    /// When true (S3 only), result playback and download redirect to a short-lived presigned
    /// URL instead of being proxied through Kinema.
    pub redirect_results: bool,
}

/// How long the presigned URL behind a result redirect works.
pub const RESULT_REDIRECT_LIFETIME: Duration = Duration::from_secs(10 * 60);

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings {
            location: StorageLocation::Local,
            input_url_lifetime: Duration::from_secs(6 * 3600),
            redirect_results: false,
        }
    }
}
