//! Failed sign-in throttling, per account name and per client address.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How long a failed attempt counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed attempts allowed per account name within the window.
pub const PER_ACCOUNT: usize = 10;
/// Failed attempts allowed per client address within the window (several people may share one).
pub const PER_ADDRESS: usize = 50;

/// Remembers recent failed sign-ins in memory.
#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl SignInThrottle {
    /// `Err(wait)` when the account or the address has used up its attempts; `wait` is how long
    /// until the oldest counted failure expires.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut longest_wait = None;
        for (key, limit) in keys(account, address) {
            if let Some(times) = failures.get_mut(&key) {
                prune(times, now);
                if times.len() >= limit {
                    let oldest = times.front().copied().unwrap_or(now);
                    let wait = WINDOW.saturating_sub(now.duration_since(oldest));
                    longest_wait = Some(longest_wait.map_or(wait, |w: Duration| w.max(wait)));
                }
            }
        }
        longest_wait.map_or(Ok(()), Err)
    }

    /// Counts one failed attempt.
    pub fn record_failure(&self, account: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in keys(account, address) {
            let times = failures.entry(key).or_default();
            prune(times, now);
            times.push_back(now);
        }
        if failures.len() > 10_000 {
            failures.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
        }
    }

    /// Forgets the account's failures after a successful sign-in.
    pub fn clear_account(&self, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&format!("account:{account}"));
    }
}

fn keys(account: &str, address: Option<IpAddr>) -> Vec<(String, usize)> {
    let mut keys = vec![(format!("account:{account}"), PER_ACCOUNT)];
    if let Some(address) = address {
        keys.push((format!("address:{address}"), PER_ADDRESS));
    }
    keys
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

/// The message shown when sign-in is throttled; it does not say whether the account exists.
pub fn throttled_message(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Too many failed sign-ins. Try again in {minutes} {unit}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_failure_is_refused_but_other_accounts_are_not() {
        let throttle = SignInThrottle::default();
        let address = Some("127.0.0.1".parse().unwrap());
        for _ in 0..PER_ACCOUNT {
            assert!(throttle.check("ada", address).is_ok());
            throttle.record_failure("ada", address);
        }
        let wait = throttle.check("ada", address).unwrap_err();
        assert!(wait <= WINDOW && wait > WINDOW - Duration::from_secs(60));
        assert!(throttle.check("grace", address).is_ok());
        throttle.clear_account("ada");
        assert!(throttle.check("ada", address).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let throttle = SignInThrottle::default();
        let address = Some("10.0.0.7".parse().unwrap());
        for i in 0..PER_ADDRESS {
            throttle.record_failure(&format!("user{i}"), address);
        }
        assert!(throttle.check("someone-new", address).is_err());
        assert!(throttle.check("someone-new", None).is_ok());
    }

    #[test]
    fn the_message_names_the_wait() {
        assert_eq!(
            throttled_message(Duration::from_secs(61)),
            "Too many failed sign-ins. Try again in 2 minutes."
        );
        assert_eq!(
            throttled_message(Duration::from_secs(5)),
            "Too many failed sign-ins. Try again in 1 minute."
        );
    }
}
