//! API tokens in the audit log, on both databases: creating and revoking a token are recorded
//! with the token's id (revoking it again records nothing), and a gateway create is recorded as
//! the token's member, with the token, the client's address and the request's id; a retried
//! create or a revoked token's create records nothing.

use serde_json::{json, Value};

use crate::audit::{entries, row, summary};
use crate::gateway::{create, motion_body, refused, spawn_roomy, upload_file};
use crate::helpers::{ok_json, team, Db, TestApp};

/// Creates a token for the signed-in `client`: (text, id, prefix).
async fn new_token(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> (String, i64, String) {
    let created = ok_json(app.call(client, "create_api_token", fields).await).await;
    (
        created["token"].as_str().unwrap().to_string(),
        created["view"]["id"].as_i64().unwrap(),
        created["view"]["prefix"].as_str().unwrap().to_string(),
    )
}

async fn tokens_and_gateway_creates(db: Db) {
    let app = spawn_roomy(db).await;
    let (admin, member, moe_id) = team(&app).await;
    let (token, token_id, prefix) =
        new_token(&app, &member, &[("name", "ci"), ("expires_in_days", "30")]).await;

    // Through the gateway: a motion task (retried once with its key) and an element.
    let image = upload_file(&app, &token, "valid.png").await;
    let video = upload_file(&app, &token, "valid-index-at-end.mp4").await;
    let body = motion_body(&image, &video);
    let first: Value = create(&app, &token, &body, Some("m1"))
        .await
        .json()
        .await
        .unwrap();
    let task_id = first["id"].as_str().unwrap().to_string();
    let again: Value = create(&app, &token, &body, Some("m1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], task_id.as_str(), "{again}");
    let face = upload_file(&app, &token, "element-face.webm").await;
    let element = json!({
        "model": "kling-custom-element",
        "model_params": {
            "element_name": "Ada",
            "element_description": "Our dancer",
            "reference_type": "video_refer",
            "element_video_list": { "refer_videos": [ { "video_url": face } ] }
        }
    });
    let response = create(&app, &token, &element, Some("e1")).await;
    assert_eq!(response.status(), 200);
    let library = ok_json(app.call(&member, "list_elements", &[]).await).await;
    let element_id = library[0]["id"].as_str().unwrap().to_string();

    // Revoked on the tokens page: a second revoke is fine and records nothing, and the token's
    // next create is refused without an entry.
    let id = token_id.to_string();
    for _ in 0..2 {
        ok_json(app.call(&member, "revoke_api_token", &[("id", &id)]).await).await;
    }
    refused(
        create(&app, &token, &body, Some("m2")).await,
        401,
        "unauthorized",
    )
    .await;
    // An admin revokes a member's other token.
    let (_, laptop_id, laptop_prefix) =
        new_token(&app, &member, &[("name", "laptop"), ("scope", "read_only")]).await;
    ok_json(
        app.call(
            &admin,
            "revoke_api_token",
            &[("id", &laptop_id.to_string())],
        )
        .await,
    )
    .await;

    let all = entries(&app, &admin, &[]).await;
    let tokens_part = &all[2..];
    assert_eq!(
        summary(tokens_part),
        [
            row("moe", "token_created", &prefix),
            row("moe", "task_submitted", &task_id),
            row("moe", "element_created", &element_id),
            row("moe", "token_revoked", &prefix),
            row("moe", "token_created", &laptop_prefix),
            row("ada", "token_revoked", &laptop_prefix),
        ],
        "{all:?}"
    );
    let token_ids: Vec<Option<i64>> = tokens_part.iter().map(|e| e["token_id"].as_i64()).collect();
    assert_eq!(
        token_ids,
        [
            Some(token_id),
            Some(token_id),
            Some(token_id),
            Some(token_id),
            Some(laptop_id),
            Some(laptop_id)
        ]
    );
    assert_eq!(
        tokens_part[0]["detail"],
        "\"ci\" for moe, full access, expires in 30 days"
    );
    assert!(
        tokens_part[1]["detail"]
            .as_str()
            .unwrap()
            .ends_with("credits reserved"),
        "{}",
        tokens_part[1]
    );
    assert_eq!(tokens_part[3]["detail"], "\"ci\" of moe");
    assert_eq!(
        tokens_part[4]["detail"],
        "\"laptop\" for moe, read-only, no expiry"
    );
    assert_eq!(tokens_part[5]["detail"], "\"laptop\" of moe");
    for entry in tokens_part {
        assert_eq!(entry["client_address"], "127.0.0.1", "{entry}");
        assert_eq!(entry["request_id"].as_str().unwrap().len(), 12, "{entry}");
    }
    assert!(tokens_part[..5].iter().all(|e| e["actor_id"] == moe_id));
    // The member sees the gateway's entries among their own; the CSV names the token.
    let own = ok_json(app.call(&member, "my_audit", &[("page", "1")]).await).await;
    let own = own["entries"].as_array().unwrap();
    assert!(
        own.iter()
            .any(|e| e["action"] == "task_submitted" && e["token_id"] == token_id),
        "{own:?}"
    );
    let csv = admin
        .get(app.url("/api/admin/audit.csv?action=task_submitted"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = csv.lines().nth(1).unwrap();
    assert!(
        line.contains(&format!(",moe,task_submitted,{task_id},")),
        "{csv}"
    );
    assert!(line.ends_with(&format!(",{token_id}")), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    app.stop().await;
}

#[tokio::test]
async fn tokens_and_gateway_creates_are_audited_with_the_token_on_sqlite() {
    tokens_and_gateway_creates(Db::Sqlite).await;
}

#[tokio::test]
async fn tokens_and_gateway_creates_are_audited_with_the_token_on_postgres() {
    tokens_and_gateway_creates(Db::Postgres).await;
}
