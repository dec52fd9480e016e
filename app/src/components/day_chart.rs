//! A per-day bar chart of spending, drawn as SVG on the server; its colours come from the theme's
//! variables, so it reads in light and dark mode alike.

use leptos::prelude::*;

use crate::model::DayTotal;
use crate::rules::pricing::format_credits;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 12.0;

/// The last `days` entries of `totals` as bars, with the largest day on the axis.
#[component]
pub fn DayChart(totals: Vec<DayTotal>, days: usize, label: String) -> impl IntoView {
    let shown: Vec<DayTotal> = totals
        .iter()
        .skip(totals.len().saturating_sub(days))
        .cloned()
        .collect();
    let peak = shown.iter().map(|d| d.spent).max().unwrap_or(0).max(1);
    let total: i64 = shown.iter().map(|d| d.spent).sum();
    let slot = (WIDTH - LEFT) / shown.len().max(1) as f64;
    let plot = HEIGHT - BOTTOM - TOP;
    let first = shown.first().map(|d| d.day.clone()).unwrap_or_default();
    let last = shown.last().map(|d| d.day.clone()).unwrap_or_default();
    let summary = format!(
        "{label}: {} credits over the last {days} days, at most {} on one day",
        format_credits(total),
        format_credits(peak.max(0))
    );
    let bars = shown
        .into_iter()
        .enumerate()
        .filter(|(_, day)| day.spent != 0)
        .map(|(index, day)| {
            let height = (day.spent.max(0) as f64 / peak as f64 * plot).max(1.0);
            let x = LEFT + index as f64 * slot + slot * 0.15;
            let y = TOP + plot - height;
            let tip = format!("{}: {} credits", day.day, format_credits(day.spent));
            view! {
                <rect
                    class="bar"
                    data-day=day.day
                    x=format!("{x:.1}")
                    y=format!("{y:.1}")
                    width=format!("{:.1}", slot * 0.7)
                    height=format!("{height:.1}")
                >
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=summary.clone()
                data-days=days
            >
                <line class="axis" x1=LEFT y1=TOP x2=LEFT y2=TOP + plot />
                <line class="axis" x1=LEFT y1=TOP + plot x2=WIDTH y2=TOP + plot />
                <text class="tick" x=LEFT - 6.0 y=TOP + 8.0 text-anchor="end">
                    {format_credits(peak)}
                </text>
                <text class="tick" x=LEFT - 6.0 y=TOP + plot text-anchor="end">
                    "0"
                </text>
                {bars}
                <text class="tick" x=LEFT y=HEIGHT - 6.0>
                    {first}
                </text>
                <text class="tick" x=WIDTH y=HEIGHT - 6.0 text-anchor="end">
                    {last}
                </text>
            </svg>
            <figcaption>{summary}</figcaption>
        </figure>
    }
}
