//! Custom elements as the team's library shows them, and the create form.

use serde::{Deserialize, Serialize};

use crate::rules::{
    element_inputs::ReferenceType,
    vocab::{ElementStatus, UploadKind},
};

/// An element of the team's library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub reference_type: ReferenceType,
    pub voice_id: Option<String>,
    /// Who made it.
    pub creator: String,
    pub status: ElementStatus,
    /// Creation progress, 0–100.
    pub progress: u8,
    /// Why it failed, in plain words.
    pub failure: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Seconds since it was submitted, at the time of the answer (for "creating for 3 min").
    pub age_seconds: i64,
    /// EvoLink's id, exactly as received, once ready.
    pub upstream_element_id: Option<String>,
    /// What `/api/elements/{id}/preview` serves.
    pub preview_kind: UploadKind,
    /// True when the viewer may edit the description and remove it (creator or admin).
    pub can_edit: bool,
}

impl ElementView {
    /// True when it can be picked for Motion Control (ready and made from a video).
    pub fn usable_for_motion(&self) -> bool {
        self.status == ElementStatus::Ready && self.reference_type == ReferenceType::Video
    }
}

/// What the create form submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementForm {
    pub name: String,
    pub description: String,
    /// `video` or `images`.
    pub reference_type: String,
    /// The reference video (for `video`).
    pub video_upload_id: String,
    /// The frontal image (for `images`).
    pub frontal_upload_id: String,
    /// 1–3 other-angle images (for `images`), comma-separated upload ids.
    pub refer_upload_ids: String,
    /// Digits only; only for `video`.
    pub voice_id: String,
    pub idempotency_key: String,
}
