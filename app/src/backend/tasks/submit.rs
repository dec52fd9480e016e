//! Submitting: queueing any task (row, reservation and budget check in one transaction, keyed by
//! the idempotency key), and the motion task validated again on the server.

use super::{task_view, ElementUse, MotionParamsRecord, TaskEvent, TaskParams};
use crate::backend::{
    accounts::random_token,
    audit::Actor,
    store::{NewElement, TaskRecord},
    AppState, BackendError,
};
use crate::model::{MotionForm, TaskView};
use crate::rules::{
    audit::AuditAction,
    element_inputs::ReferenceType,
    motion_inputs::{check_image, check_prompt, check_video},
    pricing::{format_credits_exact, motion_cost},
    vocab::{ElementStatus, Orientation, Quality, TaskState, UploadKind},
};

/// A task to queue: who, what, the parameters kept with it, its inputs and what it holds.
pub struct NewTask {
    pub owner_id: i64,
    pub idempotency_key: String,
    /// What to make; the task's kind follows from it.
    pub params: TaskParams,
    pub image_upload_id: Option<String>,
    pub video_upload_id: Option<String>,
    pub quality: Option<Quality>,
    /// Micro-credits reserved at submit.
    pub cost: i64,
}

/// Writes a queued task and its reservation (and, for an element, its library row) in one
/// transaction after the budget check, then wakes the workers. A repeated idempotency key
/// returns the first task with `false`.
///
/// `actor`'s audit entry is written with a new task: `element_created` (target: the element)
/// for an element, else `task_submitted` (target: the task). When the actor came through the
/// gateway, the task and its entry both keep the API token's id.
pub async fn enqueue(
    state: &AppState,
    new: NewTask,
    element: Option<&NewElement>,
    actor: &Actor,
) -> Result<(TaskRecord, bool), BackendError> {
    let now_ms = state.clock().now_ms();
    let now = now_ms.div_euclid(1000);
    let record = TaskRecord {
        id: random_token()[..32].to_string(),
        owner_id: new.owner_id,
        kind: new.params.kind(),
        idempotency_key: new.idempotency_key,
        state: TaskState::Queued,
        params: new.params,
        image_upload_id: new.image_upload_id,
        video_upload_id: new.video_upload_id,
        quality: new.quality,
        upstream_id: None,
        progress: 0,
        cost_reserved: new.cost,
        cost_final: None,
        output_seconds: None,
        failure_code: None,
        failure_message: None,
        result_key: None,
        result_url: None,
        result_url_expires_at: None,
        callback_token: random_token(),
        lease_owner: None,
        lease_until: None,
        epoch: 0,
        attempts: 0,
        next_run_at: now_ms,
        deadline_at: now_ms + state.engine().deadline.as_millis() as i64,
        created_at: now,
        updated_at: now,
        finished_at: None,
        deleted_at: None,
        submitted_at: None,
        upstream_reserved: None,
        upstream_charged: None,
        token_id: actor.token_id(),
    };
    let cost = format!(
        "{} credits reserved",
        format_credits_exact(record.cost_reserved)
    );
    let entry = match element {
        Some(element) => actor.entry(
            AuditAction::ElementCreated,
            element.id.clone(),
            format!("task {}, {cost}", record.id),
            now_ms,
        ),
        None => actor.entry(
            AuditAction::TaskSubmitted,
            record.id.clone(),
            match record.quality {
                Some(quality) => format!("{} {quality}, {cost}", record.kind),
                None => format!("{}, {cost}", record.kind),
            },
            now_ms,
        ),
    };
    let (task, created) = state
        .store()
        .create_task(&record, state.billing().month_start(now), element, &entry)
        .await?;
    if created {
        state
            .metrics()
            .ledger_entry(crate::rules::vocab::EntryKind::Reserve, task.cost_reserved);
        state.notify_task(TaskEvent {
            owner_id: task.owner_id,
            task_id: task.id.clone(),
        });
    }
    Ok((task, created))
}

/// A library element a motion task may use: ready, made from a video, with "Match video".
async fn element_for_motion(
    state: &AppState,
    id: &str,
    orientation: Orientation,
) -> Result<ElementUse, BackendError> {
    let element = state.store().element_by_id(id).await?.ok_or_else(|| {
        invalid("That character element is no longer in the library; choose another one or none.")
    })?;
    if element.reference_type != ReferenceType::Video {
        return Err(invalid(format!(
            "\"{}\" was made from images; Motion Control can only use elements made from a video.",
            element.name
        )));
    }
    let Some(upstream_id) = element
        .upstream_element_id
        .clone()
        .filter(|_| element.status() == ElementStatus::Ready)
    else {
        return Err(invalid(format!(
            "\"{}\" is not ready yet; wait until the library shows it as ready.",
            element.name
        )));
    };
    if orientation != Orientation::Video {
        return Err(invalid(
            "A character element needs orientation \"Match video\": the element keeps the character's look, the video drives the motion.",
        ));
    }
    Ok(ElementUse {
        id: element.id,
        name: element.name,
        upstream_id,
    })
}

fn invalid(message: impl Into<String>) -> BackendError {
    BackendError::Invalid(message.into())
}

/// Submits a motion-control task for `owner`, from the studio or (when `actor` carries an API
/// token) through the gateway; a repeated idempotency key returns the first task.
pub async fn submit_motion(
    state: &AppState,
    actor: &Actor,
    owner: &crate::backend::store::UserRecord,
    form: MotionForm,
) -> Result<TaskView, BackendError> {
    let quality = Quality::parse(&form.quality).ok_or_else(|| {
        invalid(format!(
            "Quality '{}' is not offered; choose 720p or 1080p.",
            form.quality
        ))
    })?;
    let orientation = Orientation::parse(&form.orientation)
        .ok_or_else(|| invalid("Choose a character orientation: Match image or Match video."))?;
    let element = match form.element_id.trim() {
        "" => None,
        id => Some(element_for_motion(state, id, orientation).await?),
    };
    if let Some(problem) = check_prompt(&form.prompt) {
        return Err(invalid(problem));
    }
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(invalid(
            "The request carries no valid idempotency key; reload the page and try again.",
        ));
    }
    let store = state.store();
    let image = store
        .upload_of_owner(&form.image_upload_id, owner.id)
        .await?
        .filter(|u| u.kind == UploadKind::Image)
        .ok_or_else(|| invalid("The character image is missing; upload it again."))?;
    let video = store
        .upload_of_owner(&form.video_upload_id, owner.id)
        .await?
        .filter(|u| u.kind == UploadKind::Video)
        .ok_or_else(|| invalid("The motion video is missing; upload it again."))?;
    let mut problems = check_image(&image.image_facts());
    let video_facts = video.video_facts();
    problems.extend(check_video(&video_facts, orientation));
    if !problems.is_empty() {
        return Err(invalid(problems.join(" ")));
    }
    let cost = motion_cost(quality, orientation, video_facts.duration_ms);
    let params = TaskParams::Motion(MotionParamsRecord {
        orientation,
        keep_sound: form.keep_sound,
        prompt: form.prompt.trim().to_string(),
        element,
    });
    let (task, _) = enqueue(
        state,
        NewTask {
            owner_id: owner.id,
            idempotency_key: key.to_string(),
            params,
            image_upload_id: Some(image.id),
            video_upload_id: Some(video.id),
            quality: Some(quality),
            cost,
        },
        None,
        actor,
    )
    .await?;
    Ok(task_view(&task))
}
