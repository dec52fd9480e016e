//! Request middleware: request ids and the access log, the cross-site check for mutations,
//! resolving the signed-in user, and the page guard.

use std::time::Instant;

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;
use tracing::Instrument;

use app::backend::{
    context::{ClientAddress, CurrentUser, RequestId},
    metrics::Metrics,
    session, AppState,
};
use app::model::Role;

use crate::config::TrustedProxies;

/// Gives every request an id (shown to people with internal errors, sent as `x-request-id`),
/// runs the request inside a `request` span carrying that id (so every line logged while handling
/// it names the request), logs one line per request: method, matched route, status, latency,
/// and counts it in the metrics by the same labels. Never the full URL.
pub async fn request_log(
    State(metrics): State<Metrics>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| route_family(request.uri().path()).to_string());
    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let elapsed = started.elapsed();
    metrics.http_request(method.as_str(), &route, response.status().as_u16(), elapsed);
    tracing::info!(
        target: "kinema::access",
        %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = elapsed.as_millis() as u64,
        request_id = %request_id,
    );
    response
}

/// A coarse name for an unmatched path, so the log never carries ids or tokens from the URL.
fn route_family(path: &str) -> &'static str {
    if path.starts_with("/pkg/") {
        "/pkg/{file}"
    } else if path.starts_with("/invite/") {
        "/invite/{token}"
    } else if path.starts_with("/api/") {
        "/api/{fn}"
    } else {
        "(page or file)"
    }
}

/// Resolves the client's address once per request: the socket peer, or, when that peer is a
/// trusted proxy, the address the proxies put in `X-Forwarded-For`.
pub async fn client_address(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let client = proxies.client_address(peer, request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

/// Refuses state-changing requests that a browser marks as coming from another site.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if is_safe_method(request.method()) || !looks_cross_site(&request) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        "Refused: this request came from another site.",
    )
        .into_response()
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn looks_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not sent by a browser (browsers send Origin on every POST).
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host != Some(host) || host.is_empty()
}

/// Resolves the signed-in user from the session on every request. A disabled or deleted user's
/// session, or one from before the user's sessions were ended (a password reset), is ended
/// here, so either takes effect at once.
pub async fn resolve_user(mut request: Request, next: Next) -> Response {
    let user = match (
        request.extensions().get::<Session>().cloned(),
        request.extensions().get::<AppState>().cloned(),
    ) {
        (Some(session), Some(state)) => match session::user_id(&session).await {
            Ok(Some(user_id)) => match state.store().user_by_id(user_id).await {
                Ok(Some(user)) if !user.disabled => {
                    match session::is_current(&session, &user).await {
                        Ok(true) => {
                            // Activity extends the session, written at most once a day.
                            if let Err(err) =
                                session::keep_alive(&session, state.clock().now_ms()).await
                            {
                                tracing::warn!(error = %err, "extending a session failed");
                            }
                            Some(user)
                        }
                        _ => {
                            let _ = session::sign_out(&session).await;
                            None
                        }
                    }
                }
                Ok(_) => {
                    let _ = session::sign_out(&session).await;
                    None
                }
                Err(err) => {
                    tracing::error!(error = %err, "loading the signed-in user failed");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Database unavailable; try again shortly.",
                    )
                        .into_response();
                }
            },
            _ => None,
        },
        _ => None,
    };
    request.extensions_mut().insert(CurrentUser(user));
    next.run(request).await
}

/// Sends visitors where they belong before a page renders: to setup on first run, to sign-in
/// when signed out; answers admin pages with 403 for members.
pub async fn guard_pages(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if request.method() != Method::GET || !is_page_path(&path) {
        return next.run(request).await;
    }
    let Some(state) = request.extensions().get::<AppState>().cloned() else {
        return next.run(request).await;
    };
    let user = request
        .extensions()
        .get::<CurrentUser>()
        .and_then(|user| user.0.clone());
    let needs_setup = match state.needs_setup().await {
        Ok(needs) => needs,
        Err(err) => {
            tracing::error!(error = %err, "checking first-run setup failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Database unavailable; try again shortly.",
            )
                .into_response();
        }
    };
    if needs_setup {
        return if path == "/setup" {
            next.run(request).await
        } else {
            Redirect::to("/setup").into_response()
        };
    }
    // Share links open without signing in; their route checks the link on every request.
    let public = path == "/login"
        || path == "/setup"
        || path.starts_with("/invite/")
        || path.starts_with("/s/");
    match &user {
        None if !public => {
            let next_path = urlencode_path(&path);
            Redirect::to(&format!("/login?next={next_path}")).into_response()
        }
        Some(_) if path == "/login" || path == "/setup" => Redirect::to("/").into_response(),
        Some(user) if is_admin_path(&path) && user.role() != Role::Admin => {
            let mut response = next.run(request).await;
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
        }
        _ if path == "/setup" => Redirect::to("/login").into_response(),
        _ => next.run(request).await,
    }
}

fn is_page_path(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/pkg/")
        || path.starts_with("/media/")
        || path.starts_with("/hooks/")
        || path.starts_with("/auth/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.')))
}

fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

fn urlencode_path(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_told_apart_from_files_and_api() {
        assert!(is_page_path("/"));
        assert!(is_page_path("/admin"));
        assert!(is_page_path("/invite/abc"));
        assert!(!is_page_path("/pkg/kinema.wasm"));
        assert!(!is_page_path("/api/sign_in"));
        assert!(!is_page_path("/favicon.ico"));
        assert!(!is_page_path("/media/abc"));
        assert!(!is_page_path("/hooks/evolink/abc/def"));
        assert!(!is_page_path("/auth/oidc/callback"));
        assert!(is_admin_path("/admin/members"));
        assert!(!is_admin_path("/administrator"));
    }

    /// A log writer the test can read back.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_line_logged_during_a_request_names_its_id() {
        use tower::ServiceExt;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = axum::Router::new()
            .route(
                "/work",
                axum::routing::get(|| async {
                    tracing::warn!("deep inside the handler");
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                Metrics::new(),
                request_log,
            ));
        let response = router
            .oneshot(
                Request::get("/work")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|line| line.contains("deep inside the handler"))
            .unwrap_or_else(|| panic!("the handler's line is logged: {log}"));
        assert!(line.contains(&format!("request_id={id}")), "{line}");
    }

    #[test]
    fn unmatched_paths_are_logged_without_their_details() {
        assert_eq!(route_family("/invite/secret-token"), "/invite/{token}");
        assert_eq!(route_family("/whatever?x=1"), "(page or file)");
    }
}
