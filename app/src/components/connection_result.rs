//! What "Check EvoLink connection" found, shown on the admin page and the team usage page.

use leptos::prelude::*;

use crate::model::EvoLinkStatus;
use crate::rules::pricing::format_credits;

/// What the connection check found, with the key's and the account's balance.
#[component]
pub fn ConnectionResult(status: EvoLinkStatus) -> impl IntoView {
    let class = if status.ok { "success" } else { "error" };
    let credits = |value: Option<f64>| {
        value
            .map(|v| format_credits((v * 1_000_000.0).round() as i64))
            .unwrap_or_else(|| "unknown".into())
    };
    let token = if status.token_unlimited {
        "no limit".to_string()
    } else {
        credits(status.token_remaining)
    };
    let account = credits(status.account_remaining);
    let ok = status.ok;
    view! {
        <div class=class role="status">
            <p>{status.message}</p>
            <Show when=move || ok>
                <p>
                    "Key balance: " {token.clone()} " credits · Account balance: "
                    {account.clone()} " credits"
                </p>
            </Show>
        </div>
    }
}
