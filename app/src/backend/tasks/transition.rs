//! What happens next to a task, decided apart from doing it: [`plan`] says which effect a step
//! needs, [`next`] turns what that effect observed into the task's next state, its ledger write
//! and its next run time. Both are pure; the runner performs the effects and applies the result.

use super::{drift, TaskParams};
use crate::backend::{
    evolink::{EvoLinkError, TaskStatus, UpstreamTask},
    store::{LedgerWrite, TaskRecord},
};
use crate::rules::{
    links::is_web_link,
    pricing::billed_seconds,
    task_errors::failure_message,
    vocab::{Quality, TaskState},
};

/// How long result links work upstream.
pub const UPSTREAM_LINK_MS: i64 = 24 * 3600 * 1000;
/// The longest pause between two archive attempts.
const ARCHIVE_RETRY_MAX_MS: i64 = 300_000;

pub use super::pacing::Pacing;

/// The effect a due task's step needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Nothing to do outside: the observation is already known (boxed: an observation can
    /// carry a whole upstream task).
    Decide(Box<Observation>),
    /// Publish the inputs and create the upstream task; for a task already `submitting`, send
    /// the same create again with the same idempotency key, so the upstream answers with the
    /// task it may already have.
    Create,
    /// Ask the upstream how the task is doing.
    Poll,
    /// Copy the result into storage.
    Archive,
}

/// What an effect found out.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The task's deadline passed before it finished.
    DeadlinePassed,
    /// The create was never confirmed within the grace period.
    ReconcileExpired,
    /// One of the task's input files is gone.
    InputMissing,
    /// An input could not be published; worth another try.
    PublishFailed,
    /// The upstream accepted the create; `credits_reserved` is what it says it holds for the
    /// task (upstream units), when it says.
    Created {
        upstream_id: String,
        progress: u8,
        credits_reserved: Option<f64>,
    },
    /// The create provably never reached the upstream; worth another try.
    CreateUnreachable,
    /// The create got no answer: the upstream may hold the task, so it is asked again later.
    CreateOutcomeUnknown,
    /// The upstream turned the create away for now (429, 503): it is sent again (same
    /// idempotency key, so harmless) once the upstream's `Retry-After` has passed.
    CreateDeferred { retry_after_ms: Option<i64> },
    /// The upstream refused the create; `message` says why in plain words.
    CreateRefused { message: String },
    /// The upstream's view of the task.
    Polled(UpstreamTask),
    /// The upstream no longer knows the task.
    UpstreamGone,
    /// A running task without the upstream's id (it cannot be followed).
    UpstreamIdMissing,
    /// Polling failed (network, rate limit, 5xx, unreadable answer); worth another look, not
    /// before the upstream's `Retry-After` when it sent one.
    PollFailed { retry_after_ms: Option<i64> },
    /// The result is in Kinema's storage under `key`.
    Archived { key: String },
    /// Copying the result failed; worth another try while the link lasts.
    ArchiveFailed { why: String },
    /// The result link may never be fetched (not https, a private address …).
    ArchiveRefused { why: String },
}

/// The outcome of one step, as data for the runner to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The task as it is to be saved (state, progress, next run time, failure, cost …).
    pub task: TaskRecord,
    /// The ledger entry to write in the same transaction.
    pub ledger: Option<LedgerWrite>,
    /// EvoLink's id of a finished element, to keep with the element.
    pub element_id: Option<String>,
}

/// What a create call's answer means for the task.
pub fn observe_create(answer: Result<UpstreamTask, EvoLinkError>) -> Observation {
    match answer {
        Ok(upstream) => Observation::Created {
            upstream_id: upstream.id,
            progress: upstream.progress,
            credits_reserved: upstream.credits_reserved,
        },
        // Provably never received: safe to try again later.
        Err(EvoLinkError::Unreachable { .. }) => Observation::CreateUnreachable,
        Err(EvoLinkError::OutcomeUnknown { .. }) => Observation::CreateOutcomeUnknown,
        Err(
            err
            @ (EvoLinkError::RateLimited { .. } | EvoLinkError::Unavailable { status: 503, .. }),
        ) => Observation::CreateDeferred {
            retry_after_ms: retry_after_ms(&err),
        },
        Err(err) => Observation::CreateRefused {
            message: err.user_message(),
        },
    }
}

/// What a poll's answer means for the task.
pub fn observe_poll(answer: Result<UpstreamTask, EvoLinkError>) -> Observation {
    match answer {
        Ok(upstream) => Observation::Polled(upstream),
        Err(EvoLinkError::TaskNotFound) => Observation::UpstreamGone,
        Err(err) => Observation::PollFailed {
            retry_after_ms: retry_after_ms(&err),
        },
    }
}

/// The upstream's `Retry-After`, in milliseconds, when it sent one.
fn retry_after_ms(err: &EvoLinkError) -> Option<i64> {
    err.retry_after()
        .map(|wait| i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

/// The effect a due task needs at `now_ms`; none for a final task.
pub fn plan(task: &TaskRecord, now_ms: i64, pacing: &Pacing) -> Option<Effect> {
    let past_deadline = now_ms > task.deadline_at;
    let first_sent = task.submitted_at.unwrap_or(task.updated_at * 1000);
    Some(match task.state {
        TaskState::Queued | TaskState::Running if past_deadline => {
            Effect::Decide(Box::new(Observation::DeadlinePassed))
        }
        TaskState::Queued => Effect::Create,
        TaskState::Submitting if now_ms > first_sent + pacing.reconcile_grace_ms => {
            Effect::Decide(Box::new(Observation::ReconcileExpired))
        }
        TaskState::Submitting => Effect::Create,
        TaskState::Running => Effect::Poll,
        TaskState::Archiving => Effect::Archive,
        TaskState::Completed | TaskState::Failed => return None,
    })
}

/// The task after `observation`, at `now_ms`.
pub fn next(
    task: &TaskRecord,
    observation: Observation,
    now_ms: i64,
    pacing: &Pacing,
) -> Transition {
    if task.state.is_final() {
        return unchanged(task);
    }
    match observation {
        Observation::DeadlinePassed => fail(
            task,
            "timed_out",
            if task.state == TaskState::Queued {
                "Timed out: the task could not be started in time. Your credits were returned."
            } else {
                "Timed out: EvoLink did not finish the task within the time limit. Your credits were returned."
            },
            now_ms,
        ),
        Observation::ReconcileExpired => fail(
            task,
            "outcome_unknown",
            "EvoLink never confirmed this task, though Kinema asked again with the same request key, so it was given up; your credits were returned. If EvoLink did run it, the team's EvoLink account may show the charge.",
            now_ms,
        ),
        Observation::InputMissing => fail(
            task,
            "input_missing",
            "An input file of this task is gone. Upload it again and resubmit.",
            now_ms,
        ),
        // Not sent (or provably not received): a queued task stays queued; a task whose
        // earlier create may have arrived stays submitting and is asked again.
        Observation::PublishFailed | Observation::CreateUnreachable => {
            retry(task, task.state, now_ms, pacing)
        }
        Observation::CreateOutcomeUnknown => retry(task, TaskState::Submitting, now_ms, pacing),
        Observation::CreateDeferred { retry_after_ms } => {
            let mut next = retry(task, task.state, now_ms, pacing);
            let not_before = now_ms.saturating_add(retry_after_ms.unwrap_or(0));
            next.task.next_run_at = next.task.next_run_at.max(not_before);
            next
        }
        Observation::Created {
            upstream_id,
            progress,
            credits_reserved,
        } => {
            let mut next = task.clone();
            next.state = TaskState::Running;
            next.upstream_id = Some(upstream_id);
            next.progress = i64::from(progress);
            record_reserved(&mut next, credits_reserved);
            next.attempts = 0;
            next.next_run_at = now_ms + pacing.poll_delay_ms(0);
            saved(next)
        }
        Observation::CreateRefused { message } => fail(
            task,
            "create_refused",
            &format!("{message} Your credits were returned."),
            now_ms,
        ),
        Observation::Polled(upstream) => polled(task, upstream, now_ms, pacing),
        Observation::UpstreamGone => fail(
            task,
            "resource_not_found",
            "EvoLink no longer knows this task. Your credits were returned.",
            now_ms,
        ),
        Observation::UpstreamIdMissing => fail(
            task,
            "outcome_unknown",
            "Kinema lost the EvoLink task id. Your credits were returned.",
            now_ms,
        ),
        Observation::PollFailed { retry_after_ms } => {
            let mut next = task.clone();
            next.attempts += 1;
            let pause = pacing
                .poll_delay_ms(next.attempts)
                .max(retry_after_ms.unwrap_or(0));
            next.next_run_at = now_ms.saturating_add(pause);
            saved(next)
        }
        Observation::Archived { key } => {
            let mut next = task.clone();
            next.state = TaskState::Completed;
            next.result_key = Some(key);
            next.finished_at = Some(now_ms / 1000);
            let charged = next.cost_final.unwrap_or(next.cost_reserved);
            Transition {
                ledger: Some(LedgerWrite::settle(next.cost_reserved - charged)),
                task: next,
                element_id: None,
            }
        }
        Observation::ArchiveRefused { why } => fail(
            task,
            "archive_refused",
            &format!("EvoLink's result link cannot be fetched safely ({why}), so the result could not be saved. Your credits were returned."),
            now_ms,
        ),
        Observation::ArchiveFailed { why } => {
            if task.result_url_expires_at.is_some_and(|t| t * 1000 <= now_ms) {
                fail(
                    task,
                    "archive_failed",
                    &format!("The result could not be saved before EvoLink's link expired ({why}). Your credits were returned."),
                    now_ms,
                )
            } else {
                let mut next = task.clone();
                next.attempts += 1;
                next.next_run_at = now_ms + pacing.delay_ms(next.attempts).min(ARCHIVE_RETRY_MAX_MS);
                saved(next)
            }
        }
    }
}

/// The upstream's answer to a poll, with the figures it reported kept beside Kinema's own.
fn polled(task: &TaskRecord, upstream: UpstreamTask, now_ms: i64, pacing: &Pacing) -> Transition {
    let (reserved, charged) = (upstream.credits_reserved, upstream.credits_charged);
    let mut transition = poll_outcome(task, upstream, now_ms, pacing);
    record_reserved(&mut transition.task, reserved);
    record_charged(&mut transition.task, charged);
    transition
}

/// Keeps the upstream's reservation (in micro-credits) and warns when it is not Kinema's.
fn record_reserved(task: &mut TaskRecord, reported: Option<f64>) {
    let Some(upstream) = reported.and_then(|r| drift::upstream_micro(r, task.cost_reserved)) else {
        return;
    };
    if task.upstream_reserved != Some(upstream) && drift::differs(upstream, task.cost_reserved) {
        tracing::warn!(
            task = %task.id,
            upstream_reserved = upstream,
            kinema_reserved = task.cost_reserved,
            "EvoLink reserved a different amount than Kinema's price table says (micro-credits)"
        );
    }
    task.upstream_reserved = Some(upstream);
}

/// Keeps the upstream's reported charge (in micro-credits) and warns when it is not Kinema's.
fn record_charged(task: &mut TaskRecord, reported: Option<f64>) {
    let kinema = kinema_charge(task);
    let Some(upstream) = reported.and_then(|r| drift::upstream_micro(r, kinema)) else {
        return;
    };
    if task.upstream_charged != Some(upstream) && drift::differs(upstream, kinema) {
        tracing::warn!(
            task = %task.id,
            upstream_charged = upstream,
            kinema_charged = kinema,
            "EvoLink charged a different amount than Kinema's price table says (micro-credits)"
        );
    }
    task.upstream_charged = Some(upstream);
}

/// Kinema's own charge for a task: its final cost once known and not refunded, else the
/// reservation (what the price table said for it).
pub fn kinema_charge(task: &TaskRecord) -> i64 {
    match task.cost_final {
        Some(cost) if task.state != TaskState::Failed => cost,
        _ => task.cost_reserved,
    }
}

fn poll_outcome(
    task: &TaskRecord,
    upstream: UpstreamTask,
    now_ms: i64,
    pacing: &Pacing,
) -> Transition {
    match upstream.status {
        TaskStatus::Completed => match &task.params {
            TaskParams::Element(_) => element_done(task, upstream, now_ms),
            TaskParams::Motion(params) => {
                let Some(url) = upstream.results.first().cloned() else {
                    return fail(
                        task,
                        "no_result",
                        "EvoLink finished without a result. Your credits were returned.",
                        now_ms,
                    );
                };
                if !is_web_link(&url) {
                    return fail(
                        task,
                        "archive_refused",
                        "EvoLink's result link is not a web address, so the result could not be saved. Your credits were returned.",
                        now_ms,
                    );
                }
                let mut next = task.clone();
                // The duration was range-checked when read (NaN, negative, absurd → unknown).
                let seconds = upstream
                    .video_duration
                    .map(|s| billed_seconds((s * 1000.0).round() as u64, params.orientation));
                if seconds.is_none() {
                    tracing::warn!(
                        task = %task.id,
                        "EvoLink reported no usable output length; settling at the reserved estimate"
                    );
                }
                let quality = task.quality.unwrap_or(Quality::P720);
                next.output_seconds = seconds.map(i64::from);
                next.cost_final = Some(match seconds {
                    Some(s) => {
                        (i64::from(s) * quality.micro_credits_per_second()).min(task.cost_reserved)
                    }
                    None => task.cost_reserved,
                });
                next.state = TaskState::Archiving;
                next.progress = 100;
                next.result_url = Some(url);
                next.result_url_expires_at = Some((now_ms + UPSTREAM_LINK_MS) / 1000);
                next.attempts = 0;
                next.next_run_at = now_ms;
                saved(next)
            }
        },
        TaskStatus::Failed | TaskStatus::Cancelled => {
            // Cancelled is final and refunded like a failure (docs/upstream.md §4).
            let default_code = if upstream.status == TaskStatus::Cancelled {
                "request_cancelled"
            } else {
                "unknown_error"
            };
            let (code, message) = upstream
                .failure
                .map(|failure| (failure.code, failure.message))
                .unwrap_or_else(|| (default_code.into(), String::new()));
            let words = format!(
                "{} Your credits were returned.",
                failure_message(&code, &message)
            );
            fail(task, &code, &words, now_ms)
        }
        TaskStatus::Pending | TaskStatus::Processing | TaskStatus::Other(_) => {
            let mut next = task.clone();
            next.progress = next.progress.max(i64::from(upstream.progress));
            next.attempts += 1;
            next.next_run_at = now_ms + pacing.poll_delay_ms(next.attempts);
            saved(next)
        }
    }
}

/// A finished element task: keep EvoLink's id (as received) and settle the credit.
fn element_done(task: &TaskRecord, upstream: UpstreamTask, now_ms: i64) -> Transition {
    let Some(element_id) = upstream.element_id.filter(|id| !id.trim().is_empty()) else {
        return fail(
            task,
            "no_result",
            "EvoLink finished without an element id. Your credit was returned.",
            now_ms,
        );
    };
    let mut next = task.clone();
    next.state = TaskState::Completed;
    next.progress = 100;
    next.cost_final = Some(task.cost_reserved);
    next.finished_at = Some(now_ms / 1000);
    Transition {
        task: next,
        ledger: Some(LedgerWrite::settle(0)),
        element_id: Some(element_id),
    }
}

/// Ends the task as failed with `message`, refunding its reservation.
fn fail(task: &TaskRecord, code: &str, message: &str, now_ms: i64) -> Transition {
    let mut next = task.clone();
    next.state = TaskState::Failed;
    next.failure_code = Some(code.into());
    next.failure_message = Some(message.into());
    next.finished_at = Some(now_ms / 1000);
    next.cost_final = Some(0);
    Transition {
        ledger: Some(LedgerWrite::refund(task.cost_reserved)),
        task: next,
        element_id: None,
    }
}

/// Tries again later, in `state`.
fn retry(task: &TaskRecord, state: TaskState, now_ms: i64, pacing: &Pacing) -> Transition {
    let mut next = task.clone();
    next.state = state;
    next.attempts += 1;
    next.next_run_at = now_ms + pacing.delay_ms(next.attempts);
    saved(next)
}

fn saved(task: TaskRecord) -> Transition {
    Transition {
        task,
        ledger: None,
        element_id: None,
    }
}

fn unchanged(task: &TaskRecord) -> Transition {
    saved(task.clone())
}

#[cfg(test)]
#[path = "transition_tests.rs"]
mod tests;
