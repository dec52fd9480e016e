//! First-run setup: creates the first admin account.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::SetupAdmin;
use crate::components::{account_fields::AccountFields, error_note::ErrorNote};

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
