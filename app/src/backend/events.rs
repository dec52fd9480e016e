//! Task changes and worker wake-ups, across every Kinema instance on one database: in-process
//! always, and through PostgreSQL `LISTEN/NOTIFY` when the store is PostgreSQL (SQLite runs one
//! instance, so in-process is all it needs).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::{broadcast, Notify};

use std::sync::Arc;

use super::session_cache::{SessionCache, SessionKey};
use super::{
    store::Store,
    tasks::{history_cache::HistoryCache, TaskEvent},
};

/// The PostgreSQL channel every instance listens on.
pub const CHANNEL: &str = "kinema_events";

/// What crosses instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Message {
    /// The instance that sent it (it already acted on it locally).
    origin: String,
    /// A task that changed; `None` only wakes the workers.
    task: Option<(i64, String)>,
    /// A session deleted on the sender, to drop from every instance's session cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    forget_session: Option<SessionKey>,
}

/// The event bus of one instance.
pub struct EventBus {
    origin: String,
    local: broadcast::Sender<TaskEvent>,
    work: Notify,
    postgres: Option<PgPool>,
    sessions: Arc<SessionCache>,
    histories: Arc<HistoryCache>,
}

impl EventBus {
    /// A bus for the instance named `origin` on `store`; other instances' session deletions are
    /// applied to `sessions`, and every task change (from anywhere) to `histories`.
    pub fn new(
        origin: &str,
        store: &Store,
        sessions: Arc<SessionCache>,
        histories: Arc<HistoryCache>,
    ) -> EventBus {
        let (local, _) = broadcast::channel(1024);
        EventBus {
            origin: origin.to_string(),
            local,
            work: Notify::new(),
            postgres: match store {
                Store::Postgres(pool) => Some(pool.clone()),
                Store::Sqlite(_) => None,
            },
            sessions,
            histories,
        }
    }

    /// Tells every instance's listeners (SSE) that a task changed, and wakes their workers.
    pub fn task_changed(&self, event: TaskEvent) {
        let task = Some((event.owner_id, event.task_id.clone()));
        self.receive(event);
        self.send(self.message(task));
    }

    /// Wakes idle workers on every instance.
    pub fn wake_workers(&self) {
        self.work.notify_waiters();
        self.send(self.message(None));
    }

    fn message(&self, task: Option<(i64, String)>) -> Message {
        Message {
            origin: self.origin.clone(),
            task,
            forget_session: None,
        }
    }

    /// Drops a deleted session from this instance's cache and tells the others to.
    pub fn session_deleted(&self, key: SessionKey) {
        self.sessions.forget(key);
        self.send(Message {
            origin: self.origin.clone(),
            task: None,
            forget_session: Some(key),
        });
    }

    /// Task changes, for live updates.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.local.subscribe()
    }

    /// Completes when a worker wake-up arrives.
    pub async fn wait_for_work(&self) {
        self.work.notified().await;
    }

    fn receive(&self, event: TaskEvent) {
        self.histories.forget_owner(event.owner_id);
        let _ = self.local.send(event);
        self.work.notify_waiters();
    }

    fn send(&self, message: Message) {
        let Some(pool) = self.postgres.clone() else {
            return;
        };
        let Ok(payload) = serde_json::to_string(&message) else {
            return;
        };
        tokio::spawn(async move {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(payload)
                .execute(&pool)
                .await;
            if let Err(err) = sent {
                tracing::warn!(error = %err, "telling the other instances failed");
            }
        });
    }

    /// Listens for the other instances' messages until the process ends (PostgreSQL only; the
    /// listener reconnects after a lost connection). Returns at once on SQLite.
    pub async fn listen(&self) {
        let Some(pool) = self.postgres.clone() else {
            return;
        };
        loop {
            if let Err(err) = self.listen_once(&pool).await {
                tracing::warn!(error = %err, "listening for other instances failed; retrying");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn listen_once(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Anything missed while not listening is found by the workers' periodic look.
        self.work.notify_waiters();
        loop {
            let notification = listener.recv().await?;
            let Ok(message) = serde_json::from_str::<Message>(notification.payload()) else {
                continue;
            };
            if message.origin == self.origin {
                continue;
            }
            if let Some(key) = message.forget_session {
                self.sessions.forget(key);
                continue;
            }
            match message.task {
                Some((owner_id, task_id)) => self.receive(TaskEvent { owner_id, task_id }),
                None => self.work.notify_waiters(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Message;

    #[test]
    fn messages_round_trip_as_json() {
        let message = Message {
            origin: "a1".into(),
            task: Some((7, "t1".into())),
            forget_session: None,
        };
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<Message>(&text).unwrap(), message);
        let forget = Message {
            origin: "a1".into(),
            task: None,
            forget_session: Some(super::SessionKey(42)),
        };
        let text = serde_json::to_string(&forget).unwrap();
        assert_eq!(serde_json::from_str::<Message>(&text).unwrap(), forget);
    }

    #[test]
    fn messages_from_instances_without_session_forgetting_still_read() {
        let message: Message = serde_json::from_str(r#"{"origin":"a1","task":null}"#).unwrap();
        assert_eq!(message.forget_session, None);
    }
}
