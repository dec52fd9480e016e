//! What the usage pages show: ledger entries, sums and per-day series, in micro-credits.

use serde::{Deserialize, Serialize};

use crate::rules::vocab::{EntryKind, TaskKind};

/// One ledger entry as its member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeView {
    pub task_id: Option<String>,
    /// `motion` or `element`, for entries of a task.
    pub task_kind: Option<TaskKind>,
    /// What the entry records.
    pub kind: EntryKind,
    /// Micro-credits; negative spends, positive returns.
    pub amount: i64,
    /// An admin's reason for an adjustment.
    pub reason: Option<String>,
    /// The API token the entry's task came through (gateway), if any.
    pub api_token: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When, on the billing time zone's clock (`2026-11-26 19:25`).
    pub local_time: String,
}

/// Net spending on one calendar day (in the billing time zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Micro-credits spent or held that day, net of refunds.
    pub spent: i64,
}

/// A member's spending this month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    /// Unix seconds.
    pub month_start: i64,
    /// The month in the billing time zone, e.g. `November 2026`.
    pub month_label: String,
    /// The billing time zone's name.
    pub time_zone: String,
    /// Micro-credits spent or held this month (the sum of this month's entries, negated).
    pub spent: i64,
    /// Micro-credits held by tasks still running.
    pub reserved: i64,
    /// The member's monthly budget, if any.
    pub budget: Option<i64>,
    /// The last 90 days, oldest first.
    pub days: Vec<DayTotal>,
    /// The newest entries first.
    pub charges: Vec<ChargeView>,
}

/// One member's month, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberUsageView {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub disabled: bool,
    pub spent: i64,
    pub budget: Option<i64>,
    pub tasks: i64,
    pub failures: i64,
    pub refunds: i64,
    /// Unix seconds.
    pub last_activity: Option<i64>,
    /// The same on the billing time zone's clock.
    pub last_activity_local: Option<String>,
}

/// Spending this month on one model and quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownView {
    /// The upstream model's name.
    pub model: String,
    /// `720p`, `1080p`, or empty for elements.
    pub quality: String,
    pub tasks: i64,
    pub spent: i64,
}

/// The team's month, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamUsageView {
    pub month_start: i64,
    /// The month in the billing time zone, e.g. `November 2026`.
    pub month_label: String,
    pub time_zone: String,
    /// Micro-credits spent or held by everyone this month.
    pub spent: i64,
    pub budget: Option<i64>,
    pub members: Vec<MemberUsageView>,
    pub breakdown: Vec<BreakdownView>,
    /// The last 90 days, oldest first.
    pub days: Vec<DayTotal>,
    /// Tasks this month where EvoLink's own figure differs from Kinema's price table.
    pub price_drift: Vec<PriceDriftView>,
}

/// A task where EvoLink reserved or charged another amount than Kinema's price table says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceDriftView {
    pub task_id: String,
    /// The member who ran it.
    pub member: String,
    /// The upstream model's name.
    pub model: String,
    /// `720p`, `1080p`, or empty for elements.
    pub quality: String,
    /// `charged` when the upstream reported its charge, else `reserved`.
    pub figure: String,
    /// EvoLink's figure, micro-credits.
    pub upstream: i64,
    /// Kinema's figure, micro-credits.
    pub kinema: i64,
    /// The notice in plain words.
    pub notice: String,
}
