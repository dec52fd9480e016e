//! Team settings for admins: how people sign in.

use leptos::prelude::*;

use crate::model::{AppError, SignInSettings};

/// How people sign in: the provider, whether passwords are accepted, and how many admins sign
/// in through the provider.
#[server(prefix = "/api", endpoint = "sign_in_settings")]
pub async fn get_sign_in_settings() -> Result<SignInSettings, AppError> {
    use crate::backend::{context, sign_in_methods};
    context::respond(
        async {
            context::require_admin()?;
            sign_in_methods::settings(&context::state()?).await
        }
        .await,
    )
}

/// Switches password sign-in on or off. Off is allowed only with single sign-on set up and an
/// admin who signs in through it; the change is in the audit log.
#[server(prefix = "/api", endpoint = "set_password_sign_in")]
pub async fn set_password_sign_in(enabled: bool) -> Result<(), AppError> {
    use crate::backend::{context, sign_in_methods};
    context::respond(
        async {
            let admin = context::require_admin()?;
            let actor = context::actor(&admin);
            sign_in_methods::set_password_sign_in(&context::state()?, &actor, enabled).await
        }
        .await,
    )
}
