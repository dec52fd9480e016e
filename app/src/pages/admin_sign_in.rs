//! The admin's sign-in settings: whether the password form is offered next to the team's
//! identity provider. Switching it off is allowed once an admin signs in through the provider;
//! the README names the way back for a team locked out.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{get_sign_in_settings, SetPasswordSignIn};
use crate::components::{error_note::ErrorNote, signed_in::SignedIn};
use crate::model::SignInSettings;

/// Sign-in settings; admins only (the server answers 403 to everyone else).
#[component]
pub fn AdminSignInPage() -> impl IntoView {
    view! {
        <Title text="Sign-in settings · Kinema" />
        <SignedIn children=|user| {
            if user.is_admin() {
                view! { <SignInPanel /> }.into_any()
            } else {
                view! {
                    <section class="card">
                        <h1>"Admins only"</h1>
                        <p>"Ask an admin of your team if you need sign-in changed."</p>
                    </section>
                }
                    .into_any()
            }
        } />
    }
}

#[component]
fn SignInPanel() -> impl IntoView {
    let switch = ServerAction::<SetPasswordSignIn>::new();
    let settings = Resource::new(move || switch.version().get(), |_| get_sign_in_settings());
    view! {
        <p>
            <a href="/admin">"← Members and invites"</a>
        </p>
        <section class="card">
            <h1>"Sign-in settings"</h1>
            <ErrorNote value=switch.value() />
            <Suspense fallback=|| {
                view! { <p>"Loading sign-in settings…"</p> }
            }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(settings) => view! { <PasswordSwitch settings switch /> }.into_any(),
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The state of password sign-in and the button that flips it.
#[component]
fn PasswordSwitch(
    settings: SignInSettings,
    switch: ServerAction<SetPasswordSignIn>,
) -> impl IntoView {
    let Some(provider) = settings.sso_provider else {
        return view! {
            <p>"Members sign in with their Kinema password."</p>
            <p class="hint">
                "Set up single sign-on (KINEMA_OIDC_ISSUER and the client settings) to let them sign in with the team's identity provider; then the password form can be switched off."
            </p>
        }
            .into_any();
    };
    let (status, label) = if settings.password_sign_in {
        (
            format!("Members sign in with {provider} or with their Kinema password."),
            "Switch password sign-in off",
        )
    } else {
        (
            format!("Members sign in with {provider} only: password sign-in is off."),
            "Switch password sign-in on",
        )
    };
    let admins = match settings.sso_admins {
        0 => format!("No admin signs in with {provider} yet."),
        1 => format!("1 admin signs in with {provider}."),
        n => format!("{n} admins sign in with {provider}."),
    };
    view! {
        <p role="status">{status}</p>
        <p class="hint">{admins}</p>
        <ActionForm action=switch>
            <input type="hidden" name="enabled" value=(!settings.password_sign_in).to_string() />
            <button type="submit" disabled=move || switch.pending().get()>
                {label}
            </button>
        </ActionForm>
        <p class="hint">
            "Locked out (the provider is down, or no admin can sign in with it)? On the server, run "
            <code>"kinema-server allow-password-sign-in"</code>
            " to switch password sign-in back on."
        </p>
    }
        .into_any()
}
