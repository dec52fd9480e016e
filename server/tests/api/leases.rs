//! Leases that last as long as the work: a create or a result download slower than the task
//! lease neither makes a second upstream task nor bills twice, and an unconfirmed create is
//! adopted through its idempotency key, also across a restart.

use std::time::Duration;

use app::backend::tasks::EngineSettings;
use app::rules::vocab::EntryKind;
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};

use crate::helpers::{
    fast_engine, inputs, ok_json, setup_admin, stepped_engine, submit, until_final, Db, TestApp,
};

const KEY: &str = "leases-test-key";

/// A simulator of its own (so its counters are this test's) whose tasks take `task` to finish.
async fn simulator(task: Duration) -> RunningSimulator {
    RunningSimulator::start(SimulatorConfig::new(KEY, task), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
}

/// Kinema on `db` against `sim`, with a 2 s task lease.
async fn app_with_short_lease(db: Db, sim: &RunningSimulator, engine: EngineSettings) -> TestApp {
    let url = sim.base_url.clone();
    TestApp::spawn_with_engine(
        db,
        |settings| {
            settings.evolink_api_key = Some(KEY.into());
            settings.evolink_base_url = url.clone();
            settings.evolink_files_base_url = url;
        },
        EngineSettings {
            lease: Duration::from_secs(2),
            ..engine
        },
    )
    .await
}

/// Signs in an admin and submits one 720p task; returns the client and the task id.
async fn one_task(app: &TestApp, key: &str) -> (reqwest::Client, String) {
    let admin = app.client();
    assert_eq!(setup_admin(app, &admin, "ada").await.status(), 200);
    let inputs = inputs(app, &admin, "valid-index-at-end.mp4").await;
    let task = ok_json(submit(app, &admin, &inputs, "720p", "image", key).await).await;
    (admin, task["id"].as_str().unwrap().to_string())
}

/// The task's ledger entry kinds, oldest first.
async fn ledger_kinds(app: &TestApp, id: &str) -> Vec<EntryKind> {
    let entries = app.state().store().ledger_of_task(id).await.unwrap();
    entries.into_iter().map(|entry| entry.kind).collect()
}

#[tokio::test]
async fn a_create_slower_than_the_lease_makes_one_task_and_settles_once() {
    for db in [Db::Sqlite, Db::Postgres] {
        let sim = simulator(Duration::from_secs(1)).await;
        // The upstream accepts the create at once but answers only after 6 s, three leases.
        sim.set_faults(Faults {
            create_delay_ms: 6_000,
            ..Faults::default()
        });
        let app = app_with_short_lease(db, &sim, fast_engine()).await;
        let (admin, id) = one_task(&app, "slow-create").await;
        let done = until_final(&app, &admin, &id).await;
        assert_eq!(done["state"], "completed", "{db:?}: {done}");
        let stats = sim.stats();
        assert_eq!(stats.tasks_created, 1, "{db:?}: exactly one upstream task");
        assert_eq!(
            ledger_kinds(&app, &id).await,
            vec![EntryKind::Reserve, EntryKind::Settle],
            "{db:?}: reserved once, settled once, never refunded"
        );
        assert!(done["cost_final"].as_i64().unwrap() > 0, "{db:?}: {done}");
        app.stop().await;
        sim.stop().await;
    }
}

#[tokio::test]
async fn a_result_download_slower_than_the_lease_happens_once() {
    for db in [Db::Sqlite, Db::Postgres] {
        let sim = simulator(Duration::from_millis(500)).await;
        // The result arrives in pieces over 6 s, three leases.
        sim.set_faults(Faults {
            slow_result_ms: 6_000,
            ..Faults::default()
        });
        let app = app_with_short_lease(db, &sim, fast_engine()).await;
        let (admin, id) = one_task(&app, "slow-result").await;
        let done = until_final(&app, &admin, &id).await;
        assert_eq!(done["state"], "completed", "{db:?}: {done}");
        let stats = sim.stats();
        assert_eq!(stats.result_downloads, 1, "{db:?}: one download");
        assert_eq!(stats.tasks_created, 1, "{db:?}");
        assert_eq!(
            ledger_kinds(&app, &id).await,
            vec![EntryKind::Reserve, EntryKind::Settle],
            "{db:?}"
        );
        app.stop().await;
        sim.stop().await;
    }
}

#[tokio::test]
async fn an_unconfirmed_create_is_adopted_after_a_restart_step_by_step() {
    let sim = simulator(Duration::from_millis(500)).await;
    // The create's answer comes after 3 s; with a 2 s lease Kinema stops waiting at 1.5 s.
    sim.set_faults(Faults {
        create_delay_ms: 3_000,
        ..Faults::default()
    });
    let mut app = app_with_short_lease(Db::Sqlite, &sim, stepped_engine()).await;
    let (_, id) = one_task(&app, "restart-adopt").await;

    let sent = app.run_due().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].to.as_str(),
        "submitting",
        "the create's outcome is unknown, so the task waits to ask again"
    );
    assert_eq!(
        sim.stats().tasks_created,
        1,
        "the upstream did make the task"
    );
    assert_eq!(ledger_kinds(&app, &id).await, vec![EntryKind::Reserve]);

    // Kinema stops before asking again; the upstream answers at once from now on.
    sim.set_faults(Faults::default());
    app.restart().await;
    let admin_again = app.client();
    assert_eq!(
        crate::helpers::sign_in(&app, &admin_again, "ada", crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );
    let done = until_final(&app, &admin_again, &id).await;
    assert_eq!(done["state"], "completed", "{done}");
    let stats = sim.stats();
    assert_eq!(stats.tasks_created, 1, "adopted, not created again");
    assert_eq!(stats.idempotent_replays, 1, "asked again with the same key");
    assert_eq!(
        ledger_kinds(&app, &id).await,
        vec![EntryKind::Reserve, EntryKind::Settle]
    );
    app.stop().await;
    sim.stop().await;
}
