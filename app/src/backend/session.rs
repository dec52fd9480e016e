//! Typed session data: what Kinema keeps in a member's session, under constant keys.

use tower_sessions::Session;

use super::BackendError;

use super::store::UserRecord;

const USER_ID_KEY: &str = "kinema.user_id";
const EPOCH_KEY: &str = "kinema.session_epoch";

/// Marks the session as signed in as `user`, with a fresh session id (prevents fixation), under
/// the user's current session epoch.
pub async fn sign_in(session: &Session, user: &UserRecord) -> Result<(), BackendError> {
    session.cycle_id().await.map_err(internal)?;
    session
        .insert(USER_ID_KEY, user.id)
        .await
        .map_err(internal)?;
    session
        .insert(EPOCH_KEY, user.session_epoch)
        .await
        .map_err(internal)
}

/// The signed-in member's id, if any.
pub async fn user_id(session: &Session) -> Result<Option<i64>, BackendError> {
    session.get::<i64>(USER_ID_KEY).await.map_err(internal)
}

/// True when the session was signed in under `user`'s current epoch (sessions from before
/// epochs existed count as epoch 0).
pub async fn is_current(session: &Session, user: &UserRecord) -> Result<bool, BackendError> {
    let epoch = session.get::<i64>(EPOCH_KEY).await.map_err(internal)?;
    Ok(epoch.unwrap_or(0) == user.session_epoch)
}

/// Ends the session and deletes it from the store.
pub async fn sign_out(session: &Session) -> Result<(), BackendError> {
    session.flush().await.map_err(internal)
}

fn internal(err: tower_sessions::session::Error) -> BackendError {
    BackendError::Internal(format!("session store: {err}"))
}
