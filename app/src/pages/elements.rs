//! The Elements page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::signed_in::SignedIn;

/// Elements; signed-in members only.
#[component]
pub fn ElementsPage() -> impl IntoView {
    view! {
        <Title text="Elements · Kinema" />
        <SignedIn children=|_user| {
            view! {
                <section class="card">
                    <h1>"Elements"</h1>
                    <p>
                        "Your team's library of reusable characters. Elements arrive with the Custom Elements release."
                    </p>
                </section>
            }
        } />
    }
}
