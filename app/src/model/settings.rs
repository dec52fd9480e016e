//! The team's sign-in settings as the admin page shows them.

use serde::{Deserialize, Serialize};

/// How people sign in to this Kinema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInSettings {
    /// The identity provider's name when single sign-on is set up.
    pub sso_provider: Option<String>,
    /// Whether the password form is offered and accepted.
    pub password_sign_in: bool,
    /// Enabled admins who sign in through the provider: password sign-in can be switched off
    /// only when there is at least one.
    pub sso_admins: i64,
}
