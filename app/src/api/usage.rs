//! Spending: a member's own, the team's for admins, and admins' ledger adjustments.

use leptos::prelude::*;

use crate::model::{AppError, TeamUsageView, UsageView};

/// What the signed-in member spent this month, holds in running tasks, and may still spend.
#[server(prefix = "/api", endpoint = "my_usage")]
pub async fn my_usage() -> Result<UsageView, AppError> {
    use crate::backend::{context, usage};
    context::respond(
        async {
            let user = context::require_user()?;
            usage::member_usage(&context::state()?, user.id).await
        }
        .await,
    )
}

/// The team's month: every member, spending by model and quality, and EvoLink's balance.
#[server(prefix = "/api", endpoint = "team_usage")]
pub async fn team_usage() -> Result<TeamUsageView, AppError> {
    use crate::backend::{context, usage};
    context::respond(
        async {
            context::require_admin()?;
            usage::team_usage(&context::state()?).await
        }
        .await,
    )
}

/// Adds a correction to a member's ledger: positive credits give back, negative charge. The
/// reason is required and kept with the entry.
#[server(prefix = "/api", endpoint = "adjust_credits")]
pub async fn adjust_credits(user_id: i64, credits: String, reason: String) -> Result<(), AppError> {
    use crate::backend::{context, BackendError};
    use crate::rules::audit::AuditAction;
    use crate::rules::pricing::{
        check_adjustment_reason, format_credits_exact, parse_signed_credits,
    };
    context::respond(
        async {
            let admin = context::require_admin()?;
            let amount = parse_signed_credits(&credits).map_err(BackendError::Invalid)?;
            let reason = reason.trim();
            check_adjustment_reason(reason).map_err(BackendError::Invalid)?;
            let state = context::state()?;
            let member = state
                .store()
                .user_by_id(user_id)
                .await?
                .ok_or(BackendError::NotFound)?;
            let sign = if amount > 0 { "+" } else { "" };
            let entry = context::actor(&admin).entry(
                AuditAction::CreditsAdjusted,
                member.username,
                format!("{sign}{} credits: {reason}", format_credits_exact(amount)),
                state.clock().now_ms(),
            );
            state
                .store()
                .add_adjustment(user_id, amount, reason, state.billing().now(), &entry)
                .await
        }
        .await,
    )
}
