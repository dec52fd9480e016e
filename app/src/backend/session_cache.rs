//! Sessions kept in memory for a short time, so that a signed-in page does not read the session
//! table on every request.
//!
//! The session store writes through (every save and delete reaches the database first), so this
//! cache only saves reads. An entry is dropped when the session is deleted on this instance, when
//! another instance says it deleted it (through the event bus: PostgreSQL `LISTEN/NOTIFY`), when it
//! expires, and at the latest [`SessionCache::ttl`] after it was read from the database.
//! What a session grants is still decided per request from the user's row (disabled, session
//! epoch), which is not cached, so ending a member's sessions takes effect at once everywhere.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};

/// How many entries trigger a sweep of the stale ones.
const SWEEP_AT: usize = 4096;

/// A session's key in the cache and in messages between instances: a digest of its id, so the
/// id itself (a bearer secret) is never sent anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SessionKey(pub u128);

impl SessionKey {
    /// The key of session `id`.
    pub fn of(id: &Id) -> SessionKey {
        let digest = Sha256::digest(id.to_string().as_bytes());
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        SessionKey(u128::from_be_bytes(first))
    }
}

/// Recently read or written sessions of this instance.
pub struct SessionCache {
    ttl: Duration,
    entries: Mutex<HashMap<SessionKey, (Instant, Record)>>,
}

impl SessionCache {
    /// A cache keeping entries for at most `ttl` (zero turns it off).
    pub fn new(ttl: Duration) -> SessionCache {
        SessionCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How long an entry is trusted without asking the database.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The cached record of `id` when it is fresh and not expired.
    pub fn get(&self, id: &Id, now: time::OffsetDateTime) -> Option<Record> {
        let key = SessionKey::of(id);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some((stored, record))
                if stored.elapsed() < self.ttl && record.expiry_date > now && record.id == *id =>
            {
                Some(record.clone())
            }
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remembers `record` as the database now holds it.
    pub fn put(&self, record: &Record) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_AT {
            let ttl = self.ttl;
            entries.retain(|_, (stored, _)| stored.elapsed() < ttl);
        }
        entries.insert(SessionKey::of(&record.id), (Instant::now(), record.clone()));
    }

    /// Drops the session with `key` (deleted here or on another instance).
    pub fn forget(&self, key: SessionKey) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&key);
    }

    /// How many entries are held (for tests).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expiry: time::OffsetDateTime) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: expiry,
        }
    }

    #[test]
    fn a_fresh_record_is_served_and_a_forgotten_one_is_not() {
        let cache = SessionCache::new(Duration::from_secs(30));
        let now = time::OffsetDateTime::now_utc();
        let session = record(now + time::Duration::days(1));
        assert!(cache.get(&session.id, now).is_none());
        cache.put(&session);
        assert_eq!(cache.get(&session.id, now).map(|r| r.id), Some(session.id));
        cache.forget(SessionKey::of(&session.id));
        assert!(cache.get(&session.id, now).is_none());
    }

    #[test]
    fn an_expired_session_is_never_served() {
        let cache = SessionCache::new(Duration::from_secs(30));
        let now = time::OffsetDateTime::now_utc();
        let session = record(now - time::Duration::seconds(1));
        cache.put(&session);
        assert!(cache.get(&session.id, now).is_none());
        assert!(cache.is_empty(), "the expired entry is dropped when seen");
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = SessionCache::new(Duration::ZERO);
        let now = time::OffsetDateTime::now_utc();
        let session = record(now + time::Duration::days(1));
        cache.put(&session);
        assert!(cache.get(&session.id, now).is_none());
    }

    #[test]
    fn keys_differ_per_session_and_do_not_contain_the_id() {
        let a = Id::default();
        let b = Id::default();
        assert_ne!(SessionKey::of(&a), SessionKey::of(&b));
        assert_ne!(SessionKey::of(&a).0, a.0 as u128);
    }
}
