//! Share links: make one for a completed task, list them, revoke one. Signed-in members only,
//! for their own tasks; admins list and revoke everyone's. The shared page itself is a plain
//! route of the server (`/s/…`), open to anyone holding the link.

use leptos::prelude::*;

use crate::model::{AppError, NewShareLinkView, ShareLinkView};

/// Makes a share link to one of the member's completed tasks; `expiry` is one of the
/// [`crate::rules::share::ShareExpiry`] words. The answer is the only time the link is shown.
#[server(prefix = "/api", endpoint = "create_share_link")]
pub async fn create_share_link(
    task_id: String,
    expiry: String,
) -> Result<NewShareLinkView, AppError> {
    use crate::backend::{context, share_links};
    context::respond(
        async {
            let user = context::require_user()?;
            share_links::create_link(
                &context::state()?,
                &context::actor(&user),
                &user,
                &task_id,
                &expiry,
            )
            .await
        }
        .await,
    )
}

/// The member's share links (an admin's list holds everyone's), newest first; of one task
/// when `task_id` is given.
#[server(prefix = "/api", endpoint = "list_share_links")]
pub async fn list_share_links(
    #[server(default)] task_id: Option<String>,
) -> Result<Vec<ShareLinkView>, AppError> {
    use crate::backend::{context, share_links};
    context::respond(
        async {
            let user = context::require_user()?;
            let task_id = task_id.as_deref().filter(|id| !id.is_empty());
            share_links::list_links(&context::state()?, &user, task_id).await
        }
        .await,
    )
}

/// Revokes one of the member's share links (admins: anyone's); it stops at once.
#[server(prefix = "/api", endpoint = "revoke_share_link")]
pub async fn revoke_share_link(id: i64) -> Result<(), AppError> {
    use crate::backend::{context, share_links};
    context::respond(
        async {
            let user = context::require_user()?;
            share_links::revoke_link(&context::state()?, &context::actor(&user), &user, id).await
        }
        .await,
    )
}
