//! `GET /api/events`: server-sent events naming the signed-in member's tasks as they change.
//! Streams are capped per member and in all, and end when the server stops.

use std::{convert::Infallible, time::Duration};

use axum::{
    http::StatusCode,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Extension,
};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use app::backend::AppState;

use super::{
    event_slots::{EventSlots, NoSlot},
    RequireUser, RouteError,
};
use crate::serve::Stopping;

/// How long a browser waits before reconnecting a dropped live-update stream.
const RECONNECT_AFTER: Duration = Duration::from_secs(3);

/// Streams `task` events (data: the task id) for the member's own tasks only.
pub async fn task_events(
    Extension(state): Extension<AppState>,
    Extension(slots): Extension<EventSlots>,
    Extension(stopping): Extension<Stopping>,
    RequireUser(user): RequireUser,
) -> Result<Response, RouteError> {
    let slot = slots.take(user.id).map_err(refusal)?;
    let receiver = state.subscribe_tasks();
    // The slot lives in the stream's state: it is freed when the stream is dropped.
    let events = stream::unfold(
        (receiver, user.id, slot),
        |(mut receiver, owner, slot)| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) if event.owner_id == owner => {
                        let item: Result<Event, Infallible> =
                            Ok(Event::default().event("task").data(event.task_id));
                        return Some((item, (receiver, owner, slot)));
                    }
                    Ok(_) => continue,
                    // Missed some: tell the page to refresh everything.
                    Err(RecvError::Lagged(_)) => {
                        let item: Result<Event, Infallible> =
                            Ok(Event::default().event("task").data("*"));
                        return Some((item, (receiver, owner, slot)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    )
    .take_until(stopping.wait());
    // The first bytes go out at once: proxies (nginx over HTTP/2) hold the headers until a body
    // arrives, and the browser's EventSource counts as open (and refreshes after a reconnect)
    // only once they do. `retry` is the browser's reconnect delay.
    let opened = stream::once(async {
        Ok::<Event, Infallible>(Event::default().retry(RECONNECT_AFTER).comment("connected"))
    });
    Ok(sse(opened.chain(events)).into_response())
}

fn refusal(no_slot: NoSlot) -> RouteError {
    match no_slot {
        NoSlot::MemberFull(limit) => RouteError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "You already have {limit} Kinema pages open with live updates. Close one and \
                 reload this page to see updates here."
            ),
        ),
        NoSlot::ServerFull => RouteError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Kinema has too many pages with live updates open right now. Reload this page in a \
             minute to see updates here.",
        ),
    }
}

fn sse<S: Stream<Item = Result<Event, Infallible>> + Send + 'static>(
    events: S,
) -> impl IntoResponse {
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
