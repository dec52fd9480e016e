//! The Elements page: create a custom element from a video or from images, and the team's
//! library (search, status, edit the description, remove).

mod create_form;
mod library;

use leptos::prelude::*;
use leptos_meta::Title;

use create_form::CreateForm;
use library::Library;

use crate::api::elements::{list_elements, CreateElement, DescribeElement, RemoveElement};
use crate::components::{live::task_changes, signed_in::SignedIn};
use crate::rules::vocab::ElementStatus;

/// Elements; signed-in members only.
#[component]
pub fn ElementsPage() -> impl IntoView {
    view! {
        <Title text="Elements · Kinema" />
        <SignedIn children=|_user| view! { <Elements /> } />
    }
}

#[component]
fn Elements() -> impl IntoView {
    let create = ServerAction::<CreateElement>::new();
    let describe = ServerAction::<DescribeElement>::new();
    let remove = ServerAction::<RemoveElement>::new();
    let search = RwSignal::new(String::new());
    let changes = task_changes(None);
    let tick = RwSignal::new(0u32);
    let library = Resource::new(
        move || {
            (
                search.get(),
                changes.get(),
                tick.get(),
                create.version().get(),
                describe.version().get(),
                remove.version().get(),
            )
        },
        |(search, ..)| list_elements(Some(search)),
    );
    // Elements take minutes: while one is being created, look again every 20 s (for its elapsed
    // time, and for other members' elements, which live events do not cover). Browser only;
    // nothing is refetched while everything is final, so an open edit form stays put.
    Effect::new(move |_| {
        let creating = move || {
            library.with_untracked(|list| {
                list.as_ref()
                    .and_then(|list| list.as_ref().ok())
                    .is_some_and(|list| list.iter().any(|e| e.status == ElementStatus::Creating))
            })
        };
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if creating() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(20),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <CreateForm action=create />
        <Library search library describe remove />
    }
}
