//! Sign-in page. Works with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{sign_in_refusal, SignIn};
use crate::components::{error_note::ErrorNote, frame::SessionResource};

/// The sign-in form, the identity provider's button when single sign-on is set up, and why the
/// last single sign-on was refused, if it was.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = Signal::derive(move || query.with(|q| q.get("next").unwrap_or_else(|| "/".into())));
    let session = use_context::<SessionResource>();
    let refusal = Resource::new(|| (), |_| sign_in_refusal());
    view! {
        <Title text="Sign in · Kinema" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    refusal
                        .await
                        .ok()
                        .flatten()
                        .map(|message| {
                            view! {
                                <p class="error" role="alert">
                                    {message}
                                </p>
                            }
                        })
                })}
            </Suspense>
            <Suspense>
                {move || Suspend::new(async move {
                    let info = match session {
                        Some(session) => session.await.ok(),
                        None => None,
                    };
                    let provider = info.as_ref().and_then(|info| info.sso_provider.clone());
                    let passwords = info.as_ref().is_none_or(|info| info.password_sign_in);
                    view! {
                        {provider
                            .map(|name| {
                                view! { <ProviderButton name next passwords /> }
                            })}
                        {passwords.then(|| view! { <PasswordForm next /> })}
                    }
                })}
            </Suspense>
            <p class="hint">"New here? Ask your admin for an invite link."</p>
        </section>
    }
}

/// "Sign in with <provider>", then (when passwords are on) a line leading to the password form.
#[component]
fn ProviderButton(name: String, next: Signal<String>, passwords: bool) -> impl IntoView {
    let href = format!(
        "/auth/oidc/start?next={}",
        crate::rules::audit::query_value(&next.get_untracked()),
    );
    view! {
        <p>
            <a class="button" href=href rel="external">
                {format!("Sign in with {name}")}
            </a>
        </p>
        {passwords.then(|| view! { <p class="hint">"Or with your Kinema password:"</p> })}
    }
}

/// Username and password.
#[component]
fn PasswordForm(next: Signal<String>) -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    view! {
        <ActionForm action>
            <input type="hidden" name="next" value=next />
            <label>"Username" <input name="username" autocomplete="username" required /></label>
            <label>
                "Password"
                <input name="password" type="password" autocomplete="current-password" required />
            </label>
            <ErrorNote value=action.value() />
            <button type="submit" disabled=move || action.pending().get()>
                "Sign in"
            </button>
        </ActionForm>
    }
}
