//! A create's input URLs become the member's uploads: a file URL the gateway's file endpoint
//! gave out names an upload of the member's; any other URL is fetched through the SSRF-guarded
//! client (https to public addresses only, checked before connecting) and received exactly
//! like an upload (size limit while reading, sniffed, probed, checked with the rules).

use crate::backend::{
    outbound::FetchError,
    uploads::{check_declared_length, receive, UploadError},
    AppState,
};
use crate::model::UploadPurpose;
use crate::rules::vocab::UploadKind;

use super::{Caller, Gateway, GatewayError};

/// The path under which the file endpoint's URLs point at an upload (`/v1/files/{id}`).
pub const FILE_PATH: &str = "/v1/files/";

/// The URL the file endpoint hands out for an upload.
pub fn file_url(state: &AppState, upload_id: &str) -> String {
    format!("{}{FILE_PATH}{upload_id}", state.public_url())
}

fn what(purpose: UploadPurpose) -> &'static str {
    match purpose {
        UploadPurpose::CharacterImage => "character image",
        UploadPurpose::MotionVideo => "motion video",
        UploadPurpose::ElementVideo => "element video",
        UploadPurpose::ElementImage => "element image",
    }
}

/// The id of the member's upload for `url` in the role of `purpose`, fetching it first when
/// it is not one of the gateway's own file URLs. `param` names the request field.
pub async fn input_upload(
    state: &AppState,
    gateway: &Gateway,
    caller: &Caller,
    url: &str,
    purpose: UploadPurpose,
    param: &'static str,
) -> Result<String, GatewayError> {
    let url = url.trim();
    let own = format!("{}{FILE_PATH}", state.public_url());
    if let Some(rest) = url.strip_prefix(&own) {
        let id = rest.split(['?', '#', '/']).next().unwrap_or_default();
        let wanted = if matches!(
            purpose,
            UploadPurpose::CharacterImage | UploadPurpose::ElementImage
        ) {
            UploadKind::Image
        } else {
            UploadKind::Video
        };
        return match state
            .store()
            .upload_of_owner(id, caller.user.id)
            .await
            .map_err(|err| GatewayError::internal("loading an upload", err))?
        {
            Some(upload) if upload.kind == wanted => Ok(upload.id),
            Some(_) => Err(GatewayError::invalid_param(
                format!(
                    "The file given as the {} is not {}.",
                    what(purpose),
                    if wanted == UploadKind::Image {
                        "an image"
                    } else {
                        "a video"
                    }
                ),
                param,
            )),
            None => Err(GatewayError::invalid_param(
                format!(
                    "The file given as the {} is not among your uploads (it may have been cleaned up); upload it again.",
                    what(purpose)
                ),
                param,
            )),
        };
    }
    fetch_into_uploads(state, gateway, caller, url, purpose, param).await
}

async fn fetch_into_uploads(
    state: &AppState,
    gateway: &Gateway,
    caller: &Caller,
    url: &str,
    purpose: UploadPurpose,
    param: &'static str,
) -> Result<String, GatewayError> {
    let response = match gateway.downloads.get(url).await {
        Ok(response) => response,
        Err(FetchError::Refused(refusal)) => {
            return Err(GatewayError::invalid_param(
                format!(
                    "The {} URL was refused: {refusal}. Inputs must be https links to public addresses, or files uploaded through /api/v1/files/upload/stream.",
                    what(purpose)
                ),
                param,
            ))
        }
        Err(FetchError::Failed(_)) => {
            return Err(GatewayError::invalid_param(
                format!("The {} could not be downloaded.", what(purpose)),
                param,
            ))
        }
    };
    if !response.status().is_success() {
        return Err(GatewayError::invalid_param(
            format!(
                "The {} could not be downloaded (HTTP {}).",
                what(purpose),
                response.status().as_u16()
            ),
            param,
        ));
    }
    let declared = response.content_length();
    check_declared_length(purpose, declared)
        .map_err(|err| GatewayError::too_large(err.to_string()))?;
    let name = response
        .url()
        .path_segments()
        .and_then(|mut segments| segments.next_back().map(str::to_string))
        .unwrap_or_default();
    let received = receive(
        state,
        &caller.user,
        purpose,
        &name,
        declared,
        response.bytes_stream(),
    )
    .await;
    state.metrics().upload(
        purpose.as_str(),
        received.as_ref().ok().map(|view| view.bytes),
    );
    match received {
        Ok(view) => Ok(view.id),
        Err(err) => Err(upload_error(err, Some(param))),
    }
}

/// A refused or failed upload in the gateway's words.
pub fn upload_error(err: UploadError, param: Option<&'static str>) -> GatewayError {
    match err {
        UploadError::TooLarge(message) | UploadError::QuotaFull(message) => {
            GatewayError::too_large(message)
        }
        UploadError::Refused(message) => GatewayError {
            param,
            ..GatewayError::invalid(message)
        },
        UploadError::Interrupted => GatewayError {
            param,
            ..GatewayError::invalid("The file broke off before it was complete.")
        },
        UploadError::Backend(err) => GatewayError::internal("storing an upload", err),
    }
}
