//! One task: status with live progress, inputs, cost, the result player, Download, Share,
//! Run again, Delete.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
};

use crate::api::motion::{get_task, DeleteTask};
use crate::components::credits::credits_text;
use crate::components::{
    error_note::ErrorNote, live::task_changes, share_links::ShareTask, signed_in::SignedIn,
};
use crate::model::TaskView;
use crate::rules::{
    format::utc_datetime,
    links::is_web_link,
    pricing::format_credits,
    vocab::{Orientation, Quality, TaskKind, TaskState},
};

/// The task page; only the owner sees it (others get "not found").
#[component]
pub fn TaskPage() -> impl IntoView {
    view! {
        <Title text="Task · Kinema" />
        <SignedIn children=|_user| view! { <TaskDetail /> } />
    }
}

#[component]
fn TaskDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let changes = task_changes(None);
    let task = Resource::new(move || (id(), changes.get()), |(id, _)| get_task(id));
    view! {
        <Transition fallback=|| {
            view! { <p>"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match task.await {
                    Ok(task) => view! { <TaskCard task /> }.into_any(),
                    Err(err) => {
                        view! {
                            <section class="card">
                                <h1>"Task not found"</h1>
                                <p class="error">{err.to_string()}</p>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// An element's creation, as its charges link to it.
#[component]
fn ElementTaskCard(task: TaskView) -> impl IntoView {
    let cost = match task.cost_final {
        Some(final_cost) => format!("Final {}", credits_text(final_cost)),
        None => format!("Reserved {}", credits_text(task.cost_reserved)),
    };
    view! {
        <section class="card task">
            <h1>"Element creation"</h1>
            <p class=format!("status status-{}", task.state) role="status">
                <strong>{task.status_label.clone()}</strong>
            </p>
            {task.failure.clone().map(|f| view! { <p class="error">{f}</p> })}
            <p>{cost}</p>
            <p>
                <A href="/elements">"Open the element library"</A>
            </p>
        </section>
    }
}

#[component]
fn TaskCard(task: TaskView) -> impl IntoView {
    if task.kind == TaskKind::Element {
        return view! { <ElementTaskCard task /> }.into_any();
    }
    let delete = ServerAction::<DeleteTask>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/history", Default::default());
        }
    });
    let result_url = format!("/api/tasks/{}/result", task.id);
    let again_url = format!("/?again={}", task.id);
    let id = task.id.clone();
    let share_id = task.id.clone();
    let finished = task.is_final();
    let shareable = task.state == TaskState::Completed && task.result_ready;
    let cost = match task.cost_final {
        Some(final_cost) => format!(
            "Final {} · reserved {}",
            credits_text(final_cost),
            format_credits(task.cost_reserved)
        ),
        None => format!("Reserved {}", credits_text(task.cost_reserved)),
    };
    view! {
        <section class="card task">
            <h1>"Motion task"</h1>
            <p class=format!("status status-{}", task.state) role="status">
                <strong>{task.status_label.clone()}</strong>
                {(!finished).then(|| format!(" · {}%", task.progress))}
            </p>
            {(!finished)
                .then(|| {
                    view! {
                        <progress max="100" value=task.progress aria-label="Progress"></progress>
                        <noscript>
                            <meta http-equiv="refresh" content="5" />
                        </noscript>
                    }
                })}
            {task
                .failure
                .clone()
                .map(|failure| {
                    view! {
                        <p class="error" role="alert">
                            {failure}
                        </p>
                    }
                })}
            {task
                .upstream_link
                .clone()
                .filter(|(url, _)| is_web_link(url))
                .map(|(url, expires)| {
                    view! {
                        <p class="hint">
                            "Saving the result into Kinema. Until then it is at "
                            <a href=url>"EvoLink's link"</a>", which works until "
                            {utc_datetime(expires)} "."
                        </p>
                    }
                })}
            {task
                .result_ready
                .then(|| {
                    view! {
                        <video
                            class="result"
                            controls
                            preload="metadata"
                            src=result_url.clone()
                            aria-label="Result video"
                        ></video>
                        <p>
                            <a href=result_url.clone() download=format!("kinema-{}.mp4", task.id)>
                                "Download"
                            </a>
                        </p>
                    }
                })}
            <dl class="facts">
                <dt>"Quality"</dt>
                <dd>{task.quality.map(Quality::as_str).unwrap_or_default()}</dd>
                <dt>"Orientation"</dt>
                <dd>{task.orientation.map(Orientation::label).unwrap_or_default()}</dd>
                <dt>"Original sound"</dt>
                <dd>{if task.keep_sound { "Kept" } else { "Removed" }}</dd>
                <dt>"Character element"</dt>
                <dd class="element-used">
                    {task.element.clone().map(|(_, name)| name).unwrap_or_else(|| "None".into())}
                </dd>
                <dt>"Prompt"</dt>
                <dd>
                    {if task.prompt.is_empty() { "—".to_string() } else { task.prompt.clone() }}
                </dd>
                <dt>"Cost"</dt>
                <dd>{cost}</dd>
                <dt>"Output"</dt>
                <dd>
                    {task.output_seconds.map(|s| format!("{s} s")).unwrap_or_else(|| "—".into())}
                </dd>
                <dt>"Created"</dt>
                <dd>{utc_datetime(task.created_at)}</dd>
                <dt>"Finished"</dt>
                <dd>{task.finished_at.map(utc_datetime).unwrap_or_else(|| "—".into())}</dd>
            </dl>
            <div class="inputs-row">
                {task
                    .image_upload_id
                    .clone()
                    .map(|upload| {
                        view! {
                            <img
                                class="thumb"
                                src=format!("/api/uploads/{upload}/file")
                                alt="Character image"
                            />
                        }
                    })}
                {task
                    .video_upload_id
                    .clone()
                    .map(|upload| {
                        view! {
                            <video
                                class="thumb"
                                src=format!("/api/uploads/{upload}/file")
                                preload="metadata"
                                muted
                                aria-label="Motion video"
                            ></video>
                        }
                    })}
            </div>
            <div class="actions">
                <A href=again_url>"Run again"</A>
                <A href="/history">"All tasks"</A>
                {finished
                    .then(|| {
                        view! {
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=id.clone() />
                                <button type="submit" class="small danger">
                                    "Delete"
                                </button>
                            </ActionForm>
                        }
                    })}
            </div>
            <ErrorNote value=delete.value() />
            {shareable.then(move || view! { <ShareTask task_id=share_id /> })}
        </section>
    }
    .into_any()
}
