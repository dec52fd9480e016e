//! Usage figures and exports, all derived from the ledger's entries: a member's month, the team's
//! month for admins, per-day series in the billing time zone, and CSV files.

use std::collections::HashMap;

use super::{
    billing::Billing, evolink::wire, store::LedgerLine, tasks::drift, AppState, BackendError,
};
use crate::model::{
    BreakdownView, ChargeView, DayTotal, MemberUsageView, PriceDriftView, TeamUsageView, UsageView,
};
use crate::rules::{
    pricing::format_credits_exact,
    usage::CHART_DAYS_MAX,
    vocab::{Quality, TaskKind},
};

/// Days the usage charts cover.
pub const CHART_DAYS: u32 = CHART_DAYS_MAX;
/// Price-drift notices shown on the team usage page.
const DRIFT_SHOWN: i64 = 20;
/// Entries shown on a member's usage page (the CSV has them all).
const CHARGES_SHOWN: i64 = 200;

/// Sums `(user_id, amount, created_at)` entries into one net spending figure per calendar day.
pub fn daily_totals(billing: &Billing, entries: &[(i64, i64, i64)], days: u32) -> Vec<DayTotal> {
    let mut by_day: HashMap<String, i64> = HashMap::new();
    for (_, amount, created_at) in entries {
        *by_day.entry(billing.day_of(*created_at)).or_default() -= amount;
    }
    billing
        .last_days(days)
        .into_iter()
        .map(|(day, _)| DayTotal {
            spent: by_day.get(&day).copied().unwrap_or(0),
            day,
        })
        .collect()
}

/// The last 90 days of one member's or (with `None`) the team's spending.
async fn chart(state: &AppState, user_id: Option<i64>) -> Result<Vec<DayTotal>, BackendError> {
    let billing = state.billing();
    let since = billing
        .last_days(CHART_DAYS)
        .first()
        .map(|(_, start)| *start)
        .unwrap_or(0);
    let entries = state.store().ledger_amounts_since(user_id, since).await?;
    Ok(daily_totals(billing, &entries, CHART_DAYS))
}

/// The signed-in member's month: spent, held, budget, the last 90 days and their newest charges.
pub async fn member_usage(state: &AppState, user_id: i64) -> Result<UsageView, BackendError> {
    let billing = state.billing();
    let store = state.store();
    let start = billing.month_start(billing.now());
    let (spent, reserved, budget) = store.usage_of_user(user_id, start).await?;
    let charges = store
        .ledger_of_user(user_id, CHARGES_SHOWN)
        .await?
        .into_iter()
        .map(|entry| ChargeView {
            task_id: entry.task_id,
            task_kind: entry.task_kind,
            kind: entry.kind,
            amount: entry.amount,
            reason: entry.reason,
            api_token: entry.token_name,
            local_time: billing.wall_time(entry.created_at),
            created_at: entry.created_at,
        })
        .collect();
    Ok(UsageView {
        month_start: start,
        month_label: billing.month_label(start),
        time_zone: billing.zone_name().to_string(),
        spent,
        reserved,
        budget,
        days: chart(state, Some(user_id)).await?,
        charges,
    })
}

/// The team's month for admins: every member, the split by model and quality, and the last 90
/// days (EvoLink's balance is asked for separately, so a slow upstream never holds this up).
pub async fn team_usage(state: &AppState) -> Result<TeamUsageView, BackendError> {
    let billing = state.billing();
    let store = state.store();
    let start = billing.month_start(billing.now());
    let (spent, budget) = store.team_spending(start).await?;
    let members = store
        .member_usage(start)
        .await?
        .into_iter()
        .map(|m| MemberUsageView {
            user_id: m.user_id,
            username: m.username,
            display_name: m.display_name,
            disabled: m.disabled,
            spent: m.spent,
            budget: m.budget,
            tasks: m.tasks,
            failures: m.failures,
            refunds: m.refunds,
            last_activity_local: m.last_activity.map(|t| billing.wall_time(t)),
            last_activity: m.last_activity,
        })
        .collect();
    let breakdown = store
        .usage_breakdown(start)
        .await?
        .into_iter()
        .map(|row| BreakdownView {
            model: model_name(row.task_kind).to_string(),
            quality: row
                .quality
                .map(Quality::as_str)
                .unwrap_or_default()
                .to_string(),
            tasks: row.tasks,
            spent: row.spent,
        })
        .collect();
    Ok(TeamUsageView {
        month_start: start,
        month_label: billing.month_label(start),
        time_zone: billing.zone_name().to_string(),
        spent,
        budget,
        members,
        breakdown,
        days: chart(state, None).await?,
        price_drift: price_drift(state, start).await?,
    })
}

/// Tasks since `since` where EvoLink's own figure differs from Kinema's price table.
async fn price_drift(state: &AppState, since: i64) -> Result<Vec<PriceDriftView>, BackendError> {
    let records = state
        .store()
        .price_drift(since, drift::ROUNDING_STEP, DRIFT_SHOWN)
        .await?;
    Ok(records.iter().filter_map(drift::notice).collect())
}

fn model_name(task_kind: TaskKind) -> &'static str {
    match task_kind {
        TaskKind::Element => wire::ELEMENT_MODEL,
        TaskKind::Motion => wire::MOTION_MODEL,
    }
}

/// Quotes a CSV field when needed, and defuses text a spreadsheet would run as a formula.
pub(crate) fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The entries as CSV, oldest first: local time, member, entry kind, task, model, quality,
/// credits (negative spends), estimated USD when a rate is configured, and the reason.
pub fn ledger_csv(billing: &Billing, lines: &[LedgerLine]) -> String {
    let rate = billing.credits_per_usd();
    let mut csv = format!(
        "time ({}),member,entry,task,model,quality,credits{},reason,api_token\n",
        billing.zone_name(),
        if rate.is_some() { ",usd_estimate" } else { "" }
    );
    for line in lines {
        let credits = format_credits_exact(line.amount);
        let usd = rate
            .map(|rate| format!(",{:.2}", line.amount as f64 / 1_000_000.0 / rate))
            .unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{credits}{usd},{},{}\n",
            billing.local_time(line.created_at),
            csv_field(&line.username),
            line.kind,
            line.task_id.as_deref().unwrap_or(""),
            line.task_kind.map(model_name).unwrap_or(""),
            line.quality.map(Quality::as_str).unwrap_or(""),
            csv_field(line.reason.as_deref().unwrap_or("")),
            csv_field(line.token_name.as_deref().unwrap_or("")),
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::billing::Clock;
    use crate::rules::vocab::EntryKind;

    fn line(amount: i64, reason: Option<&str>) -> LedgerLine {
        LedgerLine {
            id: 1,
            user_id: 2,
            username: "moe".into(),
            task_id: Some("t1".into()),
            task_kind: Some(TaskKind::Motion),
            quality: Some(Quality::P720),
            kind: EntryKind::Reserve,
            amount,
            reason: reason.map(str::to_string),
            created_at: 1_795_688_716,
            token_name: None,
        }
    }

    #[test]
    fn days_sum_entries_in_the_billing_zone() {
        // Fixed at 2026-11-26 10:25:16 UTC.
        let billing = Billing::new("UTC", None, Clock::fixed(1_795_688_716)).unwrap();
        let today = 1_795_688_716;
        let yesterday = today - 86_400;
        let entries = [
            (1, -40_824_000, today),
            (1, 10_000_000, today),
            (2, -5_000_000, yesterday),
        ];
        let days = daily_totals(&billing, &entries, 30);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].day, "2026-11-26");
        assert_eq!(days[29].spent, 30_824_000);
        assert_eq!(days[28].spent, 5_000_000);
        assert!(days[..28].iter().all(|d| d.spent == 0));
        // At UTC+14 both entries fall a calendar day later.
        let kiribati = Billing::new("Pacific/Kiritimati", None, Clock::fixed(today)).unwrap();
        let days = daily_totals(&kiribati, &entries, 2);
        assert_eq!(days[1].day, "2026-11-27");
        assert_eq!(days[1].spent, 30_824_000);
    }

    #[test]
    fn csv_quotes_and_defuses_text() {
        let billing = Billing::new("UTC", Some(100.0), Clock::System).unwrap();
        let csv = ledger_csv(
            &billing,
            &[
                line(-40_824_000, None),
                line(5_000_000, Some("=HYPERLINK(\"x\"), oops")),
            ],
        );
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(
            rows[0],
            "time (UTC),member,entry,task,model,quality,credits,usd_estimate,reason,api_token"
        );
        assert_eq!(
            rows[1],
            "2026-11-26T10:25:16+00:00,moe,reserve,t1,kling-v3-motion-control,720p,-40.824,-0.41,,"
        );
        assert!(
            rows[2].ends_with(",5.00,0.05,\"'=HYPERLINK(\"\"x\"\"), oops\","),
            "{}",
            rows[2]
        );
    }
}
