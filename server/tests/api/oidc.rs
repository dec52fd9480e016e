//! Single sign-on against a real OpenID Connect provider on loopback (PyPI's
//! `oidc-provider-mock`, installed by `scripts/setup.sh --test`): the authorization flow is
//! driven over HTTP with cookie-keeping clients through the provider's login form.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{eventually, setup_admin, whoami, Db, TestApp};

/// The provider, stopped when dropped.
struct Provider {
    child: Child,
    url: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn provider() -> Provider {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("oidc-provider-mock")
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--require-nonce", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("oidc-provider-mock on the PATH (scripts/setup.sh --test installs it)");
    let provider = Provider {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let discovery = format!("{}/.well-known/openid-configuration", provider.url);
    eventually(
        "the OIDC provider to answer",
        Duration::from_secs(30),
        || {
            let discovery = discovery.clone();
            async move {
                match reqwest::get(&discovery).await {
                    Ok(response) if response.status().is_success() => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            }
        },
    )
    .await;
    provider
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Signs in through the provider's login form as `email`; the callback's response.
async fn single_sign_on(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    let start = client
        .get(app.url("/auth/oidc/start?next=/history"))
        .send()
        .await
        .unwrap();
    assert!(start.status().is_redirection(), "{}", start.status());
    let authorize = location(&start);
    let form = client.get(&authorize).send().await.unwrap();
    assert_eq!(form.status(), 200, "the provider's login form");
    let chosen = client
        .post(&authorize)
        .form(&[("sub", email), ("action", "authorize")])
        .send()
        .await
        .unwrap();
    assert!(chosen.status().is_redirection(), "{}", chosen.status());
    let callback = location(&chosen);
    assert!(
        callback.starts_with(&app.url("/auth/oidc/callback")),
        "{callback}"
    );
    client.get(&callback).send().await.unwrap()
}

async fn members(app: &TestApp) -> Vec<(String, String)> {
    let store = app.state().store();
    store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.role))
        .collect()
}

async fn sign_in_with_the_provider(db: Db) {
    let provider = provider().await;
    let issuer = provider.url.clone();
    let app = TestApp::spawn_with(db, move |settings| {
        settings.oidc_issuer = Some(issuer);
        settings.oidc_client_id = Some("kinema".into());
        settings.oidc_client_secret = Some("kinema-client-secret".into());
        settings.oidc_allowed_domains = Some("example.com".into());
        settings.oidc_provider_name = Some("Acme ID".into());
    })
    .await;
    // The team's first admin exists (until then every page leads to the setup).
    assert_eq!(setup_admin(&app, &app.client(), "ada").await.status(), 200);
    // The login page offers the provider.
    let login = app.client().get(app.url("/login")).send().await.unwrap();
    assert!(login.text().await.unwrap().contains("Sign in with Acme ID"));

    // First sign-in from an allowed domain: the member is created and signed in.
    let mia = app.client();
    let response = single_sign_on(&app, &mia, "mia@example.com").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(location(&response), "/history");
    assert_eq!(whoami(&app, &mia).await.as_deref(), Some("mia"));
    assert_eq!(
        members(&app).await,
        [
            ("ada".to_string(), "admin".to_string()),
            ("mia".to_string(), "member".to_string())
        ]
    );

    // A disallowed domain is refused in plain words, and nobody is created.
    let eve = app.client();
    let refused = single_sign_on(&app, &eve, "eve@elsewhere.test").await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("eve@elsewhere.test may not join this team"),
        "{page}"
    );
    assert_eq!(whoami(&app, &eve).await, None);
    assert_eq!(members(&app).await.len(), 2);

    // A second sign-in finds the same member by the provider's subject.
    let again = app.client();
    let response = single_sign_on(&app, &again, "mia@example.com").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(whoami(&app, &again).await.as_deref(), Some("mia"));
    assert_eq!(members(&app).await.len(), 2);

    // Every attempt is in the audit log.
    let entries = app
        .state()
        .store()
        .audit_entries(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_name != "ada")
        .collect::<Vec<_>>();
    let actions: Vec<(String, &str)> = entries
        .iter()
        .map(|e| (e.actor_name.clone(), e.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("mia".to_string(), "member_joined"),
            ("mia".to_string(), "sign_in_succeeded"),
            ("eve@elsewhere.test".to_string(), "sign_in_failed"),
            ("mia".to_string(), "sign_in_succeeded"),
        ]
    );
    // A callback replayed without its session is refused.
    let stranger = app.client();
    let replay = stranger
        .get(app.url("/auth/oidc/callback?code=x&state=y"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn members_sign_in_with_the_provider_on_sqlite() {
    sign_in_with_the_provider(Db::Sqlite).await;
}

#[tokio::test]
async fn members_sign_in_with_the_provider_on_postgres() {
    sign_in_with_the_provider(Db::Postgres).await;
}
