//! `GET /api/events`: server-sent events naming the signed-in member's tasks as they change.

use std::{convert::Infallible, time::Duration};

use axum::{
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    Extension,
};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use app::backend::AppState;

use super::RequireUser;

/// Streams `task` events (data: the task id) for the member's own tasks only.
pub async fn task_events(
    Extension(state): Extension<AppState>,
    RequireUser(user): RequireUser,
) -> Response {
    let receiver = state.subscribe_tasks();
    let events = stream::unfold((receiver, user.id), |(mut receiver, owner)| async move {
        loop {
            match receiver.recv().await {
                Ok(event) if event.owner_id == owner => {
                    let item: Result<Event, Infallible> =
                        Ok(Event::default().event("task").data(event.task_id));
                    return Some((item, (receiver, owner)));
                }
                Ok(_) => continue,
                // Missed some: tell the page to refresh everything.
                Err(RecvError::Lagged(_)) => {
                    let item: Result<Event, Infallible> =
                        Ok(Event::default().event("task").data("*"));
                    return Some((item, (receiver, owner)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    sse(events).into_response()
}

fn sse<S: Stream<Item = Result<Event, Infallible>> + Send + 'static>(
    events: S,
) -> impl IntoResponse {
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
