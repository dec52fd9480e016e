//! Who may join through single sign-on: a person outside the allowed domains joins only with an
//! invite naming their email (which it uses up), people in the admin group join as admins, and
//! anyone else is refused in plain words on the sign-in page.

use serde_json::json;

use crate::helpers::{
    oidc::{assert_refused, location, members, single_sign_on, Provider},
    setup_admin, whoami, Db, TestApp,
};

const ADMIN_GROUP: &str = "kinema-admins";

async fn invites_and_groups_decide_who_joins(db: Db) {
    let provider = Provider::start().await;
    let app = TestApp::spawn_with(db, |settings| {
        provider.configure(settings, "example.com");
        settings.oidc_admin_group = Some(ADMIN_GROUP.into());
    })
    .await;
    let ada = app.client();
    assert_eq!(setup_admin(&app, &ada, "ada").await.status(), 200);

    // Outside the allowed domains and without an invite: refused, nobody created.
    let stranger = app.client();
    let refused = single_sign_on(&app, &stranger, "stranger@partner.test").await;
    assert_refused(
        &app,
        &stranger,
        refused,
        "stranger@partner.test may not join this team: addresses at partner.test are not allowed and there is no invite for stranger@partner.test. Ask your admin for an invite.",
    )
    .await;
    assert_eq!(whoami(&app, &stranger).await, None);
    assert_eq!(members(&app).await.len(), 1);

    // An invite naming an email at a disallowed domain lets that person (and only them) join.
    let created = app
        .call(
            &ada,
            "create_invite",
            &[
                ("role", "member"),
                ("hours", "72"),
                ("email", "Guest@Partner.test"),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let other = app.client();
    let refused = single_sign_on(&app, &other, "other@partner.test").await;
    assert_refused(
        &app,
        &other,
        refused,
        "other@partner.test may not join this team",
    )
    .await;
    let guest = app.client();
    let joined = single_sign_on(&app, &guest, "guest@partner.test").await;
    assert_eq!(joined.status(), 303, "{}", joined.status());
    assert_eq!(location(&joined), "/history");
    assert_eq!(whoami(&app, &guest).await.as_deref(), Some("guest"));
    let invites: serde_json::Value = app
        .call(&ada, "list_invites", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(invites.as_array().unwrap().len(), 1, "{invites}");
    // Used up by the new member (shown by display name: the email, as the provider gave no name).
    assert_eq!(
        invites[0]["used_by"], "guest@partner.test",
        "the invite is used up: {invites}"
    );

    // The admin group's people join as admins, others as members.
    provider
        .set_claims(
            "boss@example.com",
            json!({"email": "boss@example.com", "name": "Bo Boss", "groups": ["staff", ADMIN_GROUP]}),
        )
        .await;
    provider
        .set_claims(
            "mia@example.com",
            json!({"email": "mia@example.com", "groups": ["staff"]}),
        )
        .await;
    for (sub, client) in [
        ("boss@example.com", app.client()),
        ("mia@example.com", app.client()),
    ] {
        let response = single_sign_on(&app, &client, sub).await;
        assert_eq!(response.status(), 303, "{sub}: {}", response.status());
        assert_eq!(location(&response), "/history", "{sub}");
    }
    assert_eq!(
        members(&app).await,
        [
            ("ada".to_string(), "admin".to_string()),
            ("guest".to_string(), "member".to_string()),
            ("boss".to_string(), "admin".to_string()),
            ("mia".to_string(), "member".to_string()),
        ]
    );
    let boss = app
        .state()
        .store()
        .user_by_username("boss")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(boss.display_name, "Bo Boss");

    // The joins are in the audit log with how they came.
    let joins: Vec<(String, String)> = app
        .state()
        .store()
        .audit_entries(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str() == "member_joined")
        .map(|e| (e.actor_name, e.detail))
        .collect();
    assert_eq!(
        joins,
        [
            ("guest".to_string(), "member via single sign-on".to_string()),
            ("boss".to_string(), "admin via single sign-on".to_string()),
            ("mia".to_string(), "member via single sign-on".to_string()),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn invites_and_groups_decide_who_joins_on_sqlite() {
    invites_and_groups_decide_who_joins(Db::Sqlite).await;
}

#[tokio::test]
async fn invites_and_groups_decide_who_joins_on_postgres() {
    invites_and_groups_decide_who_joins(Db::Postgres).await;
}
