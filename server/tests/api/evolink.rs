//! The EvoLink client against the simulator, over real HTTP: every endpoint, the documented
//! examples and invalid cases, error mapping, retry rules and callbacks.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::helpers::{eventually, fixtures, holds};
use app::backend::evolink::{
    wire::{
        ElementImageList, ElementParams, ElementRef, ElementRequest, ElementVideoList, ImageUrl,
        MotionParams, MotionRequest, VideoUrl, ELEMENT_MODEL, MOTION_MODEL,
    },
    ApiKey, ClientSettings, EvoLinkClient, EvoLinkError, RetryPolicy, TaskStatus, UpstreamTask,
};
use axum::{http::StatusCode, routing::post, Router};
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};

const KEY: &str = "sim-test-key";

struct Rig {
    sim: RunningSimulator,
    client: EvoLinkClient,
    image_url: String,
    video_url: String,
    long_video_url: String,
    _dir: tempfile::TempDir,
}

fn settings(base: &str, key: &str) -> ClientSettings {
    let mut settings = ClientSettings::new(base, base, ApiKey::new(key));
    settings.request_timeout = Duration::from_secs(5);
    settings.retry = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    settings
}

async fn rig(task_seconds: f64) -> Rig {
    let mut config = SimulatorConfig::new(KEY, Duration::from_secs_f64(task_seconds));
    config.callback_retry_delays = vec![
        Duration::from_secs(1),
        Duration::from_secs(2),
        Duration::from_secs(4),
    ];
    let sim = RunningSimulator::start(config, ([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let client = EvoLinkClient::new(settings(&sim.base_url, KEY)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut urls = Vec::new();
    for (name, bytes, mime) in [
        ("character.png", fixtures::png(), "image/png"),
        ("dance.mp4", fixtures::mp4(8_000), "video/mp4"),
        ("long.mp4", fixtures::mp4(12_000), "video/mp4"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let uploaded = client.upload_file(&path, name, mime).await.unwrap();
        let served = reqwest::get(&uploaded.file_url).await.unwrap();
        assert_eq!(
            served.status(),
            200,
            "uploaded files are served at file_url"
        );
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice());
        urls.push(uploaded.file_url);
    }
    Rig {
        sim,
        client,
        image_url: urls[0].clone(),
        video_url: urls[1].clone(),
        long_video_url: urls[2].clone(),
        _dir: dir,
    }
}

fn motion(rig: &Rig, quality: &str, orientation: &str) -> MotionRequest {
    MotionRequest {
        model: MOTION_MODEL.into(),
        image_urls: vec![rig.image_url.clone()],
        video_urls: vec![rig.video_url.clone()],
        prompt: Some("A girl dancing gracefully".into()),
        quality: Some(quality.into()),
        model_params: MotionParams {
            character_orientation: orientation.into(),
            keep_sound: None,
            element_list: None,
            watermark_info: None,
        },
        callback_url: None,
    }
}

fn element_from_images(rig: &Rig, extra: usize) -> ElementRequest {
    ElementRequest {
        model: ELEMENT_MODEL.into(),
        model_params: ElementParams {
            element_name: "My Character".into(),
            element_description: "A young male character with short hair, wearing a white T-shirt"
                .into(),
            reference_type: "image_refer".into(),
            element_image_list: Some(ElementImageList {
                frontal_image: rig.image_url.clone(),
                refer_images: (0..extra)
                    .map(|_| ImageUrl {
                        image_url: rig.image_url.clone(),
                    })
                    .collect(),
            }),
            element_video_list: None,
            element_voice_id: None,
        },
        callback_url: None,
    }
}

fn element_from_video(rig: &Rig) -> ElementRequest {
    ElementRequest {
        model: ELEMENT_MODEL.into(),
        model_params: ElementParams {
            element_name: "My Character".into(),
            element_description: "A female character with long hair, wearing a red dress".into(),
            reference_type: "video_refer".into(),
            element_image_list: None,
            element_video_list: Some(ElementVideoList {
                refer_videos: vec![VideoUrl {
                    video_url: rig.video_url.clone(),
                }],
            }),
            element_voice_id: Some("829824295735410756".into()),
        },
        callback_url: None,
    }
}

async fn until_final(client: &EvoLinkClient, id: &str) -> UpstreamTask {
    let what = format!("task {id} to reach a final state");
    eventually(&what, Duration::from_secs(20), || async {
        let task = client.get_task(id).await.unwrap();
        holds(task.status.is_final(), task)
    })
    .await
}

#[tokio::test]
async fn documented_examples_are_accepted_and_complete() {
    let rig = rig(0.6).await;
    let before = rig.client.credits().await.unwrap();
    assert_eq!(before.token_remaining, Some(10_000.0));

    // Motion example 1: 720p, image orientation; the 8 s video reserves 8 × 8.1648 credits.
    let task = rig
        .client
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap();
    assert!(task.id.starts_with("task-unified-"));
    let parts: Vec<&str> = task.id.split('-').collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[3].len(), 8);
    assert!(parts[3]
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(task.progress, 0);
    assert_eq!(task.credits_reserved, Some(65.3184));
    assert_eq!(task.video_duration, Some(8.0));
    let sent = rig.sim.stats().last_create_body.unwrap();
    assert_eq!(sent["model"], MOTION_MODEL);
    assert_eq!(sent["model_params"]["character_orientation"], "image");
    assert_eq!(sent["quality"], "720p");

    // It moves through processing with rising progress to completed.
    let progress: Arc<Mutex<Vec<(TaskStatus, u8)>>> = Arc::default();
    eventually("the task to finish", Duration::from_secs(20), || {
        let client = rig.client.clone();
        let id = task.id.clone();
        let progress = progress.clone();
        async move {
            let task = client.get_task(&id).await.unwrap();
            let finished = task.status.is_final();
            progress
                .lock()
                .unwrap()
                .push((task.status.clone(), task.progress));
            holds(finished, (task.status, task.progress))
        }
    })
    .await;
    let seen = progress.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|(s, p)| *s == TaskStatus::Processing && *p > 0 && *p < 100),
        "{seen:?}"
    );
    let values: Vec<u8> = seen.iter().map(|(_, p)| *p).collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {values:?}"
    );
    let done = rig.client.get_task(&task.id).await.unwrap();
    assert_eq!(done.status, TaskStatus::Completed);
    assert_eq!(done.progress, 100);
    assert_eq!(done.results.len(), 1);
    let video = reqwest::get(&done.results[0]).await.unwrap();
    assert_eq!(video.status(), 200);
    assert_eq!(
        video.bytes().await.unwrap().as_ref(),
        fixtures::mp4(8_000).as_slice()
    );
    let after = rig.client.credits().await.unwrap();
    assert!((after.token_remaining.unwrap() - (10_000.0 - 65.3184)).abs() < 1e-6);

    // Motion example 2: 1080p, video orientation, no sound, an element, a callback.
    let mut request = motion(&rig, "1080p", "video");
    request.prompt = None;
    request.model_params.keep_sound = Some(false);
    request.model_params.element_list = Some(vec![ElementRef {
        element_id: "123456789".into(),
    }]);
    request.callback_url = Some("https://your-domain.com/webhooks/evolink".into());
    let task = rig
        .client
        .create_motion(&request, &fresh_key())
        .await
        .unwrap();
    assert_eq!(task.credits_reserved, Some(87.06944));
    let sent = rig.sim.stats().last_create_body.unwrap();
    assert_eq!(sent["model_params"]["keep_sound"], false);
    assert_eq!(
        sent["model_params"]["element_list"][0]["element_id"],
        "123456789"
    );
    assert!(sent.get("prompt").is_none());

    // Element examples: from images and from a video; 1 credit each.
    for request in [element_from_images(&rig, 1), element_from_video(&rig)] {
        let task = rig
            .client
            .create_element(&request, &fresh_key())
            .await
            .unwrap();
        assert_eq!(task.credits_reserved, Some(1.0));
        let done = until_final(&rig.client, &task.id).await;
        assert_eq!(done.status, TaskStatus::Completed);
        let id = done.element_id.expect("element id");
        assert_eq!(id.len(), 18);
        assert!(id.chars().all(|c| c.is_ascii_digit()));
    }
    let sent = rig.sim.stats().last_create_body.unwrap();
    assert_eq!(
        sent["model_params"]["element_video_list"]["refer_videos"][0]["video_url"],
        rig.video_url.as_str()
    );

    // The element id is found wherever the upstream puts it.
    for location in ["elements", "results"] {
        rig.sim.set_faults(Faults {
            element_id_location: Some(location.into()),
            ..Faults::default()
        });
        let task = rig
            .client
            .create_element(&element_from_images(&rig, 2), &fresh_key())
            .await
            .unwrap();
        let done = until_final(&rig.client, &task.id).await;
        assert_eq!(done.element_id.map(|id| id.len()), Some(18), "{location}");
    }
    rig.sim.stop().await;
}

#[tokio::test]
async fn documented_invalid_cases_are_refused_with_the_documented_body() {
    let rig = rig(0.2).await;
    let cases: Vec<(&str, MotionRequest)> = vec![
        ("image_urls", {
            let mut r = motion(&rig, "720p", "image");
            r.image_urls.push(rig.image_url.clone());
            r
        }),
        ("video_urls", {
            let mut r = motion(&rig, "720p", "image");
            r.video_urls.clear();
            r
        }),
        ("prompt", {
            let mut r = motion(&rig, "720p", "image");
            r.prompt = Some("a".repeat(2501));
            r
        }),
        ("quality", motion(&rig, "4k", "image")),
        ("character_orientation", motion(&rig, "720p", "sideways")),
        ("element_list", {
            let mut r = motion(&rig, "720p", "video");
            r.model_params.element_list = Some(vec![
                ElementRef {
                    element_id: "1".into(),
                },
                ElementRef {
                    element_id: "2".into(),
                },
            ]);
            r
        }),
        ("character_orientation", {
            let mut r = motion(&rig, "720p", "image");
            r.model_params.element_list = Some(vec![ElementRef {
                element_id: "1".into(),
            }]);
            r
        }),
        ("callback_url", {
            let mut r = motion(&rig, "720p", "image");
            r.callback_url = Some("http://example.com/hook".into());
            r
        }),
    ];
    for (param, request) in cases {
        match rig.client.create_motion(&request, &fresh_key()).await {
            Err(EvoLinkError::InvalidInput {
                param: Some(got), ..
            }) => assert_eq!(got, param),
            other => panic!("{param}: expected InvalidInput, got {other:?}"),
        }
    }
    let mut long_name = element_from_images(&rig, 1);
    long_name.model_params.element_name = "x".repeat(21);
    let mut long_description = element_from_images(&rig, 1);
    long_description.model_params.element_description = "x".repeat(101);
    let mut voice_with_images = element_from_images(&rig, 1);
    voice_with_images.model_params.element_voice_id = Some("1".into());
    let mut two_videos = element_from_video(&rig);
    two_videos
        .model_params
        .element_video_list
        .as_mut()
        .unwrap()
        .refer_videos
        .push(VideoUrl {
            video_url: rig.video_url.clone(),
        });
    let element_cases = vec![
        ("element_name", long_name),
        ("element_description", long_description),
        ("refer_images", element_from_images(&rig, 0)),
        ("refer_images", element_from_images(&rig, 4)),
        ("element_voice_id", voice_with_images),
        ("refer_videos", two_videos),
    ];
    for (param, request) in element_cases {
        match rig.client.create_element(&request, &fresh_key()).await {
            Err(EvoLinkError::InvalidInput {
                param: Some(got), ..
            }) => assert_eq!(got, param),
            other => panic!("{param}: expected InvalidInput, got {other:?}"),
        }
    }
    // The raw body is the documented shape.
    let raw = reqwest::Client::new()
        .post(format!("{}/v1/videos/generations", rig.sim.base_url))
        .bearer_auth(KEY)
        .json(&serde_json::json!({ "model": MOTION_MODEL, "image_urls": [], "video_urls": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "image_urls");
    assert_eq!(
        rig.sim.stats().tasks_created,
        0,
        "nothing invalid became a task"
    );

    // Task query: malformed id and unknown id.
    assert_eq!(
        rig.client.get_task("nope").await.unwrap_err(),
        EvoLinkError::TaskNotFound
    );
    assert_eq!(
        rig.client
            .get_task("task-unified-1-abcdefgh")
            .await
            .unwrap_err(),
        EvoLinkError::TaskNotFound
    );
    // A wrong key.
    let wrong = EvoLinkClient::new(settings(&rig.sim.base_url, "wrong-key")).unwrap();
    assert_eq!(wrong.credits().await.unwrap_err(), EvoLinkError::InvalidKey);
    rig.sim.stop().await;
}

#[tokio::test]
async fn every_documented_error_status_maps_to_its_typed_error() {
    let rig = rig(0.2).await;
    type Check = fn(&EvoLinkError) -> bool;
    let expect: Vec<(u16, Check)> = vec![
        (400, |e| matches!(e, EvoLinkError::InvalidInput { .. })),
        (401, |e| matches!(e, EvoLinkError::InvalidKey)),
        (402, |e| {
            matches!(e, EvoLinkError::InsufficientBalance { .. })
        }),
        (403, |e| matches!(e, EvoLinkError::ModelNotAllowed { .. })),
        (413, |e| matches!(e, EvoLinkError::TooLarge)),
        (429, |e| matches!(e, EvoLinkError::RateLimited { .. })),
        (500, |e| {
            matches!(e, EvoLinkError::Unavailable { status: 500, .. })
        }),
        (502, |e| {
            matches!(e, EvoLinkError::Unavailable { status: 502, .. })
        }),
        (503, |e| {
            matches!(e, EvoLinkError::Unavailable { status: 503, .. })
        }),
    ];
    for (status, check) in expect {
        rig.sim.set_faults(Faults {
            fail_next_creates: 1,
            fail_create_status: status,
            ..Faults::default()
        });
        let creates_before = rig.sim.stats().creates;
        let err = rig
            .client
            .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
            .await
            .unwrap_err();
        assert!(check(&err), "{status} mapped to {err:?}");
        assert_eq!(
            rig.sim.stats().creates,
            creates_before + 1,
            "{status}: a create is never retried"
        );
        assert!(!err.user_message().is_empty());
    }
    rig.sim.stop().await;
}

#[tokio::test]
async fn reads_survive_bursts_and_creates_are_never_repeated() {
    let rig = rig(0.2).await;
    let task = rig
        .client
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap();
    for status in [429, 503] {
        rig.sim.set_faults(Faults {
            read_error_burst: 3,
            read_error_status: status,
            ..Faults::default()
        });
        let before = rig.sim.stats().task_queries;
        let read = rig.client.get_task(&task.id).await.unwrap();
        assert_eq!(read.id, task.id);
        assert_eq!(
            rig.sim.stats().task_queries,
            before + 4,
            "{status}: three refusals, then success"
        );
    }
    rig.sim.set_faults(Faults {
        malformed_next: 2,
        ..Faults::default()
    });
    assert!(
        rig.client.credits().await.is_ok(),
        "broken JSON is retried for reads"
    );

    // A burst longer than the retry budget surfaces as the typed error.
    rig.sim.set_faults(Faults {
        read_error_burst: 10,
        read_error_status: 429,
        ..Faults::default()
    });
    assert_eq!(
        rig.client.credits().await.unwrap_err(),
        EvoLinkError::RateLimited { retry_after: None }
    );

    // A create that times out after being sent is not repeated and is "outcome unknown".
    rig.sim.set_faults(Faults {
        create_delay_ms: 3_000,
        ..Faults::default()
    });
    let mut impatient = settings(&rig.sim.base_url, KEY);
    impatient.request_timeout = Duration::from_millis(500);
    impatient.create_timeout = Duration::from_millis(500);
    let impatient = EvoLinkClient::new(impatient).unwrap();
    let before = rig.sim.stats();
    let err = impatient
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EvoLinkError::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert!(err.user_message().contains("not sent again"));
    let after = rig.sim.stats();
    assert_eq!(
        after.creates,
        before.creates + 1,
        "the create was sent exactly once"
    );
    assert_eq!(
        after.tasks_created,
        before.tasks_created + 1,
        "and it did create a task upstream"
    );

    // Broken JSON on a create is also "outcome unknown", and not repeated.
    rig.sim.set_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    });
    let before = rig.sim.stats().creates;
    let err = rig
        .client
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EvoLinkError::OutcomeUnknown { .. }),
        "{err:?}"
    );
    assert_eq!(rig.sim.stats().creates, before + 1);
    let request = motion(&rig, "720p", "image");
    rig.sim.stop().await;

    // Refused connections provably never reached anyone: retried, then "unreachable".
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let nowhere = EvoLinkClient::new(settings(&format!("http://{addr}"), KEY)).unwrap();
    let err = nowhere
        .create_motion(&request, &fresh_key())
        .await
        .unwrap_err();
    assert!(matches!(err, EvoLinkError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn reads_wait_for_the_upstreams_retry_after() {
    let rig = rig(0.2).await;
    let mut patient = settings(&rig.sim.base_url, KEY);
    patient.retry = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(3),
    };
    let client = EvoLinkClient::new(patient).unwrap();
    // A short Retry-After replaces the 10 ms backoff.
    for status in [429, 503] {
        rig.sim.set_faults(Faults {
            read_error_burst: 1,
            read_error_status: status,
            read_error_retry_after: Some("1".into()),
            ..Faults::default()
        });
        let before = rig.sim.stats().credits_queries;
        let started = std::time::Instant::now();
        assert!(client.credits().await.is_ok());
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{status}: waited {:?}",
            started.elapsed()
        );
        assert_eq!(rig.sim.stats().credits_queries, before + 2);
    }
    // A longer one than the client's longest pause ends the call at once and is handed on.
    rig.sim.set_faults(Faults {
        read_error_burst: 5,
        read_error_status: 429,
        read_error_retry_after: Some("120".into()),
        ..Faults::default()
    });
    let before = rig.sim.stats().credits_queries;
    assert_eq!(
        client.credits().await.unwrap_err(),
        EvoLinkError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert_eq!(rig.sim.stats().credits_queries, before + 1);
}

#[tokio::test]
async fn failed_inputs_and_injected_failures_fail_the_task_with_documented_codes() {
    let rig = rig(0.3).await;
    // An input that is not an image.
    let mut request = motion(&rig, "720p", "image");
    request.image_urls = vec![rig.video_url.clone()];
    let task = rig
        .client
        .create_motion(&request, &fresh_key())
        .await
        .unwrap();
    let done = until_final(&rig.client, &task.id).await;
    assert_eq!(done.status, TaskStatus::Failed);
    assert_eq!(done.failure.unwrap().code, "image_processing_error");
    // A video longer than "image" orientation allows.
    let mut request = motion(&rig, "720p", "image");
    request.video_urls = vec![rig.long_video_url.clone()];
    let done = until_final(
        &rig.client,
        &rig.client
            .create_motion(&request, &fresh_key())
            .await
            .unwrap()
            .id,
    )
    .await;
    assert_eq!(done.failure.unwrap().code, "invalid_parameters");
    // An injected content-policy failure refunds the reservation.
    rig.sim.set_faults(Faults {
        fail_next_tasks: 1,
        task_error_code: Some("content_policy_violation".into()),
        ..Faults::default()
    });
    let task = rig
        .client
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap();
    let done = until_final(&rig.client, &task.id).await;
    let failure = done.failure.unwrap();
    assert_eq!(failure.code, "content_policy_violation");
    let balance = rig.client.credits().await.unwrap();
    assert_eq!(
        balance.token_remaining,
        Some(10_000.0),
        "failures are refunded"
    );
    // Result links expire on demand.
    let task = rig
        .client
        .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
        .await
        .unwrap();
    let done = until_final(&rig.client, &task.id).await;
    assert_eq!(reqwest::get(&done.results[0]).await.unwrap().status(), 200);
    reqwest::Client::new()
        .post(format!("{}/__sim/expire-results", rig.sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(reqwest::get(&done.results[0]).await.unwrap().status(), 403);

    // An input that cannot be fetched fails the task too.
    let mut request = motion(&rig, "720p", "image");
    request.video_urls = vec![format!("{}/files/uploads/missing.mp4", rig.sim.base_url)];
    let done = until_final(
        &rig.client,
        &rig.client
            .create_motion(&request, &fresh_key())
            .await
            .unwrap()
            .id,
    )
    .await;
    assert_eq!(done.failure.unwrap().code, "invalid_parameters");

    // Uploaded files expire, after which tasks cannot fetch them.
    reqwest::Client::new()
        .post(format!("{}/__sim/expire-files", rig.sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(reqwest::get(&rig.image_url).await.unwrap().status(), 403);
    let done = until_final(
        &rig.client,
        &rig.client
            .create_motion(&motion(&rig, "720p", "image"), &fresh_key())
            .await
            .unwrap()
            .id,
    )
    .await;
    assert_eq!(done.failure.unwrap().code, "image_processing_error");
    rig.sim.stop().await;
}

#[tokio::test]
async fn slow_answers_time_out_reads_which_then_report_unreachable() {
    let rig = rig(0.2).await;
    rig.sim.set_faults(Faults {
        slow_ms: 400,
        ..Faults::default()
    });
    let mut hasty = settings(&rig.sim.base_url, KEY);
    hasty.request_timeout = Duration::from_millis(100);
    hasty.retry.attempts = 2;
    let hasty = EvoLinkClient::new(hasty).unwrap();
    let before = rig.sim.stats().credits_queries;
    let err = hasty.credits().await.unwrap_err();
    assert!(matches!(err, EvoLinkError::Unreachable { .. }), "{err:?}");
    assert_eq!(
        rig.sim.stats().credits_queries,
        before + 2,
        "read tried twice"
    );
    // A patient client gets the slow answer.
    assert!(rig.client.credits().await.is_ok());
    rig.sim.stop().await;
}

/// A callback receiver that refuses the first `refuse_first` deliveries.
async fn receiver(refuse_first: usize) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let attempts = Arc::new(Mutex::new(0usize));
    let store = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |body: axum::Json<serde_json::Value>| {
            let store = store.clone();
            let attempts = attempts.clone();
            async move {
                let mut n = attempts.lock().unwrap();
                *n += 1;
                if *n <= refuse_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                store.lock().unwrap().push(body.0);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), received)
}

#[tokio::test]
async fn callbacks_are_delivered_retried_duplicated_and_dropped() {
    let rig = rig(0.2).await;
    // Refused twice, then accepted: attempts at about 0 s, 1 s and 3 s.
    let (url, received) = receiver(2).await;
    let mut request = motion(&rig, "720p", "image");
    request.callback_url = Some(url);
    let task = rig
        .client
        .create_motion(&request, &fresh_key())
        .await
        .unwrap();
    eventually("a callback to arrive", Duration::from_secs(15), || {
        let received = received.clone();
        async move {
            let count = received.lock().unwrap().len();
            holds(count > 0, count)
        }
    })
    .await;
    let body = received.lock().unwrap()[0].clone();
    assert_eq!(body["id"], task.id.as_str());
    assert_eq!(body["status"], "completed");
    let offsets = rig.sim.stats().callback_attempt_offsets_ms[&task.id].clone();
    assert_eq!(offsets.len(), 3, "{offsets:?}");
    assert!(
        (900..1_900).contains(&(offsets[1] - offsets[0])),
        "{offsets:?}"
    );
    assert!(
        (1_900..3_000).contains(&(offsets[2] - offsets[1])),
        "{offsets:?}"
    );

    // Duplicated on demand.
    rig.sim.set_faults(Faults {
        duplicate_callbacks: true,
        ..Faults::default()
    });
    let (url, received) = receiver(0).await;
    let mut request = motion(&rig, "720p", "image");
    request.callback_url = Some(url);
    rig.client
        .create_motion(&request, &fresh_key())
        .await
        .unwrap();
    eventually(
        "two deliveries of the callback",
        Duration::from_secs(10),
        || {
            let received = received.clone();
            async move {
                let count = received.lock().unwrap().len();
                holds(count == 2, count)
            }
        },
    )
    .await;

    // Dropped on demand: the task completes, nothing arrives, nothing is attempted.
    rig.sim.set_faults(Faults {
        drop_callbacks: true,
        ..Faults::default()
    });
    let (url, received) = receiver(0).await;
    let mut request = motion(&rig, "720p", "image");
    request.callback_url = Some(url);
    let attempts_before = rig.sim.stats().callback_attempts;
    let task = rig
        .client
        .create_motion(&request, &fresh_key())
        .await
        .unwrap();
    assert_eq!(
        until_final(&rig.client, &task.id).await.status,
        TaskStatus::Completed
    );
    assert!(received.lock().unwrap().is_empty());
    assert_eq!(rig.sim.stats().callback_attempts, attempts_before);
    rig.sim.stop().await;
}

/// A new idempotency key: each create in these tests is a different task.
fn fresh_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
