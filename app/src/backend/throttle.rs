//! Sign-in budgets per account name and per client address, kept in the database so they hold
//! across restarts and instances. An attempt is counted before its password is checked and
//! given back only when it succeeds.

use std::{net::IpAddr, time::Duration};

use rand::Rng;

use super::{
    store::{Budget, Reservation, Store},
    BackendError,
};

/// How long a window of counted attempts lasts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Attempts allowed per account name within a window.
pub const PER_ACCOUNT: i64 = 10;
/// Attempts allowed per client address within a window (several people may share one).
pub const PER_ADDRESS: i64 = 50;

/// An attempt counted against its budgets.
#[derive(Debug)]
pub struct Attempt {
    budgets: Vec<Budget>,
    window_starts: Vec<i64>,
}

/// The key an account's attempts are counted under.
pub fn account_key(account: &str) -> String {
    format!("account:{account}")
}

/// The key an address's attempts are counted under: the address itself, or for IPv6 its /64
/// (one host usually holds a whole /64).
pub fn address_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => format!("address:{v4}"),
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            format!("address:{}/64", std::net::Ipv6Addr::from(segments))
        }
    }
}

/// Counts one attempt for `account` from `address`, or refuses it (nothing counted) with the
/// throttled message when either budget is used up.
pub async fn reserve(
    store: &Store,
    account: &str,
    address: Option<IpAddr>,
    now: i64,
) -> Result<Attempt, BackendError> {
    let mut budgets = vec![Budget {
        key: account_key(account),
        limit: PER_ACCOUNT,
    }];
    if let Some(address) = address {
        budgets.push(Budget {
            key: address_key(address),
            limit: PER_ADDRESS,
        });
    }
    let window = WINDOW.as_secs() as i64;
    match store.reserve_attempt(&budgets, now, window).await? {
        Reservation::Granted { window_starts } => Ok(Attempt {
            budgets,
            window_starts,
        }),
        Reservation::Refused { retry_at } => Err(BackendError::Throttled(throttled_message(
            Duration::from_secs(retry_at.saturating_sub(now).max(0) as u64),
        ))),
    }
}

/// After a successful sign-in: the account's count starts afresh and the address gets its
/// attempt back. Now and then, windows long over are deleted.
pub async fn succeeded(store: &Store, attempt: Attempt, now: i64) -> Result<(), BackendError> {
    let mut counted = attempt.budgets.iter().zip(&attempt.window_starts);
    if let Some((account, _)) = counted.next() {
        store.clear_attempts(&account.key).await?;
    }
    for (budget, window_start) in counted {
        store.release_attempt(&budget.key, *window_start).await?;
    }
    if rand::thread_rng().gen_ratio(1, 64) {
        store
            .forget_attempts_before(now - WINDOW.as_secs() as i64)
            .await?;
    }
    Ok(())
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

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), "address:2001:db8:1:2::/64");
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(address_key(mapped), "address:10.0.0.7");
    }
}
