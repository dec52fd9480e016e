//! `POST /api/v1/files/upload/stream`: one file into the member's uploads with the usual checks.
//! The file service takes any supported file without saying what it is for, so its first bytes
//! decide which limits apply: images as character images (element images share those limits),
//! MP4/MOV as motion videos, WEBM as element videos. A create checks the use again.

use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use serde_json::Value;

use crate::backend::{
    media::{sniff, Sniffed},
    uploads::receive,
    AppState,
};
use crate::model::UploadPurpose;

use super::{file_json, inputs::upload_error, Caller, GatewayError};

/// The first bytes needed to tell the type.
const HEAD_BYTES: usize = 16;

/// Which upload rules a file starting with `head` is checked with.
pub fn purpose_of(head: &[u8]) -> Option<UploadPurpose> {
    match sniff(head) {
        Sniffed::Jpeg | Sniffed::Png => Some(UploadPurpose::CharacterImage),
        Sniffed::Mp4 | Sniffed::Mov => Some(UploadPurpose::MotionVideo),
        Sniffed::Webm => Some(UploadPurpose::ElementVideo),
        Sniffed::Unknown => None,
    }
}

/// Receives the file `body` (a stream of its bytes) named `name` for the caller and answers in
/// the file service's shape.
pub async fn upload_stream<S, E>(
    state: &AppState,
    caller: &Caller,
    name: &str,
    mut body: S,
) -> Result<Value, GatewayError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    if !caller.token.scope.allows_uploads() {
        return Err(GatewayError::scope("This API token is read-only."));
    }
    // Read just enough to tell the type, then hand the same bytes on.
    let mut head: Vec<u8> = Vec::new();
    while head.len() < HEAD_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) => {
                return Err(GatewayError::invalid(
                    "The file broke off before it was complete.",
                ))
            }
            None => break,
        }
    }
    if head.is_empty() {
        return Err(GatewayError::invalid_param("The file is empty.", "file"));
    }
    let purpose = purpose_of(&head).ok_or_else(|| {
        GatewayError::invalid_param(
            "Kinema takes JPG or PNG images and MP4, MOV or WEBM videos.",
            "file",
        )
    })?;
    let first = stream::iter([Ok::<Bytes, E>(Bytes::from(head))]);
    let received = receive(state, &caller.user, purpose, name, None, first.chain(body)).await;
    state.metrics().upload(
        purpose.as_str(),
        received.as_ref().ok().map(|view| view.bytes),
    );
    match received {
        Ok(view) => Ok(file_json(state, &view)),
        Err(err) => Err(upload_error(err, Some("file"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_pick_the_rules() {
        assert_eq!(
            purpose_of(b"\x89PNG\r\n\x1a\n0000"),
            Some(UploadPurpose::CharacterImage)
        );
        assert_eq!(
            purpose_of(b"\0\0\0\x18ftypisom0000"),
            Some(UploadPurpose::MotionVideo)
        );
        assert_eq!(
            purpose_of(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0, 0, 0, 0, 0]),
            Some(UploadPurpose::ElementVideo)
        );
        assert_eq!(purpose_of(b"GIF89a......"), None);
    }
}
