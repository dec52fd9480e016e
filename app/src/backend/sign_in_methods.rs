//! Which ways of signing in the team allows. Password sign-in is on unless an admin switched
//! it off, which is allowed only while single sign-on is configured and at least one enabled
//! admin signs in through the provider (else no admin could sign in any more). The switch
//! applies only while single sign-on is configured: removing the provider's settings turns
//! passwords back on, and `kinema-server allow-password-sign-in` does so with the provider
//! still set up (the recovery path for a team locked out of its provider).
//!
//! Also here: a single sign-on refusal is shown on the sign-in page, carried there once in the
//! session.

use tower_sessions::Session;

use super::{audit::Actor, now_unix, AppState, BackendError};
use crate::model::SignInSettings;
use crate::rules::audit::AuditAction;

const REFUSAL_KEY: &str = "kinema.sign_in_refusal";

/// The audit entry's target for the switch.
pub const PASSWORD_SIGN_IN_TARGET: &str = "password sign-in";

/// Whether passwords are accepted now.
pub async fn password_sign_in(state: &AppState) -> Result<bool, BackendError> {
    match state.oidc() {
        None => Ok(true),
        Some(_) => state.store().password_sign_in_setting().await,
    }
}

/// Refuses with a plain message when passwords are switched off.
pub async fn require_password_sign_in(state: &AppState) -> Result<(), BackendError> {
    if password_sign_in(state).await? {
        return Ok(());
    }
    let provider = state
        .oidc()
        .map(|oidc| oidc.provider_name().to_string())
        .unwrap_or_default();
    Err(BackendError::Invalid(format!(
        "Password sign-in is switched off for this team: sign in with {provider} instead."
    )))
}

/// The settings as the admin page shows them.
pub async fn settings(state: &AppState) -> Result<SignInSettings, BackendError> {
    let sso_admins = match state.oidc() {
        Some(oidc) => state.store().admins_signing_in_with(oidc.issuer()).await?,
        None => 0,
    };
    Ok(SignInSettings {
        sso_provider: state.oidc().map(|oidc| oidc.provider_name().to_string()),
        password_sign_in: password_sign_in(state).await?,
        sso_admins,
    })
}

/// Switches password sign-in on or off for an admin (recorded as a settings change).
pub async fn set_password_sign_in(
    state: &AppState,
    admin: &Actor,
    enabled: bool,
) -> Result<(), BackendError> {
    let Some(oidc) = state.oidc() else {
        return Err(BackendError::Invalid(
            "Password sign-in can be switched off only when single sign-on is set up (KINEMA_OIDC_ISSUER and the client settings).".into(),
        ));
    };
    if !enabled && state.store().admins_signing_in_with(oidc.issuer()).await? == 0 {
        return Err(BackendError::Invalid(format!(
            "Switch password sign-in off only once an admin has signed in with {}: otherwise no admin could sign in. Invite an admin for their email address (or set KINEMA_OIDC_ADMIN_GROUP) and have them sign in with {} first.",
            oidc.provider_name(),
            oidc.provider_name()
        )));
    }
    let entry = admin.entry(
        AuditAction::SettingsChanged,
        PASSWORD_SIGN_IN_TARGET,
        if enabled { "on" } else { "off" },
        state.clock().now_ms(),
    );
    state
        .store()
        .set_password_sign_in(enabled, now_unix(), &entry)
        .await
}

/// Remembers why a single sign-on was refused, for the sign-in page to show once.
pub async fn remember_refusal(session: &Session, message: &str) -> Result<(), BackendError> {
    session
        .insert(REFUSAL_KEY, message.to_string())
        .await
        .map_err(|err| BackendError::Internal(format!("session store: {err}")))
}

/// The refusal remembered by [`remember_refusal`], removed as it is read (the session is
/// written only when there was one).
pub async fn take_refusal(session: &Session) -> Result<Option<String>, BackendError> {
    let store_error = |err| BackendError::Internal(format!("session store: {err}"));
    let refusal: Option<String> = session.get(REFUSAL_KEY).await.map_err(store_error)?;
    if refusal.is_some() {
        session
            .remove::<String>(REFUSAL_KEY)
            .await
            .map_err(store_error)?;
    }
    Ok(refusal)
}
