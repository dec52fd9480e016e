//! Receiving an upload: streamed into storage as a multipart upload with the size limit and
//! quota enforced while reading (an upload refused or cancelled mid-way is aborted), then typed
//! and probed from ranged reads of the stored object, checked with the shared rules, and
//! recorded. Any refusal, failure or cancelled request leaves no object and no row.

use std::time::Duration;

use futures_util::{Stream, StreamExt};

use super::{
    media::{self, Probed},
    storage::{ObjectWriter, Uncommitted},
    storage_policy::quota_message,
    store::{UploadRecord, UserRecord},
    AppState, BackendError,
};
use crate::model::{UploadPurpose, UploadView};
use crate::rules::{
    element_inputs,
    motion_inputs::{check_image, check_video, IMAGE_MAX_BYTES, VIDEO_MAX_BYTES},
    pricing::Orientation,
    vocab::UploadKind,
};

/// Longest an upload waits for its probe. The probe's own budget ends it sooner (a blocking
/// thread cannot be stopped from outside); this makes sure the request answers regardless.
pub const PROBE_TIME_LIMIT: Duration = Duration::from_secs(4);

/// Why an upload was not kept.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the size limit (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
    /// The owner's uploads would pass their quota (HTTP 413).
    #[error("{0}")]
    QuotaFull(String),
    /// Not acceptable media (HTTP 422).
    #[error("{0}")]
    Refused(String),
    /// The request body broke off.
    #[error("the upload was interrupted")]
    Interrupted,
    #[error(transparent)]
    Backend(#[from] BackendError),
}

fn label(purpose: UploadPurpose) -> &'static str {
    match purpose {
        UploadPurpose::CharacterImage => "Character image",
        UploadPurpose::MotionVideo => "Motion video",
        UploadPurpose::ElementVideo => "Element video",
        UploadPurpose::ElementImage => "Element image",
    }
}

fn wants_image(purpose: UploadPurpose) -> bool {
    matches!(
        purpose,
        UploadPurpose::CharacterImage | UploadPurpose::ElementImage
    )
}

/// The largest accepted size for the purpose.
pub fn max_bytes(purpose: UploadPurpose) -> u64 {
    if wants_image(purpose) {
        IMAGE_MAX_BYTES
    } else {
        VIDEO_MAX_BYTES
    }
}

fn too_large(purpose: UploadPurpose, size: Option<u64>) -> UploadError {
    let limit = max_bytes(purpose) / (1024 * 1024);
    let actual = match size {
        Some(size) => format!("is {:.1} MB", size as f64 / (1024.0 * 1024.0)),
        None => format!("is larger than {limit} MB"),
    };
    UploadError::TooLarge(format!(
        "{} {actual}; it must be at most {limit} MB.",
        label(purpose)
    ))
}

/// Refuses a declared length over the limit before reading anything.
pub fn check_declared_length(
    purpose: UploadPurpose,
    length: Option<u64>,
) -> Result<(), UploadError> {
    match length {
        Some(length) if length > max_bytes(purpose) => Err(too_large(purpose, Some(length))),
        _ => Ok(()),
    }
}

/// Receives, checks, stores and records an upload for `owner`. `declared` is the request's
/// Content-Length, if any: a file that cannot fit the owner's quota is refused before reading.
pub async fn receive<S, E>(
    state: &AppState,
    owner: &UserRecord,
    purpose: UploadPurpose,
    name: &str,
    declared: Option<u64>,
    mut body: S,
) -> Result<UploadView, UploadError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let policy = state.storage_policy();
    let used = u64::try_from(state.store().upload_bytes_of_owner(owner.id).await?).unwrap_or(0);
    let room = policy.upload_quota_bytes.saturating_sub(used);
    if let Some(length) = declared.filter(|length| *length > room) {
        return Err(UploadError::QuotaFull(quota_message(
            policy,
            used,
            Some(length),
        )));
    }
    let storage = state.storage();
    let id = super::accounts::random_token()[..32].to_string();
    let storage_key = format!("upload-{id}");
    let limits = Limits {
        purpose,
        max: max_bytes(purpose),
        room,
        used,
    };
    let mut writer = None;
    let streamed = stream_into(state, &storage_key, &limits, &mut body, &mut writer).await;
    let writer = match (streamed, writer) {
        (Ok(()), Some(writer)) => writer,
        (Ok(()), None) => {
            return Err(UploadError::Refused(format!(
                "{} is empty.",
                label(purpose)
            )))
        }
        (Err(err), writer) => {
            // Refused or broken off: the multipart upload is aborted before answering.
            if let Some(writer) = writer {
                writer.abort().await;
            }
            return Err(err);
        }
    };
    let received = writer.written();
    // From here the object is removed on any refusal, error or cancellation until its row is
    // written.
    let mut stored = Uncommitted::finishing(storage.clone(), storage_key.clone(), writer);
    stored.finished().await?;
    let mut source = storage.source(&storage_key, received)?;
    let probed = probe_within(PROBE_TIME_LIMIT, move || media::probe(&mut source)).await;
    let probed = match probed {
        Ok(Ok(probed)) => probed,
        Ok(Err(err)) => {
            stored.discard().await;
            return Err(UploadError::Refused(err.0));
        }
        Err(message) => {
            stored.discard().await;
            return Err(UploadError::Refused(message));
        }
    };
    let (kind, format, width, height, duration_ms, problems) = match probed {
        Probed::Image(facts) if wants_image(purpose) => (
            UploadKind::Image,
            facts.format.as_str(),
            facts.width,
            facts.height,
            None,
            if purpose == UploadPurpose::CharacterImage {
                check_image(&facts)
            } else {
                element_inputs::check_image(label(purpose), &facts)
            },
        ),
        Probed::Video(facts) if !wants_image(purpose) => (
            UploadKind::Video,
            facts.format.as_str(),
            facts.width,
            facts.height,
            Some(facts.duration_ms),
            if purpose == UploadPurpose::MotionVideo {
                // The orientation is chosen later; the longest it allows is checked here, the
                // chosen one again at submit.
                check_video(&facts, Orientation::Video)
            } else {
                element_inputs::check_video(&facts)
            },
        ),
        Probed::Video(_) => {
            stored.discard().await;
            return Err(UploadError::Refused(format!(
                "This file is a video; the {} must be a JPG or PNG file.",
                label(purpose).to_lowercase()
            )));
        }
        Probed::Image(_) => {
            let formats = if purpose == UploadPurpose::MotionVideo {
                "an MP4 or MOV file"
            } else {
                "an MP4, MOV or WEBM file"
            };
            stored.discard().await;
            return Err(UploadError::Refused(format!(
                "This file is an image; the {} must be {formats}.",
                label(purpose).to_lowercase()
            )));
        }
    };
    if !problems.is_empty() {
        stored.discard().await;
        return Err(UploadError::Refused(problems.join(" ")));
    }
    let record = UploadRecord {
        id: id.clone(),
        owner_id: owner.id,
        kind,
        format: format.into(),
        original_name: clean_name(name),
        bytes: i64::try_from(received).unwrap_or(i64::MAX),
        width: i64::from(width),
        height: i64::from(height),
        duration_ms: duration_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX)),
        storage_key,
        created_at: state.clock().now(),
    };
    let quota = i64::try_from(policy.upload_quota_bytes).unwrap_or(i64::MAX);
    match state
        .store()
        .insert_upload_within_quota(&record, quota)
        .await
    {
        Ok(true) => {
            stored.keep();
            Ok(record.view())
        }
        // Another upload of the same owner took the room while this one was read.
        Ok(false) => {
            stored.discard().await;
            let used = state
                .store()
                .upload_bytes_of_owner(owner.id)
                .await
                .map_or(used, |bytes| u64::try_from(bytes).unwrap_or(0));
            Err(UploadError::QuotaFull(quota_message(
                policy,
                used,
                Some(received),
            )))
        }
        Err(err) => {
            stored.discard().await;
            Err(err.into())
        }
    }
}

/// What a streaming upload may take.
struct Limits {
    purpose: UploadPurpose,
    max: u64,
    room: u64,
    used: u64,
}

/// The first bytes needed to tell the type (and so the stored Content-Type).
const SNIFF_BYTES: usize = 64;

/// The Content-Type stored with an object, from its first bytes.
fn content_type(head: &[u8]) -> &'static str {
    match media::sniff(head) {
        media::Sniffed::Jpeg => "image/jpeg",
        media::Sniffed::Png => "image/png",
        media::Sniffed::Mp4 => "video/mp4",
        media::Sniffed::Mov => "video/quicktime",
        media::Sniffed::Webm => "video/webm",
        media::Sniffed::Unknown => "application/octet-stream",
    }
}

/// Streams the body into a multipart upload of `key`, enforcing the limits while reading. The
/// upload starts once the first bytes tell the type; `writer` holds it (for the caller to abort
/// on error). Memory stays bounded whatever the size.
async fn stream_into<S, E>(
    state: &AppState,
    key: &str,
    limits: &Limits,
    body: &mut S,
    writer: &mut Option<ObjectWriter>,
) -> Result<(), UploadError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    let policy = state.storage_policy();
    let mut head: Vec<u8> = Vec::new();
    let mut received: u64 = 0;
    loop {
        let chunk = match body.next().await {
            Some(chunk) => chunk.map_err(|_| UploadError::Interrupted)?,
            None => break,
        };
        received = received.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if received > limits.max {
            return Err(too_large(limits.purpose, None));
        }
        if received > limits.room {
            return Err(UploadError::QuotaFull(quota_message(
                policy,
                limits.used,
                None,
            )));
        }
        match writer {
            Some(writer) => writer.write(chunk).await?,
            None => {
                head.extend_from_slice(&chunk);
                if head.len() >= SNIFF_BYTES {
                    let started = start(state, key, std::mem::take(&mut head)).await?;
                    *writer = Some(started);
                }
            }
        }
    }
    if writer.is_none() && !head.is_empty() {
        *writer = Some(start(state, key, head).await?);
    }
    Ok(())
}

/// Starts the upload of `key` with its first bytes.
async fn start(state: &AppState, key: &str, head: Vec<u8>) -> Result<ObjectWriter, UploadError> {
    let mut writer = state.storage().writer(key, content_type(&head)).await?;
    writer.write(bytes::Bytes::from(head)).await?;
    Ok(writer)
}

/// Runs `probe` on a blocking thread and waits at most `limit` for it. A probe that runs out of
/// time or panics gives a plain refusal (`Err`), logged for the admin.
async fn probe_within<T, F>(limit: Duration, probe: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let guarded = move || std::panic::catch_unwind(std::panic::AssertUnwindSafe(probe));
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(guarded)).await {
        Ok(Ok(Ok(probed))) => Ok(probed),
        Ok(Ok(Err(_))) | Ok(Err(_)) => {
            tracing::error!("a media probe panicked; the upload was refused");
            Err(media::PROBE_FAILED.into())
        }
        Err(_) => {
            tracing::warn!(
                limit_ms = limit.as_millis(),
                "a media probe ran out of time"
            );
            Err(media::TOO_SLOW.into())
        }
    }
}

/// A display name for the file: its last path part, control characters removed, at most 120 chars.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    if cleaned.trim().is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_slow_or_panicking_probe_gives_a_plain_refusal() {
        assert_eq!(probe_within(Duration::from_secs(5), || 7).await, Ok(7));
        let started = std::time::Instant::now();
        let slow = probe_within(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_millis(1500));
        })
        .await;
        assert_eq!(slow, Err(media::TOO_SLOW.to_string()));
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "{:?}",
            started.elapsed()
        );
        let panicked = probe_within(Duration::from_secs(5), || -> u8 {
            panic!("a probe bug");
        })
        .await;
        assert_eq!(panicked, Err(media::PROBE_FAILED.to_string()));
    }
}
