//! Live updates: refetch something whenever the member's tasks change (SSE), in the browser only.

use leptos::prelude::*;

use crate::browser;

/// A counter that goes up whenever one of the member's tasks changes (for `filter`, or any task
/// when `filter` is `None`). Track it in a resource's source to refetch.
pub fn task_changes(filter: Option<String>) -> ReadSignal<u32> {
    let (changes, set_changes) = signal(0u32);
    let subscription = StoredValue::new_local(None::<browser::TaskEvents>);
    Effect::new(move |_| {
        let filter = filter.clone();
        let events = browser::subscribe_task_events(move |task_id| {
            if filter
                .as_deref()
                .is_none_or(|wanted| wanted == task_id || task_id == "*")
            {
                set_changes.update(|n| *n += 1);
            }
        });
        subscription.set_value(events);
    });
    on_cleanup(move || subscription.set_value(None));
    changes
}
