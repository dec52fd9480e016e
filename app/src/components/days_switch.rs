//! The per-day chart's range: read from `?days=` and switched with links, on the member's and
//! the admin's usage pages alike.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::rules::usage::CHART_DAY_CHOICES;

/// The chart's range from `?days=`: one of `CHART_DAY_CHOICES`, else the first.
pub fn chart_days() -> Memo<usize> {
    let query = use_query_map();
    Memo::new(move |_| {
        let asked = query.read().get("days");
        let days = CHART_DAY_CHOICES
            .into_iter()
            .find(|days| asked.as_deref() == Some(days.to_string().as_str()))
            .unwrap_or(CHART_DAY_CHOICES[0]);
        days as usize
    })
}

/// Links that switch the chart between its ranges.
#[component]
pub fn DaysSwitch(days: usize, base: &'static str) -> impl IntoView {
    view! {
        <p class="days-switch">
            {CHART_DAY_CHOICES
                .into_iter()
                .map(|option| {
                    let current = (option as usize == days).then_some("page");
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
