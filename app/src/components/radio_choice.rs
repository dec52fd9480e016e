//! One option of a radio group bound to a string signal.

use leptos::prelude::*;

/// A labelled radio button that is checked while `selected` equals `value` and sets it when
/// chosen; `hint` follows the label in small print.
#[component]
pub fn RadioChoice(
    name: &'static str,
    value: &'static str,
    label: &'static str,
    selected: RwSignal<String>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="choice">
            <input
                type="radio"
                name=name
                value=value
                prop:checked=move || selected.get() == value
                prop:disabled=move || disabled.get()
                on:change=move |_| selected.set(value.into())
            />
            {label}
            {hint.map(|hint| view! { <small>{hint}</small> })}
        </label>
    }
}
