//! Accepting an invite link.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::auth::{invite_details, AcceptInvite};
use crate::components::{account_fields::AccountFields, error_note::ErrorNote};
use crate::rules::format::utc_datetime;

/// Shows who invited the visitor and lets them create their account.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let details = Resource::new(token, invite_details);
    let action = ServerAction::<AcceptInvite>::new();
    view! {
        <Title text="Join Kinema" />
        <section class="card narrow">
            <h1>"Join your team on Kinema"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(info) => {
                            view! {
                                <p>
                                    {info.invited_by} " invited you as "
                                    <strong>{info.role.label()}</strong> ". The link works until "
                                    {utc_datetime(info.expires_at)} "."
                                </p>
                                <ActionForm action>
                                    <input type="hidden" name="token" value=token />
                                    <AccountFields />
                                    <ErrorNote value=action.value() />
                                    <button type="submit">"Create my account"</button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Err(err) => {
                            view! {
                                <p class="error" role="alert">
                                    {err.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}
