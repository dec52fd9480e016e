//! A ceiling on requests per second to EvoLink, shared by every call of one Kinema process.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

/// Spaces requests evenly: each takes the next free slot, `1 / rate` after the previous one.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    interval: Duration,
    next_slot: Arc<Mutex<Option<Instant>>>,
}

impl RateLimiter {
    /// At most `per_second` requests per second (at least one).
    pub fn new(per_second: u32) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs(1) / per_second.max(1),
            next_slot: Arc::new(Mutex::new(None)),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |next| next.max(now));
            *next = Some(slot + self.interval);
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
        let limiter = RateLimiter::new(20);
        let start = tokio::time::Instant::now();
        for _ in 0..41 {
            limiter.acquire().await;
        }
        // The first goes at once; 40 more need 40 slots of 50 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(2_000));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_does_not_save_up_a_burst() {
        let limiter = RateLimiter::new(10);
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
}
