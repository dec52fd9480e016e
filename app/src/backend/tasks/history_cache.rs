//! History pages kept in memory for a moment, so that a member's history does not cost two
//! queries (a page of tasks and the counts per state) on every load.
//!
//! Every change to a member's tasks reaches [`HistoryCache::forget_owner`] through the event bus
//! (this instance's engine, submits and deletes, and other instances' changes over PostgreSQL
//! `LISTEN/NOTIFY`), which drops the member's pages at once. A page computed while a change
//! happened is not kept (the owner's generation moved on between the read and the insert), and
//! any page is served for at most [`HistoryCache::ttl`], which bounds staleness from a change that
//! announced nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::TaskPage;
use crate::rules::vocab::{Quality, StatusFilter};

/// How long a history page is served from memory at most.
pub const HISTORY_CACHE_TTL: Duration = Duration::from_secs(1);

/// Owners whose pages trigger a sweep of the stale ones.
const SWEEP_AT: usize = 4096;

/// Which page of whose history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistoryKey {
    pub owner_id: i64,
    pub page: i64,
    pub status: Option<StatusFilter>,
    pub quality: Option<Quality>,
}

/// A snapshot of the owner's change count, taken before reading the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation(u64);

#[derive(Default)]
struct OwnerPages {
    generation: u64,
    pages: HashMap<HistoryKey, (Instant, TaskPage)>,
}

/// Recently served history pages of this instance.
pub struct HistoryCache {
    ttl: Duration,
    owners: Mutex<HashMap<i64, OwnerPages>>,
}

impl HistoryCache {
    /// A cache keeping pages for at most `ttl` (zero turns it off).
    pub fn new(ttl: Duration) -> HistoryCache {
        HistoryCache {
            ttl,
            owners: Mutex::new(HashMap::new()),
        }
    }

    /// How long a page is served without asking the database.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The cached page for `key` if it is fresh, else the generation to hand to [`Self::keep`]
    /// once the page has been read.
    pub fn get(&self, key: &HistoryKey) -> Result<TaskPage, Generation> {
        let owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let Some(owner) = owners.get(&key.owner_id) else {
            return Err(Generation(0));
        };
        match owner.pages.get(key) {
            Some((at, page)) if at.elapsed() < self.ttl => Ok(page.clone()),
            _ => Err(Generation(owner.generation)),
        }
    }

    /// Keeps `page` for `key`, unless the owner's tasks changed since `read_at` was taken.
    pub fn keep(&self, key: HistoryKey, read_at: Generation, page: TaskPage) {
        if self.ttl.is_zero() {
            return;
        }
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        if owners.len() >= SWEEP_AT {
            let ttl = self.ttl;
            owners.retain(|_, owner| {
                owner.pages.retain(|_, (at, _)| at.elapsed() < ttl);
                !owner.pages.is_empty()
            });
        }
        let owner = owners.entry(key.owner_id).or_default();
        if owner.generation == read_at.0 {
            owner.pages.insert(key, (Instant::now(), page));
        }
    }

    /// Drops every page of `owner_id`'s history: one of their tasks changed.
    pub fn forget_owner(&self, owner_id: i64) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let owner = owners.entry(owner_id).or_default();
        owner.generation += 1;
        owner.pages.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(owner_id: i64, page: i64) -> HistoryKey {
        HistoryKey {
            owner_id,
            page,
            status: None,
            quality: None,
        }
    }

    fn page(completed: i64) -> TaskPage {
        TaskPage {
            running: 0,
            completed,
            failed: 0,
            items: Vec::new(),
            page: 1,
            has_more: false,
        }
    }

    fn cached(cache: &HistoryCache, key: &HistoryKey) -> Option<i64> {
        cache.get(key).ok().map(|page| page.completed)
    }

    #[test]
    fn a_kept_page_is_served_only_to_its_owner_and_only_for_its_filters() {
        let cache = HistoryCache::new(Duration::from_secs(60));
        let read_at = cache.get(&key(1, 1)).unwrap_err();
        cache.keep(key(1, 1), read_at, page(3));
        assert_eq!(cached(&cache, &key(1, 1)), Some(3));
        assert_eq!(cached(&cache, &key(2, 1)), None, "another member");
        assert_eq!(cached(&cache, &key(1, 2)), None, "another page");
        let completed_only = HistoryKey {
            status: Some(StatusFilter::Completed),
            ..key(1, 1)
        };
        assert_eq!(cached(&cache, &completed_only), None, "another filter");
    }

    #[test]
    fn a_change_drops_the_owners_pages_and_no_one_elses() {
        let cache = HistoryCache::new(Duration::from_secs(60));
        for owner in [1, 2] {
            let read_at = cache.get(&key(owner, 1)).unwrap_err();
            cache.keep(key(owner, 1), read_at, page(owner));
        }
        cache.forget_owner(1);
        assert_eq!(cached(&cache, &key(1, 1)), None);
        assert_eq!(cached(&cache, &key(2, 1)), Some(2));
    }

    #[test]
    fn a_page_read_while_a_change_happened_is_not_kept() {
        let cache = HistoryCache::new(Duration::from_secs(60));
        let read_at = cache.get(&key(1, 1)).unwrap_err();
        // The change lands between the database read and the insert.
        cache.forget_owner(1);
        cache.keep(key(1, 1), read_at, page(1));
        assert_eq!(cached(&cache, &key(1, 1)), None);
        // The next read starts from the new generation and is kept.
        let read_at = cache.get(&key(1, 1)).unwrap_err();
        cache.keep(key(1, 1), read_at, page(2));
        assert_eq!(cached(&cache, &key(1, 1)), Some(2));
    }

    #[test]
    fn pages_expire_after_the_ttl_and_a_zero_ttl_keeps_nothing() {
        let cache = HistoryCache::new(Duration::from_millis(30));
        let read_at = cache.get(&key(1, 1)).unwrap_err();
        cache.keep(key(1, 1), read_at, page(1));
        assert_eq!(cached(&cache, &key(1, 1)), Some(1));
        let deadline = Instant::now() + Duration::from_secs(5);
        while cached(&cache, &key(1, 1)).is_some() {
            assert!(Instant::now() < deadline, "the page never expired");
            std::thread::sleep(Duration::from_millis(5));
        }
        let off = HistoryCache::new(Duration::ZERO);
        let read_at = off.get(&key(1, 1)).unwrap_err();
        off.keep(key(1, 1), read_at, page(1));
        assert_eq!(cached(&off, &key(1, 1)), None);
    }
}
