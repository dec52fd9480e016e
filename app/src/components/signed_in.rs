//! Renders its children only for a signed-in member.

use leptos::{context::Provider, prelude::*};
use leptos_router::components::A;

use super::{credits::UsdRate, frame::SessionResource};
use crate::model::UserView;

/// Shows `children` with the signed-in user, or a link to the sign-in page.
#[component]
pub fn SignedIn<F, V>(children: F) -> impl IntoView
where
    F: Fn(UserView) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let session = use_context::<SessionResource>();
    view! {
        <Suspense>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let info = match session {
                        Some(session) => session.await.ok(),
                        None => None,
                    };
                    let rate = UsdRate(info.as_ref().and_then(|info| info.credits_per_usd));
                    match info.and_then(|info| info.user) {
                        Some(user) => {
                            view! { <Provider value=rate>{children(user).into_any()}</Provider> }
                                .into_any()
                        }
                        None => {
                            view! {
                                <p>"Please " <A href="/login">"sign in"</A> " to continue."</p>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}
