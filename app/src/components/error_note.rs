//! Shows the error of a server action, if any.

use leptos::prelude::*;

use crate::model::AppError;

/// An alert with the action's error text; nothing while there is no error.
#[component]
pub fn ErrorNote<T>(value: MappedSignal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    move || {
        value.with(|value| match value {
            Some(Err(err)) => Some(view! {
                <p class="error" role="alert">
                    {err.to_string()}
                </p>
            }),
            _ => None,
        })
    }
}
