//! Single sign-on against a real OpenID Connect provider on loopback (PyPI's
//! `oidc-provider-mock`, installed by `scripts/setup.sh --test`): the authorization flow is
//! driven over HTTP with cookie-keeping clients through the provider's login form (see
//! `helpers::oidc`).

use crate::helpers::{
    oidc::{assert_refused, location, members, single_sign_on, Provider},
    setup_admin, whoami, Db, TestApp,
};

async fn sign_in_with_the_provider(db: Db) {
    let provider = Provider::start().await;
    let app = TestApp::spawn_with(db, |settings| provider.configure(settings, "example.com")).await;
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

    // A disallowed domain is refused in plain words on the sign-in page, and nobody is created.
    let eve = app.client();
    let refused = single_sign_on(&app, &eve, "eve@elsewhere.test").await;
    assert_refused(
        &app,
        &eve,
        refused,
        "eve@elsewhere.test may not join this team: addresses at elsewhere.test are not allowed",
    )
    .await;
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
    assert_refused(&app, &stranger, replay, "This sign-in was not started here").await;
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
