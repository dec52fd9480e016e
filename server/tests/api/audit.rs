//! The audit log over HTTP on both databases: a scripted flow leaves exactly one entry per
//! action, in order; the database refuses to change or remove entries; the CSV export matches
//! the rows; members see only their own entries; the admin's filters work.

use serde_json::Value;
use sqlx::Connection;

use crate::helpers::{
    accept, inputs, invite, ok_json, setup_admin, sign_in, submit, until_final, upload, Db,
    TestApp, PASSWORD,
};

/// (member, action, target) of every entry on the admin's pages, oldest first.
pub async fn entries(
    app: &TestApp,
    admin: &reqwest::Client,
    filters: &[(&str, &str)],
) -> Vec<Value> {
    let mut all = Vec::new();
    for page in 1.. {
        let page_text = page.to_string();
        let mut form = vec![("page", page_text.as_str())];
        form.extend_from_slice(filters);
        let body = ok_json(app.call(admin, "audit_log", &form).await).await;
        all.extend(body["entries"].as_array().unwrap().iter().cloned());
        if page >= body["pages"].as_i64().unwrap() {
            break;
        }
    }
    all.reverse();
    all
}

pub fn summary(entries: &[Value]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn row(actor: &str, action: &str, target: &str) -> (String, String, String) {
    (actor.into(), action.into(), target.into())
}

/// Runs the statement on the test's database directly; the error text when it is refused.
async fn tamper(app: &TestApp, db: Db, statement: &str) -> String {
    let url = app.database_url();
    let result = match db {
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(statement).execute(&mut conn).await.map(|_| ())
        }
        Db::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(statement).execute(&mut conn).await.map(|_| ())
        }
    };
    match result {
        Ok(()) => panic!("the database accepted: {statement}"),
        Err(err) => err.to_string(),
    }
}

async fn scripted_flow(db: Db) {
    let app = TestApp::spawn(db).await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let token = invite(&app, &admin, "member").await;
    let member = app.client();
    assert_eq!(accept(&app, &member, &token, "moe").await.status(), 200);
    let moe_id = ok_json(app.call(&admin, "list_members", &[]).await)
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "moe")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Sign-ins: one that works (on a fresh client), one with a wrong password.
    let member = app.client();
    assert_eq!(sign_in(&app, &member, "moe", PASSWORD).await.status(), 200);
    let stranger = app.client();
    assert_ne!(
        sign_in(&app, &stranger, "Moe", "not the password")
            .await
            .status(),
        200
    );
    // A task, run to the end, and its result downloaded.
    let files = inputs(&app, &member, "valid-index-at-end.mp4").await;
    let task = ok_json(submit(&app, &member, &files, "720p", "image", "k1").await).await;
    let task_id = task["id"].as_str().unwrap().to_string();
    // The same key again is the same task: no second entry.
    ok_json(submit(&app, &member, &files, "720p", "image", "k1").await).await;
    assert_eq!(
        until_final(&app, &member, &task_id).await["state"],
        "completed"
    );
    let download = member
        .get(app.url(&format!("/api/tasks/{task_id}/result")))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    // A player seeking further into the file is not a new download.
    let seek = member
        .get(app.url(&format!("/api/tasks/{task_id}/result")))
        .header("Range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(seek.status(), 206);
    // An element: created, edited, removed.
    let video = upload(&app, &member, "element_video", "element-face.mp4").await;
    let element = ok_json(
        app.call(
            &member,
            "create_element",
            &[
                ("name", "Mia"),
                ("description", "A dancer in a red dress"),
                ("reference_type", "video"),
                ("video_upload_id", &video),
                ("idempotency_key", "e1"),
            ],
        )
        .await,
    )
    .await;
    let element_id = element["id"].as_str().unwrap().to_string();
    ok_json(
        app.call(
            &member,
            "describe_element",
            &[("id", &element_id), ("description", "A dancer in blue")],
        )
        .await,
    )
    .await;
    ok_json(
        app.call(&member, "remove_element", &[("id", &element_id)])
            .await,
    )
    .await;
    // What the member sees: their own entries only, newest first.
    let own = ok_json(app.call(&member, "my_audit", &[("page", "1")]).await).await;
    let own: Vec<Value> = own["entries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .cloned()
        .collect();
    assert_eq!(
        summary(&own),
        [
            row("moe", "member_joined", "moe"),
            row("moe", "sign_in_succeeded", "moe"),
            row("moe", "task_submitted", &task_id),
            row("moe", "result_downloaded", &task_id),
            row("moe", "element_created", &element_id),
            row("moe", "element_edited", &element_id),
            row("moe", "element_removed", &element_id),
        ]
    );
    assert!(own.iter().all(|e| e["actor_id"] == moe_id));
    // A member cannot read the team's log.
    assert_eq!(
        app.call(&member, "audit_log", &[("page", "1")])
            .await
            .status(),
        403
    );
    let csv = member
        .get(app.url("/api/admin/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 403);
    // The admin's actions.
    let moe = moe_id.to_string();
    ok_json(
        app.call(
            &admin,
            "set_member_budget",
            &[("user_id", &moe), ("credits", "100")],
        )
        .await,
    )
    .await;
    ok_json(
        app.call(
            &admin,
            "adjust_credits",
            &[
                ("user_id", &moe),
                ("credits", "-2.5"),
                ("reason", "=SUM(A1) goodwill"),
            ],
        )
        .await,
    )
    .await;
    ok_json(
        app.call(
            &admin,
            "set_member_disabled",
            &[("user_id", &moe), ("disabled", "true")],
        )
        .await,
    )
    .await;
    invite(&app, &admin, "member").await;
    let invites = ok_json(app.call(&admin, "list_invites", &[]).await).await;
    let open = invites
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["used_by"].is_null() && i["revoked"] == false)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    ok_json(
        app.call(&admin, "revoke_invite", &[("invite_id", &open)])
            .await,
    )
    .await;
    // A refused action leaves no entry: the invite is revoked already.
    assert_ne!(
        app.call(&admin, "revoke_invite", &[("invite_id", &open)])
            .await
            .status(),
        200
    );

    let all = entries(&app, &admin, &[]).await;
    assert_eq!(
        summary(&all),
        [
            row("ada", "member_invited", "invite 1"),
            row("moe", "member_joined", "moe"),
            row("moe", "sign_in_succeeded", "moe"),
            row("moe", "sign_in_failed", "moe"),
            row("moe", "task_submitted", &task_id),
            row("moe", "result_downloaded", &task_id),
            row("moe", "element_created", &element_id),
            row("moe", "element_edited", &element_id),
            row("moe", "element_removed", &element_id),
            row("ada", "budget_set", "moe"),
            row("ada", "credits_adjusted", "moe"),
            row("ada", "member_disabled", "moe"),
            row("ada", "member_invited", &format!("invite {open}")),
            row("ada", "invite_revoked", &format!("invite {open}")),
        ]
    );
    let failed = &all[3];
    assert!(failed["actor_id"].is_null(), "{failed}");
    assert_eq!(failed["detail"], "password: wrong password");
    assert_eq!(all[9]["detail"], "100.00 credits a month");
    assert_eq!(all[10]["detail"], "-2.50 credits: =SUM(A1) goodwill");
    for entry in &all {
        assert_eq!(entry["client_address"], "127.0.0.1", "{entry}");
        assert_eq!(entry["request_id"].as_str().unwrap().len(), 12, "{entry}");
        assert!(entry["token_id"].is_null());
    }
    let mut request_ids: Vec<&str> = all
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), all.len(), "one request, one entry");

    // The CSV has the same rows, oldest first, with formulas defused.
    let response = admin
        .get(app.url("/api/admin/audit.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time (UTC),member,action,target,detail,client_address,request_id,token"
    );
    assert_eq!(lines.len(), all.len() + 1);
    for (line, entry) in lines[1..].iter().zip(&all) {
        assert!(
            line.starts_with(entry["local_time"].as_str().unwrap()),
            "{line}"
        );
        assert!(
            line.contains(&format!(
                ",{},{},{},",
                entry["actor"].as_str().unwrap(),
                entry["action"].as_str().unwrap(),
                entry["target"].as_str().unwrap()
            )),
            "{line} vs {entry}"
        );
        assert!(line.ends_with(&format!(
            ",127.0.0.1,{},",
            entry["request_id"].as_str().unwrap()
        )));
    }
    assert!(
        lines[11].contains(",'-2.50 credits: =SUM(A1) goodwill,"),
        "{}",
        lines[11]
    );

    // Filters: member, action, dates (whole days in the billing zone), and in the CSV too.
    let by_moe = entries(&app, &admin, &[("member", &moe)]).await;
    assert_eq!(by_moe.len(), 7, "{by_moe:?}");
    assert!(by_moe.iter().all(|e| e["actor"] == "moe"));
    let budgets = entries(&app, &admin, &[("action", "budget_set")]).await;
    assert_eq!(summary(&budgets), [row("ada", "budget_set", "moe")]);
    let today = &all[0]["local_time"].as_str().unwrap()[..10];
    let last = &all[all.len() - 1]["local_time"].as_str().unwrap()[..10];
    assert_eq!(
        entries(&app, &admin, &[("from", today), ("to", last)])
            .await
            .len(),
        all.len()
    );
    assert!(entries(&app, &admin, &[("to", "2000-01-01")])
        .await
        .is_empty());
    assert!(entries(&app, &admin, &[("from", "2999-01-01")])
        .await
        .is_empty());
    let bad = app
        .call(&admin, "audit_log", &[("page", "1"), ("from", "yesterday")])
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("YYYY-MM-DD"));
    let filtered = admin
        .get(app.url("/api/admin/audit.csv?action=sign_in_failed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    assert!(filtered
        .lines()
        .nth(1)
        .unwrap()
        .contains(",moe,sign_in_failed,moe,"));

    // The database itself refuses to change or remove entries.
    let update = tamper(&app, db, "UPDATE audit_log SET actor_name = 'eve'").await;
    let delete = tamper(&app, db, "DELETE FROM audit_log").await;
    assert!(update.contains("append-only"), "{update}");
    assert!(delete.contains("append-only"), "{delete}");
    assert_eq!(entries(&app, &admin, &[]).await, all);
    app.stop().await;
}

#[tokio::test]
async fn a_scripted_flow_leaves_one_entry_per_action_on_sqlite() {
    scripted_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn a_scripted_flow_leaves_one_entry_per_action_on_postgres() {
    scripted_flow(Db::Postgres).await;
}
