//! The store API directly, on a fresh SQLite file and a fresh PostgreSQL database.

use app::backend::store::{AuditFilter, NewAuditEntry, NewInvite, NewUser, Store};
use app::model::Role;
use app::rules::audit::AuditAction;

use crate::helpers::{Db, TestDatabase};

/// A fresh store of each kind, with what keeps it alive: the SQLite file's directory, or the
/// PostgreSQL database (dropped with it).
async fn fresh(db: Db) -> (Store, Option<TestDatabase>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    match db {
        Db::Sqlite => {
            let url = format!("sqlite://{}", dir.path().join("store.db").display());
            (Store::connect(&url).await.unwrap(), None, dir)
        }
        Db::Postgres => {
            let database = TestDatabase::create().await;
            let store = Store::connect(&database.url()).await.unwrap();
            (store, Some(database), dir)
        }
    }
}

fn user<'a>(username: &'a str, role: Role) -> NewUser<'a> {
    NewUser {
        username,
        display_name: "Someone",
        password_hash: "not-a-real-hash",
        role,
        created_at: 1_000,
    }
}

fn entry(action: AuditAction) -> NewAuditEntry {
    NewAuditEntry {
        actor_id: None,
        actor_name: "ada".into(),
        action,
        target: String::new(),
        detail: String::new(),
        client_address: None,
        request_id: None,
        token_id: None,
        at_ms: 1_000_000,
    }
}

async fn audit_actions(store: &Store) -> Vec<AuditAction> {
    let mut entries = store.audit_entries(&AuditFilter::default()).await.unwrap();
    entries.sort_by_key(|e| e.id);
    entries.into_iter().map(|e| e.action).collect()
}

async fn store_suite(db: Db) {
    let (store, _database, _dir) = fresh(db).await;
    store.check_ready().await.expect("migrated store is ready");
    // Migrations are idempotent.
    store.migrate().await.unwrap();

    assert!(!store.has_admin().await.unwrap());
    let admin = store
        .create_first_admin(&user("ada", Role::Admin))
        .await
        .unwrap()
        .expect("first admin created");
    assert_eq!(admin.role(), Role::Admin);
    assert!(!admin.disabled);
    assert!(store.has_admin().await.unwrap());
    assert!(
        store
            .create_first_admin(&user("eve", Role::Admin))
            .await
            .unwrap()
            .is_none(),
        "a second first admin is refused in the same statement"
    );
    assert!(store.user_by_username("eve").await.unwrap().is_none());

    // Unique usernames are reported as such, not by string matching.
    let err = store
        .create_user(&user("ada", Role::Member))
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err}");

    // Invites: valid once, never after expiry.
    for (hash, expires_at) in [("live", 5_000), ("stale", 1_500)] {
        store
            .create_invite(
                &NewInvite {
                    token_hash: hash,
                    role: "member",
                    created_by: admin.id,
                    created_at: 1_000,
                    expires_at,
                    email: None,
                },
                &entry(AuditAction::MemberInvited),
            )
            .await
            .unwrap();
    }
    let now = 2_000;
    assert!(store
        .accept_invite(
            "stale",
            &user("late", Role::Member),
            now,
            &entry(AuditAction::MemberJoined)
        )
        .await
        .unwrap()
        .is_none());
    assert!(
        store.user_by_username("late").await.unwrap().is_none(),
        "nothing half-written"
    );
    let member = store
        .accept_invite(
            "live",
            &user("moe", Role::Admin),
            now,
            &entry(AuditAction::MemberJoined),
        )
        .await
        .unwrap()
        .expect("live invite accepted");
    assert_eq!(member.role(), Role::Member, "the invite decides the role");
    assert!(store
        .accept_invite(
            "live",
            &user("moe2", Role::Member),
            now,
            &entry(AuditAction::MemberJoined)
        )
        .await
        .unwrap()
        .is_none());
    assert!(store.user_by_username("moe2").await.unwrap().is_none());
    let invites = store.list_invites(10).await.unwrap();
    assert_eq!(invites.len(), 2);
    let used = invites.iter().find(|i| i.used_at.is_some()).unwrap();
    assert_eq!(used.used_by_name.as_deref(), Some("Someone"));

    // Disabling and password changes.
    let disabled = entry(AuditAction::MemberDisabled);
    assert!(store
        .set_user_disabled(member.id, true, 0, &disabled)
        .await
        .unwrap());
    assert!(store.user_by_id(member.id).await.unwrap().unwrap().disabled);
    assert!(!store
        .set_user_disabled(9_999, true, 0, &disabled)
        .await
        .unwrap());
    // Each action that happened has its entry; refused ones left none.
    assert_eq!(
        audit_actions(&store).await,
        [
            AuditAction::MemberInvited,
            AuditAction::MemberInvited,
            AuditAction::MemberJoined,
            AuditAction::MemberDisabled,
        ]
    );
    assert!(store
        .set_password_hash(member.id, "new-hash")
        .await
        .unwrap());
    assert_eq!(
        store
            .user_by_id(member.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert_eq!(store.list_users().await.unwrap().len(), 2);

    store.close().await;
}

#[tokio::test]
async fn store_on_sqlite() {
    store_suite(Db::Sqlite).await;
}

#[tokio::test]
async fn store_on_postgres() {
    store_suite(Db::Postgres).await;
}
