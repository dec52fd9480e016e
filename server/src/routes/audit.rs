//! The audit log as CSV, for admins, with the same filters as the admin's page.

use axum::{
    extract::Query,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};
use serde::Deserialize;

use app::backend::{audit, AppState, BackendError};
use app::model::Role;

use super::{RequireUser, RouteError};

/// The filters, as the page's form puts them in the query (all optional).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    member: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// `GET /api/admin/audit.csv?member=&action=&from=&to=`: the matching entries, oldest first.
pub async fn csv(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
    Query(filters): Query<Filters>,
) -> Result<Response, RouteError> {
    if user.role() != Role::Admin {
        return Err(RouteError::forbidden(
            "Only admins can export the audit log.",
        ));
    }
    let filter =
        audit::FilterForm::read(&filters.member, &filters.action, &filters.from, &filters.to)
            .and_then(|form| form.parse(state.billing()))
            .map_err(|err| match err {
                BackendError::Invalid(message) => RouteError::new(StatusCode::BAD_REQUEST, message),
                err => RouteError::internal("reading the audit filters", err),
            })?;
    let records = state
        .store()
        .audit_entries(&filter)
        .await
        .map_err(|err| RouteError::internal("exporting the audit log", err))?;
    let day = state.billing().day_of(state.billing().now());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"kinema-audit-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        audit::csv(state.billing(), &records),
    )
        .into_response())
}
