//! Personal API tokens: `kin_` and 32 random bytes (URL-safe base64), shown once, stored as their
//! SHA-256. A token acts for its owner on the gateway only, and only while the owner is enabled:
//! it never opens a session and never reaches an admin function.

use base64::Engine as _;
use rand::RngCore;

use super::{
    accounts::token_hash,
    audit::Actor,
    store::{ApiTokenRecord, NewApiToken, UserRecord},
    AppState, BackendError,
};
use crate::model::{ApiTokenView, NewApiTokenView, Role};
use crate::rules::{audit::AuditAction, vocab::TokenScope};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "kin_";
/// How many characters of a token are kept to tell it apart (`kin_` and 8 more).
pub const SHOWN_PREFIX_CHARS: usize = 12;
/// The longest token name.
pub const NAME_MAX_CHARS: usize = 60;
/// The longest expiry, in days.
pub const EXPIRY_MAX_DAYS: i64 = 3650;

/// A fresh token's text.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The view of a token row.
pub fn token_view(record: &ApiTokenRecord, now: i64) -> ApiTokenView {
    ApiTokenView {
        id: record.id,
        owner: record.owner_username.clone(),
        name: record.name.clone(),
        prefix: record.prefix.clone(),
        scope: record.scope,
        created_at: record.created_at,
        last_used_at: record.last_used_at,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
        usable: record.usable_at(now),
    }
}

fn invalid(message: impl Into<String>) -> BackendError {
    BackendError::Invalid(message.into())
}

/// Creates a token for `owner`: `name` (required), `scope` (empty for full access) and an
/// expiry in days (empty for none). The answer holds the token's text, which is not kept.
/// `actor`'s `token_created` entry (target: the token's prefix) names the new token.
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    owner: &UserRecord,
    name: &str,
    scope: &str,
    expires_in_days: &str,
) -> Result<NewApiTokenView, BackendError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(
            "Give the token a name, e.g. the script that uses it.",
        ));
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "A token name is at most {NAME_MAX_CHARS} characters of plain text."
        )));
    }
    let scope = match scope.trim() {
        "" => TokenScope::Full,
        word => TokenScope::parse(word).ok_or_else(|| {
            invalid("Choose a scope: full access, motion control, elements or read-only.")
        })?,
    };
    let now_ms = state.clock().now_ms();
    let now = now_ms.div_euclid(1000);
    let expiry = expires_in_days.trim();
    let expires_at = match expiry {
        "" => None,
        days => match days.parse::<i64>() {
            Ok(days) if (1..=EXPIRY_MAX_DAYS).contains(&days) => Some(now + days * 86_400),
            _ => {
                return Err(invalid(format!(
                    "The expiry is a number of days from 1 to {EXPIRY_MAX_DAYS}, or empty for none."
                )))
            }
        },
    };
    let token = new_token();
    let prefix = &token[..SHOWN_PREFIX_CHARS];
    let expiry = match expires_at {
        None => "no expiry".to_string(),
        Some(_) => format!("expires in {expiry} days"),
    };
    let entry = actor.entry(
        AuditAction::TokenCreated,
        prefix,
        format!(
            "\"{name}\" for {}, {}, {expiry}",
            owner.username,
            scope.label().to_lowercase()
        ),
        now_ms,
    );
    let record = state
        .store()
        .insert_api_token(
            &NewApiToken {
                owner_id: owner.id,
                name,
                prefix,
                token_hash: &token_hash(&token),
                scope,
                created_at: now,
                expires_at,
            },
            &entry,
        )
        .await?;
    Ok(NewApiTokenView {
        token,
        view: token_view(&record, now),
    })
}

/// The viewer's tokens, newest first; an admin sees every member's.
pub async fn list_tokens(
    state: &AppState,
    viewer: &UserRecord,
) -> Result<Vec<ApiTokenView>, BackendError> {
    let owner = (viewer.role() != Role::Admin).then_some(viewer.id);
    let now = state.clock().now();
    Ok(state
        .store()
        .api_tokens(owner)
        .await?
        .iter()
        .map(|record| token_view(record, now))
        .collect())
}

/// Revokes a token of the viewer's own, or any token for an admin. Takes effect at once, with
/// `actor`'s `token_revoked` entry (target: the token's prefix) naming the token. Revoking it
/// again is fine and records nothing; someone else's token reads as absent.
pub async fn revoke_token(
    state: &AppState,
    actor: &Actor,
    viewer: &UserRecord,
    id: i64,
) -> Result<(), BackendError> {
    let owner = (viewer.role() != Role::Admin).then_some(viewer.id);
    let token = state
        .store()
        .api_token_by_id(id)
        .await?
        .filter(|token| owner.is_none_or(|owner| owner == token.owner_id))
        .ok_or(BackendError::NotFound)?;
    let now_ms = state.clock().now_ms();
    let mut entry = actor.entry(
        AuditAction::TokenRevoked,
        token.prefix.clone(),
        format!("\"{}\" of {}", token.name, token.owner_username),
        now_ms,
    );
    entry.token_id = Some(token.id);
    state
        .store()
        .revoke_api_token(id, owner, now_ms.div_euclid(1000), &entry)
        .await?;
    Ok(())
}

/// Why a bearer token was not accepted (all answer 401, in the same words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No `Authorization: Bearer kin_…` header.
    Missing,
    /// Unknown, revoked or expired.
    Invalid,
    /// The owner is disabled (or gone).
    OwnerDisabled,
}

/// The member and token a bearer token stands for, checked on every request: the token must
/// be known, not revoked, not expired, and its owner enabled (read afresh each time, so
/// revoking or disabling takes effect at once).
pub async fn authenticate(
    state: &AppState,
    bearer: Option<&str>,
) -> Result<Result<(UserRecord, ApiTokenRecord), TokenRefusal>, BackendError> {
    let Some(token) = bearer.filter(|token| token.starts_with(TOKEN_PREFIX)) else {
        return Ok(Err(TokenRefusal::Missing));
    };
    let store = state.store();
    let Some(record) = store.api_token_by_hash(&token_hash(token)).await? else {
        return Ok(Err(TokenRefusal::Invalid));
    };
    let now = state.clock().now();
    if !record.usable_at(now) {
        return Ok(Err(TokenRefusal::Invalid));
    }
    match store.user_by_id(record.owner_id).await? {
        Some(user) if !user.disabled => {
            store.touch_api_token(record.id, now).await?;
            Ok(Ok((user, record)))
        }
        _ => Ok(Err(TokenRefusal::OwnerDisabled)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kin_and_43_url_safe_characters() {
        let token = new_token();
        assert!(token.starts_with("kin_"));
        assert_eq!(token.len(), 4 + 43);
        assert!(token[4..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(token, new_token());
    }
}
