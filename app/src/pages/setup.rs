//! First-run setup: creates the first admin account.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::SetupAdmin;
use crate::components::error_note::ErrorNote;
use crate::rules::accounts::PASSWORD_MIN_CHARS;

/// The first-run form; the server refuses it once an admin exists.
#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<SetupAdmin>::new();
    view! {
        <Title text="Set up Kinema" />
        <section class="card narrow">
            <h1>"Welcome to Kinema"</h1>
            <p>"Create the admin account. You can invite your team once you are in."</p>
            <ActionForm action>
                <AccountFields />
                <ErrorNote value=action.value() />
                <button type="submit" disabled=move || action.pending().get()>
                    "Create admin account"
                </button>
            </ActionForm>
        </section>
    }
}

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
                minlength="3"
                maxlength="32"
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
                maxlength="60"
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
