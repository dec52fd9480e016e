//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the generated JS once the WASM is loaded. Hydration is asynchronous because a
/// lazily loaded route (see `app::pages::lazy`) first fetches its WASM chunk.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Drives the reactive system with wasm-bindgen's executor (an error means it already is).
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let owner = leptos::mount::hydrate_from_async(
            leptos::prelude::document().body().expect("a <body>"),
            app::App,
        )
        .await;
        owner.forget();
        mark_hydrated();
    });
}

/// Sets `data-hydrated` on `<body>` once the page is live, so browser tests can tell a live page
/// from a dead one.
fn mark_hydrated() {
    let body = leptos::prelude::document().body();
    if let Some(body) = body {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
