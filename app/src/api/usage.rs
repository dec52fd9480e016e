//! A member's own spending.

use leptos::prelude::*;

use crate::model::{AppError, UsageView};

/// What the signed-in member spent this month, holds in running tasks, and may still spend.
#[server(prefix = "/api", endpoint = "my_usage")]
pub async fn my_usage() -> Result<UsageView, AppError> {
    use crate::backend::{context, now_unix, tasks::month_start};
    use crate::model::ChargeView;
    context::respond(
        async {
            let user = context::require_user()?;
            let store = context::state()?.store().clone();
            let start = month_start(now_unix());
            let (spent, reserved, budget) = store.usage_of_user(user.id, start).await?;
            let charges = store
                .ledger_of_user(user.id, 200)
                .await?
                .into_iter()
                .map(|entry| ChargeView {
                    task_id: entry.task_id,
                    kind: entry.kind,
                    amount: entry.amount,
                    created_at: entry.created_at,
                })
                .collect();
            Ok(UsageView {
                month_start: start,
                spent,
                reserved,
                budget,
                charges,
            })
        }
        .await,
    )
}
