//! Custom elements: created by an element task (1 credit, reserved with the task, settled or
//! refunded by the engine), kept in a team-wide library that everyone can use and search, and
//! that the creator or an admin can describe anew or remove (in Kinema only).

use super::{
    accounts::random_token,
    audit::Actor,
    store::{ElementRecord, NewElement, TaskRecord, UploadRecord, UserRecord},
    tasks::{enqueue, ElementParamsRecord, NewTask, TaskParams},
    AppState, BackendError,
};
use crate::model::{ElementForm, ElementView, Role};
use crate::rules::{
    audit::AuditAction,
    element_inputs::{
        check_description, check_image, check_refer_count, check_text, check_video, check_voice_id,
        ReferenceType,
    },
    pricing::ELEMENT_MICRO_CREDITS,
    vocab::{ElementStatus, UploadKind},
};

fn invalid(message: impl Into<String>) -> BackendError {
    BackendError::Invalid(message.into())
}

/// The viewer's view of a library element.
pub fn element_view(record: &ElementRecord, viewer: &UserRecord, now: i64) -> ElementView {
    let status = record.status();
    ElementView {
        id: record.id.clone(),
        name: record.name.clone(),
        description: record.description.clone(),
        reference_type: record.reference_type,
        voice_id: record.voice_id.clone(),
        creator: record.creator.clone(),
        status,
        progress: record.progress.clamp(0, 100) as u8,
        failure: (status == ElementStatus::Failed)
            .then(|| record.failure_message.clone())
            .flatten(),
        created_at: record.created_at,
        age_seconds: (now - record.created_at).max(0),
        upstream_element_id: record.upstream_element_id.clone(),
        preview_kind: record.preview_kind,
        can_edit: may_edit(record, viewer),
    }
}

fn may_edit(record: &ElementRecord, viewer: &UserRecord) -> bool {
    record.owner_id == viewer.id || viewer.role() == Role::Admin
}

async fn owned_upload(
    state: &AppState,
    id: &str,
    owner: &UserRecord,
    kind: UploadKind,
    missing: &str,
) -> Result<UploadRecord, BackendError> {
    state
        .store()
        .upload_of_owner(id.trim(), owner.id)
        .await?
        .filter(|upload| upload.kind == kind)
        .ok_or_else(|| invalid(missing))
}

/// Creates an element for `owner`, from the studio or (when `actor` carries an API token)
/// through the gateway: checks everything, then writes the task, its 1-credit reservation, the
/// library entry and the audit entry in one transaction. A repeated idempotency key returns
/// the element made the first time. Also returns the element's task.
pub async fn create_element(
    state: &AppState,
    actor: &Actor,
    owner: &UserRecord,
    form: ElementForm,
) -> Result<(ElementView, TaskRecord), BackendError> {
    let reference = ReferenceType::parse(&form.reference_type)
        .ok_or_else(|| invalid("Choose how to make the element: from a video or from images."))?;
    let mut problems = check_text(&form.name, &form.description);
    problems.extend(check_voice_id(&form.voice_id, reference));
    let refer_ids: Vec<&str> = form
        .refer_upload_ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    if reference == ReferenceType::Images {
        problems.extend(check_refer_count(refer_ids.len()));
    }
    if !problems.is_empty() {
        return Err(invalid(problems.join(" ")));
    }
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(invalid(
            "The request carries no valid idempotency key; reload the page and try again.",
        ));
    }
    let (video_upload_id, image_upload_id, refer_upload_ids, preview) = match reference {
        ReferenceType::Video => {
            let video = owned_upload(
                state,
                &form.video_upload_id,
                owner,
                UploadKind::Video,
                "The reference video is missing; upload it again.",
            )
            .await?;
            problems.extend(check_video(&video.video_facts()));
            (Some(video.id.clone()), None, Vec::new(), video.id)
        }
        ReferenceType::Images => {
            let frontal = owned_upload(
                state,
                &form.frontal_upload_id,
                owner,
                UploadKind::Image,
                "The frontal image is missing; upload it again.",
            )
            .await?;
            problems.extend(check_image("Frontal image", &frontal.image_facts()));
            let mut refer = Vec::new();
            for (n, id) in refer_ids.iter().enumerate() {
                let image = owned_upload(
                    state,
                    id,
                    owner,
                    UploadKind::Image,
                    "An image from another angle is missing; upload it again.",
                )
                .await?;
                problems.extend(check_image(
                    &format!("Other angle {}", n + 1),
                    &image.image_facts(),
                ));
                refer.push(image.id);
            }
            (None, Some(frontal.id.clone()), refer, frontal.id)
        }
    };
    if !problems.is_empty() {
        return Err(invalid(problems.join(" ")));
    }
    let voice_id = Some(form.voice_id.trim().to_string()).filter(|v| !v.is_empty());
    let params = TaskParams::Element(ElementParamsRecord {
        name: form.name.trim().to_string(),
        description: form.description.trim().to_string(),
        reference_type: reference,
        voice_id: voice_id.clone(),
        refer_upload_ids,
    });
    let now = state.clock().now();
    let element = NewElement {
        id: random_token()[..32].to_string(),
        owner_id: owner.id,
        name: form.name.trim().to_string(),
        description: form.description.trim().to_string(),
        reference_type: reference,
        voice_id,
        preview_upload_id: preview,
        created_at: now,
    };
    let (task, _) = enqueue(
        state,
        NewTask {
            owner_id: owner.id,
            idempotency_key: format!("element:{key}"),
            params,
            image_upload_id,
            video_upload_id,
            quality: None,
            cost: ELEMENT_MICRO_CREDITS,
        },
        Some(&element),
        actor,
    )
    .await?;
    let store = state.store();
    let element_id = store
        .element_id_of_task(&task.id)
        .await?
        .ok_or_else(|| BackendError::Internal("element task without an element".into()))?;
    let record = store.element_by_id(&element_id).await?.ok_or_else(|| {
        invalid("This element was created earlier and has since been removed from the library.")
    })?;
    Ok((element_view(&record, owner, now), task))
}

/// The team's library, newest first, filtered by `search` over name and description.
pub async fn list_elements(
    state: &AppState,
    viewer: &UserRecord,
    search: Option<&str>,
) -> Result<Vec<ElementView>, BackendError> {
    let now = state.billing().now();
    // Matched here rather than in SQL, so case folding is the same (full Unicode) on both
    // databases.
    let wanted = search.map(|s| s.trim().to_lowercase()).unwrap_or_default();
    Ok(state
        .store()
        .list_elements()
        .await?
        .iter()
        .filter(|record| {
            wanted.is_empty()
                || record.name.to_lowercase().contains(&wanted)
                || record.description.to_lowercase().contains(&wanted)
        })
        .map(|record| element_view(record, viewer, now))
        .collect())
}

async fn editable(
    state: &AppState,
    viewer: &UserRecord,
    id: &str,
) -> Result<ElementRecord, BackendError> {
    let record = state
        .store()
        .element_by_id(id)
        .await?
        .ok_or(BackendError::NotFound)?;
    if !may_edit(&record, viewer) {
        return Err(BackendError::Forbidden);
    }
    Ok(record)
}

/// Gives the element a new description (its creator or an admin).
pub async fn describe_element(
    state: &AppState,
    actor: &Actor,
    viewer: &UserRecord,
    id: &str,
    description: &str,
) -> Result<ElementView, BackendError> {
    editable(state, viewer, id).await?;
    if let Some(problem) = check_description(description) {
        return Err(invalid(problem));
    }
    let now = state.billing().now();
    if !state
        .store()
        .update_element_description(
            id,
            description.trim(),
            now,
            &actor.entry(AuditAction::ElementEdited, id, "", state.clock().now_ms()),
        )
        .await?
    {
        return Err(BackendError::NotFound);
    }
    let record = state
        .store()
        .element_by_id(id)
        .await?
        .ok_or(BackendError::NotFound)?;
    Ok(element_view(&record, viewer, now))
}

/// Removes the element from Kinema's library (its creator or an admin). EvoLink has no delete,
/// so the element itself lives on upstream; tasks that used it keep their results.
pub async fn remove_element(
    state: &AppState,
    actor: &Actor,
    viewer: &UserRecord,
    id: &str,
) -> Result<(), BackendError> {
    editable(state, viewer, id).await?;
    if !state
        .store()
        .remove_element(
            id,
            state.billing().now(),
            &actor.entry(AuditAction::ElementRemoved, id, "", state.clock().now_ms()),
        )
        .await?
    {
        return Err(BackendError::NotFound);
    }
    Ok(())
}
