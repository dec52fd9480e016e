//! A property test of the ledger: random sequences of submits that complete, fail or time out,
//! admin adjustments and restarts, on SQLite and on PostgreSQL. Once every task is final, the
//! entries add up to every total Kinema shows, no reservation is left open, and no entry was ever
//! changed or removed (and the database refuses to).
//!
//! The seed is printed; set `KINEMA_PROPERTY_SEED` to replay one.

use std::{collections::HashMap, time::Duration};

use crate::helpers;
use crate::helpers::{
    eventually, fast_engine, holds, inputs, ok_json, sign_in, submit, task, Db, Inputs, TestApp,
    PASSWORD,
};
use app::backend::tasks::EngineSettings;
use evolink_sim::{Faults, RunningSimulator, SimulatorConfig};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use sqlx::{Connection, PgConnection, SqliteConnection};

const KEY: &str = "property-test-key";

/// One ledger row as stored: id, user, task, kind, amount, reason, time.
type Row = (i64, i64, Option<String>, String, i64, Option<String>, i64);

#[derive(Clone, Copy, Debug)]
enum Op {
    /// A submit that completes.
    Submit { member: usize, hd: bool },
    /// A submit whose upstream task fails.
    Fail { member: usize },
    /// A submit whose upstream task never finishes, so Kinema's deadline passes.
    Timeout { member: usize },
    /// An admin's adjustment, in whole credits.
    Adjust { member: usize, credits: i64 },
    /// Kinema stops (workers stop mid-step) and starts again on the same data.
    Restart,
}

fn sequence(rng: &mut StdRng) -> Vec<Op> {
    let mut ops = vec![
        Op::Submit {
            member: 0,
            hd: false,
        },
        Op::Fail { member: 1 },
        Op::Timeout { member: 0 },
        Op::Adjust {
            member: 1,
            credits: -3,
        },
        Op::Restart,
    ];
    while ops.len() < 14 {
        let member = rng.gen_range(0..2);
        ops.push(match rng.gen_range(0..10) {
            0..=3 => Op::Submit {
                member,
                hd: rng.gen_bool(0.5),
            },
            4 | 5 => Op::Fail { member },
            6 => Op::Timeout { member },
            7 => {
                let credits = rng.gen_range(1..=5i64);
                Op::Adjust {
                    member,
                    credits: if rng.gen_bool(0.5) { -credits } else { credits },
                }
            }
            _ => Op::Restart,
        });
    }
    ops.shuffle(rng);
    ops
}

async fn ledger_rows(url: &str) -> Vec<Row> {
    let sql = "SELECT id, user_id, task_id, kind, amount, reason, created_at FROM ledger_entries ORDER BY id";
    if url.starts_with("sqlite:") {
        let mut conn = SqliteConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = PgConnection::connect(url).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// Tries to change and to remove an entry directly in the database; both must be refused.
async fn tamper(url: &str) -> (String, String) {
    let update = "UPDATE ledger_entries SET amount = 0";
    let delete = "DELETE FROM ledger_entries";
    if url.starts_with("sqlite:") {
        let mut conn = SqliteConnection::connect(url).await.unwrap();
        let a = sqlx::query(update).execute(&mut conn).await.unwrap_err();
        let b = sqlx::query(delete).execute(&mut conn).await.unwrap_err();
        (a.to_string(), b.to_string())
    } else {
        let mut conn = PgConnection::connect(url).await.unwrap();
        let a = sqlx::query(update).execute(&mut conn).await.unwrap_err();
        let b = sqlx::query(delete).execute(&mut conn).await.unwrap_err();
        (a.to_string(), b.to_string())
    }
}

struct Member {
    username: &'static str,
    id: i64,
    client: reqwest::Client,
    inputs: Inputs,
}

async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = app.client();
    assert_eq!(
        sign_in(app, &client, username, PASSWORD).await.status(),
        200
    );
    client
}

/// Waits until the upstream has the task (its faults are then used up) or it ended.
async fn until_upstream(app: &TestApp, client: &reqwest::Client, id: &str) {
    let what = format!("task {id} to reach the upstream");
    eventually(&what, Duration::from_secs(30), || async {
        let state = task(app, client, id).await["state"].clone();
        holds(state != "queued" && state != "submitting", state)
    })
    .await;
}

/// Sequences tried per database on each run.
const SEQUENCES: u64 = 3;

async fn random_sequences_keep_the_ledger_consistent(db: Db) {
    let first = std::env::var("KINEMA_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen::<u64>());
    for seed in first..first.saturating_add(SEQUENCES) {
        one_sequence(db, seed).await;
    }
}

async fn one_sequence(db: Db, seed: u64) {
    println!("ledger property test on {db:?}: seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let ops = sequence(&mut rng);
    println!("operations: {ops:?}");

    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_millis(400)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .unwrap();
    let engine = EngineSettings {
        deadline: Duration::from_secs(6),
        ..fast_engine()
    };
    let sim_url = sim.base_url.clone();
    let mut app = TestApp::spawn_with_engine(
        db,
        |settings| {
            settings.evolink_api_key = Some(KEY.into());
            settings.evolink_base_url = sim_url.clone();
            settings.evolink_files_base_url = sim_url;
        },
        engine,
    )
    .await;
    let (admin, member, moe) = helpers::team(&app).await;
    let ada = ok_json(app.call(&admin, "session_info", &[]).await).await["user"]["id"]
        .as_i64()
        .unwrap();
    let mut members = Vec::new();
    for (username, id, client) in [("ada", ada, admin), ("moe", moe, member)] {
        let inputs = inputs(&app, &client, "valid-index-at-end.mp4").await;
        members.push(Member {
            username,
            id,
            client,
            inputs,
        });
    }
    let url = app.database_url();
    let mut snapshot: Vec<Row> = Vec::new();
    let mut task_ids: Vec<(usize, String)> = Vec::new();
    let mut adjustments: HashMap<i64, i64> = HashMap::new();

    for (step, op) in ops.iter().enumerate() {
        let key = format!("step-{step}");
        match *op {
            Op::Submit { member, hd } => {
                let m = &members[member];
                let quality = if hd { "1080p" } else { "720p" };
                let view =
                    ok_json(submit(&app, &m.client, &m.inputs, quality, "image", &key).await).await;
                task_ids.push((member, view["id"].as_str().unwrap().to_string()));
            }
            Op::Fail { member } | Op::Timeout { member } => {
                let faults = match op {
                    Op::Fail { .. } => Faults {
                        fail_next_tasks: 1,
                        ..Faults::default()
                    },
                    _ => Faults {
                        stall_next_tasks: 1,
                        ..Faults::default()
                    },
                };
                sim.set_faults(faults);
                let m = &members[member];
                let view =
                    ok_json(submit(&app, &m.client, &m.inputs, "720p", "image", &key).await).await;
                let id = view["id"].as_str().unwrap().to_string();
                until_upstream(&app, &m.client, &id).await;
                sim.set_faults(Faults::default());
                task_ids.push((member, id));
            }
            Op::Adjust { member, credits } => {
                let user_id = members[member].id.to_string();
                let amount = credits.to_string();
                let response = app
                    .call(
                        &members[0].client,
                        "adjust_credits",
                        &[
                            ("user_id", &user_id),
                            ("credits", &amount),
                            ("reason", "property test"),
                        ],
                    )
                    .await;
                assert_eq!(response.status(), 200);
                *adjustments.entry(members[member].id).or_default() += credits * 1_000_000;
            }
            Op::Restart => {
                app.restart().await;
                for m in members.iter_mut() {
                    m.client = signed_in(&app, m.username).await;
                }
            }
        }
        let rows = ledger_rows(&url).await;
        assert!(
            rows.len() >= snapshot.len() && rows[..snapshot.len()] == snapshot[..],
            "step {step} ({op:?}) changed or removed an existing entry (seed {seed})"
        );
        snapshot = rows;
    }

    // Every task ends.
    let what = format!("every task to be final (seed {seed})");
    eventually(&what, Duration::from_secs(60), || async {
        for (member, id) in &task_ids {
            let state = task(&app, &members[*member].client, id).await["state"].clone();
            if state != "completed" && state != "failed" {
                return Err((id.clone(), state));
            }
        }
        Ok(())
    })
    .await;
    let rows = ledger_rows(&url).await;
    assert_eq!(
        rows[..snapshot.len()],
        snapshot[..],
        "no entry changed (seed {seed})"
    );

    // Per task: one reservation, one resolution, and they match the task's final cost.
    let mut expected_by_user: HashMap<i64, i64> = HashMap::new();
    let (mut completed, mut failed) = (0, 0);
    for (member, id) in &task_ids {
        let view = task(&app, &members[*member].client, id).await;
        let entries: Vec<&Row> = rows.iter().filter(|r| r.2.as_deref() == Some(id)).collect();
        let reserves: Vec<&&Row> = entries.iter().filter(|r| r.3 == "reserve").collect();
        let resolutions: Vec<&&Row> = entries
            .iter()
            .filter(|r| r.3 == "settle" || r.3 == "refund")
            .collect();
        assert_eq!(
            reserves.len(),
            1,
            "task {id}: one reservation (seed {seed})"
        );
        assert_eq!(
            resolutions.len(),
            1,
            "task {id}: no dangling reservation (seed {seed})"
        );
        assert_eq!(reserves[0].4, -view["cost_reserved"].as_i64().unwrap());
        let net: i64 = entries.iter().map(|r| r.4).sum();
        let final_cost = view["cost_final"].as_i64().unwrap();
        assert_eq!(
            net, -final_cost,
            "task {id}: entries = final cost (seed {seed})"
        );
        if view["state"] == "completed" {
            completed += 1;
            assert_eq!(resolutions[0].3, "settle");
            assert!(final_cost > 0);
        } else {
            failed += 1;
            assert_eq!(resolutions[0].3, "refund");
            assert_eq!(final_cost, 0, "a failure costs nothing (seed {seed})");
        }
        *expected_by_user.entry(members[*member].id).or_default() -= final_cost;
    }
    assert!(
        completed > 0 && failed >= 2,
        "the sequence completed and failed tasks"
    );

    // Every displayed total is the sum of the entries.
    let mut team_total = 0;
    for m in &members {
        let sum: i64 = rows.iter().filter(|r| r.1 == m.id).map(|r| r.4).sum();
        let expected = expected_by_user.get(&m.id).copied().unwrap_or(0)
            + adjustments.get(&m.id).copied().unwrap_or(0);
        assert_eq!(sum, expected, "{}'s entries (seed {seed})", m.username);
        let usage = ok_json(app.call(&m.client, "my_usage", &[]).await).await;
        assert_eq!(usage["spent"], -sum, "{}'s spent (seed {seed})", m.username);
        assert_eq!(usage["reserved"], 0, "nothing held once all is final");
        let chart: i64 = usage["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["spent"].as_i64().unwrap())
            .sum();
        assert_eq!(chart, -sum, "{}'s chart (seed {seed})", m.username);
        assert_eq!(
            usage["charges"].as_array().unwrap().len(),
            rows.iter().filter(|r| r.1 == m.id).count()
        );
        team_total -= sum;
    }
    let team = ok_json(app.call(&members[0].client, "team_usage", &[]).await).await;
    assert_eq!(team["spent"], team_total, "team total (seed {seed})");
    for m in &members {
        let row = team["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["username"] == m.username)
            .unwrap()
            .clone();
        let sum: i64 = rows.iter().filter(|r| r.1 == m.id).map(|r| r.4).sum();
        assert_eq!(row["spent"], -sum);
    }
    let by_model: i64 = team["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["spent"].as_i64().unwrap())
        .sum();
    let adjusted: i64 = adjustments.values().sum();
    assert_eq!(
        by_model - adjusted,
        team_total,
        "breakdown + adjustments = team total"
    );
    let csv = members[0]
        .client
        .get(app.url("/api/admin/usage.csv"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + rows.len(),
        "one CSV line per entry"
    );

    // Nothing was created upstream twice: a create sent again after a restart carried the
    // same idempotency key and was answered with the first one's task.
    let stats = sim.stats();
    assert!(
        stats.tasks_created as usize <= task_ids.len(),
        "{} upstream tasks for {} tasks (seed {seed})",
        stats.tasks_created,
        task_ids.len()
    );
    assert_eq!(
        stats.creates,
        stats.tasks_created + stats.idempotent_replays,
        "every create either made a task or replayed one (seed {seed})"
    );

    // The database itself refuses to change or remove entries.
    let (update, delete) = tamper(&url).await;
    assert!(update.contains("append-only"), "{update}");
    assert!(delete.contains("append-only"), "{delete}");
    assert_eq!(ledger_rows(&url).await, rows);
    app.stop().await;
    sim.stop().await;
}

#[tokio::test]
async fn random_sequences_keep_the_ledger_consistent_on_sqlite() {
    random_sequences_keep_the_ledger_consistent(Db::Sqlite).await;
}

#[tokio::test]
async fn random_sequences_keep_the_ledger_consistent_on_postgres() {
    random_sequences_keep_the_ledger_consistent(Db::Postgres).await;
}
