//! Routes that are not server functions refuse with one JSON shape: `{"error": "<plain words>"}`.

use crate::helpers::{Db, TestApp};

#[tokio::test]
async fn every_route_refuses_a_visitor_with_the_same_json_shape() {
    let app = TestApp::spawn(Db::Sqlite).await;
    let visitor = app.client();
    let gets = [
        "/api/uploads/some-id/file",
        "/api/elements/some-id/preview",
        "/api/tasks/some-id/result",
        "/api/usage/charges.csv",
        "/api/admin/usage.csv",
        "/api/events",
    ];
    for path in gets {
        let response = visitor.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "error": "Please sign in." }),
            "{path}"
        );
    }
    let upload = visitor
        .post(app.url("/api/uploads?purpose=character_image&name=a.png"))
        .header("Origin", &app.base)
        .body("not really a png")
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 401);
    let body: serde_json::Value = upload.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "error": "Please sign in." }));

    let media = visitor
        .get(app.url("/media/some-id?exp=1&sig=00"))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 403);
    let body: serde_json::Value = media.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "error": "This link is invalid or has expired." })
    );
    let unsigned = visitor.get(app.url("/media/some-id")).send().await.unwrap();
    assert_eq!(unsigned.status(), 403);

    let hook = visitor
        .post(app.url("/hooks/evolink/no-task/no-token"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 404);
    let body: serde_json::Value = hook.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "error": "Not found." }));
    app.stop().await;
}
