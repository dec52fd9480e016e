//! The member's history: counts, filters, pages, live updates.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::api::motion::list_tasks;
use crate::components::credits::credits_text;
use crate::components::{live::task_changes, signed_in::SignedIn};
use crate::model::TaskView;
use crate::rules::{
    format::utc_datetime,
    pricing::format_credits,
    vocab::{Orientation, Quality, StatusFilter},
};

/// History; signed-in members only.
#[component]
pub fn HistoryPage() -> impl IntoView {
    view! {
        <Title text="History · Kinema" />
        <SignedIn children=|_user| view! { <History /> } />
    }
}

fn link(status: Option<StatusFilter>, quality: Option<Quality>, page: i64) -> String {
    let mut parts = vec![format!("page={page}")];
    if let Some(status) = status {
        parts.push(format!("status={status}"));
    }
    if let Some(quality) = quality {
        parts.push(format!("quality={quality}"));
    }
    format!("/history?{}", parts.join("&"))
}

#[component]
fn History() -> impl IntoView {
    let query = use_query_map();
    let changes = task_changes(None);
    let filters = move || {
        query.with(|q| {
            (
                q.get("page")
                    .and_then(|p| p.parse::<i64>().ok())
                    .unwrap_or(1)
                    .max(1),
                q.get("status").as_deref().and_then(StatusFilter::parse),
                q.get("quality").as_deref().and_then(Quality::parse),
            )
        })
    };
    let page = Resource::new(
        move || (filters(), changes.get()),
        |((page, status, quality), _)| {
            list_tasks(
                page,
                status.map(|s| s.as_str().to_string()),
                quality.map(|q| q.as_str().to_string()),
            )
        },
    );
    view! {
        <section class="card">
            <h1>"History"</h1>
            <Transition fallback=|| {
                view! { <p>"Loading…"</p> }
            }>
                {move || Suspend::new(async move {
                    let (number, status, quality) = filters();
                    match page.await {
                        Ok(page) => {
                            view! {
                                {(page.running > 0)
                                    .then(|| {
                                        view! {
                                            <noscript>
                                                <meta http-equiv="refresh" content="5" />
                                            </noscript>
                                        }
                                    })}
                                <p class="counts">
                                    {format!(
                                        "{} running · {} completed · {} failed",
                                        page.running,
                                        page.completed,
                                        page.failed,
                                    )}
                                </p>
                                <nav class="filters" aria-label="Filters">
                                    <A href=link(None, quality, 1)>"All"</A>
                                    <A href=link(
                                        Some(StatusFilter::Running),
                                        quality,
                                        1,
                                    )>"Running"</A>
                                    <A href=link(
                                        Some(StatusFilter::Completed),
                                        quality,
                                        1,
                                    )>"Completed"</A>
                                    <A href=link(
                                        Some(StatusFilter::Failed),
                                        quality,
                                        1,
                                    )>"Failed"</A>
                                    <span>"·"</span>
                                    <A href=link(status, None, 1)>"Any quality"</A>
                                    <A href=link(status, Some(Quality::P720), 1)>"720p"</A>
                                    <A href=link(status, Some(Quality::P1080), 1)>"1080p"</A>
                                </nav>
                                {if page.items.is_empty() {
                                    view! {
                                        <p>
                                            "Nothing here yet. " <A href="/">"Make your first video"</A>
                                        </p>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <ul class="history">
                                            {page
                                                .items
                                                .into_iter()
                                                .map(|task| view! { <HistoryItem task /> })
                                                .collect_view()}
                                        </ul>
                                    }
                                        .into_any()
                                }}
                                <nav class="pages" aria-label="Pages">
                                    {(number > 1)
                                        .then(|| {
                                            view! {
                                                <A href=link(status, quality, number - 1)>"Newer"</A>
                                            }
                                        })}
                                    {page
                                        .has_more
                                        .then(|| {
                                            view! {
                                                <A href=link(status, quality, number + 1)>"Older"</A>
                                            }
                                        })}
                                </nav>
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

#[component]
fn HistoryItem(task: TaskView) -> impl IntoView {
    // A plain `<a>` (the router still navigates in place): a row needs no "current page"
    // tracking, and twenty `A`s cost every render their reactive nodes.
    let href = format!("/tasks/{}", task.id);
    let preview = task
        .image_upload_id
        .clone()
        .map(|id| format!("/api/uploads/{id}/file"));
    let cost = match task.cost_final {
        Some(final_cost) => format!(
            "reserved {} · final {}",
            format_credits(task.cost_reserved),
            credits_text(final_cost)
        ),
        None => format!("reserved {}", credits_text(task.cost_reserved)),
    };
    let status = if task.is_final() {
        task.status_label.clone()
    } else {
        format!("{} · {}%", task.status_label, task.progress)
    };
    view! {
        <li class=format!(
            "history-item status-{}",
            task.state,
        )>
            {preview.map(|src| view! { <img class="thumb" src=src alt="" /> })} <div>
                <a href=href>
                    {format!(
                        "{} · {}",
                        task.quality.map(Quality::as_str).unwrap_or_default(),
                        task.orientation.map(Orientation::label).unwrap_or_default(),
                    )}
                </a>
                <p class="status">{status}</p>
                {task
                    .api_token
                    .clone()
                    .map(|name| {
                        view! { <p class="hint api-token-used">{format!("API · {name}")}</p> }
                    })}
                {task
                    .element
                    .clone()
                    .map(|(_, name)| view! { <p class="hint element-used">"Element: " {name}</p> })}
                {task.failure.clone().map(|f| view! { <p class="error small-text">{f}</p> })}
                <p class="hint">
                    {format!("{cost} · created {}", utc_datetime(task.created_at))}
                    {task.finished_at.map(|t| format!(" · finished {}", utc_datetime(t)))}
                    {task.output_seconds.map(|s| format!(" · {s} s"))}
                </p>
            </div>
        </li>
    }
}
