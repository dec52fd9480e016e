//! Input URLs the upstream can fetch: presigned GET URLs when media is in S3; on local disk
//! EvoLink's file service when a key is set and it accepts the file, otherwise Kinema's own
//! HMAC-signed, expiring `/media` URLs (signed with the key every instance reads from the
//! database).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::backend::{evolink::EvoLinkError, now_unix, store::UploadRecord, AppState};

/// How long a signed media URL works by default (`KINEMA_INPUT_URL_HOURS`).
pub const MEDIA_URL_LIFETIME_SECS: i64 = 6 * 3600;

fn mac(key: &[u8], upload_id: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{upload_id}:{expires}").as_bytes());
    mac
}

/// A signed URL for an upload, valid until `expires` (unix seconds).
pub fn media_url(state: &AppState, upload_id: &str, expires: i64) -> String {
    let signature = hex::encode(
        mac(state.storage().signing_key(), upload_id, expires)
            .finalize()
            .into_bytes(),
    );
    format!(
        "{}/media/{upload_id}?exp={expires}&sig={signature}",
        state.media_base_url()
    )
}

/// True when the signature matches and has not expired (constant-time comparison).
pub fn verify_media_signature(
    state: &AppState,
    upload_id: &str,
    expires: i64,
    signature: &str,
) -> bool {
    if expires < now_unix() {
        return false;
    }
    let Ok(bytes) = hex::decode(signature) else {
        return false;
    };
    mac(state.storage().signing_key(), upload_id, expires)
        .verify_slice(&bytes)
        .is_ok()
}

/// A URL the upstream can fetch the upload from: with S3 a presigned GET URL; on local disk
/// EvoLink's file service (with a key) or Kinema's own signed `/media` URL. Either works for
/// the configured input URL lifetime.
pub async fn input_url(state: &AppState, upload: &UploadRecord) -> Result<String, EvoLinkError> {
    let storage = state.storage();
    let lifetime = storage.settings().input_url_lifetime;
    let unreachable = |detail: String| EvoLinkError::Unreachable { detail };
    if storage.is_s3() {
        // Presigning needs no request; looking the object up first turns a missing or
        // unreachable input into an error here instead of a link the upstream cannot fetch.
        match storage.size(&upload.storage_key).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(unreachable("an input file is missing from storage".into())),
            Err(err) => return Err(unreachable(err.to_string())),
        }
        return storage
            .presigned_get(&upload.storage_key, lifetime)
            .await
            .map_err(|err| unreachable(err.to_string()))?
            .ok_or_else(|| unreachable("the bucket cannot presign URLs".into()));
    }
    if !state.sandbox() {
        let client = state
            .evolink()
            .map_err(|err| unreachable(err.to_string()))?;
        let path = storage
            .local_path(&upload.storage_key)
            .ok_or_else(|| unreachable(format!("invalid storage key {}", upload.storage_key)))?;
        let started = std::time::Instant::now();
        let uploaded = client
            .upload_file(&path, &upload.original_name, upload.mime_type())
            .await;
        let outcome = uploaded.as_ref().map_or_else(|err| err.kind(), |_| "ok");
        state.metrics().upstream_call(
            crate::backend::metrics::UpstreamCall::FileUpload,
            outcome,
            started.elapsed(),
        );
        match uploaded {
            Ok(file) => return Ok(file.file_url),
            // The file service refused this type: fall back to Kinema's own signed URL.
            Err(EvoLinkError::InvalidInput { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(MEDIA_URL_LIFETIME_SECS);
    Ok(media_url(state, &upload.id, now_unix() + seconds))
}
