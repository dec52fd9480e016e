//! The engine under load: claiming a due task reads the `tasks_due` index on both databases
//! (their own plans say so, with thousands of rows), the upstream never sees more than the
//! configured ceiling while many tasks run, and a stalled result download holds up neither
//! polling nor other tasks' completion.

use std::time::Duration;

use app::backend::store::{claim_pick_sql, NewUser, Store};
use app::backend::tasks::{now_ms, EngineSettings};
use app::model::Role;
use app::rules::vocab::{TaskKind, TaskState};
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};

use crate::helpers::{
    eventually, fast_engine, holds, inputs, ok_json, setup_admin, submit, task, Db, TestApp,
    TestDatabase,
};

const KEY: &str = "engine-load-test-key";

/// Inserts `count` running motion tasks of `owner` straight into the table, due over the next
/// `count` seconds (one due now), with `due_now` of them overdue.
async fn many_running_rows(store: &Store, owner: i64, count: i64, due_now: i64) {
    let now = now_ms();
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO tasks (id, owner_id, kind, idempotency_key, state, params, cost_reserved, \
         callback_token, next_run_at, deadline_at, created_at, updated_at) \
         SELECT 'load-' || i, $2, $3, 'load-' || i, $4, '{}', 1, 'token', \
         CASE WHEN i <= $5 THEN $6 - i ELSE $6 + i * 1000 END, $6 + 7200000, $6 / 1000, $6 / 1000 \
         FROM n";
    macro_rules! insert {
        ($pool:expr) => {
            sqlx::query(sql)
                .bind(count)
                .bind(owner)
                .bind(TaskKind::Motion)
                .bind(TaskState::Running)
                .bind(due_now)
                .bind(now)
                .execute($pool)
                .await
                .expect("rows inserted")
        };
    }
    match store {
        Store::Sqlite(pool) => {
            insert!(pool);
            sqlx::query("ANALYZE").execute(pool).await.unwrap();
        }
        Store::Postgres(pool) => {
            insert!(pool);
            sqlx::query("ANALYZE tasks").execute(pool).await.unwrap();
        }
    }
}

/// The plan lines that read the tasks table (the word `tasks` on its own).
fn table_reads(plan: &[String]) -> Vec<&String> {
    plan.iter()
        .filter(|line| line.split_whitespace().any(|word| word == "tasks"))
        .collect()
}

/// How each database plans the claim's pick over the engine's front states.
async fn claim_plans(store: &Store) -> Vec<(String, Vec<String>)> {
    let states = [TaskState::Queued, TaskState::Submitting, TaskState::Running];
    let pick = claim_pick_sql(states.len());
    let now = now_ms();
    match store {
        Store::Sqlite(pool) => {
            let explain = format!("EXPLAIN QUERY PLAN {pick}");
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain).bind(now);
            for state in states {
                query = query.bind(state);
            }
            let rows = query.fetch_all(pool).await.unwrap();
            vec![(
                "SQLite".into(),
                rows.into_iter().map(|(.., detail)| detail).collect(),
            )]
        }
        Store::Postgres(pool) => {
            // A prepared statement, planned with these values (custom plan) and for any values
            // (the generic plan PostgreSQL switches to after a few runs).
            let mut conn = pool.acquire().await.unwrap();
            let prepare = format!("PREPARE claim_pick(bigint, text, text, text) AS {pick}");
            sqlx::raw_sql(&prepare).execute(&mut *conn).await.unwrap();
            let args: Vec<String> = states
                .iter()
                .map(|state| format!("'{}'", state.as_str()))
                .collect();
            let explain = format!("EXPLAIN EXECUTE claim_pick({now}, {})", args.join(", "));
            let mut plans = Vec::new();
            for mode in ["force_custom_plan", "force_generic_plan"] {
                sqlx::raw_sql(&format!("SET plan_cache_mode = {mode}"))
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                let lines: Vec<String> = sqlx::query_scalar(&explain)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                plans.push((format!("PostgreSQL {mode}"), lines));
            }
            sqlx::raw_sql("DEALLOCATE claim_pick; RESET plan_cache_mode")
                .execute(&mut *conn)
                .await
                .unwrap();
            plans
        }
    }
}

#[tokio::test]
async fn claiming_a_due_task_reads_the_due_index_on_both_databases() {
    for db in [Db::Sqlite, Db::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let database = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(TestDatabase::create().await),
        };
        let url = match &database {
            Some(database) => database.url(),
            None => format!("sqlite://{}", dir.path().join("plan.db").display()),
        };
        let store = Store::connect(&url).await.unwrap();
        let owner = store
            .create_first_admin(&NewUser {
                username: "ada",
                display_name: "Ada",
                password_hash: "not-a-real-hash",
                role: Role::Admin,
                created_at: 1_000,
            })
            .await
            .unwrap()
            .expect("first admin");
        // 10,000 running tasks, 20 of them due: what the engine meets at scale.
        many_running_rows(&store, owner.id, 10_000, 20).await;
        for (planner, plan) in claim_plans(&store).await {
            let text = plan.join("\n");
            assert!(
                text.contains("tasks_due"),
                "{planner} plans the claim without the tasks_due index:\n{text}"
            );
            for line in table_reads(&plan) {
                assert!(
                    line.contains("tasks_due"),
                    "{planner} reads the tasks table without the index in `{line}`:\n{text}"
                );
                assert!(
                    !line.contains("Seq Scan") && !line.starts_with("SCAN tasks"),
                    "{planner} scans the whole tasks table in `{line}`:\n{text}"
                );
            }
        }
        store.close().await;
        drop(database);
    }
}

/// A simulator of its own whose tasks take `task` to finish.
async fn simulator(task: Duration) -> RunningSimulator {
    RunningSimulator::start(SimulatorConfig::new(KEY, task), ([127, 0, 0, 1], 0).into())
        .await
        .unwrap()
}

/// Kinema on SQLite against `sim`, paced by `engine`.
async fn app_against(sim: &RunningSimulator, engine: EngineSettings) -> TestApp {
    let url = sim.base_url.clone();
    TestApp::spawn_with_engine(
        Db::Sqlite,
        |settings| {
            settings.evolink_api_key = Some(KEY.into());
            settings.evolink_base_url = url.clone();
            settings.evolink_files_base_url = url;
        },
        engine,
    )
    .await
}

/// Copies the running task `template` once per upstream id, all due now.
async fn clone_running(app: &TestApp, template: &str, upstream_ids: &[String]) {
    let Store::Sqlite(pool) = app.state().store() else {
        panic!("this test runs on SQLite");
    };
    let columns = "owner_id, kind, state, params, image_upload_id, video_upload_id, quality, \
         progress, cost_reserved, callback_token, epoch, attempts, deadline_at, created_at, \
         updated_at, submitted_at";
    let sql = format!(
        "INSERT INTO tasks (id, idempotency_key, upstream_id, next_run_at, {columns}) \
         SELECT $1, $1, $2, $3, {columns} FROM tasks WHERE id = $4"
    );
    let mut tx = pool.begin().await.unwrap();
    for (n, upstream_id) in upstream_ids.iter().enumerate() {
        sqlx::query(&sql)
            .bind(format!("clone-{n}"))
            .bind(upstream_id)
            .bind(now_ms())
            .bind(template)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.state().wake_workers();
}

#[tokio::test]
async fn the_upstream_sees_no_more_than_the_ceiling_while_many_tasks_run() {
    const CEILING: u32 = 5;
    let sim = simulator(Duration::from_secs(600)).await;
    let app = app_against(
        &sim,
        EngineSettings {
            workers: 4,
            upstream_rps: CEILING,
            ..fast_engine()
        },
    )
    .await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let template = ok_json(submit(&app, &admin, &inputs, "720p", "image", "template").await).await;
    let template = template["id"].as_str().unwrap().to_string();
    eventually(
        "the template task to run",
        Duration::from_secs(20),
        || async {
            let view = task(&app, &admin, &template).await;
            holds(view["state"] == "running", view)
        },
    )
    .await;
    // 300 more running tasks, all due at once: far more polls wanted than the ceiling allows.
    let upstream_ids = sim.seed_running_tasks(300, Duration::from_secs(600));
    clone_running(&app, &template, &upstream_ids).await;
    sim.reset_load();
    let load = eventually("six seconds of load", Duration::from_secs(20), || async {
        let load = sim.load();
        holds(load.window_ms >= 6_000, load)
    })
    .await;
    let seconds = load.window_ms as f64 / 1000.0;
    println!(
        "engine load: {} requests in {seconds:.1} s ({:.2}/s, busiest second {}) at a ceiling of {CEILING}/s; {} tasks read",
        load.requests, load.requests_per_second, load.busiest_second, load.tasks_read
    );
    let burst = 1.0; // a tenth of a second's worth, at least one
    let allowed = f64::from(CEILING) * seconds + burst + 1.0; // + one in flight at the edge
    assert!(
        load.requests as f64 <= allowed,
        "{} requests in {seconds:.1} s over a ceiling of {CEILING}/s: {load:?}",
        load.requests
    );
    assert!(
        load.busiest_second <= u64::from(CEILING) + 2,
        "a second with {} requests: {load:?}",
        load.busiest_second
    );
    // The engine was busy, not idle: it used most of what the ceiling allows.
    assert!(
        load.requests as f64 >= f64::from(CEILING) * seconds * 0.6,
        "only {} requests in {seconds:.1} s: {load:?}",
        load.requests
    );
    assert!(load.tasks_read >= 20, "{load:?}");
    app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn a_stalled_download_holds_up_neither_polling_nor_other_tasks() {
    let sim = simulator(Duration::from_secs(1)).await;
    // The first result download hangs after its first piece.
    sim.set_faults(Faults {
        stall_next_result_downloads: 1,
        ..Faults::default()
    });
    let app = app_against(
        &sim,
        // One worker polls: were downloads in its pool, the stall would stop all polling.
        EngineSettings {
            workers: 1,
            archive_workers: 2,
            ..fast_engine()
        },
    )
    .await;
    let admin = app.client();
    assert_eq!(setup_admin(&app, &admin, "ada").await.status(), 200);
    let inputs = inputs(&app, &admin, "valid-index-at-end.mp4").await;
    let stalled = ok_json(submit(&app, &admin, &inputs, "720p", "image", "stalled").await).await;
    let stalled = stalled["id"].as_str().unwrap().to_string();
    eventually(
        "the first download to stall",
        Duration::from_secs(30),
        || async {
            let view = task(&app, &admin, &stalled).await;
            holds(
                view["state"] == "archiving" && sim.stats().result_downloads >= 1,
                view,
            )
        },
    )
    .await;
    let polls_before = sim.stats().task_queries;
    let mut others = Vec::new();
    for key in ["second", "third", "fourth"] {
        let task = ok_json(submit(&app, &admin, &inputs, "720p", "image", key).await).await;
        others.push(task["id"].as_str().unwrap().to_string());
    }
    for id in &others {
        let done = eventually(
            "another task to complete",
            Duration::from_secs(30),
            || async {
                let view = task(&app, &admin, id).await;
                holds(view["state"] == "completed", view)
            },
        )
        .await;
        assert!(done["cost_final"].as_i64().unwrap() > 0, "{done}");
    }
    assert!(
        sim.stats().task_queries > polls_before + 3,
        "the others were polled while the download hung"
    );
    assert_eq!(
        task(&app, &admin, &stalled).await["state"],
        "archiving",
        "the stalled download is still hanging"
    );
    app.stop().await;
    sim.stop().await;
}
