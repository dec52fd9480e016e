//! Waiting on a condition with a deadline, saying what was awaited when it never came.

use std::{
    fmt::Debug,
    future::Future,
    time::{Duration, Instant},
};

/// Runs `probe` every 50 ms until it returns `Ok`, and returns that value. After `timeout` it
/// panics naming `what` it waited for, the timeout, and the last `Err` value the probe saw.
pub async fn eventually<T, E, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("waited {timeout:?} for {what}; last seen: {last:?}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// `Ok(seen)` if `condition` holds, else `Err(seen)`: the usual answer of a probe.
pub fn holds<T>(condition: bool, seen: T) -> Result<T, T> {
    if condition {
        Ok(seen)
    } else {
        Err(seen)
    }
}
