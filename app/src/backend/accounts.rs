//! Users, roles, invites and signing in.

use std::net::IpAddr;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{
    audit::{self, Actor, Origin},
    now_unix, sign_in_methods,
    store::{NewInvite, NewUser, UserRecord},
    throttle, AppState, BackendError,
};
use crate::model::{InviteInfo, InviteView, Role};
use crate::rules::accounts as rules;
use crate::rules::audit::AuditAction;

/// The message for any failed sign-in: it never tells whether the account exists.
pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// Validated fields of a new account.
pub struct AccountForm {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

impl AccountForm {
    /// Normalises and checks the submitted fields with the shared rules.
    pub fn parse(
        username: &str,
        display_name: &str,
        password: &str,
        confirm: &str,
    ) -> Result<AccountForm, BackendError> {
        let username = rules::normalize_username(username);
        rules::check_username(&username).map_err(BackendError::Invalid)?;
        rules::check_display_name(display_name).map_err(BackendError::Invalid)?;
        rules::check_new_password(password, confirm).map_err(BackendError::Invalid)?;
        Ok(AccountForm {
            username,
            display_name: display_name.trim().to_string(),
            password: password.to_string(),
        })
    }
}

fn taken_or(err: BackendError, username: &str) -> BackendError {
    if err.is_unique_violation() {
        BackendError::Invalid(format!(
            "The username '{username}' is taken; choose another."
        ))
    } else {
        err
    }
}

/// Creates the first admin; refused once an admin exists.
pub async fn create_first_admin(
    state: &AppState,
    form: AccountForm,
) -> Result<UserRecord, BackendError> {
    if !state.needs_setup().await? {
        return Err(BackendError::Invalid(
            "Kinema is already set up; sign in instead.".into(),
        ));
    }
    let hash = state.passwords().hash(form.password).await?;
    let created = state
        .store()
        .create_first_admin(&NewUser {
            username: &form.username,
            display_name: &form.display_name,
            password_hash: &hash,
            role: Role::Admin,
            created_at: now_unix(),
        })
        .await
        .map_err(|err| taken_or(err, &form.username))?;
    created
        .ok_or_else(|| BackendError::Invalid("Kinema is already set up; sign in instead.".into()))
}

/// Creates an admin without the first-run restriction (the headless `create-admin` command).
pub async fn create_admin(state: &AppState, form: AccountForm) -> Result<UserRecord, BackendError> {
    let hash = state.passwords().hash(form.password).await?;
    state
        .store()
        .create_user(&NewUser {
            username: &form.username,
            display_name: &form.display_name,
            password_hash: &hash,
            role: Role::Admin,
            created_at: now_unix(),
        })
        .await
        .map_err(|err| taken_or(err, &form.username))
}

/// Sets a new password for an account and ends all its sessions (the headless
/// `reset-password` command).
pub async fn reset_password(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(), BackendError> {
    rules::check_new_password(password, password).map_err(BackendError::Invalid)?;
    let username = rules::normalize_username(username);
    let user = state
        .store()
        .user_by_username(&username)
        .await?
        .ok_or_else(|| BackendError::Invalid(format!("There is no account '{username}'.")))?;
    let hash = state.passwords().hash(password.to_string()).await?;
    state.store().set_password_hash(user.id, &hash).await?;
    Ok(())
}

/// How a sign-in's audit entry names the password method.
pub const PASSWORD_METHOD: &str = "password";

/// Records a sign-in's outcome in the audit log: the member when it succeeded, else the name
/// that was tried (with why it failed, for admins' eyes).
pub async fn audit_sign_in(
    state: &AppState,
    origin: &Origin,
    outcome: Result<&UserRecord, (&str, &str)>,
    method: &str,
) -> Result<(), BackendError> {
    let at_ms = state.clock().now_ms();
    let entry = match outcome {
        Ok(user) => Actor::member(user, origin).entry(
            AuditAction::SignInSucceeded,
            user.username.clone(),
            method,
            at_ms,
        ),
        Err((tried, why)) => Actor::unknown(tried, origin).entry(
            AuditAction::SignInFailed,
            tried.chars().take(200).collect::<String>(),
            format!("{method}: {why}"),
            at_ms,
        ),
    };
    audit::record(state, &entry).await
}

/// Checks a sign-in attempt. The attempt is counted against the account's and the address's
/// budgets before the password is checked (refused at once when either is used up), and the
/// check of an unknown account costs the same as that of a real one. A checked attempt is
/// recorded in the audit log (refusals of the throttle are not: they are bounded by it only
/// in count, and write nothing else).
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    origin: &Origin,
) -> Result<UserRecord, BackendError> {
    // Switched off, passwords are refused before anything is counted or checked.
    sign_in_methods::require_password_sign_in(state).await?;
    let address: Option<IpAddr> = origin.address;
    let username = rules::normalize_username(username);
    let attempt = throttle::reserve(state.store(), &username, address, now_unix()).await?;
    let user = state.store().user_by_username(&username).await?;
    let passwords = state.passwords();
    let matches = match &user {
        Some(user) => {
            passwords
                .verify(password.to_string(), user.password_hash.clone())
                .await?
        }
        None => passwords.verify_unknown(password.to_string()).await?,
    };
    match user {
        Some(user) if matches && !user.disabled => {
            throttle::succeeded(state.store(), attempt, now_unix()).await?;
            audit_sign_in(state, origin, Ok(&user), PASSWORD_METHOD).await?;
            Ok(user)
        }
        user => {
            let why = match user {
                None => "no such account",
                Some(user) if user.disabled => "account disabled",
                Some(_) => "wrong password",
            };
            audit_sign_in(state, origin, Err((&username, why)), PASSWORD_METHOD).await?;
            Err(BackendError::Invalid(WRONG_CREDENTIALS.into()))
        }
    }
}

/// Creates a single-use invite link valid for `hours`.
pub async fn create_invite(
    state: &AppState,
    admin: &Actor,
    admin_id: i64,
    role: Role,
    hours: i64,
    email: &str,
) -> Result<InviteView, BackendError> {
    rules::check_invite_hours(hours).map_err(BackendError::Invalid)?;
    let email = email.trim().to_lowercase();
    if !email.is_empty()
        && (email.len() > 254 || !email.contains('@') || email.contains(char::is_whitespace))
    {
        return Err(BackendError::Invalid(format!(
            "'{email}' is not an email address; leave it empty or give the one the person signs in with."
        )));
    }
    let email = Some(email).filter(|email| !email.is_empty());
    let token = random_token();
    let now = now_unix();
    let expires_at = now + hours * 3600;
    let id = state
        .store()
        .create_invite(
            &NewInvite {
                token_hash: &token_hash(&token),
                role: role.as_str(),
                created_by: admin_id,
                created_at: now,
                expires_at,
                email: email.as_deref(),
            },
            &admin.entry(
                AuditAction::MemberInvited,
                "",
                match &email {
                    Some(email) => format!("{}, valid for {hours} h, for {email}", role.as_str()),
                    None => format!("{}, valid for {hours} h", role.as_str()),
                },
                state.clock().now_ms(),
            ),
        )
        .await?;
    Ok(InviteView {
        id,
        role,
        expires_at,
        used_by: None,
        revoked: false,
        link: Some(format!("{}/invite/{token}", state.public_url())),
    })
}

/// The newest invites.
pub async fn list_invites(state: &AppState) -> Result<Vec<InviteView>, BackendError> {
    let rows = state.store().list_invites(100).await?;
    Ok(rows
        .into_iter()
        .map(|row| InviteView {
            id: row.id,
            role: Role::parse(&row.role).unwrap_or(Role::Member),
            expires_at: row.expires_at,
            used_by: row.used_by_name,
            revoked: row.revoked_at.is_some(),
            link: None,
        })
        .collect())
}

/// What the invite page shows; a plain message when the link is unknown, used or expired.
pub async fn invite_info(state: &AppState, token: &str) -> Result<InviteInfo, BackendError> {
    let invite = state
        .store()
        .invite_by_token_hash(&token_hash(token))
        .await?
        .ok_or_else(invite_unusable)?;
    if invite.used_at.is_some() || invite.revoked_at.is_some() || invite.expires_at <= now_unix() {
        return Err(invite_unusable());
    }
    Ok(InviteInfo {
        role: Role::parse(&invite.role).unwrap_or(Role::Member),
        invited_by: invite.created_by_name,
        expires_at: invite.expires_at,
    })
}

/// Creates the invitee's account and uses up the invite, in one transaction.
pub async fn accept_invite(
    state: &AppState,
    token: &str,
    form: AccountForm,
    origin: &Origin,
) -> Result<UserRecord, BackendError> {
    invite_info(state, token).await?;
    // A password account could not sign in again while passwords are switched off.
    sign_in_methods::require_password_sign_in(state).await?;
    let hash = state.passwords().hash(form.password).await?;
    let created = state
        .store()
        .accept_invite(
            &token_hash(token),
            &NewUser {
                username: &form.username,
                display_name: &form.display_name,
                password_hash: &hash,
                role: Role::Member,
                created_at: now_unix(),
            },
            now_unix(),
            &Actor::unknown(&form.username, origin).entry(
                AuditAction::MemberJoined,
                "",
                "",
                state.clock().now_ms(),
            ),
        )
        .await
        .map_err(|err| taken_or(err, &form.username))?;
    created.ok_or_else(invite_unusable)
}

/// Disables or re-enables a member. Admins cannot disable themselves.
pub async fn set_disabled(
    state: &AppState,
    admin: &UserRecord,
    origin: &Origin,
    user_id: i64,
    disabled: bool,
) -> Result<(), BackendError> {
    if admin.id == user_id && disabled {
        return Err(BackendError::Invalid(
            "You cannot disable your own account.".into(),
        ));
    }
    let member = state
        .store()
        .user_by_id(user_id)
        .await?
        .ok_or(BackendError::NotFound)?;
    let action = if disabled {
        AuditAction::MemberDisabled
    } else {
        AuditAction::MemberEnabled
    };
    let entry =
        Actor::member(admin, origin).entry(action, member.username, "", state.clock().now_ms());
    if !state
        .store()
        .set_user_disabled(user_id, disabled, now_unix(), &entry)
        .await?
    {
        return Err(BackendError::NotFound);
    }
    Ok(())
}

/// Revokes an invite that was not used yet, so its link stops working at once.
pub async fn revoke_invite(
    state: &AppState,
    admin: &Actor,
    invite_id: i64,
) -> Result<(), BackendError> {
    let entry = admin.entry(
        AuditAction::InviteRevoked,
        format!("invite {invite_id}"),
        "",
        state.clock().now_ms(),
    );
    if state
        .store()
        .revoke_invite(invite_id, now_unix(), &entry)
        .await?
    {
        Ok(())
    } else {
        Err(BackendError::Invalid(
            "This invite cannot be revoked: it was already used or revoked, or does not exist."
                .into(),
        ))
    }
}

fn invite_unusable() -> BackendError {
    BackendError::Invalid(
        "This invite link is not valid: it was already used, revoked, has expired or was mistyped. Ask your admin for a new one."
            .into(),
    )
}

/// A random URL-safe token with 256 bits of entropy.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
