//! What the audit pages show.

use serde::{Deserialize, Serialize};

use crate::rules::audit::AuditAction;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    /// Unix milliseconds (UTC).
    pub at_ms: i64,
    /// When, on the billing time zone's clock, with its offset.
    pub local_time: String,
    /// The member who acted; `None` for a failed sign-in.
    pub actor_id: Option<i64>,
    /// The member's username, or the name a failed sign-in tried.
    pub actor: String,
    pub action: AuditAction,
    pub target: String,
    pub detail: String,
    /// Empty when unknown.
    pub client_address: String,
    /// Empty when unknown.
    pub request_id: String,
    /// The API token of a gateway call.
    pub token_id: Option<i64>,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// From 1.
    pub page: i64,
    /// At least 1.
    pub pages: i64,
    /// Entries matching the filters.
    pub total: i64,
    /// The billing time zone's name.
    pub time_zone: String,
}
