//! The History page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::signed_in::SignedIn;

/// History; signed-in members only.
#[component]
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Title text="History · Kinema" />
        <SignedIn children=|_user| {
            view! {
                <section class="card">
                    <h1>"History"</h1>
                    <p>
                        "Every task you run, with its result, stays here. History arrives with the Motion Control release."
                    </p>
                </section>
            }
        } />
    }
}
