//! The page frame: session context, the sandbox banner, navigation and sign-out.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::api::auth::{get_session_info, SignOut};
use crate::model::{AppError, SessionInfo};

/// Who is signed in, fetched again on every navigation.
pub type SessionResource = Resource<Result<SessionInfo, AppError>>;

/// Provides the session to every page and draws the header around them.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let location = use_location();
    let session: SessionResource =
        Resource::new(move || location.pathname.get(), |_| get_session_info());
    provide_context(session);
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let info = session.await.ok();
                let sandbox = info.as_ref().is_some_and(|info| info.sandbox);
                let user = info.and_then(|info| info.user);
                view! {
                    <Show when=move || sandbox>
                        <p class="sandbox-banner" role="status">
                            "Sandbox — no EvoLink API key is set, so Kinema talks to its built-in simulator. Nothing is billed."
                        </p>
                    </Show>
                    <header class="top">
                        <A href="/" attr:class="brand">
                            "Kinema"
                        </A>
                        {user
                            .map(|user| {
                                view! { <Nav is_admin=user.is_admin() name=user.display_name /> }
                            })}
                    </header>
                }
            })}
        </Transition>
        <main>{children()}</main>
    }
}

#[component]
fn Nav(is_admin: bool, name: String) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <nav aria-label="Main">
            <A href="/">"Studio"</A>
            <A href="/history">"History"</A>
            <A href="/elements">"Elements"</A>
            <A href="/usage">"Usage"</A>
            <A href="/pricing">"Pricing"</A>
            <A href="/tokens">"API tokens"</A>
            <Show when=move || is_admin>
                <A href="/admin">"Admin"</A>
            </Show>
        </nav>
        <div class="account">
            <A href="/account" attr:class="who">
                {name}
            </A>
            <ActionForm action=sign_out>
                <button type="submit" class="link">
                    "Sign out"
                </button>
            </ActionForm>
        </div>
    }
}
