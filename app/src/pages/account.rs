//! The member's account page: who they are, their share links (an admin sees everyone's), and
//! their own entries in the audit log (sign-ins, tasks, downloads, elements), newest first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::audit::my_audit;
use crate::components::{audit_table::AuditTable, share_links::ShareList, signed_in::SignedIn};

/// The account page; signed-in members only.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account · Kinema" />
        <SignedIn children=|user| {
            view! {
                <section class="card">
                    <h1>"Account"</h1>
                    <p>
                        {format!(
                            "Signed in as {} ({}) · {}",
                            user.display_name,
                            user.username,
                            user.role.label(),
                        )}
                    </p>
                    <h2>
                        {if user.is_admin() { "Shared links (everyone's)" } else { "Shared links" }}
                    </h2>
                    <ShareList />
                    <h2>"Your activity"</h2>
                    <MyActivity />
                </section>
            }
        } />
    }
}

#[component]
fn MyActivity() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
                .max(1)
        })
    };
    let entries = Resource::new(page, my_audit);
    view! {
        <Transition fallback=|| {
            view! { <p>"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) => {
                        view! { <AuditTable page link=|n| format!("/account?page={n}") /> }
                            .into_any()
                    }
                    Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
