//! The engine under many running tasks: the simulator holds `tasks` long tasks, Kinema has a
//! running row for each (one submitted for real, the rest copied from it straight into the
//! SQLite database for a second member, each pointing at its own simulator task, due spread over
//! one poll cycle as in steady state), and the engine runs for a while. Prints what the
//! simulator saw (requests per second against the ceiling, the longest gap between two polls of
//! one task against the promised bound), the server's memory, and the latency of signed-in
//! history pages fetched meanwhile: a member with one task, and the member owning the copies.
//! Asserts nothing.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use evolink_sim::{RunningSimulator, SimulatorConfig};
use sqlx::{sqlite::SqliteConnectOptions, ConnectOptions};

use crate::measure::{
    post, proc_kb, start_server, submit_task, upload_file, KEY, PASSWORD, SEED_IMAGE, SEED_VIDEO,
};

/// What the scenario is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct EngineRun {
    /// Running tasks in all.
    pub tasks: usize,
    /// `KINEMA_UPSTREAM_RPS` for the server.
    pub rps: u32,
    /// `KINEMA_POLL_MAX_SECONDS` for the server.
    pub poll_max_seconds: u64,
    /// How long the engine is watched.
    pub seconds: u64,
}

/// Runs the scenario in `work` against the `kinema-server` at `server_bin` and prints figures.
pub async fn run(server_bin: &Path, work: &Path, run: EngineRun) -> Result<(), String> {
    let sim = RunningSimulator::start(
        SimulatorConfig::new(KEY, Duration::from_secs(3 * 3600)),
        ([127, 0, 0, 1], 0).into(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let data = work.join("engine-data");
    let env = [
        ("KINEMA_UPSTREAM_RPS", run.rps.to_string()),
        ("KINEMA_POLL_MAX_SECONDS", run.poll_max_seconds.to_string()),
    ];
    let (mut server, base) = start_server(server_bin, &data, &sim.base_url, &env)?;
    let outcome = watch(&sim, server.id(), &base, &data, work, run).await;
    let _ = server.kill();
    let _ = server.wait();
    sim.stop().await;
    outcome
}

async fn watch(
    sim: &RunningSimulator,
    pid: u32,
    base: &str,
    data: &Path,
    work: &Path,
    run: EngineRun,
) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .map_err(|e| e.to_string())?;
    post(
        &client,
        base,
        "setup_admin",
        &[
            ("username", "bench"),
            ("display_name", "Bench"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await?;
    let template = running_template(&client, base, work).await?;

    // The other tasks: long simulator tasks, and a running row for each, due spread over one
    // poll cycle (running ÷ ceiling) as in steady state.
    let started = Instant::now();
    let others = run.tasks.saturating_sub(1);
    let upstream_ids = sim.seed_running_tasks(others, Duration::from_secs(3 * 3600));
    let cycle_ms = (run.tasks as u64 * 1000 / u64::from(run.rps.max(1))).max(1);
    copy_running(&data.join("kinema.db"), &template, &upstream_ids, cycle_ms).await?;
    let owner = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .map_err(|e| e.to_string())?;
    post(
        &owner,
        base,
        "sign_in",
        &[
            ("username", LOAD_OWNER),
            ("password", PASSWORD),
            ("next", "/"),
        ],
    )
    .await?;
    println!(
        "bench engine: {} running tasks ({} copied into the database in {:.1} s), ceiling {} requests/s, poll_max {} s; watched after a 3 s warm-up",
        run.tasks,
        others,
        started.elapsed().as_secs_f64(),
        run.rps,
        run.poll_max_seconds
    );

    // A short warm-up: the server counts running tasks every two seconds, and until it has
    // counted the copies it spaces the first polls for one task.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Watch: signed-in pages fetched in a loop, the server's memory sampled as it goes.
    sim.reset_load();
    let until = Instant::now() + Duration::from_secs(run.seconds);
    let (mut latencies, mut owner_latencies) = (Vec::new(), Vec::new());
    let mut rss_max_kb = 0;
    let mut next_sample = Instant::now();
    while Instant::now() < until {
        latencies.push(history(&client, base).await?);
        owner_latencies.push(history(&owner, base).await?);
        if Instant::now() >= next_sample {
            rss_max_kb = rss_max_kb.max(proc_kb(pid, "VmRSS").unwrap_or(0));
            next_sample += Duration::from_secs(1);
        }
        // One page at a time, as a person clicking around, not a load test.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let load = sim.load();
    let rss_end_kb = proc_kb(pid, "VmRSS").unwrap_or(0);
    rss_max_kb = rss_max_kb.max(rss_end_kb);

    let window = load.window_ms as f64 / 1000.0;
    let bound_s = (run.poll_max_seconds as f64).max(run.tasks as f64 / f64::from(run.rps.max(1)));
    println!(
        "bench engine: upstream requests {:.1}/s over {window:.1} s (busiest second {}) against a ceiling of {}/s: {:.2}× the ceiling",
        load.requests_per_second,
        load.busiest_second,
        run.rps,
        load.requests_per_second / f64::from(run.rps.max(1)),
    );
    if load.tasks_read_twice > 0 {
        println!(
            "bench engine: longest gap between two polls of one task {:.1} s ({} tasks polled twice) against the promised max(poll_max, tasks ÷ ceiling) = {bound_s:.1} s: {:.2}× the bound",
            load.max_gap_ms as f64 / 1000.0,
            load.tasks_read_twice,
            load.max_gap_ms as f64 / 1000.0 / bound_s,
        );
    } else {
        println!(
            "bench engine: no task was polled twice in {window:.1} s (the promised bound is {bound_s:.1} s; watch longer with --engine-seconds)"
        );
    }
    println!(
        "bench engine: {} of {} running tasks polled in the window; longest any has waited unpolled {:.1} s",
        load.tasks_read,
        load.running,
        load.longest_wait_ms as f64 / 1000.0
    );
    println!(
        "bench engine: server RSS {:.1} MB at most, {:.1} MB at the end (target below 200 MB)",
        rss_max_kb as f64 / 1024.0,
        rss_end_kb as f64 / 1024.0
    );
    for (whose, mut latencies) in [
        ("a member with one task".to_string(), latencies),
        (
            format!("the member owning {others} of the tasks"),
            owner_latencies,
        ),
    ] {
        latencies.sort_unstable();
        if latencies.is_empty() {
            continue;
        }
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!(
            "bench engine: signed-in /history of {whose} while it runs: p50 {:.1} ms, p99 {:.1} ms over {} fetches",
            at(0.5).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0,
            latencies.len()
        );
    }
    Ok(())
}

/// Fetches `/history` as `client`; how long it took.
async fn history(client: &reqwest::Client, base: &str) -> Result<Duration, String> {
    let asked = Instant::now();
    let response = client
        .get(format!("{base}/history"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("/history answered {status}"));
    }
    Ok(asked.elapsed())
}

/// Submits one task for real and waits until it runs upstream; returns its id.
async fn running_template(
    client: &reqwest::Client,
    base: &str,
    work: &Path,
) -> Result<String, String> {
    let image = work.join("engine-image.png");
    std::fs::write(&image, SEED_IMAGE).map_err(|e| e.to_string())?;
    let video = work.join("engine-video.mp4");
    std::fs::write(&video, SEED_VIDEO).map_err(|e| e.to_string())?;
    let (image_id, _) = upload_file(client, base, "character_image", &image).await?;
    let (video_id, _) = upload_file(client, base, "motion_video", &video).await?;
    let id = submit_task(client, base, &image_id, &video_id, "", "engine-template").await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = post(client, base, "get_task", &[("id", &id)]).await?;
        if view["state"] == "running" {
            return Ok(id);
        }
        if Instant::now() > deadline {
            return Err(format!("the template task never ran: {view}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The member the copied tasks belong to (same password as the bench admin).
const LOAD_OWNER: &str = "bench-load";

/// Adds the member [`LOAD_OWNER`] (a copy of the template's owner under another name) and copies
/// the running task `template` to them once per upstream id, in one transaction, due spread
/// evenly over the next `cycle_ms`.
async fn copy_running(
    db: &Path,
    template: &str,
    upstream_ids: &[String],
    cycle_ms: u64,
) -> Result<(), String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| format!("cannot open the server's database: {e}"))?;
    let columns = "owner_id, kind, state, params, image_upload_id, video_upload_id, quality, \
         progress, cost_reserved, callback_token, epoch, attempts, deadline_at, created_at, \
         updated_at, submitted_at";
    let columns = columns.replacen("owner_id, ", "", 1);
    let sql = format!(
        "INSERT INTO tasks (id, idempotency_key, upstream_id, next_run_at, owner_id, {columns}) \
         SELECT $1, $1, $2, $3, $5, {columns} FROM tasks WHERE id = $4"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let count = upstream_ids.len().max(1) as u64;
    let mut tx = sqlx::Connection::begin(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let owner: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, role, created_at) \
         SELECT $1, $1, u.password_hash, u.role, u.created_at FROM users u \
         JOIN tasks t ON t.owner_id = u.id WHERE t.id = $2 RETURNING id",
    )
    .bind(LOAD_OWNER)
    .bind(template)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| format!("adding the member who owns the copies: {e}"))?;
    for (n, upstream_id) in upstream_ids.iter().enumerate() {
        let due = now + (n as u64 * cycle_ms / count) as i64;
        sqlx::query(&sql)
            .bind(format!("bench-copy-{n}"))
            .bind(upstream_id)
            .bind(due)
            .bind(template)
            .bind(owner)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("copying a task row: {e}"))?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(())
}
