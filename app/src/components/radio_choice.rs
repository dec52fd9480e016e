//! One option of a radio group bound to a signal holding one word of a closed set.

use leptos::prelude::*;

use crate::rules::vocab::Word;

/// A labelled radio button that is checked while `selected` equals `value` and sets it when
/// chosen; `hint` follows the label in small print.
#[component]
pub fn RadioChoice<T: Word>(
    name: &'static str,
    value: T,
    label: &'static str,
    selected: RwSignal<T>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="choice">
            <input
                type="radio"
                name=name
                value=value.word()
                prop:checked=move || selected.get() == value
                prop:disabled=move || disabled.get()
                on:change=move |_| selected.set(value)
            />
            {label}
            {hint.map(|hint| view! { <small>{hint}</small> })}
        </label>
    }
}
