//! Serializable types that cross the wire between the browser and the server.

mod audit;
mod element;
mod error;
mod settings;
mod share;
mod tokens;
mod usage;

pub use audit::{AuditEntryView, AuditPage};
pub use element::{ElementForm, ElementView};
pub use error::AppError;
pub use settings::SignInSettings;
pub use share::{NewShareLinkView, ShareLinkView};
pub use tokens::{ApiTokenView, NewApiTokenView};
pub use usage::{
    BreakdownView, ChargeView, DayTotal, MemberUsageView, PriceDriftView, TeamUsageView, UsageView,
};

use serde::{Deserialize, Serialize};

use crate::rules::vocab::{Orientation, Quality, TaskKind, TaskState, UploadKind};

/// What a member may do in Kinema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages members, invites, budgets and the EvoLink connection.
    Admin,
    /// Uses the studio and sees their own work.
    Member,
}

impl Role {
    /// The name stored in the database and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Parses the stored or submitted name.
    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }
}

/// The signed-in member as the browser sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl UserView {
    /// Whether this member may use the admin pages.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What every page needs to know about the visitor and the installation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The signed-in member, if any.
    pub user: Option<UserView>,
    /// True until the first admin account exists.
    pub needs_setup: bool,
    /// True when no EvoLink key is configured and Kinema talks to its built-in simulator.
    pub sandbox: bool,
    /// Credits one US dollar buys, when the installation shows estimated dollars.
    pub credits_per_usd: Option<f64>,
    /// The identity provider's name when single sign-on is set up.
    #[serde(default)]
    pub sso_provider: Option<String>,
    /// Whether the password form is offered (an admin may switch it off once single sign-on
    /// works).
    pub password_sign_in: bool,
}

/// A member as the admin pages list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// An invite link as the admin pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub id: i64,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once someone accepted the invite.
    pub used_by: Option<String>,
    /// True once an admin revoked it (or its creator was disabled).
    pub revoked: bool,
    /// Only present right after creation: the token is stored hashed and cannot be shown again.
    pub link: Option<String>,
}

/// What the invite page shows before the invitee accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub role: Role,
    pub invited_by: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The result of "Check EvoLink connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvoLinkStatus {
    /// True when Kinema talks to its built-in simulator.
    pub sandbox: bool,
    /// True when EvoLink answered and accepted the key.
    pub ok: bool,
    /// What was found, in plain words.
    pub message: String,
    /// Remaining credits of the API key.
    pub token_remaining: Option<f64>,
    /// True when the key has no limit of its own.
    pub token_unlimited: bool,
    /// Remaining credits of the EvoLink account.
    pub account_remaining: Option<f64>,
}

/// What an upload is for; decides its size limit and the kind of media it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadPurpose {
    /// The character image of a motion task.
    CharacterImage,
    /// The motion reference video of a motion task.
    MotionVideo,
    /// The reference video of a custom element.
    ElementVideo,
    /// The frontal or an other-angle image of a custom element.
    ElementImage,
}

impl UploadPurpose {
    /// The name used in the upload URL.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadPurpose::CharacterImage => "character_image",
            UploadPurpose::MotionVideo => "motion_video",
            UploadPurpose::ElementVideo => "element_video",
            UploadPurpose::ElementImage => "element_image",
        }
    }

    /// Parses the name used in the upload URL.
    pub fn parse(value: &str) -> Option<UploadPurpose> {
        match value {
            "character_image" => Some(UploadPurpose::CharacterImage),
            "motion_video" => Some(UploadPurpose::MotionVideo),
            "element_video" => Some(UploadPurpose::ElementVideo),
            "element_image" => Some(UploadPurpose::ElementImage),
            _ => None,
        }
    }
}

/// A stored upload and the facts the server probed from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadView {
    pub id: String,
    pub kind: UploadKind,
    /// `jpeg`, `png`, `mp4`, `mov` or `webm`.
    pub format: String,
    pub name: String,
    pub bytes: u64,
    /// Display width (after rotation).
    pub width: u32,
    /// Display height (after rotation).
    pub height: u32,
    pub duration_ms: Option<u64>,
}

/// What the studio submits for a motion-control task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionForm {
    pub image_upload_id: String,
    pub video_upload_id: String,
    /// `720p` or `1080p`.
    pub quality: String,
    /// `image` ("Match image") or `video` ("Match video").
    pub orientation: String,
    pub keep_sound: bool,
    pub prompt: String,
    /// Makes a repeated submit (double-click, retry, second tab) return the same task.
    pub idempotency_key: String,
    /// A ready, video-made element of the team's library to keep the character's identity;
    /// empty for none.
    pub element_id: String,
}

/// A task as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub kind: TaskKind,
    pub state: TaskState,
    /// The state in words.
    pub status_label: String,
    /// 0–100.
    pub progress: u8,
    /// Motion tasks only.
    pub quality: Option<Quality>,
    /// Motion tasks only.
    pub orientation: Option<Orientation>,
    pub keep_sound: bool,
    pub prompt: String,
    pub image_upload_id: Option<String>,
    pub video_upload_id: Option<String>,
    /// Micro-credits held at submit.
    pub cost_reserved: i64,
    /// Micro-credits charged in the end.
    pub cost_final: Option<i64>,
    pub output_seconds: Option<i64>,
    /// Why it failed, in plain words with what to do.
    pub failure: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// True once the result is in Kinema's storage.
    pub result_ready: bool,
    /// The upstream link while archiving, and when it expires (unix seconds).
    pub upstream_link: Option<(String, i64)>,
    /// The character element used, as (Kinema element id, name).
    pub element: Option<(String, String)>,
    /// The name of the API token the task came through (gateway); `None` from the studio.
    pub api_token: Option<String>,
}

impl TaskView {
    /// True for completed and failed.
    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }
}

/// One page of a member's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskPage {
    pub running: i64,
    pub completed: i64,
    pub failed: i64,
    pub items: Vec<TaskView>,
    /// 1-based.
    pub page: i64,
    pub has_more: bool,
}
