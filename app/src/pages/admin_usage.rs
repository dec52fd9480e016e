//! The admin's usage page: the team's month against its budget and EvoLink's balance, spending
//! per day, per member (with budgets edited in place) and per model and quality, ledger
//! adjustments, and a CSV of every entry.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{check_evolink, SetMemberBudget, SetTeamBudget};
use crate::api::usage::{team_usage, AdjustCredits};
use crate::components::{
    budget_bar::budget_bar,
    connection_result::ConnectionResult,
    credits::{credits_text, Usd},
    day_chart::DayChart,
    days_switch::{chart_days, DaysSwitch},
    error_note::ErrorNote,
    signed_in::SignedIn,
};
use crate::model::{
    AppError, BreakdownView, EvoLinkStatus, MemberUsageView, PriceDriftView, TeamUsageView,
};
use crate::rules::pricing::{format_credits, format_credits_exact, ADJUSTMENT_REASON_MAX_CHARS};

/// Team usage; admins only (the server answers 403 to everyone else).
#[component]
pub fn AdminUsagePage() -> impl IntoView {
    view! {
        <Title text="Team usage · Kinema" />
        <SignedIn children=|user| {
            if user.is_admin() {
                view! { <TeamUsage /> }.into_any()
            } else {
                view! {
                    <section class="card">
                        <h1>"Admins only"</h1>
                        <p>"Ask an admin of your team about the team's usage."</p>
                    </section>
                }
                    .into_any()
            }
        } />
    }
}

#[component]
fn TeamUsage() -> impl IntoView {
    let member_budget = ServerAction::<SetMemberBudget>::new();
    let team_budget = ServerAction::<SetTeamBudget>::new();
    let adjust = ServerAction::<AdjustCredits>::new();
    let usage = Resource::new(
        move || {
            (
                member_budget.version().get(),
                team_budget.version().get(),
                adjust.version().get(),
            )
        },
        |_| team_usage(),
    );
    // Created here, not inside the usage's Suspend: resources made while a parent suspends do not
    // line up between the server's render and hydration.
    let balance = Resource::new(|| (), |_| check_evolink());
    let days = chart_days();
    view! {
        <section class="card">
            <div class="row-between">
                <h1>"Team usage"</h1>
                <a href="/api/admin/usage.csv" download class="button secondary">
                    "Download CSV"
                </a>
            </div>
            <ErrorNote value=member_budget.value() />
            <ErrorNote value=team_budget.value() />
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(usage) => {
                            view! {
                                <TeamSummary
                                    usage
                                    days=days.get()
                                    member_budget
                                    team_budget
                                    adjust
                                />
                            }
                                .into_any()
                        }
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"EvoLink balance"</h2>
            <Balance status=balance />
        </section>
    }
}

#[component]
fn TeamSummary(
    usage: TeamUsageView,
    days: usize,
    member_budget: ServerAction<SetMemberBudget>,
    team_budget: ServerAction<SetTeamBudget>,
    adjust: ServerAction<AdjustCredits>,
) -> impl IntoView {
    let line = match usage.budget {
        Some(budget) => format!(
            "The team spent {} of its {} credit monthly budget · {} left",
            format_credits(usage.spent),
            format_credits(budget),
            credits_text((budget - usage.spent).max(0)),
        ),
        None => format!(
            "The team spent {} this month · no team budget (unlimited)",
            credits_text(usage.spent)
        ),
    };
    let team_value = usage.budget.map(format_credits_exact).unwrap_or_default();
    let members_for_adjust = usage.members.clone();
    let drift = usage.price_drift.clone();
    view! {
        <PriceDrift drift />
        <p class="usage-line">{line}</p>
        {budget_bar(usage.spent, usage.budget, "Team budget used")}
        <p class="hint">
            {format!(
                "{} ({}). The EvoLink balance further down is what the key has left upstream.",
                usage.month_label,
                usage.time_zone,
            )}
        </p>
        <ActionForm action=team_budget attr:class="inline-form">
            <label>
                "Team monthly budget (credits, empty = unlimited)"
                <input
                    name="credits"
                    inputmode="decimal"
                    value=team_value.clone()
                    prop:value=team_value
                    placeholder="unlimited"
                />
            </label>
            <button type="submit" class="small">
                "Save team budget"
            </button>
        </ActionForm>
        <h2>"Per day"</h2>
        <DaysSwitch days base="/admin/usage" />
        <DayChart totals=usage.days days label="Team spending".to_string() />
        <h2>"Members this month"</h2>
        <MemberUsageTable members=usage.members action=member_budget />
        <h2>"By model and quality"</h2>
        <BreakdownTable rows=usage.breakdown />
        <h2>"Adjust a member's credits"</h2>
        <p class="hint">
            "Adds an entry to the ledger; entries are never edited or deleted. A positive amount gives credits back, a negative one charges."
        </p>
        <ActionForm action=adjust attr:class="inline-form">
            <label>
                "Member"
                <select name="user_id">
                    {members_for_adjust
                        .into_iter()
                        .map(|m| view! { <option value=m.user_id>{m.display_name}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>"Credits" <input name="credits" inputmode="decimal" required /></label>
            <label>
                "Reason" <input name="reason" maxlength=ADJUSTMENT_REASON_MAX_CHARS required />
            </label>
            <button type="submit" class="small">
                "Add adjustment"
            </button>
        </ActionForm>
        <ErrorNote value=adjust.value() />
    }
}

/// EvoLink's balance for the key, in its own resource so a slow upstream holds up only this.
#[component]
fn Balance(status: Resource<Result<EvoLinkStatus, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| {
            view! { <p class="hint">"Asking EvoLink for the balance…"</p> }
        }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(status) => view! { <ConnectionResult status /> }.into_any(),
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn MemberUsageTable(
    members: Vec<MemberUsageView>,
    action: ServerAction<SetMemberBudget>,
) -> impl IntoView {
    view! {
        <table class="member-usage">
            <thead>
                <tr>
                    <th>"Member"</th>
                    <th>"Spent"</th>
                    <th>"Monthly budget"</th>
                    <th>"Tasks"</th>
                    <th>"Failures"</th>
                    <th>"Refunds"</th>
                    <th>"Last activity"</th>
                </tr>
            </thead>
            <tbody>
                {members
                    .into_iter()
                    .map(|m| {
                        let label = format!("Monthly budget for {}", m.display_name);
                        let value = m.budget.map(format_credits_exact).unwrap_or_default();
                        view! {
                            <tr data-username=m.username.clone()>
                                <td>
                                    {m.display_name.clone()} {m.disabled.then_some(" (disabled)")}
                                </td>
                                <td class="spent">
                                    {format_credits(m.spent)} <Usd amount=m.spent />
                                </td>
                                <td>
                                    <ActionForm action attr:class="inline-form">
                                        <input type="hidden" name="user_id" value=m.user_id />
                                        <input
                                            name="credits"
                                            inputmode="decimal"
                                            value=value.clone()
                                            prop:value=value
                                            placeholder="unlimited"
                                            aria-label=label.clone()
                                            size="8"
                                        />
                                        <button
                                            type="submit"
                                            class="small"
                                            aria-label=format!("Save {label}")
                                        >
                                            "Save"
                                        </button>
                                    </ActionForm>
                                </td>
                                <td>{m.tasks}</td>
                                <td>{m.failures}</td>
                                <td>{format_credits(m.refunds)}</td>
                                <td>{m.last_activity_local.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn BreakdownTable(rows: Vec<BreakdownView>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>"Nothing spent this month yet."</p> }.into_any();
    }
    view! {
        <table class="breakdown">
            <thead>
                <tr>
                    <th>"Model"</th>
                    <th>"Quality"</th>
                    <th>"Tasks"</th>
                    <th>"Credits"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        view! {
                            <tr>
                                <td>{row.model}</td>
                                <td>
                                    {if row.quality.is_empty() {
                                        "—".into()
                                    } else {
                                        row.quality
                                    }}
                                </td>
                                <td>{row.tasks}</td>
                                <td>{format_credits(row.spent)} <Usd amount=row.spent /></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Tasks where EvoLink's own figure differs from Kinema's price table, so a stale table shows
/// at once.
#[component]
fn PriceDrift(drift: Vec<PriceDriftView>) -> impl IntoView {
    (!drift.is_empty())
        .then(|| {
            view! {
                <div class="notice" role="status" aria-label="Price differences">
                    <h2>"EvoLink's figures differ from Kinema's price table"</h2>
                    <p class="hint">
                        "Members are charged by Kinema's price table. When EvoLink reserves or charges another amount, the table may be out of date: compare it with EvoLink's current prices."
                    </p>
                    <ul>
                        {drift
                            .into_iter()
                            .map(|item| {
                                view! {
                                    <li>
                                        {format!(
                                            "{} · {} {} · task {}: {}",
                                            item.member,
                                            item.model,
                                            item.quality,
                                            item.task_id,
                                            item.notice,
                                        )}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
}
