//! Custom elements: create, the team library, describe anew, remove.
// A form's fields arrive as the server function's arguments (the browser posts them form-encoded).
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::model::{AppError, ElementView};

/// Creates an element from a video or from images (1 credit; refunded if creation fails).
#[server(prefix = "/api", endpoint = "create_element")]
pub async fn create_element(
    name: String,
    description: String,
    reference_type: String,
    #[server(default)] video_upload_id: String,
    #[server(default)] frontal_upload_id: String,
    #[server(default)] refer_upload_ids: String,
    #[server(default)] voice_id: String,
    idempotency_key: String,
) -> Result<ElementView, AppError> {
    use crate::backend::{context, elements};
    use crate::model::ElementForm;
    context::respond(
        async {
            let user = context::require_user()?;
            let form = ElementForm {
                name,
                description,
                reference_type,
                video_upload_id,
                frontal_upload_id,
                refer_upload_ids,
                voice_id,
                idempotency_key,
            };
            elements::create_element(&context::state()?, &context::actor(&user), &user, form)
                .await
                .map(|(view, _)| view)
        }
        .await,
    )
}

/// The team's element library, newest first; `search` matches name or description.
#[server(prefix = "/api", endpoint = "list_elements")]
pub async fn list_elements(search: Option<String>) -> Result<Vec<ElementView>, AppError> {
    use crate::backend::{context, elements};
    context::respond(
        async {
            let user = context::require_user()?;
            elements::list_elements(&context::state()?, &user, search.as_deref()).await
        }
        .await,
    )
}

/// Gives an element a new description; its creator or an admin only.
#[server(prefix = "/api", endpoint = "describe_element")]
pub async fn describe_element(id: String, description: String) -> Result<ElementView, AppError> {
    use crate::backend::{context, elements};
    context::respond(
        async {
            let user = context::require_user()?;
            let actor = context::actor(&user);
            elements::describe_element(&context::state()?, &actor, &user, &id, &description).await
        }
        .await,
    )
}

/// Removes an element from Kinema's library (EvoLink has no delete); its creator or an admin.
#[server(prefix = "/api", endpoint = "remove_element")]
pub async fn remove_element(id: String) -> Result<(), AppError> {
    use crate::backend::{context, elements};
    context::respond(
        async {
            let user = context::require_user()?;
            elements::remove_element(&context::state()?, &context::actor(&user), &user, &id).await
        }
        .await,
    )
}
