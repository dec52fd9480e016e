//! Setup, sign-in, sign-out and invites.

use leptos::prelude::*;

use crate::model::{AppError, InviteInfo, SessionInfo};

/// Who is signed in, whether setup is needed, and whether Kinema runs in sandbox mode.
#[server(prefix = "/api", endpoint = "session_info")]
pub async fn get_session_info() -> Result<SessionInfo, AppError> {
    use crate::backend::{context, sign_in_methods};
    context::respond(
        async {
            let state = context::state()?;
            Ok(SessionInfo {
                password_sign_in: sign_in_methods::password_sign_in(&state).await?,
                user: context::current_user().map(|user| user.view()),
                needs_setup: state.needs_setup().await?,
                sandbox: state.sandbox(),
                credits_per_usd: state.billing().credits_per_usd(),
                sso_provider: state.oidc().map(|oidc| oidc.provider_name().to_string()),
            })
        }
        .await,
    )
}

/// Creates the first admin account and signs it in. Refused once an admin exists.
#[server(prefix = "/api", endpoint = "setup_admin")]
pub async fn setup_admin(
    username: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    use crate::backend::{accounts, context, session};
    context::respond(
        async {
            let state = context::state()?;
            let form = accounts::AccountForm::parse(
                &username,
                &display_name,
                &password,
                &password_confirm,
            )?;
            let admin = accounts::create_first_admin(&state, form).await?;
            session::sign_in(&context::session()?, &admin).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Signs in with a username and password, then goes to `next` (a local path) or the studio.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::backend::{accounts, context, session};
    context::respond(
        async {
            let state = context::state()?;
            let user =
                accounts::authenticate(&state, &username, &password, &context::origin()).await?;
            session::sign_in(&context::session()?, &user).await?;
            leptos_axum::redirect(&local_path_or_home(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

/// Why the last single sign-on in this session was refused, once (the sign-in page shows it).
#[server(prefix = "/api", endpoint = "sign_in_refusal")]
pub async fn sign_in_refusal() -> Result<Option<String>, AppError> {
    use crate::backend::{context, sign_in_methods};
    context::respond(async { sign_in_methods::take_refusal(&context::session()?).await }.await)
}

/// Ends the session on the server.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::backend::{context, session};
    context::respond(
        async {
            session::sign_out(&context::session()?).await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// What an invite link offers, before accepting it.
#[server(prefix = "/api", endpoint = "invite_details")]
pub async fn invite_details(token: String) -> Result<InviteInfo, AppError> {
    use crate::backend::{accounts, context};
    context::respond(async { accounts::invite_info(&context::state()?, &token).await }.await)
}

/// Accepts an invite: creates the account with the invite's role and signs it in.
#[server(prefix = "/api", endpoint = "accept_invite")]
pub async fn accept_invite(
    token: String,
    username: String,
    display_name: String,
    password: String,
    password_confirm: String,
) -> Result<(), AppError> {
    use crate::backend::{accounts, context, session};
    context::respond(
        async {
            let state = context::state()?;
            let form = accounts::AccountForm::parse(
                &username,
                &display_name,
                &password,
                &password_confirm,
            )?;
            let user = accounts::accept_invite(&state, &token, form, &context::origin()).await?;
            session::sign_in(&context::session()?, &user).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Only same-site paths are followed after sign-in, so a crafted link cannot send people
/// elsewhere: one leading `/` (not `//`, which browsers read as another host), no backslash
/// (some browsers read it as `/`), no control characters or spaces (stripped or split by
/// browsers and headers), and at most 2,000 characters.
pub fn local_path_or_home(next: Option<&str>) -> String {
    match next {
        Some(path) if is_same_site_path(path) => path.to_string(),
        _ => "/".to_string(),
    }
}

fn is_same_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= 2_000
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::local_path_or_home;

    #[test]
    fn only_same_site_paths_are_followed() {
        let long = format!("/{}", "a".repeat(2_000));
        let table: &[(Option<&str>, &str)] = &[
            (Some("/history"), "/history"),
            (Some("/tasks/42?tab=log#top"), "/tasks/42?tab=log#top"),
            (Some("/"), "/"),
            (Some("/%2F%2Fevil.example"), "/%2F%2Fevil.example"),
            (None, "/"),
            (Some(""), "/"),
            (Some("history"), "/"),
            (Some("//evil.example"), "/"),
            (Some("///evil.example"), "/"),
            (Some("https://evil.example"), "/"),
            (Some("javascript:alert(1)"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("\\\\evil.example"), "/"),
            (Some("/\t/evil.example"), "/"),
            (Some("/\n/evil.example"), "/"),
            (Some("/\r\nSet-Cookie: x=1"), "/"),
            (Some("/\u{0}"), "/"),
            (Some("/\u{7f}"), "/"),
            (Some("/\u{85}x"), "/"),
            (Some("/ /evil.example"), "/"),
            (Some("/\u{3000}/evil.example"), "/"),
            (Some(&long), "/"),
        ];
        for (next, expected) in table {
            assert_eq!(&local_path_or_home(*next), expected, "next = {next:?}");
        }
    }
}
