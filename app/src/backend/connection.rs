//! "Check EvoLink connection": whether the key works, and the team's balance.

use super::AppState;
use crate::model::EvoLinkStatus;

/// Asks EvoLink for the balance (a call that spends nothing) and says what it found.
pub async fn check(state: &AppState) -> EvoLinkStatus {
    let sandbox = state.sandbox();
    let client = match state.evolink() {
        Ok(client) => client,
        Err(_) => {
            return EvoLinkStatus {
                sandbox,
                ok: false,
                message: "Kinema has no EvoLink connection configured.".into(),
                token_remaining: None,
                token_unlimited: false,
                account_remaining: None,
            }
        }
    };
    match client.credits().await {
        Ok(balance) => EvoLinkStatus {
            sandbox,
            ok: true,
            message: if sandbox {
                "Connected to the built-in EvoLink simulator (sandbox). Nothing is billed.".into()
            } else {
                "Connected: EvoLink accepted the team's API key.".into()
            },
            token_remaining: balance.token_remaining,
            token_unlimited: balance.token_unlimited,
            account_remaining: balance.account_remaining,
        },
        Err(err) => {
            tracing::warn!(error = %err, "EvoLink connection check failed");
            EvoLinkStatus {
                sandbox,
                ok: false,
                message: err.user_message(),
                token_remaining: None,
                token_unlimited: false,
                account_remaining: None,
            }
        }
    }
}
