//! Motion Control: submit, history, one task, delete.
// A form's fields arrive as the server function's arguments (the browser posts them form-encoded).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::model::{AppError, TaskPage, TaskView};

/// Submits a motion-control task; the same idempotency key always yields the same task.
#[server(prefix = "/api", endpoint = "submit_motion")]
pub async fn submit_motion(
    image_upload_id: String,
    video_upload_id: String,
    quality: String,
    orientation: String,
    keep_sound: bool,
    prompt: String,
    idempotency_key: String,
    #[server(default)] element_id: String,
) -> Result<TaskView, AppError> {
    use crate::backend::{context, tasks};
    use crate::model::MotionForm;
    context::respond(
        async {
            let user = context::require_user()?;
            let form = MotionForm {
                image_upload_id,
                video_upload_id,
                quality,
                orientation,
                keep_sound,
                prompt,
                idempotency_key,
                element_id,
            };
            tasks::submit_motion(&context::state()?, &context::actor(&user), &user, form).await
        }
        .await,
    )
}

/// One page of the member's history, newest first; `status` is running, completed or failed.
/// Pages are numbered from 1 to [`crate::rules::paging::MAX_PAGE`]; others are refused.
#[server(prefix = "/api", endpoint = "list_tasks")]
pub async fn list_tasks(
    page: i64,
    status: Option<String>,
    quality: Option<String>,
) -> Result<TaskPage, AppError> {
    use crate::backend::{context, tasks, BackendError};
    use crate::rules::paging::check_page;
    context::respond(
        async {
            let user = context::require_user()?;
            let page = check_page(page).map_err(BackendError::Invalid)?;
            let state = context::state()?;
            tasks::history_page(&state, &user, page, status.as_deref(), quality.as_deref()).await
        }
        .await,
    )
}

/// One of the member's tasks.
#[server(prefix = "/api", endpoint = "get_task")]
pub async fn get_task(id: String) -> Result<TaskView, AppError> {
    use crate::backend::{context, tasks::task_view, BackendError};
    context::respond(
        async {
            let user = context::require_user()?;
            let task = context::state()?
                .store()
                .task_of_owner(&id, user.id)
                .await?
                .ok_or(BackendError::NotFound)?;
            Ok(task_view(&task))
        }
        .await,
    )
}

/// Removes a task and its result file from the member's history; its ledger entries stay.
#[server(prefix = "/api", endpoint = "delete_task")]
pub async fn delete_task(id: String) -> Result<(), AppError> {
    use crate::backend::{context, now_unix, BackendError};
    use crate::rules::audit::AuditAction;
    context::respond(
        async {
            let user = context::require_user()?;
            let state = context::state()?;
            let task = state
                .store()
                .task_of_owner(&id, user.id)
                .await?
                .ok_or(BackendError::NotFound)?;
            if !task.state.is_final() {
                return Err(BackendError::Invalid(
                    "This task is still running; delete it once it has finished.".into(),
                ));
            }
            let entry = context::actor(&user).entry(
                AuditAction::TaskDeleted,
                id.clone(),
                "",
                state.clock().now_ms(),
            );
            state
                .store()
                .delete_task_of_owner(&id, user.id, now_unix(), &entry)
                .await?;
            // Other tabs and the history cache learn of it like of any other change.
            state.notify_task(crate::backend::tasks::TaskEvent {
                owner_id: user.id,
                task_id: id.clone(),
            });
            if let Some(key) = task.result_key {
                state.storage().delete(&key).await?;
            }
            Ok(())
        }
        .await,
    )
}

/// One of the member's uploads (for "Run again").
#[server(prefix = "/api", endpoint = "get_upload")]
pub async fn get_upload(id: String) -> Result<crate::model::UploadView, AppError> {
    use crate::backend::{context, BackendError};
    context::respond(
        async {
            let user = context::require_user()?;
            let upload = context::state()?
                .store()
                .upload_of_owner(&id, user.id)
                .await?
                .ok_or(BackendError::NotFound)?;
            Ok(upload.view())
        }
        .await,
    )
}
