//! The page for unknown addresses.

use leptos::prelude::*;
use leptos_router::components::A;

/// Says the page does not exist and links home.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Back to the studio"</A></p>
        </section>
    }
}
