//! Sign-in throttling under bursts, across restarts and behind proxies, on SQLite and
//! PostgreSQL.

use std::time::Duration;

use app::backend::{
    store::{Budget, Reservation},
    throttle,
};
use futures_util::future::join_all;

use crate::helpers::*;

/// Kilobytes of a `/proc/self/status` line such as `VmHWM:   1234 kB`.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// A sign-in the way the hydrated page sends it, from a fresh client.
async fn attempt(app: &TestApp, username: &str, password: &str) -> (u16, String) {
    attempt_with(app, &app.client(), username, password).await
}

/// A sign-in from `client`.
async fn attempt_with(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> (u16, String) {
    let response = sign_in(app, client, username, password).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn a_burst_is_held_to_the_account_budget(db: Db) {
    let app = TestApp::spawn(db).await;
    team(&app).await;
    let passwords = app.state().passwords();
    let before = passwords.hashes_performed();
    // The peak resident size from here on: the kernel resets it to the current size.
    let reset_peak = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    // One client for the whole burst: a client each would weigh more than the server's work.
    let attacker = app.client();
    let rss_before = status_kb("VmRSS");

    let burst = (0..100).map(|_| attempt_with(&app, &attacker, "moe", "wrong password, again"));
    let honest = async {
        // Signs in while the burst is in flight.
        tokio::time::sleep(Duration::from_millis(20)).await;
        attempt(&app, "ada", PASSWORD).await
    };
    let (answers, (honest_status, honest_text)) = tokio::join!(join_all(burst), honest);

    let peak_growth_kb = status_kb("VmHWM").saturating_sub(rss_before);
    let checked = answers.iter().filter(|(status, _)| *status == 422).count();
    let throttled = answers.iter().filter(|(status, _)| *status == 429).count();
    assert_eq!(checked + throttled, 100, "{answers:?}");
    assert!(checked <= 10, "{checked} wrong passwords were checked");
    for (status, text) in &answers {
        match status {
            422 => assert!(text.contains("Wrong username or password."), "{text}"),
            _ => assert!(
                text.contains("Too many failed sign-ins. Try again in 15 minutes.")
                    || text.contains(app::backend::passwords::BUSY),
                "{text}"
            ),
        }
    }
    assert_eq!(honest_status, 200, "{honest_text}");
    // Every Argon2 run: the checked wrong passwords and ada's.
    let hashes = passwords.hashes_performed() - before;
    assert!(hashes <= 11, "{hashes} hashes ran");
    assert_eq!(hashes as usize, checked + 1);
    assert_eq!(
        app.state()
            .store()
            .attempts_counted(&throttle::account_key("moe"))
            .await
            .unwrap(),
        10,
        "the account's budget is used up, not overrun"
    );
    if reset_peak {
        assert!(
            peak_growth_kb < 200 * 1024,
            "peak memory grew by {peak_growth_kb} kB"
        );
    }
    eprintln!(
        "burst: {checked} checked, {throttled} throttled, {hashes} hashes, peak growth {peak_growth_kb} kB (peak reset: {reset_peak})"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_wrong_passwords_is_held_to_ten_checks_and_bounded_memory() {
    // Peak memory is a property of the whole process: measure it with no other test running.
    if !in_own_process() {
        run_in_own_process(
            "sign_in::a_burst_of_wrong_passwords_is_held_to_ten_checks_and_bounded_memory",
        );
        return;
    }
    a_burst_is_held_to_the_account_budget(Db::Sqlite).await;
    a_burst_is_held_to_the_account_budget(Db::Postgres).await;
}

async fn concurrent_reservations_never_pass_the_limit(db: Db) {
    let app = TestApp::spawn(db).await;
    let store = app.state().store().clone();
    let budgets = [
        Budget {
            key: "account:burst".into(),
            limit: 10,
        },
        Budget {
            key: "address:192.0.2.1".into(),
            limit: 25,
        },
    ];
    let now = 1_800_000_000;
    let answers = join_all((0..40).map(|_| store.reserve_attempt(&budgets, now, 900))).await;
    let granted = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Reservation::Granted { .. })))
        .count();
    assert_eq!(granted, 10, "{answers:?}");
    for answer in &answers {
        match answer {
            Ok(Reservation::Granted { window_starts }) => assert_eq!(window_starts, &[now, now]),
            Ok(Reservation::Refused { retry_at }) => assert_eq!(*retry_at, now + 900),
            Err(err) => panic!("reservation failed: {err}"),
        }
    }
    // A refused attempt counted nowhere: the address saw only the granted ten.
    assert_eq!(
        store.attempts_counted("address:192.0.2.1").await.unwrap(),
        10
    );
    // Another account from the same address still fits until the address budget is full.
    let other = [
        Budget {
            key: "account:other".into(),
            limit: 100,
        },
        budgets[1].clone(),
    ];
    for _ in 0..15 {
        assert!(matches!(
            store.reserve_attempt(&other, now + 1, 900).await.unwrap(),
            Reservation::Granted { .. }
        ));
    }
    assert_eq!(
        store.reserve_attempt(&other, now + 2, 900).await.unwrap(),
        Reservation::Refused {
            retry_at: now + 900
        }
    );
    assert_eq!(store.attempts_counted("account:other").await.unwrap(), 15);
    // A window that is over starts afresh; a released attempt is given back.
    let later = now + 900;
    let Reservation::Granted { window_starts } =
        store.reserve_attempt(&budgets, later, 900).await.unwrap()
    else {
        panic!("a new window grants again");
    };
    assert_eq!(window_starts, [later, later]);
    assert_eq!(store.attempts_counted("account:burst").await.unwrap(), 1);
    store
        .release_attempt("account:burst", window_starts[0])
        .await
        .unwrap();
    assert_eq!(store.attempts_counted("account:burst").await.unwrap(), 0);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_reservations_never_pass_the_limit_on_sqlite() {
    concurrent_reservations_never_pass_the_limit(Db::Sqlite).await;
}

#[tokio::test]
async fn concurrent_reservations_never_pass_the_limit_on_postgres() {
    concurrent_reservations_never_pass_the_limit(Db::Postgres).await;
}

async fn the_throttle_holds_across_a_restart(db: Db) {
    let mut app = TestApp::spawn(db).await;
    team(&app).await;
    for _ in 0..10 {
        assert_eq!(attempt(&app, "moe", "not it at all").await.0, 422);
    }
    app.restart().await;
    let before = app.state().passwords().hashes_performed();
    let (status, text) = attempt(&app, "moe", PASSWORD).await;
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("Too many failed sign-ins."), "{text}");
    assert_eq!(
        app.state().passwords().hashes_performed(),
        before,
        "a throttled attempt is refused before any hash"
    );
    // Other accounts are not affected; a success gives the address its attempt back.
    assert_eq!(attempt(&app, "ada", PASSWORD).await.0, 200);
    assert_eq!(
        app.state()
            .store()
            .attempts_counted(&throttle::address_key("127.0.0.1".parse().unwrap()))
            .await
            .unwrap(),
        10,
        "the ten failures; the refused try counted nowhere and ada's success was given back"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_throttle_holds_across_a_restart_on_sqlite() {
    the_throttle_holds_across_a_restart(Db::Sqlite).await;
}

#[tokio::test]
async fn the_throttle_holds_across_a_restart_on_postgres() {
    the_throttle_holds_across_a_restart(Db::Postgres).await;
}

/// A wrong sign-in for `username` claiming to come from `forwarded`.
async fn forwarded_attempt(app: &TestApp, username: &str, forwarded: &str) -> u16 {
    app.client()
        .post(app.url("/api/sign_in"))
        .header("Origin", &app.base)
        .header("Accept", "application/json")
        .header("X-Forwarded-For", forwarded)
        .form(&[("username", username), ("password", "nope nope nope")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn counted_for(app: &TestApp, address: &str) -> i64 {
    app.state()
        .store()
        .attempts_counted(&throttle::address_key(address.parse().unwrap()))
        .await
        .unwrap()
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Not trusted: the header is the client's own claim and is ignored.
    let app = TestApp::spawn(Db::Sqlite).await;
    team(&app).await;
    assert_eq!(forwarded_attempt(&app, "moe", "203.0.113.5").await, 422);
    assert_eq!(forwarded_attempt(&app, "moe", "203.0.113.6").await, 422);
    assert_eq!(counted_for(&app, "127.0.0.1").await, 2);
    assert_eq!(counted_for(&app, "203.0.113.5").await, 0);
    app.stop().await;

    // The test client is a trusted proxy: the rightmost untrusted address is the client, and a
    // forged entry further left is not.
    let app = TestApp::spawn_with(Db::Postgres, |settings| {
        settings.trusted_proxies = Some("127.0.0.0/8, 10.0.0.0/8".into());
    })
    .await;
    team(&app).await;
    assert_eq!(
        forwarded_attempt(&app, "moe", "198.51.100.1, 203.0.113.5, 10.1.1.1").await,
        422
    );
    assert_eq!(forwarded_attempt(&app, "moe", "203.0.113.6").await, 422);
    assert_eq!(counted_for(&app, "203.0.113.5").await, 1);
    assert_eq!(counted_for(&app, "203.0.113.6").await, 1);
    assert_eq!(counted_for(&app, "198.51.100.1").await, 0);
    assert_eq!(counted_for(&app, "10.1.1.1").await, 0);
    assert_eq!(counted_for(&app, "127.0.0.1").await, 0);
    app.stop().await;
}

#[test]
fn a_bad_trusted_proxy_list_stops_start_up_naming_the_variable() {
    let data = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data.path());
    settings.trusted_proxies = Some("10.0.0.0/8, my-proxy".into());
    let err = kinema_server::config::Config::from_settings(settings).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: KINEMA_TRUSTED_PROXIES: 'my-proxy' is not an address or a CIDR like 10.0.0.0/8"
    );
}
