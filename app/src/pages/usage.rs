//! The member's usage: spent this month against the budget, what running tasks hold, spending
//! per day over the last 30 or 90 days, the charges, and a CSV of them all.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::usage::my_usage;
use crate::components::{
    budget_bar::budget_bar,
    credits::{credits_text, Usd},
    day_chart::DayChart,
    days_switch::{chart_days, DaysSwitch},
    live::task_changes,
    signed_in::SignedIn,
};
use crate::model::{ChargeView, UsageView};
use crate::rules::{pricing::format_credits, vocab::TaskKind};

/// Usage; signed-in members only.
#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <Title text="Usage · Kinema" />
        <SignedIn children=|_user| view! { <Usage /> } />
    }
}

#[component]
fn Usage() -> impl IntoView {
    let changes = task_changes(None);
    let usage = Resource::new(move || changes.get(), |_| my_usage());
    let days = chart_days();
    view! {
        <section class="card">
            <div class="row-between">
                <h1>"Usage"</h1>
                <a href="/api/usage/charges.csv" download class="button secondary">
                    "Download CSV"
                </a>
            </div>
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(usage) => view! { <UsageSummary usage days=days.get() /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UsageSummary(usage: UsageView, days: usize) -> impl IntoView {
    let spent = format_credits(usage.spent);
    let budget_line = match usage.budget {
        Some(budget) => {
            let left = (budget - usage.spent).max(0);
            format!(
                "{spent} of your {} credit monthly budget spent · {} left",
                format_credits(budget),
                format_credits(left),
            )
        }
        None => format!("{spent} credits spent this month · no budget set (unlimited)"),
    };
    view! {
        <p class="usage-line">{budget_line} <Usd amount=usage.spent /></p>
        {budget_bar(usage.spent, usage.budget, "Budget used")}
        <p class="hint">
            {format!(
                "Held by running tasks: {} · {} ({})",
                credits_text(usage.reserved),
                usage.month_label,
                usage.time_zone,
            )}
        </p>
        <h2>"Per day"</h2>
        <DaysSwitch days base="/usage" />
        <DayChart totals=usage.days days label="Your spending".to_string() />
        <h2>"Charges"</h2>
        <ChargeTable charges=usage.charges time_zone=usage.time_zone />
    }
}

#[component]
fn ChargeTable(charges: Vec<ChargeView>, time_zone: String) -> impl IntoView {
    if charges.is_empty() {
        return view! { <p>"No charges yet."</p> }.into_any();
    }
    view! {
        <table class="charges">
            <thead>
                <tr>
                    <th>{format!("When ({time_zone})")}</th>
                    <th>"What"</th>
                    <th>"Task"</th>
                    <th>"Credits"</th>
                </tr>
            </thead>
            <tbody>
                {charges
                    .into_iter()
                    .map(|charge| {
                        let what = match &charge.reason {
                            Some(reason) => format!("{}: {reason}", charge.kind.label()),
                            None => charge.kind.label().to_string(),
                        };
                        view! {
                            <tr>
                                <td>{charge.local_time}</td>
                                <td>{what}</td>
                                <td>
                                    {match (charge.task_id, charge.task_kind) {
                                        (Some(_), Some(TaskKind::Element)) => {
                                            Some(view! { <A href="/elements">"Element"</A> }.into_any())
                                        }
                                        (Some(id), _) => {
                                            Some(
                                                view! { <A href=format!("/tasks/{id}")>"Open"</A> }
                                                    .into_any(),
                                            )
                                        }
                                        _ => None,
                                    }}
                                </td>
                                <td>
                                    {format_credits(-charge.amount)} <Usd amount=-charge.amount />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
