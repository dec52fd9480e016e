//! Typed session data: what Kinema keeps in a member's session, under constant keys.

use tower_sessions::Session;

use super::BackendError;

const USER_ID_KEY: &str = "kinema.user_id";

/// Marks the session as signed in as `user_id`, with a fresh session id (prevents fixation).
pub async fn sign_in(session: &Session, user_id: i64) -> Result<(), BackendError> {
    session.cycle_id().await.map_err(internal)?;
    session.insert(USER_ID_KEY, user_id).await.map_err(internal)
}

/// The signed-in member's id, if any.
pub async fn user_id(session: &Session) -> Result<Option<i64>, BackendError> {
    session.get::<i64>(USER_ID_KEY).await.map_err(internal)
}

/// Ends the session and deletes it from the store.
pub async fn sign_out(session: &Session) -> Result<(), BackendError> {
    session.flush().await.map_err(internal)
}

fn internal(err: tower_sessions::session::Error) -> BackendError {
    BackendError::Internal(format!("session store: {err}"))
}
