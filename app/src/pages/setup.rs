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
        <label>
            "Username" <input name="username" autocomplete="username" required minlength="3" maxlength="32" />
            <small>"Letters, digits, '.', '_' and '-'."</small>
        </label>
        <label>
            "Display name" <input name="display_name" autocomplete="name" required maxlength="60" />
        </label>
        <label>
            "Password"
            <input name="password" type="password" autocomplete="new-password" required minlength=PASSWORD_MIN_CHARS />
            <small>{password_hint}</small>
        </label>
        <label>
            "Repeat password"
            <input name="password_confirm" type="password" autocomplete="new-password" required />
        </label>
    }
}
