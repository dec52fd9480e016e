//! Live updates: refetch something whenever the member's tasks change (SSE), in the browser only.

use leptos::prelude::*;

use crate::browser;

/// A counter that goes up whenever one of the member's tasks changes (for `filter`, or any task
/// when `filter` is `None`). Track it in a resource's source to refetch.
pub fn task_changes(filter: Option<String>) -> ReadSignal<u32> {
    let (changes, set_changes) = signal(0u32);
    // Only the subscription's id is kept here; the browser object lives in `browser`.
    let subscription = StoredValue::new(None::<u64>);
    Effect::new(move |_| {
        let filter = filter.clone();
        let id = browser::subscribe_task_events(move |task_id| {
            if filter
                .as_deref()
                .is_none_or(|wanted| wanted == task_id || task_id == "*")
            {
                set_changes.update(|n| *n += 1);
            }
        });
        subscription.set_value(id);
    });
    on_cleanup(move || {
        if let Some(id) = subscription.get_value() {
            browser::unsubscribe(id);
        }
    });
    changes
}
