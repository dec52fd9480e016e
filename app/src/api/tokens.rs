//! Personal API tokens: create (shown once), list, revoke. Signed-in members only; a token itself
//! never reaches these (they need a session).

use leptos::prelude::*;

use crate::model::{ApiTokenView, AppError, NewApiTokenView};

/// Creates a token for the signed-in member; the answer is the only time its text is shown.
#[server(prefix = "/api", endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    #[server(default)] scope: String,
    #[server(default)] expires_in_days: String,
) -> Result<NewApiTokenView, AppError> {
    use crate::backend::{context, tokens};
    context::respond(
        async {
            let user = context::require_user()?;
            tokens::create_token(
                &context::state()?,
                &context::actor(&user),
                &user,
                &name,
                &scope,
                &expires_in_days,
            )
            .await
        }
        .await,
    )
}

/// The signed-in member's tokens (an admin's list holds everyone's), newest first.
#[server(prefix = "/api", endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiTokenView>, AppError> {
    use crate::backend::{context, tokens};
    context::respond(
        async {
            let user = context::require_user()?;
            tokens::list_tokens(&context::state()?, &user).await
        }
        .await,
    )
}

/// Revokes one of the member's own tokens (admins: anyone's); it stops working at once.
#[server(prefix = "/api", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    use crate::backend::{context, tokens};
    context::respond(
        async {
            let user = context::require_user()?;
            tokens::revoke_token(&context::state()?, &context::actor(&user), &user, id).await
        }
        .await,
    )
}
