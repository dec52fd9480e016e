//! The key that signs `/media` URLs lives in the database, so every instance signs and verifies
//! the same URLs. The first instance to start stores one; a key file left by an earlier version
//! (`media/signing.key` in the data directory) becomes that key, once, and is then removed.

use std::path::Path;

use crate::backend::{accounts::random_token, now_unix, store::Store, BackendError};

/// The key's name in `instance_keys`.
const MEDIA_SIGNING: &str = "media_signing";

/// The media signing key from the database, created (or moved there from an old key file) on
/// first use.
pub async fn load_signing_key(store: &Store, data_dir: &Path) -> Result<Vec<u8>, BackendError> {
    let file = data_dir.join("media").join("signing.key");
    let from_file = std::fs::read(&file)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|key| key.len() >= 32);
    let candidate = from_file.clone().unwrap_or_else(random_token);
    let key = store
        .instance_key(MEDIA_SIGNING, &candidate, now_unix())
        .await?;
    if from_file.is_some() || file.exists() {
        // The database holds the key now; the file is read only this once.
        match std::fs::remove_file(&file) {
            Ok(()) => tracing::info!("moved the media signing key into the database"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot remove the old media signing key file")
            }
        }
    }
    Ok(key.into_bytes())
}
