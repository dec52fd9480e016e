//! Typed session data: what Kinema keeps in a member's session, under constant keys.

use tower_sessions::Session;

use super::BackendError;

use super::store::UserRecord;

const USER_ID_KEY: &str = "kinema.user_id";
const EPOCH_KEY: &str = "kinema.session_epoch";
const TOUCHED_KEY: &str = "kinema.touched_at_ms";

/// How often an active session is written back to extend its expiry. Sessions expire after a
/// time without activity, but the store only learns of activity when the session is saved, and
/// saving on every request would cost a write per page; once a day keeps an active member
/// signed in for good at one write a day.
pub const REFRESH_EVERY_MS: i64 = 24 * 60 * 60 * 1000;

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

/// Marks an active session to be saved (extending its expiry) when it was last written more
/// than [`REFRESH_EVERY_MS`] ago, or never since sign-in; true when it did.
pub async fn keep_alive(session: &Session, now_ms: i64) -> Result<bool, BackendError> {
    let touched = session.get::<i64>(TOUCHED_KEY).await.map_err(internal)?;
    if touched.is_some_and(|at| now_ms.saturating_sub(at) < REFRESH_EVERY_MS) {
        return Ok(false);
    }
    session
        .insert(TOUCHED_KEY, now_ms)
        .await
        .map_err(internal)?;
    Ok(true)
}

/// Ends the session and deletes it from the store.
pub async fn sign_out(session: &Session) -> Result<(), BackendError> {
    session.flush().await.map_err(internal)
}

fn internal(err: tower_sessions::session::Error) -> BackendError {
    BackendError::Internal(format!("session store: {err}"))
}
