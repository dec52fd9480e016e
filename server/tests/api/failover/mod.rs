//! Two instances on one PostgreSQL database and one S3 bucket behind nginx (the committed
//! `deploy/nginx.conf`), as a hosted team runs Kinema. A member signs in, uploads and submits ten
//! motion tasks through the proxy; once all ten are running upstream and instance A has created
//! some of them, A is SIGKILLed. Then: all ten finish on B, each was created upstream exactly
//! once, the ledger balances, the member's open pages show every completion within a second of
//! B's write, and every result plays through the proxy with Range.
//!
//! **"Within a second of B's write", measured honestly.** The write time is taken in PostgreSQL
//! itself (a trigger notes `clock_timestamp()` when a task's row gets its final state; see
//! [`cluster`]), the "shown" time is when the page's refetch after a live event (`LivePage`,
//! modelled on the browser's `EventSource` and the pages' refetch) first answers `completed`;
//! both clocks are this machine's. Two pages are open, one on each instance (checked with each
//! instance's `kinema_sse_connections`), so one page loses its stream when A dies and reconnects
//! through the proxy (to B) after the browsers' 3 s reconnection delay. The pages do not refetch
//! on reconnect, so a completion written while a page is disconnected would only show with a
//! later event; that would be a real miss, and this test would fail on it (the page never shows
//! that task, or late) rather than excuse it. The test does not hide the gap either: the kill
//! comes well before any task can finish (tasks take [`TASK_SECONDS`] upstream, and the kill
//! waits only until all ten are running), and it asserts that the page was reconnected before
//! the first completion was written, so the one-second bound is asked of every completion, on
//! every page, with a live stream.

mod cluster;
mod member;

use std::time::{Duration, Instant};

use cluster::Cluster;
use member::{member, submit, upload};

use crate::helpers::{
    eventually, holds,
    live_page::{unix_ms, LivePage},
    nginx_installed, proxy_browser_with, Http,
};

/// How long a task runs upstream: long enough that all ten are still running when A dies.
const TASK_SECONDS: u64 = 12;
/// What one 720p task of the motion fixture (five seconds) costs, in micro-credits.
const TASK_COST: i64 = 5 * 8_164_800;

/// Opens pages for `browser` until one streams from A and one from B (nginx alternates).
async fn pages_on_both(cluster: &Cluster, browser: &reqwest::Client) -> Vec<LivePage> {
    let mut pages = Vec::new();
    while pages.len() < 4 {
        pages.push(LivePage::open(browser.clone(), cluster.public.clone()).await);
        let open = pages.len() as f64;
        let (on_a, on_b) = eventually(
            "the instances to count the open streams",
            Duration::from_secs(10),
            || async {
                let a = Cluster::metric(&cluster.a_base, "kinema_sse_connections", &[]).await;
                let b = Cluster::metric(&cluster.b_base, "kinema_sse_connections", &[]).await;
                holds(a + b == open, (a, b))
            },
        )
        .await;
        if on_a >= 1.0 && on_b >= 1.0 {
            return pages;
        }
    }
    panic!("four pages and not one stream on each instance");
}

/// The median and the largest of `values`.
fn median_and_max(mut values: Vec<i64>) -> (i64, i64) {
    values.sort_unstable();
    (values[values.len() / 2], *values.last().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_killed_mid_run_its_tasks_finish_on_the_other() {
    if !nginx_installed() {
        eprintln!("nginx is not installed; the failover test is skipped");
        return;
    }
    let mut cluster = Cluster::start(Duration::from_secs(TASK_SECONDS)).await;
    let public = cluster.public.clone();
    let (jar, moe) = member(&public).await;
    let image = upload(&moe, &public, "character_image", "valid.png").await;
    let video = upload(&moe, &public, "motion_video", "valid-index-at-end.mp4").await;
    // The pages speak HTTP/1.1 to the proxy: over HTTP/2, nginx 1.22 holds the stream's headers
    // until its first bytes, so the moment a page's stream opened could not be seen.
    let pages = pages_on_both(&cluster, &proxy_browser_with(jar, Http::OneOne)).await;

    for n in 0..10 {
        submit(&moe, &public, &image, &video, &format!("failover-{n}")).await;
    }
    // The kill comes when all ten are running upstream and A took part in creating them.
    let a_creates = eventually(
        "all ten tasks running, some created by A",
        Duration::from_secs(30),
        || async {
            let tasks = cluster.tasks().await;
            let running = tasks.iter().filter(|t| t.1 == "running").count();
            let labels = [("kind", "create"), ("outcome", "ok")];
            let a_creates =
                Cluster::metric(&cluster.a_base, "kinema_upstream_requests_total", &labels).await;
            holds(running == 10 && a_creates >= 1.0, (running, a_creates))
        },
    )
    .await
    .1;
    assert!(
        cluster.finish_writes().await.is_empty(),
        "none finished yet"
    );
    assert_eq!(cluster.sim.stats().tasks_created, 10);
    let killed_at = Instant::now();
    let killed_ms = unix_ms();
    tokio::task::block_in_place(|| cluster.a.kill());

    let tasks = eventually(
        "all ten tasks to be final",
        Duration::from_secs(60),
        || async {
            let tasks = cluster.tasks().await;
            let done = tasks.iter().all(|t| t.1 == "completed" || t.1 == "failed");
            holds(done, tasks)
        },
    )
    .await;
    let all_final_after = killed_at.elapsed();
    assert!(tasks.iter().all(|t| t.1 == "completed"), "{tasks:?}");
    let labels = [("state", "completed")];
    let b_completed =
        Cluster::metric(&cluster.b_base, "kinema_tasks_finished_total", &labels).await;
    assert_eq!(b_completed, 10.0, "B finished all ten");

    // Exactly one upstream create per task.
    let stats = cluster.sim.stats();
    assert_eq!(stats.tasks_created, 10);
    assert_eq!(stats.creates, 10, "not one create was sent twice");
    let mut upstream: Vec<&String> = tasks.iter().filter_map(|t| t.2.as_ref()).collect();
    upstream.sort();
    upstream.dedup();
    assert_eq!(upstream.len(), 10, "ten distinct upstream tasks");

    // Every page showed every completion within a second of its write, on a live stream.
    let writes = cluster.finish_writes().await;
    assert_eq!(writes.len(), 10);
    let first_write = *writes.values().min().unwrap();
    for (n, page) in pages.iter().enumerate() {
        let log = eventually(
            "the page to show all ten completed",
            Duration::from_secs(10),
            || async {
                let log = page.log();
                holds(log.completed_seen.len() == 10, log)
            },
        )
        .await;
        assert_eq!(log.refused, None, "page {n} was refused on reconnect");
        let streams_after_kill: Vec<i64> = log
            .connected_at
            .iter()
            .copied()
            .filter(|at| *at > killed_ms)
            .collect();
        let stream = if log.dropped_at.is_empty() {
            assert_eq!(log.connected_at.len(), 1, "page {n}: {log:?}");
            "on B".to_string()
        } else {
            // Its stream was on A: it reconnected (to B) before the first completion.
            assert_eq!(streams_after_kill.len(), 1, "page {n}: {log:?}");
            let reconnected = streams_after_kill[0];
            assert!(
                reconnected < first_write,
                "page {n} reconnected {} ms after the first completion",
                reconnected - first_write
            );
            format!(
                "on A, reconnected to B {} ms after the kill, {} ms before the first completion",
                reconnected - killed_ms,
                first_write - reconnected
            )
        };
        let delays: Vec<i64> = writes
            .iter()
            .map(|(id, written)| log.completed_seen[id] - written)
            .collect();
        let (median, max) = median_and_max(delays.clone());
        eprintln!(
            "failover: page {n} ({stream}): completion shown after the write: median \
             {median} ms, max {max} ms"
        );
        assert!(
            delays.iter().all(|delay| (0..=1000).contains(delay)),
            "page {n}: {delays:?}"
        );
    }
    assert!(
        pages.iter().any(|page| !page.log().dropped_at.is_empty()),
        "one page lost its stream with A"
    );

    // The ledger balances: one reservation and one settlement per task, netting to its cost.
    let ledger = cluster.ledger().await;
    for (id, _, _, cost) in &tasks {
        let entries: Vec<&(Option<String>, String, i64)> = ledger
            .iter()
            .filter(|entry| entry.0.as_ref() == Some(id))
            .collect();
        let kinds: Vec<&str> = entries.iter().map(|entry| entry.1.as_str()).collect();
        assert_eq!(kinds, ["reserve", "settle"], "{id}");
        let net: i64 = entries.iter().map(|entry| entry.2).sum();
        assert_eq!(Some(-net), *cost, "{id}");
        assert_eq!(*cost, Some(TASK_COST), "{id}");
    }
    assert_eq!(ledger.len(), 20);
    assert_eq!(ledger.iter().map(|e| e.2).sum::<i64>(), -10 * TASK_COST);

    // Every result plays through the proxy, byte for byte the simulator's.
    for (id, _, upstream_id, _) in &tasks {
        let original = reqwest::get(format!(
            "{}/results/{}.mp4",
            cluster.sim.base_url,
            upstream_id.as_ref().unwrap()
        ))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
        let last = original.len() - 1;
        let played = moe
            .get(format!("{public}/api/tasks/{id}/result"))
            .header("Range", format!("bytes=0-{last}"))
            .send()
            .await
            .unwrap();
        assert_eq!(played.status(), 206, "{id}");
        assert_eq!(played.bytes().await.unwrap(), original, "{id}");
    }
    let results = cluster.bucket.objects();
    let results = results.iter().filter(|key| key.starts_with("result-"));
    assert_eq!(results.count(), 10, "the results are in the bucket");
    eprintln!(
        "failover: A created {a_creates} of the 10 tasks upstream; all final {:.1} s after \
         the kill",
        all_final_after.as_secs_f64()
    );
    drop(pages);
}
