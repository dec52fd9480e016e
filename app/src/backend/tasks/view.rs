//! A task row as its owner sees it.

use crate::backend::store::TaskRecord;
use crate::model::TaskView;
use crate::rules::{links::is_web_link, vocab::TaskState};

/// The owner's view of a task.
pub fn task_view(task: &TaskRecord) -> TaskView {
    let motion = task.params.motion();
    // Only a web address is ever offered as a link (never `javascript:` or `file:`).
    let upstream_link = match (task.state, &task.result_url, task.result_url_expires_at) {
        (TaskState::Archiving, Some(url), Some(expires)) if is_web_link(url) => {
            Some((url.clone(), expires))
        }
        _ => None,
    };
    TaskView {
        id: task.id.clone(),
        kind: task.kind,
        state: task.state,
        status_label: task.state.label().into(),
        progress: task.progress.clamp(0, 100) as u8,
        quality: task.quality,
        orientation: motion.map(|p| p.orientation),
        keep_sound: motion.is_some_and(|p| p.keep_sound),
        element: motion
            .and_then(|p| p.element.as_ref())
            .map(|e| (e.id.clone(), e.name.clone())),
        prompt: motion.map(|p| p.prompt.clone()).unwrap_or_default(),
        image_upload_id: task.image_upload_id.clone(),
        video_upload_id: task.video_upload_id.clone(),
        cost_reserved: task.cost_reserved,
        cost_final: task.cost_final,
        output_seconds: task.output_seconds,
        failure: task.failure_message.clone(),
        created_at: task.created_at,
        finished_at: task.finished_at,
        result_ready: task.result_key.is_some() && task.state == TaskState::Completed,
        upstream_link,
        api_token: None,
    }
}
