//! A whole gateway flow on both databases, with the test driving the engine: files through the
//! file endpoint, a motion task and an element polled to completion with `GET /v1/tasks/{id}`,
//! the result fetched from Kinema's signed link, the tasks in history marked with the token's
//! name, and the ledger settled.

use std::time::Duration;

use reqwest::Client;
use serde_json::{json, Value};

use crate::gateway::{create, get, motion_body, token, upload_file};
use crate::helpers::{eventually, fixtures, holds, ok_json, stepped_engine, team, Db, TestApp};

async fn until_done(app: &TestApp, token: &str, id: &str) -> Value {
    eventually(
        "the gateway task to finish",
        Duration::from_secs(60),
        || async {
            app.run_due().await;
            let task: Value = get(app, token, &format!("/v1/tasks/{id}"))
                .await
                .json()
                .await
                .unwrap();
            holds(
                task["status"] == "completed" || task["status"] == "failed",
                task,
            )
        },
    )
    .await
}

async fn full_flow(db: Db) {
    let app = TestApp::spawn_with_engine(
        db,
        |settings| settings.gateway_requests_per_minute = Some(100_000),
        stepped_engine(),
    )
    .await;
    let (_admin, member, _) = team(&app).await;
    let token = token(&app, &member, "render-farm", "").await;
    let image = upload_file(&app, &token, "valid.png").await;
    let video = upload_file(&app, &token, "valid-index-at-end.mp4").await;
    assert!(image.starts_with(&app.url("/v1/files/")), "{image}");

    let created: Value = create(&app, &token, &motion_body(&image, &video), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["status"], "pending", "{created}");
    assert_eq!(created["model"], "kling-v3-motion-control");
    let id = created["id"].as_str().unwrap().to_string();
    let done = until_done(&app, &token, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["task_info"]["video_duration"], 5);
    assert_eq!(done["usage"]["credits_used"], 40.824);

    // The result comes from Kinema's archive through a signed, expiring link.
    let link = done["results"][0].as_str().unwrap().to_string();
    assert!(
        link.starts_with(&app.url(&format!("/v1/results/{id}?exp="))),
        "{link}"
    );
    let fetched = Client::new().get(&link).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    let bytes = fetched.bytes().await.unwrap();
    assert_eq!(&bytes[..], &fixtures::file("valid-index-at-end.mp4")[..]);
    let tampered = format!("{}0", &link[..link.len() - 1]);
    let tampered = if tampered == link {
        format!("{}1", &link[..link.len() - 1])
    } else {
        tampered
    };
    assert_eq!(
        Client::new().get(&tampered).send().await.unwrap().status(),
        403
    );

    // A custom element through the gateway: its id comes back in result_data.
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
    let created: Value = create(&app, &token, &element, Some("element-1"))
        .await
        .json()
        .await
        .unwrap();
    let element_task = created["id"].as_str().unwrap().to_string();
    let done = until_done(&app, &token, &element_task).await;
    assert_eq!(done["status"], "completed", "{done}");
    let element_id = done["result_data"]["element_id"]
        .as_str()
        .unwrap()
        .to_string();
    let library = ok_json(app.call(&member, "list_elements", &[]).await).await;
    assert_eq!(library[0]["id"], element_id.as_str(), "{library}");

    // History marks both with the token's name; the ledger is settled.
    let page = ok_json(app.call(&member, "list_tasks", &[("page", "1")]).await).await;
    let items = page["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|t| t["id"] == id.as_str() && t["api_token"] == "render-farm"),
        "{page}"
    );
    let html = member
        .get(app.url("/history"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("API · render-farm"), "{html}");
    let usage = ok_json(app.call(&member, "my_usage", &[]).await).await;
    assert_eq!(usage["reserved"], 0);
    assert_eq!(usage["spent"], 40_824_000 + 1_000_000);
    let charges = usage["charges"].as_array().unwrap();
    assert_eq!(
        charges.len(),
        4,
        "two reservations, two settlements: {usage}"
    );
    assert!(
        charges.iter().all(|c| c["api_token"] == "render-farm"),
        "{usage}"
    );
    let csv = member
        .get(app.url("/api/usage/charges.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",api_token"), "{csv}");
    assert_eq!(
        csv.lines()
            .filter(|line| line.ends_with(",render-farm"))
            .count(),
        4,
        "{csv}"
    );
    app.stop().await;
}

#[tokio::test]
async fn gateway_full_flow_on_sqlite() {
    full_flow(Db::Sqlite).await;
}

#[tokio::test]
async fn gateway_full_flow_on_postgres() {
    full_flow(Db::Postgres).await;
}
