//! The team's element library: search, each element's status, and the creator's or an admin's
//! edit and remove controls.

use leptos::prelude::*;

use crate::api::elements::{DescribeElement, RemoveElement};
use crate::components::error_note::ErrorNote;
use crate::model::{AppError, ElementView};
use crate::rules::{
    element_inputs::ReferenceType,
    format::utc_datetime,
    vocab::{ElementStatus, UploadKind},
};

/// The library section: a search box over the list the page loads into `library`.
#[component]
pub(super) fn Library(
    search: RwSignal<String>,
    library: Resource<Result<Vec<ElementView>, AppError>>,
    describe: ServerAction<DescribeElement>,
    remove: ServerAction<RemoveElement>,
) -> impl IntoView {
    view! {
        <section class="card">
            <div class="row-between">
                <h2>"Team library"</h2>
                <input
                    type="search"
                    placeholder="Search by name or description"
                    aria-label="Search elements"
                    prop:value=move || search.get()
                    on:input=move |event| search.set(event_target_value(&event))
                />
            </div>
            <p class="hint">
                "Everyone on the team can use these in the studio. The creator or an admin can change a description or remove an element from this library."
            </p>
            <ErrorNote value=describe.value() />
            <ErrorNote value=remove.value() />
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    match library.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p>"No elements yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            view! {
                                <ul class="element-grid">
                                    {list
                                        .into_iter()
                                        .map(|element| {
                                            view! { <ElementCard element describe remove /> }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(err) => view! { <p class="error">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// How long a creation has taken so far: `45 s`, `12 min`, `1 h 5 min`.
fn elapsed(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// One element: preview, name, description, who made it, status.
#[component]
fn ElementCard(
    element: ElementView,
    describe: ServerAction<DescribeElement>,
    remove: ServerAction<RemoveElement>,
) -> impl IntoView {
    let preview = format!("/api/elements/{}/preview", element.id);
    let status = match element.status {
        ElementStatus::Ready => "Ready".to_string(),
        ElementStatus::Failed => format!(
            "Failed: {}",
            element
                .failure
                .clone()
                .unwrap_or_else(|| "EvoLink could not create it.".into())
        ),
        ElementStatus::Creating => format!(
            "Creating · {} so far · {}%",
            elapsed(element.age_seconds),
            element.progress
        ),
    };
    let kind = if element.reference_type == ReferenceType::Video {
        "Made from a video"
    } else {
        "Made from images"
    };
    let id = element.id.clone();
    let description = element.description.clone();
    let name = element.name.clone();
    view! {
        <li class=format!("element-card status-{}", element.status) data-element=element.id.clone()>
            {if element.preview_kind == UploadKind::Video {
                view! {
                    <video
                        class="thumb"
                        src=preview
                        muted
                        preload="metadata"
                        aria-hidden="true"
                    ></video>
                }
                    .into_any()
            } else {
                view! { <img class="thumb" src=preview alt="" /> }.into_any()
            }}
            <div>
                <h3>{element.name.clone()}</h3>
                <p class="element-description">{element.description.clone()}</p>
                <p class="hint">
                    {format!(
                        "{kind} · by {} · {}",
                        element.creator,
                        utc_datetime(element.created_at),
                    )} {element.voice_id.clone().map(|v| format!(" · voice {v}"))}
                </p>
                <p class="status" role="status">
                    {status}
                </p>
                {element
                    .can_edit
                    .then(|| view! { <ElementActions id name description describe remove /> })}
            </div>
        </li>
    }
}

/// Edit-description and remove controls, for the creator or an admin.
#[component]
fn ElementActions(
    id: String,
    name: String,
    description: String,
    describe: ServerAction<DescribeElement>,
    remove: ServerAction<RemoveElement>,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let edit_form = {
        let id = id.clone();
        move || {
            let (id, description) = (id.clone(), description.clone());
            editing.get().then(move || {
                view! {
                    <ActionForm action=describe>
                        <input type="hidden" name="id" value=id />
                        <textarea name="description" rows="2" aria-label="New description">
                            {description}
                        </textarea>
                        <button type="submit" class="small">
                            "Save description"
                        </button>
                    </ActionForm>
                }
            })
        }
    };
    let remove_form = move || {
        let id = id.clone();
        confirming.get().then(move || {
            view! {
                <ActionForm action=remove>
                    <input type="hidden" name="id" value=id />
                    <p class="hint">
                        "This removes it from Kinema's library only: EvoLink has no way to delete elements, so it still exists there. Tasks that used it keep their results."
                    </p>
                    <button type="submit" class="small danger">
                        "Remove from library"
                    </button>
                </ActionForm>
            }
        })
    };
    view! {
        <div class="row">
            <button
                type="button"
                class="small secondary"
                on:click=move |_| editing.update(|e| *e = !*e)
                aria-label=format!("Edit description of {name}")
            >
                "Edit description"
            </button>
            <button
                type="button"
                class="small secondary"
                on:click=move |_| confirming.set(true)
                aria-label=format!("Remove {name}")
            >
                "Remove"
            </button>
        </div>
        {edit_form}
        {remove_form}
    }
}
