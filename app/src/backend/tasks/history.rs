//! A member's history: one page of tasks with the counts per state group.

use super::history_cache::HistoryKey;
use super::task_view;
use crate::backend::{store::UserRecord, AppState, BackendError};
use crate::model::TaskPage;
use crate::rules::vocab::{Quality, StatusFilter, TaskState};

/// Tasks per history page.
pub const PAGE_SIZE: i64 = 20;

/// Page `page` (1-based) of `owner`'s history; `status` is running, completed or failed, and
/// `quality` 720p or 1080p (anything else means no filter).
pub async fn history_page(
    state: &AppState,
    owner: &UserRecord,
    page: i64,
    status: Option<&str>,
    quality: Option<&str>,
) -> Result<TaskPage, BackendError> {
    let page = page.max(1);
    let key = HistoryKey {
        owner_id: owner.id,
        page,
        status: status.and_then(StatusFilter::parse),
        quality: quality.and_then(Quality::parse),
    };
    let cache = state.history_cache();
    match cache.get(&key) {
        Ok(cached) => Ok(cached),
        Err(read_at) => {
            let fresh = read_history_page(state, owner, key).await?;
            cache.keep(key, read_at, fresh.clone());
            Ok(fresh)
        }
    }
}

/// The page for `key`, from the database.
async fn read_history_page(
    state: &AppState,
    owner: &UserRecord,
    key: HistoryKey,
) -> Result<TaskPage, BackendError> {
    let store = state.store();
    let HistoryKey {
        page,
        status,
        quality,
        ..
    } = key;
    let mut rows = store
        .tasks_of_owner(
            owner.id,
            status,
            quality,
            PAGE_SIZE + 1,
            (page - 1) * PAGE_SIZE,
        )
        .await?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let (mut running, mut completed, mut failed) = (0, 0, 0);
    for (state, count) in store.task_counts_of_owner(owner.id).await? {
        match state {
            TaskState::Completed => completed += count,
            TaskState::Failed => failed += count,
            TaskState::Queued
            | TaskState::Submitting
            | TaskState::Running
            | TaskState::Archiving => running += count,
        }
    }
    // Gateway tasks are marked with their token's name (one query for all of them).
    let tokens = if rows.iter().any(|row| row.token_id.is_some()) {
        store.api_tokens(Some(owner.id)).await?
    } else {
        Vec::new()
    };
    let items = rows
        .iter()
        .map(|row| {
            let mut view = task_view(row);
            view.api_token = row.token_id.and_then(|id| {
                tokens
                    .iter()
                    .find(|token| token.id == id)
                    .map(|token| token.name.clone())
            });
            view
        })
        .collect();
    Ok(TaskPage {
        running,
        completed,
        failed,
        items,
        page,
        has_more,
    })
}
