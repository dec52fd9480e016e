//! Sign-in budgets: attempts counted per key (an account name, a client address) in fixed
//! windows, reserved atomically before a password is checked.

use super::{on_pool, Store};
use crate::backend::BackendError;

/// One budget an attempt must fit in.
#[derive(Clone, Debug)]
pub struct Budget {
    /// What is counted, e.g. `account:ada` or `address:10.0.0.7`.
    pub key: String,
    /// Attempts allowed per window (at least 1).
    pub limit: i64,
}

/// The answer to a reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt is counted in every budget; `window_starts` (one per budget, in order) name
    /// the windows it was counted in, to release it later.
    Granted { window_starts: Vec<i64> },
    /// A budget is used up until `retry_at` (unix seconds); nothing was counted.
    Refused { retry_at: i64 },
}

/// Counts one attempt in the key's window unless the window is full: a window older than
/// `$3` (now minus the window length) starts afresh at `$2`. One statement, so concurrent
/// attempts are counted one by one; no row comes back when the budget is used up.
const RESERVE: &str =
    "INSERT INTO sign_in_throttle (key, window_start, attempts) VALUES ($1, $2, 1) \
     ON CONFLICT (key) DO UPDATE SET \
       window_start = CASE WHEN sign_in_throttle.window_start <= $3 \
                      THEN excluded.window_start ELSE sign_in_throttle.window_start END, \
       attempts = CASE WHEN sign_in_throttle.window_start <= $3 \
                  THEN 1 ELSE sign_in_throttle.attempts + 1 END \
     WHERE sign_in_throttle.window_start <= $3 OR sign_in_throttle.attempts < $4 \
     RETURNING window_start";

const WINDOW_OF: &str = "SELECT window_start FROM sign_in_throttle WHERE key = $1";

impl Store {
    /// Counts one attempt in every budget, or in none when any of them is used up: the check
    /// and the count are one statement per budget inside one transaction. Budgets are taken in
    /// the order given (callers keep one order, so concurrent reservations cannot deadlock).
    pub async fn reserve_attempt(
        &self,
        budgets: &[Budget],
        now: i64,
        window_seconds: i64,
    ) -> Result<Reservation, BackendError> {
        let expired_before = now - window_seconds;
        macro_rules! reserve_in {
            ($tx:ident) => {{
                let mut window_starts = Vec::with_capacity(budgets.len());
                for budget in budgets {
                    let counted: Option<i64> = sqlx::query_scalar(RESERVE)
                        .bind(&budget.key)
                        .bind(now)
                        .bind(expired_before)
                        .bind(budget.limit)
                        .fetch_optional(&mut *$tx)
                        .await?;
                    match counted {
                        Some(start) => window_starts.push(start),
                        None => {
                            let start: Option<i64> = sqlx::query_scalar(WINDOW_OF)
                                .bind(&budget.key)
                                .fetch_optional(&mut *$tx)
                                .await?;
                            $tx.rollback().await?;
                            return Ok(Reservation::Refused {
                                retry_at: start.unwrap_or(now) + window_seconds,
                            });
                        }
                    }
                }
                $tx.commit().await?;
                Ok(Reservation::Granted { window_starts })
            }};
        }
        match self {
            // IMMEDIATE: the write lock is taken at once, so the read of a refusal cannot
            // deadlock with another writer.
            Store::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                reserve_in!(tx)
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                reserve_in!(tx)
            }
        }
    }

    /// Gives back one attempt counted in `window_start` (when that window is still current).
    pub async fn release_attempt(&self, key: &str, window_start: i64) -> Result<(), BackendError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE sign_in_throttle SET attempts = attempts - 1 \
             WHERE key = $1 AND window_start = $2 AND attempts > 0"
        )
        .bind(key)
        .bind(window_start)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Forgets every attempt counted for `key`.
    pub async fn clear_attempts(&self, key: &str) -> Result<(), BackendError> {
        on_pool!(self, pool => sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Deletes the counts of windows that ended before `before`.
    pub async fn forget_attempts_before(&self, before: i64) -> Result<u64, BackendError> {
        let deleted = on_pool!(self, pool => sqlx::query(
            "DELETE FROM sign_in_throttle WHERE window_start < $1"
        )
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(deleted)
    }

    /// Attempts counted for `key` in its current window (0 when none); for tests and admins.
    pub async fn attempts_counted(&self, key: &str) -> Result<i64, BackendError> {
        let attempts: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT attempts FROM sign_in_throttle WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(pool)
        .await)?;
        Ok(attempts.unwrap_or(0))
    }
}
