//! The upstream task and balance as Kinema understands them, read tolerantly from the wire.

use serde_json::Value;

use super::wire::{value_f64, value_text, CreditsBody, TaskObject};

/// Where an upstream task is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    /// `cancelled` or `canceled`.
    Cancelled,
    /// A status the docs do not list; treated as still running.
    Other(String),
}

impl TaskStatus {
    fn parse(raw: Option<&str>) -> TaskStatus {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            Some("pending") | Some("queued") | None => TaskStatus::Pending,
            Some("processing") | Some("running") | Some("in_progress") => TaskStatus::Processing,
            Some("completed") | Some("succeeded") | Some("success") => TaskStatus::Completed,
            Some("failed") | Some("error") => TaskStatus::Failed,
            Some("cancelled") | Some("canceled") => TaskStatus::Cancelled,
            Some(other) => TaskStatus::Other(other.to_string()),
        }
    }

    /// True for completed, failed and cancelled.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// Why an upstream task failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// The business code (`content_policy_violation`, …), as text.
    pub code: String,
    /// The upstream's own words.
    pub message: String,
}

/// An upstream task.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTask {
    pub id: String,
    pub status: TaskStatus,
    /// 0–100.
    pub progress: u8,
    /// Result URLs (valid for 24 hours upstream).
    pub results: Vec<String>,
    pub failure: Option<TaskFailure>,
    /// The element id of a completed element task, kept as a string exactly as received.
    pub element_id: Option<String>,
    /// Output seconds, when reported.
    pub video_duration: Option<f64>,
    /// Estimated seconds until done, when reported.
    pub estimated_seconds: Option<f64>,
    /// Credits the upstream holds for the task, when reported.
    pub credits_reserved: Option<f64>,
}

impl UpstreamTask {
    /// Reads a task object (create answer, query answer or callback body).
    pub fn from_wire(task: TaskObject) -> UpstreamTask {
        let status = TaskStatus::parse(task.status.as_deref());
        let progress = task
            .progress
            .as_ref()
            .and_then(value_f64)
            .map(|p| p.clamp(0.0, 100.0) as u8)
            .unwrap_or(if status == TaskStatus::Completed {
                100
            } else {
                0
            });
        let results = task.results.clone().unwrap_or_default();
        let failure = task.error.as_ref().map(|error| TaskFailure {
            code: error.code_text().unwrap_or_else(|| "unknown_error".into()),
            message: error.message.clone().unwrap_or_default(),
        });
        let element_id = element_id(task.result_data.as_ref(), &results);
        let info = task.task_info.as_ref();
        UpstreamTask {
            id: task.id,
            status,
            progress,
            results,
            failure,
            element_id,
            video_duration: info
                .and_then(|i| i.video_duration.as_ref())
                .and_then(value_f64),
            estimated_seconds: info
                .and_then(|i| i.estimated_time.as_ref())
                .and_then(value_f64),
            credits_reserved: task
                .usage
                .as_ref()
                .and_then(|u| u.credits_reserved.as_ref())
                .and_then(value_f64),
        }
    }
}

/// The element id, from whichever documented place holds it: `result_data.element_id`, then
/// `result_data.elements[0].element_id`, then `results[0]`.
fn element_id(result_data: Option<&Value>, results: &[String]) -> Option<String> {
    let data = result_data;
    data.and_then(|d| d.get("element_id"))
        .and_then(value_text)
        .or_else(|| {
            data.and_then(|d| d.get("elements"))
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("element_id"))
                .and_then(value_text)
        })
        .or_else(|| results.first().cloned())
}

/// The team's EvoLink balance.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    /// Remaining credits of this API key.
    pub token_remaining: Option<f64>,
    /// True when the key has no credit limit of its own.
    pub token_unlimited: bool,
    /// Remaining credits of the whole account.
    pub account_remaining: Option<f64>,
}

impl Balance {
    /// Reads the credits answer.
    pub fn from_wire(body: CreditsBody) -> Balance {
        let data = body.data.unwrap_or_default();
        Balance {
            token_remaining: data.token.as_ref().and_then(|t| t.remaining_credits),
            token_unlimited: data
                .token
                .as_ref()
                .and_then(|t| t.unlimited_credits)
                .unwrap_or(false),
            account_remaining: data.user.as_ref().and_then(|u| u.remaining_credits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(json: &str) -> UpstreamTask {
        UpstreamTask::from_wire(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn element_ids_are_found_in_every_documented_place_and_kept_exact() {
        let a = task(
            r#"{"id":"task-unified-1-a","status":"completed","result_data":{"element_id":"863121023120580600"}}"#,
        );
        assert_eq!(a.element_id.as_deref(), Some("863121023120580600"));
        let b = task(
            r#"{"id":"task-unified-1-b","status":"completed","result_data":{"elements":[{"element_id":863121023120580601}]}}"#,
        );
        assert_eq!(b.element_id.as_deref(), Some("863121023120580601"));
        let c = task(
            r#"{"id":"task-unified-1-c","status":"completed","results":["863121023120580602"]}"#,
        );
        assert_eq!(c.element_id.as_deref(), Some("863121023120580602"));
    }

    #[test]
    fn statuses_and_error_codes_are_read_tolerantly() {
        let t = task(r#"{"id":"x","status":"canceled","error":{"code":500,"message":"m"}}"#);
        assert_eq!(t.status, TaskStatus::Cancelled);
        assert!(t.status.is_final());
        assert_eq!(t.failure.unwrap().code, "500");
        let t = task(
            r#"{"id":"x","status":"processing","progress":"42","usage":{"credits_reserved":"65.3184"},"task_info":{"video_duration":8}}"#,
        );
        assert_eq!(t.status, TaskStatus::Processing);
        assert_eq!(t.progress, 42);
        assert_eq!(t.credits_reserved, Some(65.3184));
        assert_eq!(t.video_duration, Some(8.0));
    }
}
