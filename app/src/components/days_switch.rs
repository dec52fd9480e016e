//! The per-day chart's range: read from `?days=` and switched with links, on the member's and
//! the admin's usage pages alike.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// 30 or 90, from `?days=`.
pub fn chart_days() -> Memo<usize> {
    let query = use_query_map();
    Memo::new(move |_| match query.read().get("days").as_deref() {
        Some("90") => 90,
        _ => 30,
    })
}

/// Links that switch the chart between 30 and 90 days.
#[component]
pub fn DaysSwitch(days: usize, base: &'static str) -> impl IntoView {
    view! {
        <p class="days-switch">
            {[30usize, 90]
                .into_iter()
                .map(|option| {
                    let current = (option == days).then_some("page");
                    view! {
                        <a href=format!("{base}?days={option}") aria-current=current>
                            {format!("Last {option} days")}
                        </a>
                    }
                })
                .collect_view()}
        </p>
    }
}
