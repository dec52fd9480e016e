//! The fields of a new account, shared by first-run setup and accepting an invite.

use leptos::prelude::*;

use crate::rules::accounts::{
    DISPLAY_NAME_MAX_CHARS, PASSWORD_MIN_CHARS, USERNAME_MAX_CHARS, USERNAME_MIN_CHARS,
};

/// Username, display name and a password typed twice.
#[component]
pub fn AccountFields() -> impl IntoView {
    let password_hint = format!("At least {PASSWORD_MIN_CHARS} characters.");
    view! {
        <div class="field">
            <label for="username">"Username"</label>
            <input
                id="username"
                name="username"
                autocomplete="username"
                required
                minlength=USERNAME_MIN_CHARS
                maxlength=USERNAME_MAX_CHARS
                aria-describedby="username-hint"
            />
            <small id="username-hint">"Letters, digits, '.', '_' and '-'."</small>
        </div>
        <div class="field">
            <label for="display_name">"Display name"</label>
            <input
                id="display_name"
                name="display_name"
                autocomplete="name"
                required
                maxlength=DISPLAY_NAME_MAX_CHARS
            />
        </div>
        <div class="field">
            <label for="password">"Password"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete="new-password"
                required
                minlength=PASSWORD_MIN_CHARS
                aria-describedby="password-hint"
            />
            <small id="password-hint">{password_hint}</small>
        </div>
        <div class="field">
            <label for="password_confirm">"Repeat password"</label>
            <input
                id="password_confirm"
                name="password_confirm"
                type="password"
                autocomplete="new-password"
                required
            />
        </div>
    }
}
