//! Sign-in page. Works with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::SignIn;
use crate::components::{error_note::ErrorNote, frame::SessionResource};

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_else(|| "/".into()));
    let session = use_context::<SessionResource>();
    view! {
        <Title text="Sign in · Kinema" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let provider = match session {
                        Some(session) => session.await.ok().and_then(|info| info.sso_provider),
                        None => None,
                    };
                    provider
                        .map(|name| {
                            let href = format!(
                                "/auth/oidc/start?next={}",
                                crate::rules::audit::query_value(&next()),
                            );
                            view! {
                                <p>
                                    <a class="button" href=href rel="external">
                                        {format!("Sign in with {name}")}
                                    </a>
                                </p>
                                <p class="hint">"Or with your Kinema password:"</p>
                            }
                        })
                })}
            </Suspense>
            <ActionForm action>
                <input type="hidden" name="next" value=next />
                <label>"Username" <input name="username" autocomplete="username" required /></label>
                <label>
                    "Password"
                    <input
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                    />
                </label>
                <ErrorNote value=action.value() />
                <button type="submit" disabled=move || action.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="hint">"New here? Ask your admin for an invite link."</p>
        </section>
    }
}
