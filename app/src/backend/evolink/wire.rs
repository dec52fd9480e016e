//! Every EvoLink field name lives here (`docs/upstream.md` §2–§7), so a change upstream is a
//! one-line change. Requests are typed; responses are parsed tolerantly where the docs are vague.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Model id of Kling 3.0 Motion Control.
pub const MOTION_MODEL: &str = "kling-v3-motion-control";
/// Model id of Kling Custom Elements.
pub const ELEMENT_MODEL: &str = "kling-custom-element";
/// Every task id starts with this.
pub const TASK_ID_PREFIX: &str = "task-unified-";
/// The header that makes a repeated create return the first one's task (sent on every create,
/// as EvoLink's own client does; docs/upstream.md §10).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// `error.code` values of a 402 answer that name its cause (`docs/upstream.md` §7.1); any
/// other 402 is read as the account's balance.
pub mod codes {
    /// The key's own total limit.
    pub const KEY_LIMIT: &[&str] = &["insufficient_token_quota", "key_quota_exhausted"];
    /// The key's daily limit.
    pub const KEY_DAILY_LIMIT: &[&str] =
        &["token_daily_quota_exceeded", "key_daily_quota_exhausted"];
    /// The key is switched off.
    pub const KEY_DISABLED: &[&str] = &["key_disabled", "key_expired"];
    /// The key may not use the model.
    pub const KEY_MODEL_NOT_ALLOWED: &[&str] = &["key_model_not_allowed"];
}

/// The header a 429 or 503 may carry: seconds or an HTTP date.
pub const RETRY_AFTER: &str = "Retry-After";

/// Paths, relative to the API base URL or the file service base URL.
pub mod paths {
    pub const GENERATIONS: &str = "/v1/videos/generations";
    pub const TASKS: &str = "/v1/tasks";
    pub const CREDITS: &str = "/v1/credits";
    pub const UPLOAD_STREAM: &str = "/api/v1/files/upload/stream";
    pub const FILES_QUOTA: &str = "/api/v1/files/quota";
}

/// `POST /v1/videos/generations` for motion control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotionRequest {
    pub model: String,
    pub image_urls: Vec<String>,
    pub video_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    pub model_params: MotionParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// `model_params` of a motion-control request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotionParams {
    pub character_orientation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_sound: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_list: Option<Vec<ElementRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark_info: Option<WatermarkInfo>,
}

/// One entry of `element_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementRef {
    pub element_id: String,
}

/// `watermark_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkInfo {
    pub enabled: bool,
}

/// `POST /v1/videos/generations` for a custom element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementRequest {
    pub model: String,
    pub model_params: ElementParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// `model_params` of a custom-element request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementParams {
    pub element_name: String,
    pub element_description: String,
    pub reference_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_image_list: Option<ElementImageList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_video_list: Option<ElementVideoList>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_voice_id: Option<String>,
}

/// `element_image_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementImageList {
    pub frontal_image: String,
    pub refer_images: Vec<ImageUrl>,
}

/// `{ "image_url": … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub image_url: String,
}

/// `element_video_list` (the current shape, `docs/upstream.md` §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementVideoList {
    pub refer_videos: Vec<VideoUrl>,
}

/// `{ "video_url": … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoUrl {
    pub video_url: String,
}

/// A task object as returned by create, query and callbacks. Everything but `id` is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskObject {
    pub id: String,
    #[serde(default)]
    pub created: Option<i64>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub progress: Option<Value>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub results: Option<Vec<String>>,
    #[serde(default)]
    pub error: Option<ErrorObject>,
    #[serde(default)]
    pub task_info: Option<TaskInfo>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub result_data: Option<Value>,
}

/// `task_info`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskInfo {
    #[serde(default)]
    pub can_cancel: Option<bool>,
    #[serde(default)]
    pub estimated_time: Option<Value>,
    #[serde(default)]
    pub video_duration: Option<Value>,
}

/// `usage`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub billing_rule: Option<String>,
    #[serde(default)]
    pub credits_reserved: Option<Value>,
    #[serde(default)]
    pub user_group: Option<String>,
    /// What the task was charged, when reported (seen in EvoLink's own client, §10.2).
    #[serde(default)]
    pub credits_used: Option<Value>,
    /// `{ credits, usd, cny }`, when reported (seen in EvoLink's own client, §10.2).
    #[serde(default)]
    pub cost: Option<Value>,
}

/// An `error` object, at HTTP level or on a failed task. `code` may be a string or a number.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorObject {
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub fallback_suggestion: Option<String>,
}

impl ErrorObject {
    /// The code as text, whether it came as a string or a number.
    pub fn code_text(&self) -> Option<String> {
        match &self.code {
            Some(Value::String(code)) => Some(code.clone()),
            Some(Value::Number(code)) => Some(code.to_string()),
            _ => None,
        }
    }
}

/// `{ "error": … }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

/// `GET /v1/credits`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreditsBody {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub data: Option<CreditsData>,
}

/// `data` of the credits answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreditsData {
    #[serde(default)]
    pub token: Option<CreditsEntry>,
    #[serde(default)]
    pub user: Option<CreditsEntry>,
}

/// Remaining and used credits of the token or the account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreditsEntry {
    #[serde(default)]
    pub remaining_credits: Option<f64>,
    #[serde(default)]
    pub used_credits: Option<f64>,
    #[serde(default)]
    pub unlimited_credits: Option<bool>,
}

/// The file service's answer to an upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadBody {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub data: Option<UploadData>,
}

/// `data` of a successful upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadData {
    #[serde(default)]
    pub file_id: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_url: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A JSON value as text: strings as they are, numbers in full (no float rounding of big ids).
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A JSON value as a number, whether sent as a number or a numeric string.
pub fn value_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
