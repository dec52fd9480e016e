//! The audit log: the admin's filtered view of the team's, and each member's own entries.

use leptos::prelude::*;

use crate::model::{AppError, AuditPage};

/// One page of the team's audit log, newest first; admins only. Empty filters match all:
/// `member` is a member's id, `action` an action word, `from` and `to` dates (`YYYY-MM-DD`,
/// inclusive) in the billing time zone.
#[server(prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(
    page: i64,
    #[server(default)] member: String,
    #[server(default)] action: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<AuditPage, AppError> {
    use crate::backend::{audit, context};
    context::respond(
        async {
            context::require_admin()?;
            let state = context::state()?;
            let filter =
                audit::FilterForm::read(&member, &action, &from, &to)?.parse(state.billing())?;
            audit::page(&state, &filter, page).await
        }
        .await,
    )
}

/// One page of the signed-in member's own entries, newest first.
#[server(prefix = "/api", endpoint = "my_audit")]
pub async fn my_audit(page: i64) -> Result<AuditPage, AppError> {
    use crate::backend::{audit, context, store::AuditFilter};
    context::respond(
        async {
            let user = context::require_user()?;
            let filter = AuditFilter {
                actor_id: Some(user.id),
                ..AuditFilter::default()
            };
            audit::page(&context::state()?, &filter, page).await
        }
        .await,
    )
}
