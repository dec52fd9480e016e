//! Member and invite management for admins.

use leptos::prelude::*;

use crate::model::{AppError, InviteView, MemberView};

/// Every member, oldest first.
#[server(prefix = "/api", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<MemberView>, AppError> {
    use crate::backend::context;
    context::respond(
        async {
            context::require_admin()?;
            let users = context::state()?.store().list_users().await?;
            Ok(users.iter().map(|user| user.member_view()).collect())
        }
        .await,
    )
}

/// Creates a single-use invite link for the role, valid for `hours`.
#[server(prefix = "/api", endpoint = "create_invite")]
pub async fn create_invite(
    role: String,
    hours: i64,
    #[server(default)] email: String,
) -> Result<InviteView, AppError> {
    use crate::backend::{accounts, context, BackendError};
    use crate::model::Role;
    context::respond(
        async {
            let admin = context::require_admin()?;
            let role = Role::parse(&role).ok_or_else(|| {
                BackendError::Invalid(format!("Unknown role '{role}'; choose admin or member."))
            })?;
            let actor = context::actor(&admin);
            accounts::create_invite(&context::state()?, &actor, admin.id, role, hours, &email).await
        }
        .await,
    )
}

/// The newest invites.
#[server(prefix = "/api", endpoint = "list_invites")]
pub async fn list_invites() -> Result<Vec<InviteView>, AppError> {
    use crate::backend::{accounts, context};
    context::respond(
        async {
            context::require_admin()?;
            accounts::list_invites(&context::state()?).await
        }
        .await,
    )
}

/// Revokes an unused invite: its link stops working at once.
#[server(prefix = "/api", endpoint = "revoke_invite")]
pub async fn revoke_invite(invite_id: i64) -> Result<(), AppError> {
    use crate::backend::{accounts, context};
    context::respond(
        async {
            let admin = context::require_admin()?;
            accounts::revoke_invite(&context::state()?, &context::actor(&admin), invite_id).await
        }
        .await,
    )
}

/// Disables (their sessions stop working at once, their unused invites are revoked) or
/// re-enables a member.
#[server(prefix = "/api", endpoint = "set_member_disabled")]
pub async fn set_member_disabled(user_id: i64, disabled: bool) -> Result<(), AppError> {
    use crate::backend::{accounts, context};
    context::respond(
        async {
            let admin = context::require_admin()?;
            let origin = context::origin();
            accounts::set_disabled(&context::state()?, &admin, &origin, user_id, disabled).await
        }
        .await,
    )
}

/// Checks the EvoLink connection and reads the team's balance.
#[server(prefix = "/api", endpoint = "check_evolink")]
pub async fn check_evolink() -> Result<crate::model::EvoLinkStatus, AppError> {
    use crate::backend::{connection, context};
    context::respond(
        async {
            context::require_admin()?;
            Ok(connection::check(&context::state()?).await)
        }
        .await,
    )
}

/// Sets a member's monthly budget in credits; an empty value removes it (no limit).
#[server(prefix = "/api", endpoint = "set_member_budget")]
pub async fn set_member_budget(user_id: i64, credits: String) -> Result<(), AppError> {
    use crate::backend::{context, now_unix, BackendError};
    use crate::rules::{audit::AuditAction, pricing::parse_credits};
    context::respond(
        async {
            let admin = context::require_admin()?;
            let limit = match credits.trim() {
                "" => None,
                text => Some(parse_credits(text).map_err(BackendError::Invalid)?),
            };
            let state = context::state()?;
            let member = state
                .store()
                .user_by_id(user_id)
                .await?
                .ok_or(BackendError::NotFound)?;
            let entry = context::actor(&admin).entry(
                AuditAction::BudgetSet,
                member.username,
                budget_words(limit),
                state.clock().now_ms(),
            );
            state
                .store()
                .set_member_budget(user_id, limit, now_unix(), &entry)
                .await
        }
        .await,
    )
}

/// Sets the team's monthly budget in credits; an empty value removes it (no limit).
#[server(prefix = "/api", endpoint = "set_team_budget")]
pub async fn set_team_budget(credits: String) -> Result<(), AppError> {
    use crate::backend::{context, now_unix, BackendError};
    use crate::rules::{audit::AuditAction, pricing::parse_credits};
    context::respond(
        async {
            let admin = context::require_admin()?;
            let limit = match credits.trim() {
                "" => None,
                text => Some(parse_credits(text).map_err(BackendError::Invalid)?),
            };
            let state = context::state()?;
            let entry = context::actor(&admin).entry(
                AuditAction::BudgetSet,
                "team",
                budget_words(limit),
                state.clock().now_ms(),
            );
            state
                .store()
                .set_team_budget(limit, now_unix(), &entry)
                .await
        }
        .await,
    )
}

/// A budget for the audit log: `100 credits a month` or `no limit`.
#[cfg(feature = "ssr")]
fn budget_words(limit: Option<i64>) -> String {
    match limit {
        Some(limit) => format!(
            "{} credits a month",
            crate::rules::pricing::format_credits_exact(limit)
        ),
        None => "no limit".into(),
    }
}
