//! Copying a result into Kinema's storage through the SSRF-guarded download client
//! ([`crate::backend::outbound`]), streamed into storage as a multipart upload with a size cap
//! and an MP4 signature check; a refused or broken download is aborted and leaves no object.

use futures_util::StreamExt;

use crate::backend::{outbound::FetchError, storage::ObjectWriter, AppState};

/// Why a result was not archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// The link may never be fetched (not https, private address …): trying again is useless.
    Refused(String),
    /// The download or the write failed; another try may work.
    Failed(String),
}

/// Downloads `url` into storage as `result-{task_id}`; returns the storage key.
pub async fn archive_result(
    state: &AppState,
    task_id: &str,
    url: &str,
) -> Result<String, ArchiveError> {
    let response = state.downloads().get(url).await.map_err(|err| match err {
        FetchError::Refused(refusal) => ArchiveError::Refused(refusal.to_string()),
        FetchError::Failed(why) => ArchiveError::Failed(format!("download failed: {why}")),
    })?;
    copy(state, task_id, response)
        .await
        .map_err(ArchiveError::Failed)
}

async fn copy(
    state: &AppState,
    task_id: &str,
    response: reqwest::Response,
) -> Result<String, String> {
    if !response.status().is_success() {
        return Err(format!(
            "download answered HTTP {}",
            response.status().as_u16()
        ));
    }
    let limit = state.engine().max_result_bytes;
    if response.content_length().is_some_and(|len| len > limit) {
        return Err("the result is larger than allowed".into());
    }
    let key = format!("result-{task_id}");
    let mut writer = state
        .storage()
        .writer(&key, "video/mp4")
        .await
        .map_err(|err| err.to_string())?;
    match stream_into(&mut writer, response, limit).await {
        Ok(()) => {
            writer.finish().await.map_err(|err| err.to_string())?;
            Ok(key)
        }
        Err(err) => {
            // Nothing of a refused or broken download stays in storage.
            writer.abort().await;
            Err(err)
        }
    }
}

/// Streams the download into `writer`, checking the size cap and the MP4 signature on the way.
async fn stream_into(
    writer: &mut ObjectWriter,
    response: reqwest::Response,
    limit: u64,
) -> Result<(), String> {
    let mut stream = response.bytes_stream();
    let mut received = 0u64;
    let mut head = Vec::with_capacity(12);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| format!("download broke off: {}", err.without_url()))?;
        received += chunk.len() as u64;
        if received > limit {
            return Err("the result is larger than allowed".into());
        }
        if head.len() < 12 {
            head.extend_from_slice(&chunk[..chunk.len().min(12 - head.len())]);
            if head.len() == 12 && &head[4..8] != b"ftyp" {
                return Err("the result is not an MP4 video".into());
            }
        }
        writer.write(chunk).await.map_err(|err| err.to_string())?;
    }
    if head.len() < 12 {
        return Err("the result is not an MP4 video".into());
    }
    Ok(())
}
