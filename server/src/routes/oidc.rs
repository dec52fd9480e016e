//! Single sign-on routes: `/auth/oidc/start` sends the browser to the team's identity provider,
//! `/auth/oidc/callback` takes it back, signs the member in (a new session id, as for
//! passwords) and goes on to the studio. A refusal goes back to the sign-in page, which shows
//! why in plain words (carried once in the session; a small page says it when the session
//! cannot be written).

use axum::{
    extract::Query,
    http::{header, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    Extension,
};
use serde::Deserialize;
use tower_sessions::Session;

use app::api::auth::local_path_or_home;
use app::backend::{oidc, session, sign_in_methods, AppState, BackendError};

/// `?next=` of the start route.
#[derive(Debug, Default, Deserialize)]
pub struct Start {
    next: Option<String>,
}

/// What the provider sends back.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A refusal page with a way back to the sign-in page.
fn refusal(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in refused · Kinema</title></head>\
         <body><main><h1>Sign-in refused</h1><p role=\"alert\">{}</p>\
         <p><a href=\"/login\">Back to sign-in</a></p></main></body></html>",
        escape(message)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// Why a sign-in failed, in words for the person, and the status of the fallback page.
fn reason(err: BackendError) -> (StatusCode, String) {
    match err {
        BackendError::Invalid(message) => (StatusCode::FORBIDDEN, message),
        BackendError::NotFound => (
            StatusCode::NOT_FOUND,
            "Single sign-on is not set up on this Kinema.".into(),
        ),
        err => {
            tracing::error!(error = %err, "single sign-on failed");
            (
                StatusCode::BAD_GATEWAY,
                "The identity provider could not be reached. Try again; if it keeps failing, tell your admin."
                    .into(),
            )
        }
    }
}

/// Back to the sign-in page, which shows `message`.
async fn refused(session: &Session, status: StatusCode, message: &str) -> Response {
    match sign_in_methods::remember_refusal(session, message).await {
        Ok(()) => Redirect::to("/login").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "the refusal could not be kept for the sign-in page");
            refusal(status, message)
        }
    }
}

async fn failed(session: &Session, err: BackendError) -> Response {
    let (status, message) = reason(err);
    refused(session, status, &message).await
}

/// `GET /auth/oidc/start?next=/path`: to the provider's sign-in.
pub async fn start(
    Extension(state): Extension<AppState>,
    session: Session,
    Query(query): Query<Start>,
) -> Response {
    let next = local_path_or_home(query.next.as_deref());
    match oidc::start(&state, &session, &next).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(err) => failed(&session, err).await,
    }
}

/// `GET /auth/oidc/callback?code=…&state=…`: back from the provider.
pub async fn callback(
    Extension(state): Extension<AppState>,
    session: Session,
    request: axum::extract::Request,
) -> Response {
    let query: Callback = Query::try_from_uri(request.uri())
        .map(|Query(query)| query)
        .unwrap_or_default();
    if query.error.is_some() {
        return refused(
            &session,
            StatusCode::FORBIDDEN,
            "The identity provider did not sign you in. Sign in again below.",
        )
        .await;
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return refused(
            &session,
            StatusCode::BAD_REQUEST,
            "This sign-in link is incomplete. Sign in again below.",
        )
        .await;
    };
    let origin = super::origin(request.extensions());
    let (user, next) = match oidc::finish(&state, &session, &code, &returned_state, &origin).await {
        Ok(found) => found,
        Err(err) => return failed(&session, err).await,
    };
    if let Err(err) = session::sign_in(&session, &user).await {
        return failed(&session, err).await;
    }
    Redirect::to(&local_path_or_home(Some(&next))).into_response()
}
