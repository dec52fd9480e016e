//! CSV exports of the ledger: a member's own entries, and the whole team's for admins.

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Extension,
};

use app::backend::{store::LedgerLine, usage::ledger_csv, AppState};
use app::model::Role;

use super::{RequireUser, RouteError};

fn csv_response(state: &AppState, lines: &[LedgerLine], name: &str) -> Response {
    let day = state.billing().day_of(state.billing().now());
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"kinema-{name}-{day}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        ledger_csv(state.billing(), lines),
    )
        .into_response()
}

async fn export(
    state: &AppState,
    user_id: Option<i64>,
    name: &str,
) -> Result<Response, RouteError> {
    match state.store().ledger_lines(user_id).await {
        Ok(lines) => Ok(csv_response(state, &lines, name)),
        Err(err) => {
            tracing::error!(error = %err, "exporting the ledger failed");
            Err(RouteError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The export could not be made. Try again; if it keeps failing, tell your admin.",
            ))
        }
    }
}

/// `GET /api/usage/charges.csv`: the signed-in member's entries.
pub async fn member_csv(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Response, RouteError> {
    export(&state, Some(user.id), "charges").await
}

/// `GET /api/admin/usage.csv`: every member's entries, admins only.
pub async fn team_csv(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Response, RouteError> {
    if user.role() != Role::Admin {
        return Err(RouteError::forbidden(
            "Only admins can export the team's usage.",
        ));
    }
    export(&state, None, "team-usage").await
}
