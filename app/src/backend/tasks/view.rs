//! A task row as its owner sees it.

use serde::{Deserialize, Serialize};

use crate::backend::store::TaskRecord;
use crate::model::TaskView;

/// The parameters kept with a motion task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MotionParamsRecord {
    pub orientation: String,
    pub keep_sound: bool,
    pub prompt: String,
    /// The character element used, if any.
    #[serde(default)]
    pub element: Option<ElementUse>,
}

/// A library element used by a motion task, as it was at submit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ElementUse {
    /// Kinema's element id.
    pub id: String,
    pub name: String,
    /// EvoLink's element id, exactly as received.
    pub upstream_id: String,
}

/// The parameters kept with an element-creation task (its video or frontal image is on the
/// task row).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ElementParamsRecord {
    pub name: String,
    pub description: String,
    /// `video` or `images`.
    pub reference_type: String,
    pub voice_id: Option<String>,
    /// The other-angle images, for `images`.
    #[serde(default)]
    pub refer_upload_ids: Vec<String>,
}

fn label(state: &str) -> &'static str {
    match state {
        "queued" => "Waiting to start",
        "submitting" => "Sending to EvoLink",
        "running" => "Generating",
        "archiving" => "Saving the result",
        "completed" => "Completed",
        "failed" => "Failed",
        _ => "Unknown",
    }
}

/// The owner's view of a task.
pub fn task_view(task: &TaskRecord) -> TaskView {
    let params: Option<MotionParamsRecord> = serde_json::from_str(&task.params).ok();
    let upstream_link = match (
        task.state.as_str(),
        &task.result_url,
        task.result_url_expires_at,
    ) {
        ("archiving", Some(url), Some(expires)) => Some((url.clone(), expires)),
        _ => None,
    };
    TaskView {
        id: task.id.clone(),
        kind: task.kind.clone(),
        state: task.state.clone(),
        status_label: label(&task.state).into(),
        progress: task.progress.clamp(0, 100) as u8,
        quality: task.quality.clone().unwrap_or_default(),
        orientation: params
            .as_ref()
            .map(|p| p.orientation.clone())
            .unwrap_or_default(),
        keep_sound: params.as_ref().is_some_and(|p| p.keep_sound),
        element: params
            .as_ref()
            .and_then(|p| p.element.as_ref())
            .map(|e| (e.id.clone(), e.name.clone())),
        prompt: params.map(|p| p.prompt).unwrap_or_default(),
        image_upload_id: task.image_upload_id.clone(),
        video_upload_id: task.video_upload_id.clone(),
        cost_reserved: task.cost_reserved,
        cost_final: task.cost_final,
        output_seconds: task.output_seconds,
        failure: task.failure_message.clone(),
        created_at: task.created_at,
        finished_at: task.finished_at,
        result_ready: task.result_key.is_some() && task.state == "completed",
        upstream_link,
    }
}
