//! Custom elements against the simulator: created from a video or from images (request bodies
//! checked at the simulator), every limit refused with its message before anything is charged,
//! a failed creation refunded, a restart during creation resumed, elements used in Motion
//! Control, and the library shared with the team but editable only by the creator or an admin.

use std::time::Duration;

use crate::helpers;
use crate::helpers::{
    eventually, holds, inputs, ok_json, set_faults, sign_in, stepped_engine, submit,
    submit_with_element, team, until_final, upload, Db, Inputs, TestApp, PASSWORD,
};
use app::backend::tasks::EngineSettings;
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};
use serde_json::Value;

async fn sim_stats(sim: &str) -> Value {
    reqwest::get(format!("{sim}/__sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts a fixture to the upload route; returns the status and body text.
async fn try_upload(
    app: &TestApp,
    client: &reqwest::Client,
    purpose: &str,
    name: &str,
) -> (u16, String) {
    let response = client
        .post(app.url(&format!("/api/uploads?purpose={purpose}&name={name}")))
        .header("Origin", &app.base)
        .body(helpers::fixtures::file(name))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The create form's fields.
struct Element<'a> {
    name: &'a str,
    description: &'a str,
    reference_type: &'a str,
    video: &'a str,
    frontal: &'a str,
    refer: &'a str,
    voice: &'a str,
    key: &'a str,
}

impl Default for Element<'_> {
    fn default() -> Self {
        Element {
            name: "Mia",
            description: "A dancer with short dark hair in a red dress",
            reference_type: "video",
            video: "",
            frontal: "",
            refer: "",
            voice: "",
            key: "k1",
        }
    }
}

async fn create(app: &TestApp, client: &reqwest::Client, e: &Element<'_>) -> reqwest::Response {
    app.call(
        client,
        "create_element",
        &[
            ("name", e.name),
            ("description", e.description),
            ("reference_type", e.reference_type),
            ("video_upload_id", e.video),
            ("frontal_upload_id", e.frontal),
            ("refer_upload_ids", e.refer),
            ("voice_id", e.voice),
            ("idempotency_key", e.key),
        ],
    )
    .await
}

async fn library(app: &TestApp, client: &reqwest::Client, search: &str) -> Vec<Value> {
    ok_json(
        app.call(client, "list_elements", &[("search", search)])
            .await,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

async fn until_element(app: &TestApp, client: &reqwest::Client, id: &str, status: &str) -> Value {
    let what = format!("element {id} to become {status}");
    eventually(&what, Duration::from_secs(60), || async {
        app.run_due().await;
        let element = library(app, client, "")
            .await
            .into_iter()
            .find(|e| e["id"] == id);
        match element {
            Some(element) if element["status"] == status => Ok(element),
            other => Err(other),
        }
    })
    .await
}

async fn balance(app: &TestApp, client: &reqwest::Client) -> (i64, i64) {
    let usage = ok_json(app.call(client, "my_usage", &[]).await).await;
    (
        usage["spent"].as_i64().unwrap(),
        usage["reserved"].as_i64().unwrap(),
    )
}

async fn video_element(app: &TestApp, client: &reqwest::Client, name: &str, key: &str) -> Value {
    let video = upload(app, client, "element_video", "element-face.mp4").await;
    let element = ok_json(
        create(
            app,
            client,
            &Element {
                name,
                video: &video,
                voice: "829824295735410756",
                key,
                ..Element::default()
            },
        )
        .await,
    )
    .await;
    let id = element["id"].as_str().unwrap().to_string();
    until_element(app, client, &id, "ready").await
}

async fn elements_from_a_video_and_from_images_reach_the_upstream_as_documented(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let (admin, _member, _) = team(&app).await;
    let sim = app.sandbox_url.clone().unwrap();

    // From a WEBM video, with a voice.
    let video = upload(&app, &admin, "element_video", "element-face.webm").await;
    let created = create(
        &app,
        &admin,
        &Element {
            video: &video,
            voice: "829824295735410756",
            ..Element::default()
        },
    )
    .await;
    let element = ok_json(created).await;
    assert_eq!(element["status"], "creating");
    assert_eq!(element["reference_type"], "video");
    let ready = until_element(&app, &admin, element["id"].as_str().unwrap(), "ready").await;
    let body = sim_stats(&sim).await["last_create_body"].clone();
    assert_eq!(body["model"], "kling-custom-element");
    let params = &body["model_params"];
    assert_eq!(params["element_name"], "Mia");
    assert_eq!(
        params["element_description"],
        "A dancer with short dark hair in a red dress"
    );
    assert_eq!(params["reference_type"], "video_refer");
    assert_eq!(params["element_voice_id"], "829824295735410756");
    let videos = params["element_video_list"]["refer_videos"]
        .as_array()
        .unwrap();
    assert_eq!(videos.len(), 1);
    assert!(videos[0]["video_url"]
        .as_str()
        .unwrap()
        .starts_with(&app.input_url_prefix()));
    assert!(params.get("element_image_list").is_none());
    for absent in ["prompt", "quality", "duration", "aspect_ratio"] {
        assert!(body.get(absent).is_none(), "{absent} is not sent");
    }
    // The id is kept as the exact string the simulator made (18 digits).
    let upstream = ready["upstream_element_id"].as_str().unwrap();
    assert_eq!(upstream.len(), 18);
    assert!(upstream.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(ready["creator"], "Ada Admin");
    assert_eq!(ready["voice_id"], "829824295735410756");

    // From images: a frontal image and two other angles.
    let frontal = upload(&app, &admin, "element_image", "valid.png").await;
    let side = upload(&app, &admin, "element_image", "valid.jpg").await;
    let back = upload(&app, &admin, "element_image", "valid.png").await;
    let refer = format!("{side},{back}");
    let element = ok_json(
        create(
            &app,
            &admin,
            &Element {
                name: "Leo",
                description: "A tall man in a grey suit",
                reference_type: "images",
                frontal: &frontal,
                refer: &refer,
                key: "k2",
                ..Element::default()
            },
        )
        .await,
    )
    .await;
    let ready = until_element(&app, &admin, element["id"].as_str().unwrap(), "ready").await;
    assert_eq!(ready["reference_type"], "images");
    let body = sim_stats(&sim).await["last_create_body"].clone();
    let params = &body["model_params"];
    assert_eq!(params["reference_type"], "image_refer");
    let list = &params["element_image_list"];
    assert!(list["frontal_image"].as_str().unwrap().contains(&frontal));
    let refer_images = list["refer_images"].as_array().unwrap();
    assert_eq!(refer_images.len(), 2);
    assert!(refer_images[0]["image_url"]
        .as_str()
        .unwrap()
        .contains(&side));
    assert!(params.get("element_video_list").is_none());
    assert!(params.get("element_voice_id").is_none());

    // Each creation reserved 1 credit and settled at 1 credit.
    assert_eq!(balance(&app, &admin).await, (2_000_000, 0));
    // The preview is served to the team; search finds by name and description.
    let preview = admin
        .get(app.url(&format!(
            "/api/elements/{}/preview",
            ready["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], "image/png");
    assert_eq!(library(&app, &admin, "").await.len(), 2);
    assert_eq!(library(&app, &admin, "GREY SUIT").await.len(), 1);
    assert_eq!(library(&app, &admin, "mia").await[0]["name"], "Mia");
    assert!(library(&app, &admin, "nobody%").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn every_limit_is_refused_with_its_message_before_anything_is_charged() {
    let app = TestApp::spawn_stepped(Db::Sqlite).await;
    let (admin, _member, _) = team(&app).await;
    let sim = app.sandbox_url.clone().unwrap();

    // Video limits are refused at upload, and nothing is kept.
    let (status, text) = try_upload(&app, &admin, "element_video", "element-too-long.mp4").await;
    assert_eq!(status, 422);
    assert!(
        text.contains("Element video is 10.0 s; it must be at most 8 s."),
        "{text}"
    );
    let (status, text) = try_upload(&app, &admin, "element_video", "element-too-narrow.mp4").await;
    assert_eq!(status, 422);
    assert!(
        text.contains("Element video is 640 px wide; it must be 720–2160 px wide."),
        "{text}"
    );
    let (status, text) = try_upload(&app, &admin, "element_image", "too-small.png").await;
    assert_eq!(status, 422);
    assert!(
        text.contains("both sides must be at least 300 px"),
        "{text}"
    );

    let video = upload(&app, &admin, "element_video", "element-face.mp4").await;
    let frontal = upload(&app, &admin, "element_image", "valid.png").await;
    let others: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(upload(&app, &admin, "element_image", "valid.jpg").await);
        }
        ids
    };
    let four = others.join(",");
    let long_description = "d".repeat(101);
    let cases: Vec<(Element, &str)> = vec![
        (
            Element {
                name: "A name far too long for it",
                video: &video,
                ..Element::default()
            },
            "Name is 26 characters; it must be at most 20.",
        ),
        (
            Element {
                description: &long_description,
                video: &video,
                ..Element::default()
            },
            "Description is 101 characters; it must be at most 100.",
        ),
        (
            Element {
                reference_type: "images",
                frontal: &frontal,
                refer: "",
                ..Element::default()
            },
            "Add 1–3 images from other angles (you have 0).",
        ),
        (
            Element {
                reference_type: "images",
                frontal: &frontal,
                refer: &four,
                ..Element::default()
            },
            "Add 1–3 images from other angles (you have 4).",
        ),
        (
            Element {
                reference_type: "images",
                frontal: &frontal,
                refer: &others[0],
                voice: "829824295735410756",
                ..Element::default()
            },
            "A voice ID can only be bound to an element made from a video",
        ),
        (
            Element {
                video: &video,
                voice: "voice-1",
                ..Element::default()
            },
            "Voice ID must be digits only",
        ),
        (
            Element {
                video: &frontal,
                ..Element::default()
            },
            "The reference video is missing; upload it again.",
        ),
    ];
    for (element, message) in &cases {
        let response = create(&app, &admin, element).await;
        assert_eq!(response.status(), 422, "{message}");
        let text = response.text().await.unwrap();
        assert!(text.contains(message), "expected {message:?} in {text}");
    }
    assert!(
        library(&app, &admin, "").await.is_empty(),
        "no half-made element"
    );
    assert_eq!(balance(&app, &admin).await, (0, 0), "nothing charged");
    assert_eq!(sim_stats(&sim).await["creates"], 0, "nothing sent upstream");
    app.stop().await;
}

#[tokio::test]
async fn a_failed_creation_is_refunded_and_shown_with_its_reason() {
    let app = TestApp::spawn_stepped(Db::Postgres).await;
    let (admin, _member, _) = team(&app).await;
    set_faults(
        &app,
        serde_json::json!({ "fail_next_tasks": 1, "task_error_code": "content_policy_violation" }),
    )
    .await;
    let video = upload(&app, &admin, "element_video", "element-face.mp4").await;
    let element = ok_json(
        create(
            &app,
            &admin,
            &Element {
                video: &video,
                ..Element::default()
            },
        )
        .await,
    )
    .await;
    let failed = until_element(&app, &admin, element["id"].as_str().unwrap(), "failed").await;
    let reason = failed["failure"].as_str().unwrap();
    assert!(reason.contains("Your credits were returned"), "{reason}");
    assert!(failed["upstream_element_id"].is_null());
    assert_eq!(balance(&app, &admin).await, (0, 0), "the credit came back");
    let usage = ok_json(app.call(&admin, "my_usage", &[]).await).await;
    let kinds: Vec<&str> = usage["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["refund", "reserve"]);
    app.stop().await;
}

#[tokio::test]
async fn a_restart_during_creation_resumes_it() {
    const KEY: &str = "elements-restart-key";
    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_secs(3)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let sim_url = sim.base_url.clone();
    let mut app = TestApp::spawn_with_engine(
        Db::Sqlite,
        |settings| {
            settings.evolink_api_key = Some(KEY.into());
            settings.evolink_base_url = sim_url.clone();
            settings.evolink_files_base_url = sim_url;
        },
        EngineSettings {
            deadline: Duration::from_secs(60),
            ..stepped_engine()
        },
    )
    .await;
    let (admin, _member, _) = team(&app).await;
    let video = upload(&app, &admin, "element_video", "element-face.mp4").await;
    let element = ok_json(
        create(
            &app,
            &admin,
            &Element {
                video: &video,
                ..Element::default()
            },
        )
        .await,
    )
    .await;
    let id = element["id"].as_str().unwrap().to_string();
    // One step sends the create; the next, once the first poll is due, reads the task (the
    // simulator takes 3 s, so it is still being made).
    let created = app.run_due().await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(sim.stats().tasks_created, 1);
    eventually("a first poll", Duration::from_secs(5), || async {
        let polled = app.run_due().await;
        holds(!polled.is_empty(), polled)
    })
    .await;
    assert_eq!(sim.stats().task_queries, 1);
    assert_eq!(
        library(&app, &admin, "").await[0]["status"],
        "creating",
        "still creating when Kinema stops"
    );
    app.restart().await;
    let admin = app.client();
    assert_eq!(sign_in(&app, &admin, "ada", PASSWORD).await.status(), 200);
    let ready = until_element(&app, &admin, &id, "ready").await;
    assert!(ready["upstream_element_id"].is_string());
    assert_eq!(sim.stats().creates, 1, "resumed, not created again");
    assert_eq!(balance(&app, &admin).await, (1_000_000, 0));
    app.stop().await;
    sim.set_faults(Faults::default());
    sim.stop().await;
}

async fn motion_with_an_element_sends_it_and_bad_combinations_never_reach_the_upstream(db: Db) {
    let app = TestApp::spawn_stepped(db).await;
    let (admin, member, _) = team(&app).await;
    let sim = app.sandbox_url.clone().unwrap();
    let mia = video_element(&app, &admin, "Mia", "mia").await;
    let mia_id = mia["id"].as_str().unwrap().to_string();
    let upstream_id = mia["upstream_element_id"].as_str().unwrap().to_string();
    let frontal = upload(&app, &admin, "element_image", "valid.png").await;
    let side = upload(&app, &admin, "element_image", "valid.jpg").await;
    let leo = ok_json(
        create(
            &app,
            &admin,
            &Element {
                name: "Leo",
                reference_type: "images",
                frontal: &frontal,
                refer: &side,
                key: "leo",
                ..Element::default()
            },
        )
        .await,
    )
    .await;
    let leo_id = leo["id"].as_str().unwrap().to_string();
    until_element(&app, &admin, &leo_id, "ready").await;

    // The member uses the admin's element.
    let inputs = inputs(&app, &member, "valid-index-at-end.mp4").await;
    let creates_before = sim_stats(&sim).await["creates"].as_i64().unwrap();
    let with = |orientation: &'static str, element: String, key: &'static str| {
        let (app, member, inputs) = (&app, &member, &inputs);
        async move { submit_with_element(app, member, inputs, "720p", orientation, key, &element).await }
    };
    let refused = with("image", mia_id.clone(), "wrong-orientation").await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("A character element needs orientation"));
    let refused = with("video", leo_id.clone(), "image-made").await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("was made from images; Motion Control can only use elements made from a video."));
    let refused = with("video", "no-such-element".into(), "unknown").await;
    assert_eq!(refused.status(), 422);
    // A WEBM (fine for elements) is not a motion video.
    let webm = upload(&app, &member, "element_video", "element-face.webm").await;
    let webm_inputs = Inputs {
        image: inputs.image.clone(),
        video: webm,
    };
    let refused = submit(&app, &member, &webm_inputs, "720p", "video", "webm-motion").await;
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Motion video must be an MP4 or MOV file."));
    assert_eq!(
        sim_stats(&sim).await["creates"].as_i64().unwrap(),
        creates_before,
        "refused before any upstream call"
    );
    assert_eq!(balance(&app, &member).await, (0, 0), "and nothing charged");

    let task = ok_json(with("video", mia_id.clone(), "with-mia").await).await;
    let done = until_final(&app, &member, task["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "completed");
    assert_eq!(done["element"][0], mia_id.as_str());
    assert_eq!(done["element"][1], "Mia");
    let body = sim_stats(&sim).await["last_create_body"].clone();
    assert_eq!(body["model"], "kling-v3-motion-control");
    assert_eq!(body["model_params"]["character_orientation"], "video");
    assert_eq!(
        body["model_params"]["element_list"],
        serde_json::json!([{ "element_id": upstream_id }])
    );
    // The task page and the history name the element.
    let page = member
        .get(app.url(&format!("/tasks/{}", task["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Character element") && page.contains(">Mia<"),
        "{page}"
    );
    let history = member
        .get(app.url("/history"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let element_line = history
        .split("element-used")
        .nth(1)
        .map(|rest| rest.split("</p>").next().unwrap_or_default().to_string());
    assert!(
        element_line
            .as_deref()
            .is_some_and(|l| l.contains("Element: ") && l.contains("Mia")),
        "{history}"
    );
    // Without an element the request carries no element_list.
    let plain = ok_json(submit(&app, &member, &inputs, "720p", "image", "plain").await).await;
    until_final(&app, &member, plain["id"].as_str().unwrap()).await;
    let body = sim_stats(&sim).await["last_create_body"].clone();
    assert!(body["model_params"].get("element_list").is_none());
    app.stop().await;
}

#[tokio::test]
async fn the_team_sees_and_uses_elements_but_only_the_creator_or_an_admin_edits() {
    let app = TestApp::spawn_stepped(Db::Postgres).await;
    let (admin, member, _) = team(&app).await;
    let token = helpers::invite(&app, &admin, "member").await;
    let other = app.client();
    assert_eq!(
        helpers::accept(&app, &other, &token, "oli").await.status(),
        200
    );
    let mia = video_element(&app, &member, "Mia", "mia").await;
    let id = mia["id"].as_str().unwrap().to_string();
    assert_eq!(mia["can_edit"], true, "the creator may edit");

    // Another member sees it, can use it, cannot change it.
    let seen = library(&app, &other, "").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["can_edit"], false);
    assert_eq!(seen[0]["creator"], "Mo Member");
    let preview = other
        .get(app.url(&format!("/api/elements/{id}/preview")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200, "the team sees the reference");
    let inputs = inputs(&app, &other, "valid-index-at-end.mp4").await;
    let used = submit_with_element(
        &app,
        &other,
        &inputs,
        "720p",
        "video",
        "other-uses-mia",
        &id,
    )
    .await;
    let used = ok_json(used).await;
    assert_eq!(used["element"][1], "Mia");
    let response = app
        .call(
            &other,
            "describe_element",
            &[("id", &id), ("description", "Mine now")],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.call(&other, "remove_element", &[("id", &id)])
            .await
            .status(),
        403
    );
    assert_eq!(
        library(&app, &other, "").await[0]["description"],
        "A dancer with short dark hair in a red dress"
    );
    // Nobody signed in sees nothing.
    let stranger = app.client();
    let preview = stranger
        .get(app.url(&format!("/api/elements/{id}/preview")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 401);
    assert_eq!(
        app.call(&stranger, "list_elements", &[("search", "")])
            .await
            .status(),
        401
    );

    // The creator edits (with the same limits); an admin removes it.
    let response = app
        .call(
            &member,
            "describe_element",
            &[("id", &id), ("description", &"x".repeat(101))],
        )
        .await;
    assert_eq!(response.status(), 422);
    let edited = ok_json(
        app.call(
            &member,
            "describe_element",
            &[("id", &id), ("description", "Mia, now with a blue dress")],
        )
        .await,
    )
    .await;
    assert_eq!(edited["description"], "Mia, now with a blue dress");
    let by_admin = ok_json(
        app.call(
            &admin,
            "describe_element",
            &[("id", &id), ("description", "Edited by an admin")],
        )
        .await,
    )
    .await;
    assert_eq!(by_admin["description"], "Edited by an admin");
    assert_eq!(
        by_admin["can_edit"], true,
        "admins may edit anyone's element"
    );
    assert_eq!(
        app.call(&admin, "remove_element", &[("id", &id)])
            .await
            .status(),
        200
    );
    assert!(library(&app, &member, "").await.is_empty());
    assert_eq!(
        app.call(&admin, "remove_element", &[("id", &id)])
            .await
            .status(),
        404
    );
    let preview = other
        .get(app.url(&format!("/api/elements/{id}/preview")))
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 404);
    // A removed element can no longer be used; the task that used it keeps its name.
    let response =
        submit_with_element(&app, &other, &inputs, "720p", "video", "after-removal", &id).await;
    assert_eq!(response.status(), 422);
    let kept = until_final(&app, &other, used["id"].as_str().unwrap()).await;
    assert_eq!(kept["element"][1], "Mia");
    app.stop().await;
}

#[tokio::test]
async fn elements_from_a_video_and_from_images_reach_the_upstream_as_documented_on_sqlite_and_local_disk(
) {
    elements_from_a_video_and_from_images_reach_the_upstream_as_documented(Db::Sqlite).await;
}

#[tokio::test]
async fn elements_from_a_video_and_from_images_reach_the_upstream_as_documented_on_postgres_and_s3()
{
    elements_from_a_video_and_from_images_reach_the_upstream_as_documented(Db::Postgres).await;
}

#[tokio::test]
async fn motion_with_an_element_sends_it_and_bad_combinations_never_reach_the_upstream_on_sqlite_and_local_disk(
) {
    motion_with_an_element_sends_it_and_bad_combinations_never_reach_the_upstream(Db::Sqlite).await;
}

#[tokio::test]
async fn motion_with_an_element_sends_it_and_bad_combinations_never_reach_the_upstream_on_postgres_and_s3(
) {
    motion_with_an_element_sends_it_and_bad_combinations_never_reach_the_upstream(Db::Postgres)
        .await;
}
