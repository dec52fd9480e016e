//! A ceiling on requests per second to EvoLink, shared by every call of one Kinema process
//! (creates, polls, retries, uploads to the file service, balance checks): a token bucket.
//! Each process has its own; with several instances the ceiling applies to each.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

/// A token bucket holding `burst` tokens, refilled at `per_second`: after an idle spell up to
/// `burst` requests go at once, then one every `1 / per_second`. Over any window of `w`
/// seconds at most `per_second × w + burst` requests leave. Waiting callers are served in the
/// order they asked.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    interval: Duration,
    /// How far ahead of now the bucket may run: `(burst - 1) × interval`.
    tolerance: Duration,
    /// When the bucket is next full again if nothing else is taken (the "theoretical arrival
    /// time" of GCRA, the token bucket's schedule form); `None` while never used.
    full_at: Arc<Mutex<Option<Instant>>>,
}

impl RateLimiter {
    /// At most `per_second` requests per second (at least one), in bursts of at most `burst`
    /// (at least one).
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        let interval = Duration::from_secs(1) / per_second.max(1);
        RateLimiter {
            interval,
            tolerance: interval * (burst.max(1) - 1),
            full_at: Arc::new(Mutex::new(None)),
        }
    }

    /// The burst allowed for a ceiling: a tenth of a second's worth, at least one.
    pub fn default_burst(per_second: u32) -> u32 {
        per_second.div_ceil(10).max(1)
    }

    /// Waits for this request's token.
    pub async fn acquire(&self) {
        let slot = {
            let mut full_at = self.full_at.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let schedule = full_at.map_or(now, |at| at.max(now));
            let slot = schedule
                .checked_sub(self.tolerance)
                .map_or(now, |earliest| earliest.max(now));
            *full_at = Some(schedule + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimiter;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new(20, 1);
        let start = tokio::time::Instant::now();
        for _ in 0..41 {
            limiter.acquire().await;
        }
        // The first goes at once; 40 more need 40 slots of 50 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(2_000));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_saves_up_only_its_burst() {
        let limiter = RateLimiter::new(10, 3);
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst goes at once");
        for _ in 0..2 {
            limiter.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(200),
            "then one per 100 ms"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_ceiling() {
        let limiter = RateLimiter::new(20, 2);
        let start = tokio::time::Instant::now();
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    for _ in 0..10 {
                        limiter.acquire().await;
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.await.expect("caller");
        }
        // 80 requests, 2 at once, 78 more at 50 ms each.
        assert_eq!(start.elapsed(), Duration::from_millis(78 * 50));
    }

    #[test]
    fn the_burst_is_a_tenth_of_a_second() {
        assert_eq!(RateLimiter::default_burst(20), 2);
        assert_eq!(RateLimiter::default_burst(1), 1);
        assert_eq!(RateLimiter::default_burst(0), 1);
        assert_eq!(RateLimiter::default_burst(1000), 100);
    }
}
