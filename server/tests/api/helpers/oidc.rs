//! A real OpenID Connect provider on loopback (PyPI's `oidc-provider-mock`, installed by
//! `scripts/setup.sh --test`) and sign-ins through its login form over HTTP with
//! cookie-keeping clients.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kinema_server::config::Settings;

use super::{eventually, TestApp};

/// The provider, stopped when dropped.
pub struct Provider {
    child: Child,
    pub url: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider on a free port and waits until its discovery document answers.
    pub async fn start() -> Provider {
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

    /// Kinema's settings for this provider: client `kinema`, button "Acme ID", people at
    /// `allowed_domains` may join.
    pub fn configure(&self, settings: &mut Settings, allowed_domains: &str) {
        settings.oidc_issuer = Some(self.url.clone());
        settings.oidc_client_id = Some("kinema".into());
        settings.oidc_client_secret = Some("kinema-client-secret".into());
        settings.oidc_allowed_domains = Some(allowed_domains.into());
        settings.oidc_provider_name = Some("Acme ID".into());
    }

    /// Sets the claims the provider gives `sub` (replacing the default, which is the email
    /// alone).
    pub async fn set_claims(&self, sub: &str, claims: serde_json::Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.url))
            .json(&claims)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            204,
            "the provider took the claims of {sub}"
        );
    }
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Signs in through the provider's login form as `sub`; the response of Kinema's callback.
pub async fn single_sign_on(
    app: &TestApp,
    client: &reqwest::Client,
    sub: &str,
) -> reqwest::Response {
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
        .form(&[("sub", sub), ("action", "authorize")])
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

/// A refused sign-in: back to the sign-in page (303), which shows `expected` once.
pub async fn assert_refused(
    app: &TestApp,
    client: &reqwest::Client,
    response: reqwest::Response,
    expected: &str,
) {
    assert_eq!(
        response.status(),
        303,
        "a refusal goes back to the sign-in page"
    );
    assert_eq!(location(&response), "/login");
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(expected),
        "the sign-in page lacks {expected:?}:\n{page}"
    );
    let again = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(expected), "the refusal is shown once");
}

/// Every member as (username, role), oldest first.
pub async fn members(app: &TestApp) -> Vec<(String, String)> {
    app.state()
        .store()
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.role))
        .collect()
}
