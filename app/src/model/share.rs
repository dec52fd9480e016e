//! Share links as their owner (or an admin) sees them.

use serde::{Deserialize, Serialize};

use crate::rules::share::ShareStatus;

/// A share link without its token (only its hash is kept, so it cannot be shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLinkView {
    pub id: i64,
    /// The shared task (for its owner's and admins' lists; never on the shared page).
    pub task_id: String,
    /// The owner's username (admins see everyone's links).
    pub owner: String,
    /// Unix seconds.
    pub created_at: i64,
    /// `None`: until revoked.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub status: ShareStatus,
}

/// A link just made: the only time its path (with the token) is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewShareLinkView {
    /// `/s/…`; the page adds its own origin, so the link works behind a proxy as it is seen.
    pub path: String,
    pub view: ShareLinkView,
}
