//! Personal API tokens as their owner (or an admin) sees them.

use serde::{Deserialize, Serialize};

use crate::rules::vocab::TokenScope;

/// A token without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: i64,
    /// The owner's username (admins see everyone's tokens).
    pub owner: String,
    pub name: String,
    /// The token's first characters, e.g. `kin_AbC1dE2f`.
    pub prefix: String,
    pub scope: TokenScope,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// False once revoked or expired.
    pub usable: bool,
}

/// A token just created: the only time its full text is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiTokenView {
    /// The whole token (`kin_…`); never stored, never shown again.
    pub token: String,
    pub view: ApiTokenView,
}
