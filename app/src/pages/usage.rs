//! The member's usage: spent this month against the budget, what running tasks hold, charges.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::usage::my_usage;
use crate::components::{live::task_changes, signed_in::SignedIn};
use crate::model::UsageView;
use crate::rules::{format::utc_datetime, pricing::format_credits};

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
    view! {
        <section class="card">
            <h1>"Usage"</h1>
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(usage) => view! { <UsageSummary usage /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "reserve" => "Reserved",
        "settle" => "Settled",
        "refund" => "Refunded",
        _ => "Adjusted",
    }
}

#[component]
fn UsageSummary(usage: UsageView) -> impl IntoView {
    let spent = format_credits(usage.spent);
    let budget_line = match usage.budget {
        Some(budget) => {
            let left = format_credits((budget - usage.spent).max(0));
            format!(
                "{spent} of your {} credit monthly budget spent · {left} left",
                format_credits(budget)
            )
        }
        None => format!("{spent} credits spent this month · no budget set (unlimited)"),
    };
    let percent = usage.budget.filter(|b| *b > 0).map(|b| {
        ((usage.spent.max(0) as f64 / b as f64) * 100.0)
            .clamp(0.0, 100.0)
            .round() as u32
    });
    view! {
        <p class="usage-line">{budget_line}</p>
        {percent
            .map(|p| view! { <progress max="100" value=p aria-label="Budget used"></progress> })}
        <p class="hint">
            {format!(
                "Held by running tasks: {} credits · month started {}",
                format_credits(usage.reserved),
                utc_datetime(usage.month_start),
            )}
        </p>
        <h2>"Charges"</h2>
        {if usage.charges.is_empty() {
            view! { <p>"No charges yet."</p> }.into_any()
        } else {
            view! {
                <table>
                    <thead>
                        <tr>
                            <th>"When"</th>
                            <th>"What"</th>
                            <th>"Task"</th>
                            <th>"Credits"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {usage
                            .charges
                            .into_iter()
                            .map(|charge| {
                                view! {
                                    <tr>
                                        <td>{utc_datetime(charge.created_at)}</td>
                                        <td>{kind_label(&charge.kind)}</td>
                                        <td>
                                            {charge
                                                .task_id
                                                .map(|id| {
                                                    view! { <A href=format!("/tasks/{id}")>"Open"</A> }
                                                })}
                                        </td>
                                        <td>{format_credits(-charge.amount)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
                .into_any()
        }}
    }
}
