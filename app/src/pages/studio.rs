//! The Motion studio page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::signed_in::SignedIn;

/// Motion studio; signed-in members only.
#[component]
pub fn StudioPage() -> impl IntoView {
    view! {
        <Title text="Motion studio · Kinema" />
        <SignedIn children=|_user| {
            view! {
                <section class="card">
                    <h1>"Motion studio"</h1>
                    <p>
                        "Upload a character image and a motion video to make that character perform the motion. The studio arrives with the Motion Control release."
                    </p>
                </section>
            }
        } />
    }
}
