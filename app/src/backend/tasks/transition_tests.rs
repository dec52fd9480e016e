//! Every (state, observation) pair the engine meets, decided without any I/O.

use super::*;
use crate::backend::{
    evolink::TaskFailure,
    tasks::{ElementParamsRecord, MotionParamsRecord},
};
use crate::rules::{
    element_inputs::ReferenceType,
    vocab::{Orientation, TaskKind},
};

const NOW: i64 = 1_800_000_000_000;
const RESERVED: i64 = 81_648_000; // 10 s at 720p

const GRACE: i64 = 600_000;

fn pacing() -> Pacing {
    Pacing {
        poll_first_ms: 2_000,
        poll_max_ms: 60_000,
        jitter: 1.0,
        reconcile_grace_ms: GRACE,
        running_tasks: 0,
        upstream_rps: 20,
    }
}

fn motion_task(state: TaskState) -> TaskRecord {
    TaskRecord {
        id: "t1".into(),
        owner_id: 7,
        kind: TaskKind::Motion,
        idempotency_key: "k".into(),
        state,
        params: TaskParams::Motion(MotionParamsRecord {
            orientation: Orientation::Image,
            keep_sound: true,
            prompt: String::new(),
            element: None,
        }),
        image_upload_id: Some("img".into()),
        video_upload_id: Some("vid".into()),
        quality: Some(Quality::P720),
        upstream_id: (state != TaskState::Queued).then(|| "task-unified-1-abc".into()),
        progress: 10,
        cost_reserved: RESERVED,
        cost_final: None,
        output_seconds: None,
        failure_code: None,
        failure_message: None,
        result_key: None,
        result_url: None,
        result_url_expires_at: None,
        callback_token: "token".into(),
        lease_owner: Some("w".into()),
        lease_until: Some(NOW + 60_000),
        epoch: 3,
        attempts: 2,
        next_run_at: NOW,
        deadline_at: NOW + 3_600_000,
        created_at: NOW / 1000 - 60,
        updated_at: NOW / 1000,
        finished_at: None,
        deleted_at: None,
        submitted_at: None,
        upstream_reserved: None,
        upstream_charged: None,
        token_id: None,
    }
}

fn element_task(state: TaskState) -> TaskRecord {
    TaskRecord {
        kind: TaskKind::Element,
        params: TaskParams::Element(ElementParamsRecord {
            name: "Mia".into(),
            description: "d".into(),
            reference_type: ReferenceType::Video,
            voice_id: None,
            refer_upload_ids: Vec::new(),
        }),
        quality: None,
        cost_reserved: 1_000_000,
        ..motion_task(state)
    }
}

fn upstream(status: TaskStatus) -> UpstreamTask {
    UpstreamTask {
        id: "task-unified-1-abc".into(),
        status,
        progress: 40,
        results: Vec::new(),
        failure: None,
        element_id: None,
        video_duration: None,
        estimated_seconds: None,
        credits_reserved: None,
        credits_charged: None,
    }
}

fn completed_with(results: &[&str], seconds: Option<f64>) -> Observation {
    Observation::Polled(UpstreamTask {
        results: results.iter().map(|r| r.to_string()).collect(),
        video_duration: seconds,
        progress: 100,
        ..upstream(TaskStatus::Completed)
    })
}

/// Asserts the task failed with `code`, fully refunded, finished now.
fn assert_refunded(transition: &Transition, code: &str) {
    let task = &transition.task;
    assert_eq!(task.state, TaskState::Failed);
    assert_eq!(task.failure_code.as_deref(), Some(code));
    assert_eq!(task.cost_final, Some(0));
    assert_eq!(task.finished_at, Some(NOW / 1000));
    assert_eq!(
        transition.ledger,
        Some(LedgerWrite::refund(task.cost_reserved))
    );
    assert!(task
        .failure_message
        .as_deref()
        .is_some_and(|m| !m.is_empty()));
}

fn step(task: &TaskRecord, observation: Observation) -> Transition {
    next(task, observation, NOW, &pacing())
}

#[test]
fn plan_names_the_effect_each_state_needs() {
    let late = NOW + 3_600_001;
    let plan = |task: &TaskRecord, now| plan(task, now, &pacing());
    assert_eq!(
        plan(&motion_task(TaskState::Queued), NOW),
        Some(Effect::Create)
    );
    assert_eq!(
        plan(&motion_task(TaskState::Queued), late),
        Some(Effect::Decide(Box::new(Observation::DeadlinePassed)))
    );
    assert_eq!(
        plan(&motion_task(TaskState::Running), NOW),
        Some(Effect::Poll)
    );
    assert_eq!(
        plan(&motion_task(TaskState::Running), late),
        Some(Effect::Decide(Box::new(Observation::DeadlinePassed)))
    );
    // A result being saved keeps going until its link expires, deadline or not.
    assert_eq!(
        plan(&motion_task(TaskState::Archiving), late),
        Some(Effect::Archive)
    );
    assert_eq!(plan(&motion_task(TaskState::Completed), NOW), None);
    assert_eq!(plan(&motion_task(TaskState::Failed), NOW), None);
}

#[test]
fn an_unconfirmed_create_is_sent_again_with_its_key_until_the_grace_period_ends() {
    let mut submitting = motion_task(TaskState::Submitting);
    submitting.submitted_at = Some(NOW - GRACE);
    assert_eq!(plan(&submitting, NOW, &pacing()), Some(Effect::Create));
    assert_eq!(
        plan(&submitting, NOW + 1, &pacing()),
        Some(Effect::Decide(Box::new(Observation::ReconcileExpired)))
    );
    // Rows from before the first-send time was kept count from their last change.
    submitting.submitted_at = None;
    submitting.updated_at = (NOW - GRACE - 1_000) / 1000;
    assert_eq!(
        plan(&submitting, NOW, &pacing()),
        Some(Effect::Decide(Box::new(Observation::ReconcileExpired)))
    );
    let expired = step(&submitting, Observation::ReconcileExpired);
    assert_refunded(&expired, "outcome_unknown");
    assert!(expired
        .task
        .failure_message
        .unwrap()
        .contains("never confirmed"));
}

#[test]
fn an_accepted_create_starts_polling() {
    let t = step(
        &motion_task(TaskState::Queued),
        observe_create(Ok(upstream(TaskStatus::Pending))),
    );
    assert_eq!(t.task.state, TaskState::Running);
    assert_eq!(t.task.upstream_id.as_deref(), Some("task-unified-1-abc"));
    assert_eq!(t.task.progress, 40);
    assert_eq!(t.task.attempts, 0);
    assert_eq!(t.task.next_run_at, NOW + 2_000);
    assert_eq!(t.ledger, None);
}

#[test]
fn a_create_that_never_left_is_tried_again_later_and_nothing_else_is() {
    let queued = motion_task(TaskState::Queued);
    let unreachable = observe_create(Err(EvoLinkError::Unreachable {
        detail: "refused".into(),
    }));
    assert_eq!(unreachable, Observation::CreateUnreachable);
    let t = step(&queued, unreachable);
    assert_eq!(t.task.state, TaskState::Queued);
    assert_eq!(t.task.attempts, 3);
    assert_eq!(t.task.next_run_at, NOW + 6_750); // 2 s × 1.5³
    assert_eq!(t.ledger, None);
    let t = step(&queued, Observation::PublishFailed);
    assert_eq!(t.task.state, TaskState::Queued);
    assert_eq!(t.ledger, None);
}

#[test]
fn a_create_with_an_unknown_outcome_waits_to_be_confirmed_not_refunded() {
    let observation = observe_create(Err(EvoLinkError::OutcomeUnknown {
        detail: "timed out".into(),
    }));
    assert_eq!(observation, Observation::CreateOutcomeUnknown);
    for from in [TaskState::Queued, TaskState::Submitting] {
        let t = step(&motion_task(from), observation.clone());
        assert_eq!(t.task.state, TaskState::Submitting);
        assert_eq!(t.task.attempts, 3);
        assert_eq!(t.task.next_run_at, NOW + 6_750);
        assert_eq!(
            t.ledger, None,
            "nothing refunded while the upstream may have it"
        );
    }
    // A re-sent create that the upstream answers adopts its task.
    let adopted = step(
        &motion_task(TaskState::Submitting),
        observe_create(Ok(upstream(TaskStatus::Processing))),
    );
    assert_eq!(adopted.task.state, TaskState::Running);
    assert_eq!(
        adopted.task.upstream_id.as_deref(),
        Some("task-unified-1-abc")
    );
    // A re-send that never left keeps the task submitting: the first may still have arrived.
    let unreachable = step(
        &motion_task(TaskState::Submitting),
        Observation::CreateUnreachable,
    );
    assert_eq!(unreachable.task.state, TaskState::Submitting);
}

#[test]
fn a_create_turned_away_for_now_is_sent_again_after_retry_after_without_a_refund() {
    let busy = |retry_after: Option<std::time::Duration>| {
        [
            EvoLinkError::RateLimited { retry_after },
            EvoLinkError::Unavailable {
                status: 503,
                message: "busy".into(),
                retry_after,
            },
        ]
    };
    for state in [TaskState::Queued, TaskState::Submitting] {
        for refusal in busy(Some(std::time::Duration::from_secs(600))) {
            let task = motion_task(state);
            let t = step(&task, observe_create(Err(refusal)));
            assert_eq!(t.task.state, state, "kept, to be sent again");
            assert_eq!(t.ledger, None, "nothing refunded");
            assert!(
                t.task.next_run_at >= NOW + 600_000,
                "not before Retry-After"
            );
        }
        for refusal in busy(None) {
            let t = step(&motion_task(state), observe_create(Err(refusal)));
            assert_eq!(t.task.state, state);
            assert!(t.task.next_run_at > NOW && t.task.next_run_at < NOW + 600_000);
        }
    }
}

#[test]
fn every_refused_create_fails_with_the_clients_words_and_a_refund() {
    let refusals = [
        EvoLinkError::InvalidInput {
            message: "bad".into(),
            param: None,
        },
        EvoLinkError::InvalidKey,
        EvoLinkError::InsufficientBalance {
            message: "top up".into(),
        },
        EvoLinkError::ModelNotAllowed {
            message: "no".into(),
        },
        EvoLinkError::PermissionDenied {
            message: "no".into(),
        },
        EvoLinkError::TooLarge,
        EvoLinkError::Unavailable {
            status: 500,
            message: "broken".into(),
            retry_after: None,
        },
        EvoLinkError::Malformed {
            detail: "html".into(),
        },
    ];
    for refusal in refusals {
        let words = refusal.user_message();
        let t = step(
            &motion_task(TaskState::Submitting),
            observe_create(Err(refusal)),
        );
        assert_refunded(&t, "create_refused");
        assert!(t.task.failure_message.unwrap().starts_with(&words));
    }
}

#[test]
fn missing_inputs_and_passed_deadlines_end_the_task_with_a_refund() {
    assert_refunded(
        &step(&motion_task(TaskState::Queued), Observation::InputMissing),
        "input_missing",
    );
    let queued = step(&motion_task(TaskState::Queued), Observation::DeadlinePassed);
    assert_refunded(&queued, "timed_out");
    let words = queued.task.failure_message.unwrap();
    assert!(words.contains("could not be started") && words.contains("credits were returned"));
    let running = step(
        &motion_task(TaskState::Running),
        Observation::DeadlinePassed,
    );
    assert_refunded(&running, "timed_out");
    assert!(running
        .task
        .failure_message
        .unwrap()
        .contains("did not finish"));
}

#[test]
fn a_completed_motion_task_is_archived_next_and_charged_for_its_output() {
    let t = step(
        &motion_task(TaskState::Running),
        completed_with(&["https://cdn.example/r.mp4"], Some(5.4)),
    );
    assert_eq!(t.task.state, TaskState::Archiving);
    assert_eq!(t.task.output_seconds, Some(5));
    assert_eq!(t.task.cost_final, Some(5 * 8_164_800));
    assert_eq!(
        t.task.result_url.as_deref(),
        Some("https://cdn.example/r.mp4")
    );
    assert_eq!(t.task.result_url_expires_at, Some(NOW / 1000 + 24 * 3600));
    assert_eq!(t.task.next_run_at, NOW, "archived at once");
    assert_eq!(t.task.progress, 100);
    assert_eq!(t.ledger, None, "settled when the result is safe");

    // Never more than was reserved; unknown length charges the reservation.
    let long = step(
        &motion_task(TaskState::Running),
        completed_with(&["https://cdn.example/r.mp4"], Some(30.0)),
    );
    assert_eq!(long.task.cost_final, Some(RESERVED));
    let unknown = step(
        &motion_task(TaskState::Running),
        completed_with(&["https://cdn.example/r.mp4"], None),
    );
    assert_eq!(unknown.task.cost_final, Some(RESERVED));
    assert_eq!(unknown.task.output_seconds, None);

    // 1080p is priced by its own rate.
    let mut hd = motion_task(TaskState::Running);
    hd.quality = Some(Quality::P1080);
    let t = step(
        &hd,
        completed_with(&["https://cdn.example/r.mp4"], Some(3.0)),
    );
    assert_eq!(t.task.cost_final, Some(3 * 10_883_680));
}

#[test]
fn a_completed_task_without_a_result_is_refunded() {
    assert_refunded(
        &step(
            &motion_task(TaskState::Running),
            completed_with(&[], Some(5.0)),
        ),
        "no_result",
    );
    let element = step(
        &element_task(TaskState::Running),
        Observation::Polled(upstream(TaskStatus::Completed)),
    );
    assert_refunded(&element, "no_result");
    assert_eq!(element.element_id, None);
}

#[test]
fn a_completed_element_keeps_its_id_exactly_and_settles_its_credit() {
    let t = step(
        &element_task(TaskState::Running),
        Observation::Polled(UpstreamTask {
            element_id: Some("863121023120580600".into()),
            ..upstream(TaskStatus::Completed)
        }),
    );
    assert_eq!(t.task.state, TaskState::Completed);
    assert_eq!(t.element_id.as_deref(), Some("863121023120580600"));
    assert_eq!(t.task.cost_final, Some(1_000_000));
    assert_eq!(t.ledger, Some(LedgerWrite::settle(0)));
    assert_eq!(t.task.finished_at, Some(NOW / 1000));
}

#[test]
fn every_documented_failure_code_is_refunded_with_its_advice() {
    let codes = [
        "content_policy_violation",
        "invalid_parameters",
        "image_processing_error",
        "image_dimension_mismatch",
        "request_cancelled",
        "generation_failed_no_content",
        "service_error",
        "generation_timeout",
        "resource_exhausted",
        "quota_exceeded",
        "service_unavailable",
        "resource_not_found",
        "unknown_error",
    ];
    for code in codes {
        let t = step(
            &motion_task(TaskState::Running),
            Observation::Polled(UpstreamTask {
                failure: Some(TaskFailure {
                    code: code.into(),
                    message: "upstream words".into(),
                }),
                ..upstream(TaskStatus::Failed)
            }),
        );
        assert_refunded(&t, code);
        let message = t.task.failure_message.unwrap();
        assert!(
            message.starts_with(&failure_message(code, "upstream words")),
            "{code}: {message}"
        );
    }
    // A failure without details, and a cancellation, are refunded too.
    assert_refunded(
        &step(
            &motion_task(TaskState::Running),
            Observation::Polled(upstream(TaskStatus::Failed)),
        ),
        "unknown_error",
    );
    assert_refunded(
        &step(
            &element_task(TaskState::Running),
            Observation::Polled(upstream(TaskStatus::Cancelled)),
        ),
        "request_cancelled",
    );
}

#[test]
fn a_cancelled_task_is_final_and_refunded_whichever_way_it_is_spelled() {
    for spelling in ["cancelled", "canceled", "CANCELLED"] {
        let wire: crate::backend::evolink::wire::TaskObject = serde_json::from_str(&format!(
            r#"{{"id":"task-unified-1-abc","status":"{spelling}","progress":30}}"#
        ))
        .unwrap();
        let t = step(
            &motion_task(TaskState::Running),
            Observation::Polled(UpstreamTask::from_wire(wire)),
        );
        assert_refunded(&t, "request_cancelled");
        assert!(t
            .task
            .failure_message
            .unwrap()
            .contains("cancelled upstream"));
    }
}

#[test]
fn unknown_or_absurd_output_lengths_settle_at_the_reserved_estimate_never_zero() {
    for raw in [r#""NaN""#, "-4", "1e12", "0", r#""inf""#] {
        let wire: crate::backend::evolink::wire::TaskObject = serde_json::from_str(&format!(
            r#"{{"id":"task-unified-1-abc","status":"completed","results":["https://cdn.example/r.mp4"],"task_info":{{"video_duration":{raw}}}}}"#
        ))
        .unwrap();
        let t = step(
            &motion_task(TaskState::Running),
            Observation::Polled(UpstreamTask::from_wire(wire)),
        );
        assert_eq!(t.task.state, TaskState::Archiving, "{raw}");
        assert_eq!(t.task.cost_final, Some(RESERVED), "{raw}");
        assert_eq!(t.task.output_seconds, None, "{raw}");
    }
}

#[test]
fn a_result_link_that_is_not_a_web_address_is_refused_at_once() {
    for link in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:video/mp4,x",
    ] {
        let t = step(
            &motion_task(TaskState::Running),
            completed_with(&[link], Some(5.0)),
        );
        assert_refunded(&t, "archive_refused");
        assert_eq!(t.task.result_url, None, "never kept, never shown");
    }
    let refused = step(
        &motion_task(TaskState::Archiving),
        Observation::ArchiveRefused {
            why: "the link points at a private or reserved address".into(),
        },
    );
    assert_refunded(&refused, "archive_refused");
    assert!(refused.task.failure_message.unwrap().contains("private"));
}

#[test]
fn retry_after_sets_the_next_poll_when_it_is_longer_than_the_backoff() {
    let limited = observe_poll(Err(EvoLinkError::RateLimited {
        retry_after: Some(std::time::Duration::from_secs(45)),
    }));
    assert_eq!(
        limited,
        Observation::PollFailed {
            retry_after_ms: Some(45_000)
        }
    );
    let t = step(&motion_task(TaskState::Running), limited);
    assert_eq!(t.task.next_run_at, NOW + 45_000);
    assert_eq!(t.task.state, TaskState::Running);
    // A short Retry-After never makes the engine poll sooner than its own backoff.
    let short = step(
        &motion_task(TaskState::Running),
        Observation::PollFailed {
            retry_after_ms: Some(1),
        },
    );
    assert_eq!(short.task.next_run_at, NOW + 6_750);
}

#[test]
fn the_upstreams_own_figures_are_kept_beside_kinemas() {
    // Created: 10 s at 720p reserved, as Kinema says (plain credits or units alike).
    for reported in [81.648, 816_480.0] {
        let t = step(
            &motion_task(TaskState::Queued),
            observe_create(Ok(UpstreamTask {
                credits_reserved: Some(reported),
                ..upstream(TaskStatus::Pending)
            })),
        );
        assert_eq!(t.task.upstream_reserved, Some(RESERVED), "{reported}");
    }
    // A stale table: the upstream holds 90 credits; both figures are kept.
    let t = step(
        &motion_task(TaskState::Running),
        Observation::Polled(UpstreamTask {
            credits_reserved: Some(90.0),
            ..upstream(TaskStatus::Processing)
        }),
    );
    assert_eq!(t.task.upstream_reserved, Some(90_000_000));
    assert_eq!(t.task.cost_reserved, RESERVED);
    // A reported charge is compared with Kinema's final cost.
    let t = step(
        &motion_task(TaskState::Running),
        Observation::Polled(UpstreamTask {
            results: vec!["https://cdn.example/r.mp4".into()],
            video_duration: Some(5.0),
            credits_charged: Some(45.0),
            ..upstream(TaskStatus::Completed)
        }),
    );
    assert_eq!(t.task.cost_final, Some(5 * 8_164_800));
    assert_eq!(t.task.upstream_charged, Some(45_000_000));
    assert_eq!(kinema_charge(&t.task), 5 * 8_164_800);
    // Nothing reported, nothing recorded.
    let t = step(
        &motion_task(TaskState::Running),
        Observation::Polled(upstream(TaskStatus::Processing)),
    );
    assert_eq!(
        (t.task.upstream_reserved, t.task.upstream_charged),
        (None, None)
    );
}

#[test]
fn a_task_still_running_is_polled_again_later_with_growing_pauses() {
    for status in [
        TaskStatus::Pending,
        TaskStatus::Processing,
        TaskStatus::Other("warming".into()),
    ] {
        let t = step(
            &motion_task(TaskState::Running),
            Observation::Polled(upstream(status)),
        );
        assert_eq!(t.task.state, TaskState::Running);
        assert_eq!(t.task.progress, 40);
        assert_eq!(t.task.attempts, 3);
        assert_eq!(t.task.next_run_at, NOW + 6_750);
        assert_eq!(t.ledger, None);
    }
    // Progress never goes backwards; pauses stop growing short of the maximum (the rest is
    // room for queueing under the request ceiling).
    let mut far = motion_task(TaskState::Running);
    far.progress = 90;
    far.attempts = 40;
    let t = step(&far, Observation::Polled(upstream(TaskStatus::Processing)));
    assert_eq!(t.task.progress, 90);
    assert_eq!(t.task.next_run_at, NOW + 54_000);
}

#[test]
fn unreachable_rate_limited_or_failing_upstreams_are_asked_again() {
    let failures = [
        EvoLinkError::Unreachable {
            detail: "down".into(),
        },
        EvoLinkError::RateLimited { retry_after: None },
        EvoLinkError::Unavailable {
            status: 502,
            message: "bad gateway".into(),
            retry_after: None,
        },
        EvoLinkError::InvalidKey,
        EvoLinkError::PermissionDenied {
            message: "other account".into(),
        },
        EvoLinkError::Malformed {
            detail: "html".into(),
        },
        EvoLinkError::OutcomeUnknown {
            detail: "timeout".into(),
        },
    ];
    for failure in failures {
        let observation = observe_poll(Err(failure));
        assert_eq!(
            observation,
            Observation::PollFailed {
                retry_after_ms: None
            }
        );
        let t = step(&motion_task(TaskState::Running), observation);
        assert_eq!(t.task.state, TaskState::Running);
        assert_eq!(t.task.attempts, 3);
        assert_eq!(t.ledger, None);
    }
}

#[test]
fn a_task_the_upstream_forgot_or_whose_id_was_lost_is_refunded() {
    let gone = observe_poll(Err(EvoLinkError::TaskNotFound));
    assert_eq!(gone, Observation::UpstreamGone);
    assert_refunded(
        &step(&motion_task(TaskState::Running), gone),
        "resource_not_found",
    );
    assert_refunded(
        &step(
            &motion_task(TaskState::Running),
            Observation::UpstreamIdMissing,
        ),
        "outcome_unknown",
    );
}

#[test]
fn an_archived_result_completes_the_task_and_settles_the_difference() {
    let mut archiving = motion_task(TaskState::Archiving);
    archiving.cost_final = Some(5 * 8_164_800);
    let t = step(
        &archiving,
        Observation::Archived {
            key: "result-t1".into(),
        },
    );
    assert_eq!(t.task.state, TaskState::Completed);
    assert_eq!(t.task.result_key.as_deref(), Some("result-t1"));
    assert_eq!(t.task.finished_at, Some(NOW / 1000));
    assert_eq!(
        t.ledger,
        Some(LedgerWrite::settle(RESERVED - 5 * 8_164_800))
    );
}

#[test]
fn a_failed_archive_is_retried_until_the_upstream_link_expires() {
    let mut archiving = motion_task(TaskState::Archiving);
    archiving.result_url_expires_at = Some(NOW / 1000 + 3600);
    archiving.attempts = 20;
    let failed = Observation::ArchiveFailed {
        why: "download broke off".into(),
    };
    let t = step(&archiving, failed.clone());
    assert_eq!(t.task.state, TaskState::Archiving);
    assert_eq!(t.task.next_run_at, NOW + 60_000, "capped pause");
    assert_eq!(t.ledger, None);

    archiving.result_url_expires_at = Some(NOW / 1000);
    let t = step(&archiving, failed);
    assert_refunded(&t, "archive_failed");
    assert!(t
        .task
        .failure_message
        .unwrap()
        .contains("download broke off"));
}

#[test]
fn a_final_task_is_left_as_it_is_whatever_is_observed() {
    for state in [TaskState::Completed, TaskState::Failed] {
        let task = motion_task(state);
        for observation in [
            Observation::DeadlinePassed,
            Observation::UpstreamGone,
            completed_with(&["https://cdn.example/r.mp4"], Some(5.0)),
        ] {
            let t = step(&task, observation);
            assert_eq!(t.task, task);
            assert_eq!(t.ledger, None);
        }
    }
}

#[test]
fn pacing_grows_by_half_with_jitter_and_stops_at_the_maximum() {
    let pacing = Pacing {
        poll_first_ms: 1_000,
        poll_max_ms: 10_000,
        jitter: 1.2,
        reconcile_grace_ms: GRACE,
        running_tasks: 0,
        upstream_rps: 20,
    };
    assert_eq!(pacing.delay_ms(0), 1_200);
    assert_eq!(pacing.delay_ms(2), 2_700);
    assert_eq!(pacing.delay_ms(100), 12_000);
    // A poll is scheduled within nine tenths of the maximum, whatever the jitter.
    assert_eq!(pacing.poll_delay_ms(100), 9_000);
}

#[test]
fn many_running_tasks_space_their_polls_to_stay_under_the_request_ceiling() {
    // 10,000 running tasks at 20 requests per second: each may be polled every 500 s.
    let crowded = Pacing {
        running_tasks: 10_000,
        upstream_rps: 20,
        ..pacing()
    };
    let t = next(
        &motion_task(TaskState::Running),
        Observation::Polled(upstream(TaskStatus::Processing)),
        NOW,
        &crowded,
    );
    assert_eq!(t.task.next_run_at, NOW + 500_000);
    let created = next(
        &motion_task(TaskState::Queued),
        observe_create(Ok(upstream(TaskStatus::Pending))),
        NOW,
        &crowded,
    );
    assert_eq!(created.task.next_run_at, NOW + 500_000);
    // Retries of creates and archives are not polls and keep their own pace.
    let retried = next(
        &motion_task(TaskState::Queued),
        Observation::PublishFailed,
        NOW,
        &crowded,
    );
    assert_eq!(retried.task.next_run_at, NOW + 6_750);
    // With few tasks the backoff decides.
    let t = step(
        &motion_task(TaskState::Running),
        Observation::Polled(upstream(TaskStatus::Processing)),
    );
    assert_eq!(t.task.next_run_at, NOW + 6_750);
}
