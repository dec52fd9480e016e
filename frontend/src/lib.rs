//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the generated JS once the WASM is loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_hydrated();
}

/// Sets `data-hydrated` on `<body>`, so browser tests can tell a live page from a dead one.
fn mark_hydrated() {
    let body = leptos::prelude::document().body();
    if let Some(body) = body {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
