//! Share links: a member hands out a view-only page of one completed task's result, for a
//! chosen span or until revoked. The link is `/s/` and 32 random bytes (URL-safe base64, 256
//! bits); only its SHA-256 is stored, and it names neither the member nor the task. Every
//! request of the page and its video reads the link afresh ([`open_link`]).

use base64::Engine as _;
use rand::RngCore;

use super::{
    accounts::token_hash,
    audit::Actor,
    store::{NewShareLink, ShareLinkRecord, SharedResult, UserRecord},
    AppState, BackendError,
};
use crate::model::{NewShareLinkView, Role, ShareLinkView};
use crate::rules::{
    audit::AuditAction,
    format::utc_datetime,
    share::{share_path, ShareExpiry, ShareStatus, EXPIRY_CHOICES},
    vocab::TaskState,
};

/// The longest text a token can be (43 characters for 32 bytes); longer paths are refused
/// before any hashing or database work.
pub const TOKEN_CHARS: usize = 43;

/// A fresh link token: 32 bytes from the OS, URL-safe base64 without padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// True when `text` could be a token at all (its length and alphabet).
fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The view of a link row at `now`.
pub fn link_view(record: &ShareLinkRecord, now: i64) -> ShareLinkView {
    ShareLinkView {
        id: record.id,
        task_id: record.task_id.clone(),
        owner: record.owner_username.clone(),
        created_at: record.created_at,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
        status: ShareStatus::at(now, record.expires_at, record.revoked_at),
    }
}

/// The members whose links `viewer` manages: their own, or (`None`) everyone's for an admin.
fn managed_owner(viewer: &UserRecord) -> Option<i64> {
    (viewer.role() != Role::Admin).then_some(viewer.id)
}

/// Makes a link to `task_id`, which must be `owner`'s own completed task with a saved result
/// (anything else reads as absent or is refused in words). `expiry` is one of the
/// [`ShareExpiry`] words. The answer holds the link's path, which is not kept.
pub async fn create_link(
    state: &AppState,
    actor: &Actor,
    owner: &UserRecord,
    task_id: &str,
    expiry: &str,
) -> Result<NewShareLinkView, BackendError> {
    let expiry = ShareExpiry::parse(expiry.trim())
        .ok_or_else(|| BackendError::Invalid(EXPIRY_CHOICES.into()))?;
    let task = state
        .store()
        .task_of_owner(task_id, owner.id)
        .await?
        .ok_or(BackendError::NotFound)?;
    if task.state != TaskState::Completed || task.result_key.is_none() {
        return Err(BackendError::Invalid(
            "Only a completed task with a saved result can be shared.".into(),
        ));
    }
    let now_ms = state.clock().now_ms();
    let now = now_ms.div_euclid(1000);
    let expires_at = expiry.expires_at(now);
    let detail = match expires_at {
        None => "until revoked".to_string(),
        Some(at) => format!("until {}", utc_datetime(at)),
    };
    let entry = actor.entry(AuditAction::ShareCreated, task.id.clone(), detail, now_ms);
    let token = new_token();
    let record = state
        .store()
        .insert_share_link(
            &NewShareLink {
                token_hash: &token_hash(&token),
                task_id: &task.id,
                owner_id: owner.id,
                created_at: now,
                expires_at,
            },
            &entry,
        )
        .await?;
    Ok(NewShareLinkView {
        path: share_path(&token),
        view: link_view(&record, now),
    })
}

/// The links `viewer` manages (their own; an admin's list holds everyone's), newest first,
/// of one task or (`None`) of all.
pub async fn list_links(
    state: &AppState,
    viewer: &UserRecord,
    task_id: Option<&str>,
) -> Result<Vec<ShareLinkView>, BackendError> {
    let now = state.clock().now();
    Ok(state
        .store()
        .share_links(managed_owner(viewer), task_id)
        .await?
        .iter()
        .map(|record| link_view(record, now))
        .collect())
}

/// Revokes a link of the viewer's own, or any link for an admin; the page and its video stop
/// at once. Revoking it again is fine and records nothing; someone else's link reads as
/// absent.
pub async fn revoke_link(
    state: &AppState,
    actor: &Actor,
    viewer: &UserRecord,
    id: i64,
) -> Result<(), BackendError> {
    let owner = managed_owner(viewer);
    let link = state
        .store()
        .share_link_by_id(id)
        .await?
        .filter(|link| owner.is_none_or(|owner| owner == link.owner_id))
        .ok_or(BackendError::NotFound)?;
    let now_ms = state.clock().now_ms();
    let entry = actor.entry(
        AuditAction::ShareRevoked,
        link.task_id.clone(),
        format!("link {} of {}", link.id, link.owner_username),
        now_ms,
    );
    state
        .store()
        .revoke_share_link(id, owner, now_ms.div_euclid(1000), &entry)
        .await?;
    Ok(())
}

/// What the link with `token` shows now, or `None` when it is unknown, revoked, expired, or
/// its task is gone.
pub async fn open_link(
    state: &AppState,
    token: &str,
) -> Result<Option<SharedResult>, BackendError> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    state
        .store()
        .shared_result(&token_hash(token), state.clock().now())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_in_43_url_safe_characters() {
        let token = new_token();
        assert!(looks_like_token(&token), "{token}");
        assert_ne!(token, new_token());
        assert!(!looks_like_token(&token[1..]));
        assert!(!looks_like_token(&format!("{}/", &token[1..])));
    }
}
