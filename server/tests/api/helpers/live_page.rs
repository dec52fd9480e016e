//! A member's open page as the browser runs it: it holds the live-update stream
//! (`GET /api/events`) the way `EventSource` does, and on every `task` event asks for that task
//! again (`get_task`; `*` means every task it knows), as the task and history pages refetch. It
//! notes when it first saw each task completed, so a test can measure how long a completion took
//! to show.
//!
//! Like `EventSource`, it reconnects when the stream ends or breaks, after the reconnection delay
//! (3 s, the browsers' default, unless the server sent `retry:`), and gives up for good when a
//! reconnect is answered with anything but 200. Like the pages, it does not refetch on reconnect:
//! a change made while it was disconnected shows only with the next event about that task.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use futures_util::StreamExt;

/// The browsers' default reconnection delay.
const DEFAULT_RETRY: Duration = Duration::from_secs(3);

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What the page went through, with unix-millisecond times.
#[derive(Clone, Debug, Default)]
pub struct PageLog {
    /// When each stream opened (answered 200).
    pub connected_at: Vec<i64>,
    /// When each stream ended or broke.
    pub dropped_at: Vec<i64>,
    /// A reconnect answered with something else than 200 (the page stopped updating).
    pub refused: Option<u16>,
    /// `task` events received.
    pub events: usize,
    /// When the page first showed each task as completed.
    pub completed_seen: HashMap<String, i64>,
}

/// An open page; it stops when dropped.
pub struct LivePage {
    log: Arc<Mutex<PageLog>>,
    runner: tokio::task::JoinHandle<()>,
}

impl Drop for LivePage {
    fn drop(&mut self) {
        self.runner.abort();
    }
}

impl LivePage {
    /// Opens the page at `public` with the signed-in `browser`: returns once its first stream is
    /// open.
    pub async fn open(browser: reqwest::Client, public: String) -> LivePage {
        let log = Arc::new(Mutex::new(PageLog::default()));
        let runner = tokio::spawn(run(browser, public, log.clone()));
        let page = LivePage { log, runner };
        super::eventually("the page's stream to open", Duration::from_secs(10), || {
            let log = page.log();
            async move { super::holds(!log.connected_at.is_empty(), log) }
        })
        .await;
        page
    }

    /// What happened so far.
    pub fn log(&self) -> PageLog {
        self.log.lock().unwrap().clone()
    }
}

async fn run(browser: reqwest::Client, public: String, log: Arc<Mutex<PageLog>>) {
    let known = Arc::new(Mutex::new(HashSet::<String>::new()));
    let mut retry = DEFAULT_RETRY;
    loop {
        let response = browser
            .get(format!("{public}/api/events"))
            .timeout(Duration::from_secs(3600))
            .send()
            .await;
        match response {
            Ok(response) if response.status() == 200 => {
                log.lock().unwrap().connected_at.push(unix_ms());
                let mut stream = response.bytes_stream();
                let mut buffer = String::new();
                while let Some(Ok(chunk)) = stream.next().await {
                    buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        let event = parse(&block);
                        if let Some(ms) = event.retry_ms {
                            retry = Duration::from_millis(ms);
                        }
                        if event.name.as_deref() == Some("task") {
                            if let Some(data) = event.data {
                                log.lock().unwrap().events += 1;
                                let ids: Vec<String> = if data == "*" {
                                    known.lock().unwrap().iter().cloned().collect()
                                } else {
                                    known.lock().unwrap().insert(data.clone());
                                    vec![data]
                                };
                                for id in ids {
                                    tokio::spawn(refetch(
                                        browser.clone(),
                                        public.clone(),
                                        id,
                                        log.clone(),
                                    ));
                                }
                            }
                        }
                    }
                }
                log.lock().unwrap().dropped_at.push(unix_ms());
            }
            Ok(response) => {
                log.lock().unwrap().refused = Some(response.status().as_u16());
                return;
            }
            // A network error: EventSource reconnects.
            Err(_) => {}
        }
        tokio::time::sleep(retry).await;
    }
}

/// Asks for task `id` as the page does, and notes the first time it is shown completed.
async fn refetch(browser: reqwest::Client, public: String, id: String, log: Arc<Mutex<PageLog>>) {
    let response = browser
        .post(format!("{public}/api/get_task"))
        .header("Origin", &public)
        .header("Accept", "application/json")
        .form(&[("id", id.as_str())])
        .send()
        .await;
    let Ok(response) = response else { return };
    let Ok(view) = response.json::<serde_json::Value>().await else {
        return;
    };
    if view["state"] == "completed" {
        let now = unix_ms();
        log.lock().unwrap().completed_seen.entry(id).or_insert(now);
    }
}

/// One server-sent event's fields.
#[derive(Default)]
struct SseEvent {
    name: Option<String>,
    data: Option<String>,
    retry_ms: Option<u64>,
}

fn parse(block: &str) -> SseEvent {
    let mut event = SseEvent::default();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event.name = Some(value.to_string()),
            "data" => event.data = Some(value.to_string()),
            "retry" => event.retry_ms = value.parse().ok(),
            _ => {}
        }
    }
    event
}
