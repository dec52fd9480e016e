//! Copying a result into Kinema's storage: only https from public hosts (or the loopback
//! simulator in sandbox mode), with a size cap and an MP4 signature check.

use std::net::IpAddr;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::backend::AppState;

/// Why a result URL may not be downloaded, if it may not. Loopback is allowed in sandbox mode and
/// when the configured upstream itself is on that host (a local simulator).
pub fn refuse_result_url(url: &str, sandbox: bool, upstream_host: Option<&str>) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("the result link is not a URL".into());
    };
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let ip: Option<IpAddr> = host.parse().ok();
    let private = host == "localhost"
        || ip.is_some_and(|ip| match ip {
            IpAddr::V4(v4) => {
                v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
            }
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00
            }
        });
    let loopback = host == "localhost" || ip.is_some_and(|ip| ip.is_loopback());
    if loopback && (sandbox || upstream_host == Some(host)) {
        return None;
    }
    if parsed.scheme() != "https" {
        return Some("the result link is not https".into());
    }
    if private {
        return Some("the result link points at a private address".into());
    }
    None
}

/// Downloads `url` into storage as `result-{task_id}`; returns the storage key.
pub async fn archive_result(state: &AppState, task_id: &str, url: &str) -> Result<String, String> {
    let upstream_host = state
        .evolink()
        .ok()
        .and_then(|client| url::Url::parse(client.base_url()).ok())
        .and_then(|base| base.host_str().map(str::to_string));
    if let Some(why) = refuse_result_url(url, state.sandbox(), upstream_host.as_deref()) {
        return Err(why);
    }
    let response = state
        .http()
        .get(url)
        .send()
        .await
        .map_err(|err| format!("download failed: {}", err.without_url()))?;
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
    let storage = state.storage();
    let temp = storage.temp_file();
    let mut file = tokio::fs::File::create(temp.path())
        .await
        .map_err(|err| format!("cannot write: {err}"))?;
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
        }
        file.write_all(&chunk)
            .await
            .map_err(|err| format!("cannot write: {err}"))?;
    }
    file.flush()
        .await
        .map_err(|err| format!("cannot write: {err}"))?;
    drop(file);
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return Err("the result is not an MP4 video".into());
    }
    let key = format!("result-{task_id}");
    storage.keep_as(temp, &key).map_err(|err| err.to_string())?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::refuse_result_url;

    #[test]
    fn only_public_https_links_unless_the_upstream_is_local() {
        let real = Some("api.evolink.ai");
        assert_eq!(
            refuse_result_url("https://cdn.example.com/a.mp4", false, real),
            None
        );
        assert!(refuse_result_url("http://cdn.example.com/a.mp4", false, real).is_some());
        assert!(refuse_result_url("https://10.0.0.5/a.mp4", false, real).is_some());
        assert!(refuse_result_url("https://192.168.1.2/a.mp4", false, real).is_some());
        assert!(refuse_result_url("http://127.0.0.1:4000/a.mp4", false, real).is_some());
        assert_eq!(
            refuse_result_url("http://127.0.0.1:4000/a.mp4", true, None),
            None
        );
        assert_eq!(
            refuse_result_url("http://127.0.0.1:4000/a.mp4", false, Some("127.0.0.1")),
            None
        );
        assert!(refuse_result_url("http://10.0.0.5/a.mp4", true, None).is_some());
    }
}
