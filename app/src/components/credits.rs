//! Credit amounts, with estimated dollars when the installation sets a credits-per-USD rate.

use leptos::prelude::*;

use crate::rules::pricing::{credits_with_usd, format_usd};

/// Credits one US dollar buys, provided to every signed-in page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsdRate(pub Option<f64>);

/// The installation's credits-per-USD rate, if the page provides one.
pub fn usd_rate() -> Option<f64> {
    use_context::<UsdRate>().and_then(|rate| rate.0)
}

/// ` (≈ $0.41)` for `micro_credits`, or nothing when no rate is configured.
pub fn usd_suffix(micro_credits: i64) -> String {
    match usd_rate() {
        Some(rate) => format!(" ({})", format_usd(micro_credits, rate)),
        None => String::new(),
    }
}

/// `40.82 credits (≈ $0.41)` at the page's rate (see [`credits_with_usd`]).
pub fn credits_text(micro_credits: i64) -> String {
    credits_with_usd(micro_credits, usd_rate())
}

/// Estimated dollars after a credit figure, in a muted style.
#[component]
pub fn Usd(amount: i64) -> impl IntoView {
    let text = usd_suffix(amount);
    (!text.is_empty()).then(|| view! { <span class="usd">{text}</span> })
}
