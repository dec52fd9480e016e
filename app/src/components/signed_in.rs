//! Renders its children only for a signed-in member.

use leptos::prelude::*;
use leptos_router::components::A;

use super::frame::SessionResource;
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
                    let user = match session {
                        Some(session) => session.await.ok().and_then(|info| info.user),
                        None => None,
                    };
                    match user {
                        Some(user) => children(user).into_any(),
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
