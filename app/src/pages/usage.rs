//! The Usage page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::signed_in::SignedIn;

/// Usage; signed-in members only.
#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <Title text="Usage · Kinema" />
        <SignedIn children=|_user| {
            view! {
                <section class="card">
                    <h1>"Usage"</h1>
                    <p>
                        "What you have spent, what is reserved and what budget is left. Usage arrives with the credit ledger release."
                    </p>
                </section>
            }
        } />
    }
}
