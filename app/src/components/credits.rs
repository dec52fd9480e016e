//! Credit amounts, with estimated dollars when the installation sets a credits-per-USD rate.

use leptos::prelude::*;

use crate::rules::pricing::{format_credits, format_usd};

/// Credits one US dollar buys, provided to every signed-in page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsdRate(pub Option<f64>);

/// ` (≈ $0.41)` for `micro_credits`, or nothing when no rate is configured.
pub fn usd_suffix(micro_credits: i64) -> String {
    match use_context::<UsdRate>().and_then(|rate| rate.0) {
        Some(rate) => format!(" ({})", format_usd(micro_credits, rate)),
        None => String::new(),
    }
}

/// `40.82 credits (≈ $0.41)`.
pub fn credits_text(micro_credits: i64) -> String {
    format!(
        "{} credits{}",
        format_credits(micro_credits),
        usd_suffix(micro_credits)
    )
}

/// Estimated dollars after a credit figure, in a muted style.
#[component]
pub fn Usd(amount: i64) -> impl IntoView {
    let text = usd_suffix(amount);
    (!text.is_empty()).then(|| view! { <span class="usd">{text}</span> })
}
