//! The audit log: who did what to the team, from where, and when. An action that writes to the
//! database records its entry in the same transaction (the store takes the entry); an action
//! that writes nothing else (a sign-in, a download) records it right after with [`record`].
//! Entries are read by admins (filtered, paged, exported as CSV) and by each member (their own).

use std::net::IpAddr;

use super::{
    billing::Billing,
    store::{AuditFilter, AuditRecord, NewAuditEntry, UserRecord},
    AppState, BackendError,
};
use crate::model::{AuditEntryView, AuditPage};
use crate::rules::{
    audit::{check_date, AuditAction, AUDIT_PAGE_SIZE},
    paging::check_page,
};

/// Where a request came from: the client's address, the request's id and, for a gateway call,
/// the API token it carried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub address: Option<IpAddr>,
    pub request_id: Option<String>,
    pub token_id: Option<i64>,
}

/// Who acts, from where: what every entry of one request shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    user_id: Option<i64>,
    name: String,
    origin: Origin,
}

impl Actor {
    /// A signed-in member (or a member's token, when `origin` names one).
    pub fn member(user: &UserRecord, origin: &Origin) -> Actor {
        Actor {
            user_id: Some(user.id),
            name: user.username.clone(),
            origin: origin.clone(),
        }
    }

    /// Nobody known yet: a failed sign-in under the name `tried`, or someone joining (the
    /// store fills in the new member).
    pub fn unknown(tried: &str, origin: &Origin) -> Actor {
        Actor {
            user_id: None,
            name: tried.chars().take(200).collect(),
            origin: origin.clone(),
        }
    }

    /// The API token the actor came with (a gateway call), if any.
    pub fn token_id(&self) -> Option<i64> {
        self.origin.token_id
    }

    /// The entry for `action` on `target`, at `at_ms` (unix milliseconds).
    pub fn entry(
        &self,
        action: AuditAction,
        target: impl Into<String>,
        detail: impl Into<String>,
        at_ms: i64,
    ) -> NewAuditEntry {
        NewAuditEntry {
            actor_id: self.user_id,
            actor_name: self.name.clone(),
            action,
            target: target.into(),
            detail: detail.into(),
            client_address: self.origin.address.map(|address| address.to_string()),
            request_id: self.origin.request_id.clone(),
            token_id: self.origin.token_id,
            at_ms,
        }
    }
}

/// Records an entry on its own, for actions that write nothing else to the database.
pub async fn record(state: &AppState, entry: &NewAuditEntry) -> Result<(), BackendError> {
    state.store().record_audit(entry).await
}

/// The filters of the admin's page, as the form sends them (empty means any).
#[derive(Clone, Debug, Default)]
pub struct FilterForm {
    pub member_id: Option<i64>,
    pub action: String,
    /// `YYYY-MM-DD` in the billing zone, inclusive.
    pub from: String,
    /// `YYYY-MM-DD` in the billing zone, inclusive.
    pub to: String,
}

impl FilterForm {
    /// The filters as a form or a query sends them: `member` a member's id (empty for all).
    pub fn read(member: &str, action: &str, from: &str, to: &str) -> Result<Self, BackendError> {
        let member_id = match member.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| {
                BackendError::Invalid(format!("'{id}' is not a member of the team."))
            })?),
        };
        Ok(FilterForm {
            member_id,
            action: action.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        })
    }

    /// The checked filter: dates become the bounds of whole days in the billing zone.
    pub fn parse(&self, billing: &Billing) -> Result<AuditFilter, BackendError> {
        let action = match self.action.trim() {
            "" => None,
            word => Some(AuditAction::parse(word).ok_or_else(|| {
                BackendError::Invalid(format!("'{word}' is not an action of the audit log."))
            })?),
        };
        let day_start = |text: &str, next: bool| -> Result<Option<i64>, BackendError> {
            let Some(date) = check_date(text).map_err(BackendError::Invalid)? else {
                return Ok(None);
            };
            billing
                .day_start_ms(date, next)
                .map(Some)
                .ok_or_else(|| BackendError::Invalid(format!("'{}' is not a date.", text.trim())))
        };
        let filter = AuditFilter {
            actor_id: self.member_id,
            action,
            from_ms: day_start(&self.from, false)?,
            until_ms: day_start(&self.to, true)?,
        };
        if let (Some(from), Some(until)) = (filter.from_ms, filter.until_ms) {
            if from >= until {
                return Err(BackendError::Invalid(
                    "The start date is after the end date; swap them.".into(),
                ));
            }
        }
        Ok(filter)
    }
}

fn view(billing: &Billing, record: &AuditRecord) -> AuditEntryView {
    AuditEntryView {
        id: record.id,
        at_ms: record.at_ms,
        local_time: billing.local_time(record.at_ms.div_euclid(1000)),
        actor_id: record.actor_id,
        actor: record.actor_name.clone(),
        action: record.action,
        target: record.target.clone(),
        detail: record.detail.clone(),
        client_address: record.client_address.clone().unwrap_or_default(),
        request_id: record.request_id.clone().unwrap_or_default(),
        token_id: record.token_id,
    }
}

/// One page (from 1) of the entries `filter` selects, newest first.
pub async fn page(
    state: &AppState,
    filter: &AuditFilter,
    page: i64,
) -> Result<AuditPage, BackendError> {
    let page = check_page(page).map_err(BackendError::Invalid)?;
    let (rows, total) = state
        .store()
        .audit_page(filter, AUDIT_PAGE_SIZE, (page - 1) * AUDIT_PAGE_SIZE)
        .await?;
    Ok(AuditPage {
        entries: rows.iter().map(|row| view(state.billing(), row)).collect(),
        page,
        pages: ((total + AUDIT_PAGE_SIZE - 1) / AUDIT_PAGE_SIZE).max(1),
        total,
        time_zone: state.billing().zone_name().to_string(),
    })
}

/// The entries as CSV, oldest first, with text a spreadsheet would run as a formula defused.
pub fn csv(billing: &Billing, records: &[AuditRecord]) -> String {
    use super::usage::csv_field;
    let mut csv = format!(
        "time ({}),member,action,target,detail,client_address,request_id,token\n",
        billing.zone_name()
    );
    for record in records {
        let time = billing.local_time(record.at_ms.div_euclid(1000));
        csv.push_str(&format!(
            "{time},{},{},{},{},{},{},{}\n",
            csv_field(&record.actor_name),
            record.action,
            csv_field(&record.target),
            csv_field(&record.detail),
            csv_field(record.client_address.as_deref().unwrap_or("")),
            csv_field(record.request_id.as_deref().unwrap_or("")),
            record.token_id.map(|id| id.to_string()).unwrap_or_default(),
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::billing::Clock;

    fn record(actor: &str, detail: &str) -> AuditRecord {
        AuditRecord {
            id: 1,
            actor_id: Some(2),
            actor_name: actor.into(),
            action: AuditAction::CreditsAdjusted,
            target: "moe".into(),
            detail: detail.into(),
            client_address: Some("127.0.0.1".into()),
            request_id: Some("abc".into()),
            token_id: None,
            at_ms: 1_795_688_716_123,
        }
    }

    #[test]
    fn csv_shows_the_billing_zone_and_defuses_formulas() {
        let billing = Billing::new("Asia/Tokyo", None, Clock::System).unwrap();
        let csv = csv(
            &billing,
            &[
                record("ada", "+5 credits: goodwill"),
                record("=cmd", "-5, \"oops\""),
            ],
        );
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(
            rows[0],
            "time (Asia/Tokyo),member,action,target,detail,client_address,request_id,token"
        );
        assert_eq!(
            rows[1],
            "2026-11-26T19:25:16+09:00,ada,credits_adjusted,moe,'+5 credits: goodwill,127.0.0.1,abc,"
        );
        assert_eq!(
            rows[2],
            "2026-11-26T19:25:16+09:00,'=cmd,credits_adjusted,moe,\"'-5, \"\"oops\"\"\",127.0.0.1,abc,"
        );
    }

    #[test]
    fn date_filters_cover_whole_days_in_the_billing_zone() {
        let tokyo = Billing::new("Asia/Tokyo", None, Clock::System).unwrap();
        let form = FilterForm {
            member_id: Some(3),
            action: "budget_set".into(),
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
        };
        let filter = form.parse(&tokyo).unwrap();
        assert_eq!(filter.actor_id, Some(3));
        assert_eq!(filter.action, Some(AuditAction::BudgetSet));
        assert_eq!(filter.from_ms, Some((1_793_491_200 - 9 * 3600) * 1000));
        assert_eq!(filter.until_ms, Some((1_793_491_200 + 15 * 3600) * 1000));
        let swapped = FilterForm {
            from: "2026-11-02".into(),
            to: "2026-11-01".into(),
            ..FilterForm::default()
        };
        assert!(swapped.parse(&tokyo).is_err());
        let unknown = FilterForm {
            action: "dance".into(),
            ..FilterForm::default()
        };
        assert!(unknown.parse(&tokyo).is_err());
        let feb_31 = FilterForm {
            from: "2026-02-31".into(),
            ..FilterForm::default()
        };
        assert!(feb_31.parse(&tokyo).is_err());
    }
}
