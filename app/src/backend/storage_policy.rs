//! Storage hygiene: uploads nobody used are removed after a while, and each member's stored
//! uploads stay under a quota.

use std::time::Duration;

use super::{AppState, BackendError};

/// How long unused uploads are kept and how much one member may store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoragePolicy {
    /// An upload no task or element uses is removed once it is this old.
    pub upload_retention: Duration,
    /// The most bytes of uploads one member may have stored.
    pub upload_quota_bytes: u64,
}

impl Default for StoragePolicy {
    fn default() -> Self {
        StoragePolicy {
            upload_retention: Duration::from_secs(7 * 24 * 3600),
            upload_quota_bytes: 2048 * 1024 * 1024,
        }
    }
}

/// How many uploads one sweep statement deletes at most; a sweep repeats it until done.
const SWEEP_BATCH: i64 = 500;

/// How often a sweep that met a concurrent use of an upload tries again at once.
const SWEEP_RETRIES: u32 = 3;

/// Removes every upload older than the retention (by the app's clock) that no task (in any
/// state, deleted from history or not) and no element uses: its row in one statement, then its
/// file. Returns how many were removed.
pub async fn sweep_unused_uploads(state: &AppState) -> Result<u64, BackendError> {
    let retention =
        i64::try_from(state.storage_policy().upload_retention.as_secs()).unwrap_or(i64::MAX);
    let created_before = state.clock().now().saturating_sub(retention);
    let mut removed = 0u64;
    let mut retries = 0;
    loop {
        let keys = match state
            .store()
            .delete_unused_uploads(created_before, SWEEP_BATCH)
            .await
        {
            Ok(keys) => keys,
            // A task or element started using one of the uploads while the statement ran: its
            // foreign key refused the delete. The next try sees the use and skips that upload.
            Err(err) if is_foreign_key_violation(&err) && retries < SWEEP_RETRIES => {
                retries += 1;
                continue;
            }
            Err(err) => return Err(err),
        };
        let batch = keys.len();
        for key in keys {
            // The row is gone; a file that cannot be removed is only logged.
            if let Err(err) = state.storage().delete(&key).await {
                tracing::warn!(error = %err, "removing an unused upload's file failed");
            }
            removed += 1;
        }
        if batch < SWEEP_BATCH as usize {
            break;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed unused uploads");
    }
    let stale = state.storage().remove_stale_partial_files(STALE_TEMP_AGE);
    if stale > 0 {
        tracing::info!(removed = stale, "removed abandoned partial uploads");
    }
    Ok(removed)
}

/// A partial upload on local disk untouched this long was abandoned (a crash mid-upload); real ones are
/// written to continuously and finish or fail within minutes.
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);

fn is_foreign_key_violation(err: &BackendError) -> bool {
    match err {
        BackendError::Database(err) => err
            .as_database_error()
            .is_some_and(|db| db.is_foreign_key_violation()),
        _ => false,
    }
}

/// Sweeps at start and then every `period`, until the task is aborted (at shutdown); failures
/// are logged and retried next time.
pub async fn sweep_periodically(state: AppState, period: Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(err) = sweep_unused_uploads(&state).await {
            tracing::warn!(error = %err, "sweeping unused uploads failed");
        }
    }
}

/// A size in plain words: `2 GB`, `1.9 GB`, `150 MB`, `20 KB`.
pub fn format_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let bytes = bytes as f64;
    let (value, unit) = if bytes >= KB * KB * KB {
        (bytes / (KB * KB * KB), "GB")
    } else if bytes >= KB * KB {
        (bytes / (KB * KB), "MB")
    } else {
        (bytes / KB, "KB")
    };
    let shown = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    format!("{} {unit}", shown.trim_end_matches(".0"))
}

/// The refusal when an upload does not fit the owner's quota: what is used, the quota, what the
/// file needs (when known), and what to do.
pub fn quota_message(policy: &StoragePolicy, used: u64, file: Option<u64>) -> String {
    let left = policy.upload_quota_bytes.saturating_sub(used);
    let needs = match file {
        Some(bytes) => format!("this file ({}) does not fit", format_size(bytes)),
        None => format!("this file does not fit in the {} left", format_size(left)),
    };
    let days = policy.upload_retention.as_secs().div_ceil(24 * 3600);
    let kept = if days == 1 {
        "a day".to_string()
    } else {
        format!("{days} days")
    };
    format!(
        "Your uploads use {} of your {}, and {needs}. Uploads not used in a task are removed after {kept}; to upload more now, ask an admin to raise the upload limit.",
        format_size(used),
        format_size(policy.upload_quota_bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_the_quota_message_read_plainly() {
        assert_eq!(format_size(2048 * 1024 * 1024), "2 GB");
        assert_eq!(format_size(1_990 * 1024 * 1024), "1.9 GB");
        assert_eq!(format_size(150 * 1024 * 1024), "150 MB");
        assert_eq!(format_size(20 * 1024 + 300), "20.3 KB");
        assert_eq!(format_size(0), "0 KB");
        let message = quota_message(
            &StoragePolicy::default(),
            1_990 * 1024 * 1024,
            Some(150 * 1024 * 1024),
        );
        assert_eq!(
            message,
            "Your uploads use 1.9 GB of your 2 GB, and this file (150 MB) does not fit. Uploads not \
             used in a task are removed after 7 days; to upload more now, ask an admin to raise \
             the upload limit."
        );
    }
}
