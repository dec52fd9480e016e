//! How much of a monthly budget is spent, as a bar.

use leptos::prelude::*;

/// A bar of `spent` against `budget`, when there is one.
pub fn budget_bar(spent: i64, budget: Option<i64>, label: &'static str) -> impl IntoView {
    budget.filter(|b| *b > 0).map(|b| {
        let percent = ((spent.max(0) as f64 / b as f64) * 100.0)
            .clamp(0.0, 100.0)
            .round() as u32;
        view! { <progress max="100" value=percent aria-label=label></progress> }
    })
}
