//! Kinema killed (SIGKILL) with tasks in flight and started again on the same data: every task
//! reaches a final state, nothing is created upstream twice, and the ledger balances. Run on
//! SQLite + local disk (the embedded default), SQLite + S3, and PostgreSQL + S3 (the hosted way).

mod database;
mod server;

use crate::helpers::fixtures::file as fixture;

use std::{path::Path, time::Duration};

use database::Database;
use server::{post, start, KEY};

use crate::helpers::{eventually, holds, TestBucket, PASSWORD};
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};

#[tokio::test]
async fn a_killed_server_resumes_every_task_without_creating_any_twice_on_local_disk() {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::sqlite(dir.path());
    a_killed_server_resumes_every_task_without_creating_any_twice(dir.path(), &database, None)
        .await;
}

#[tokio::test]
async fn a_killed_server_resumes_every_task_without_creating_any_twice_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::sqlite(dir.path());
    let bucket = TestBucket::start().await;
    a_killed_server_resumes_every_task_without_creating_any_twice(
        dir.path(),
        &database,
        Some(&bucket),
    )
    .await;
    results_are_all_in(&bucket);
}

#[tokio::test]
async fn a_killed_server_resumes_every_task_without_creating_any_twice_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    let database = Database::postgres().await;
    let bucket = TestBucket::start().await;
    a_killed_server_resumes_every_task_without_creating_any_twice(
        dir.path(),
        &database,
        Some(&bucket),
    )
    .await;
    results_are_all_in(&bucket);
}

/// Inputs and results are all in the bucket, and no upload was left open.
fn results_are_all_in(bucket: &TestBucket) {
    let mut objects = bucket.objects();
    objects.retain(|key| key.starts_with("result-"));
    assert_eq!(objects.len(), 6, "{objects:?}");
    assert_eq!(bucket.open_multipart_uploads(), Vec::<String>::new());
}

async fn a_killed_server_resumes_every_task_without_creating_any_twice(
    dir: &Path,
    database: &Database,
    bucket: Option<&TestBucket>,
) {
    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_secs(3)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let mut first = start(dir, database, &sim.base_url, bucket);
    let base = first.base.clone();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let setup = post(
        &client,
        &base,
        "setup_admin",
        &[
            ("username", "ada"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(setup.status(), 200);
    let mut ids = Vec::new();
    for (purpose, name) in [
        ("character_image", "valid.png"),
        ("motion_video", "valid-index-at-end.mp4"),
    ] {
        let response = client
            .post(format!("{base}/api/uploads?purpose={purpose}&name={name}"))
            .body(fixture(name))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        ids.push(
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let submit = |key: &'static str| {
        let client = client.clone();
        let base = base.clone();
        let ids = ids.clone();
        async move {
            let response = post(
                &client,
                &base,
                "submit_motion",
                &[
                    ("image_upload_id", &ids[0]),
                    ("video_upload_id", &ids[1]),
                    ("quality", "720p"),
                    ("orientation", "image"),
                    ("keep_sound", "true"),
                    ("prompt", ""),
                    ("idempotency_key", key),
                ],
            )
            .await;
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // One completes before the crash.
    let done_before = submit("done-before").await;
    database
        .until_state(&done_before, "completed", Duration::from_secs(60))
        .await;
    // One is running upstream at the crash.
    let running = submit("running").await;
    database
        .until_state(&running, "running", Duration::from_secs(30))
        .await;
    // One finished upstream while its result cannot be downloaded: it waits in "archiving".
    let no_results = Faults {
        fail_result_downloads: true,
        ..Faults::default()
    };
    sim.set_faults(no_results.clone());
    let archiving = submit("archiving").await;
    database
        .until_state(&archiving, "archiving", Duration::from_secs(60))
        .await;
    // One is caught between sending the create and hearing back: its create times out (the
    // lease is 2 s) and, while the file service is down, it cannot even be asked again.
    sim.set_faults(Faults {
        create_delay_ms: 8_000,
        ..no_results.clone()
    });
    let sending = submit("sending").await;
    database
        .until_state(&sending, "submitting", Duration::from_secs(30))
        .await;
    // One cannot even publish its inputs: it waits in "queued". (With S3 the bucket is down:
    // an input is looked up before its URL is presigned.)
    if let Some(bucket) = bucket {
        bucket.stop_server();
    }
    sim.set_faults(Faults {
        fail_uploads: true,
        create_delay_ms: 8_000,
        ..no_results
    });
    let queued = submit("queued").await;
    eventually(
        "the queued task to try publishing its inputs",
        Duration::from_secs(30),
        || async {
            let attempts = database.attempts(&queued).await;
            holds(attempts > 0, attempts)
        },
    )
    .await;
    assert_eq!(database.state_of(&queued).await, "queued");
    assert_eq!(
        database.state_of(&sending).await,
        "submitting",
        "not yet confirmed"
    );

    first.kill();
    sim.set_faults(Faults::default());
    if let Some(bucket) = bucket {
        bucket.start_server().await;
    }
    let creates_at_crash = sim.stats().tasks_created;
    assert_eq!(creates_at_crash, 4);

    // One more arrives after the restart, then everything must finish.
    let mut second = start(dir, database, &sim.base_url, bucket);
    let base2 = second.base.clone();
    let client2 = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    assert_eq!(
        post(
            &client2,
            &base2,
            "sign_in",
            &[("username", "ada"), ("password", PASSWORD)]
        )
        .await
        .status(),
        200
    );
    let after = {
        let response = post(
            &client2,
            &base2,
            "submit_motion",
            &[
                ("image_upload_id", &ids[0]),
                ("video_upload_id", &ids[1]),
                ("quality", "1080p"),
                ("orientation", "video"),
                ("keep_sound", "false"),
                ("prompt", ""),
                ("idempotency_key", "after"),
            ],
        )
        .await;
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let rows = eventually(
        "every task to be final",
        Duration::from_secs(90),
        || async {
            let rows = database.rows().await;
            holds(
                rows.iter().all(|r| r.1 == "completed" || r.1 == "failed"),
                rows,
            )
        },
    )
    .await;
    let state = |id: &str| rows.iter().find(|r| r.0 == id).unwrap().1.clone();
    assert_eq!(state(&done_before), "completed");
    assert_eq!(state(&running), "completed", "the running task was resumed");
    assert_eq!(
        state(&sending),
        "completed",
        "the unconfirmed create was asked again with its key and its task adopted"
    );
    assert!(
        sim.stats().idempotent_replays >= 1,
        "the upstream answered the repeat with the first task"
    );
    assert_eq!(state(&after), "completed");
    assert_eq!(
        state(&archiving),
        "completed",
        "archiving resumed after the restart"
    );
    assert_eq!(
        state(&queued),
        "completed",
        "the queued task started after the restart"
    );
    // Exactly one upstream task per create that was sent: four before the crash, two after.
    assert_eq!(sim.stats().tasks_created, creates_at_crash + 2);
    let upstream: Vec<&String> = rows.iter().filter_map(|r| r.2.as_ref()).collect();
    let mut distinct = upstream.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(upstream.len(), distinct.len());

    // The ledger balances: two entries per task, summing to minus what was charged.
    let (entries, sum) = database.ledger_count_and_sum().await;
    assert_eq!(entries, 12, "two entries for each of the six tasks");
    let charged: i64 = rows.iter().filter_map(|r| r.3).sum();
    assert_eq!(sum, -charged);
    assert_eq!(
        charged,
        5 * 5 * 8_164_800 + 5 * 10_883_680,
        "five 720p completions and one 1080p"
    );

    // Every result plays from Kinema's copy, wherever it is stored.
    for row in &rows {
        let result = client2
            .get(format!("{base2}/api/tasks/{}/result", row.0))
            .header("Range", "bytes=0-11")
            .send()
            .await
            .unwrap();
        assert_eq!(result.status(), 206, "{}", row.0);
        assert_eq!(&result.bytes().await.unwrap()[4..8], b"ftyp");
    }

    second.kill();
    sim.stop().await;
}
