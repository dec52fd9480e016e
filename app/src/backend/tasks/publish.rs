//! Input URLs the upstream can fetch: EvoLink's file service when a key is set and it accepts the
//! file, otherwise Kinema's own HMAC-signed, expiring `/media` URLs.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::backend::{evolink::EvoLinkError, now_unix, store::UploadRecord, AppState};

/// How long a signed media URL works.
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

/// A URL the upstream can fetch the upload from.
pub async fn input_url(state: &AppState, upload: &UploadRecord) -> Result<String, EvoLinkError> {
    if !state.sandbox() {
        let client = state.evolink().map_err(|err| EvoLinkError::Unreachable {
            detail: err.to_string(),
        })?;
        let path = state
            .storage()
            .object_path(&upload.storage_key)
            .map_err(|err| EvoLinkError::Unreachable {
                detail: err.to_string(),
            })?;
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
    Ok(media_url(
        state,
        &upload.id,
        now_unix() + MEDIA_URL_LIFETIME_SECS,
    ))
}
