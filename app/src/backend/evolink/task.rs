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
    /// Credits the upstream holds for the task, when reported, in the upstream's units
    /// (`docs/upstream.md` §8.3).
    pub credits_reserved: Option<f64>,
    /// What the upstream charged for the task, when reported (`usage.credits_used` or
    /// `usage.cost.credits`), in the upstream's units.
    pub credits_charged: Option<f64>,
}

/// Output seconds beyond this are nonsense (outputs last at most 30 s): treated as unknown.
pub const MAX_VIDEO_SECONDS: f64 = 3_600.0;
/// Estimates beyond a week are treated as unknown.
const MAX_ESTIMATED_SECONDS: f64 = 7.0 * 24.0 * 3_600.0;
/// Credit figures beyond this (in upstream units: a million credits) are treated as unknown.
const MAX_CREDITS: f64 = 1e10;

/// `value` when it is a finite number within `range`; otherwise unknown, with a warning, so a
/// NaN, a negative or an absurd figure is never used as 0 or wrapped into a small one.
fn bounded(
    task_id: &str,
    field: &'static str,
    value: Option<f64>,
    range: std::ops::RangeInclusive<f64>,
) -> Option<f64> {
    let value = value?;
    if value.is_finite() && range.contains(&value) {
        Some(value)
    } else {
        tracing::warn!(
            upstream_task = task_id,
            field,
            value,
            "EvoLink reported an out-of-range number; it is treated as unknown"
        );
        None
    }
}

impl UpstreamTask {
    /// Reads a task object (create answer, query answer or callback body).
    pub fn from_wire(task: TaskObject) -> UpstreamTask {
        let status = TaskStatus::parse(task.status.as_deref());
        let progress = task
            .progress
            .as_ref()
            .and_then(value_f64)
            .filter(|p| p.is_finite())
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
        let id = task.id.as_str();
        let usage = task.usage.as_ref();
        let video_duration = bounded(
            id,
            "task_info.video_duration",
            info.and_then(|i| i.video_duration.as_ref())
                .and_then(value_f64),
            f64::MIN_POSITIVE..=MAX_VIDEO_SECONDS,
        );
        let estimated_seconds = bounded(
            id,
            "task_info.estimated_time",
            info.and_then(|i| i.estimated_time.as_ref())
                .and_then(value_f64),
            0.0..=MAX_ESTIMATED_SECONDS,
        );
        let credits_reserved = bounded(
            id,
            "usage.credits_reserved",
            usage
                .and_then(|u| u.credits_reserved.as_ref())
                .and_then(value_f64),
            0.0..=MAX_CREDITS,
        );
        let credits_charged = bounded(
            id,
            "usage.credits_used",
            usage
                .and_then(|u| {
                    u.credits_used
                        .as_ref()
                        .or_else(|| u.cost.as_ref().and_then(|c| c.get("credits")))
                })
                .and_then(value_f64),
            0.0..=MAX_CREDITS,
        );
        UpstreamTask {
            id: task.id,
            status,
            progress,
            results,
            failure,
            element_id,
            video_duration,
            estimated_seconds,
            credits_reserved,
            credits_charged,
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
        let credits =
            |value: Option<f64>| value.filter(|v| v.is_finite() && v.abs() <= MAX_CREDITS);
        Balance {
            token_remaining: credits(data.token.as_ref().and_then(|t| t.remaining_credits)),
            token_unlimited: data
                .token
                .as_ref()
                .and_then(|t| t.unlimited_credits)
                .unwrap_or(false),
            account_remaining: credits(data.user.as_ref().and_then(|u| u.remaining_credits)),
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

    #[test]
    fn out_of_range_numbers_are_unknown_never_zero_or_wrapped() {
        for raw in [
            r#""NaN""#,
            r#""inf""#,
            "-5",
            "0",
            "1e12",
            "18446744073709551616",
            r#""8 seconds""#,
            "null",
        ] {
            let t = task(&format!(
                r#"{{"id":"x","status":"completed","progress":{raw},"task_info":{{"video_duration":{raw},"estimated_time":{raw}}},"usage":{{"credits_reserved":{raw},"credits_used":{raw}}}}}"#
            ));
            assert_eq!(t.video_duration, None, "video_duration {raw}");
            assert_eq!(
                t.credits_reserved.filter(|c| *c > 0.0),
                None,
                "credits_reserved {raw}"
            );
            assert_eq!(
                t.credits_charged.filter(|c| *c > 0.0),
                None,
                "credits_used {raw}"
            );
            if raw.contains("NaN") || raw.contains("inf") {
                assert_eq!(
                    t.progress, 100,
                    "a completed task without a usable progress"
                );
            }
        }
        let t = task(
            r#"{"id":"x","status":"completed","usage":{"cost":{"credits":65.3184,"usd":0.9}}}"#,
        );
        assert_eq!(t.credits_charged, Some(65.3184));
        let t = task(r#"{"id":"x","status":"completed","task_info":{"video_duration":"7.6"}}"#);
        assert_eq!(t.video_duration, Some(7.6));
    }
}
