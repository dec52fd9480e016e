//! The workers: claim a due task with a lease, take it one step further, write it back with the
//! lease's epoch. A task whose create may have reached the upstream is never created again.

use std::time::Duration;

use rand::Rng;

use super::{
    archive::archive_result,
    now_ms,
    publish::input_url,
    view::{ElementParamsRecord, MotionParamsRecord},
    TaskEvent,
};
use crate::backend::{
    evolink::{
        wire::{
            ElementImageList, ElementParams, ElementRef, ElementRequest, ElementVideoList,
            ImageUrl, MotionParams, MotionRequest, VideoUrl, ELEMENT_MODEL, MOTION_MODEL,
        },
        EvoLinkError, TaskStatus,
    },
    now_unix,
    store::{LedgerWrite, TaskRecord},
    AppState, BackendError,
};
use crate::rules::{
    pricing::{billed_seconds, Orientation, Quality},
    task_errors::failure_message,
};

/// How long result links work upstream.
const UPSTREAM_LINK_SECS: i64 = 24 * 3600;

/// Runs the configured number of workers until the process ends.
pub async fn run_workers(state: AppState) {
    let workers = state.engine().workers.max(1);
    let mut handles = Vec::new();
    for n in 0..workers {
        let state = state.clone();
        handles.push(tokio::spawn(async move { worker(state, n).await }));
    }
    for handle in handles {
        let _ = handle.await;
    }
}

async fn worker(state: AppState, n: usize) {
    let name = format!("{}-{n}", state.worker_id());
    loop {
        loop {
            let now = now_ms();
            let lease_until = now + state.engine().lease.as_millis() as i64;
            match state.store().claim_due_task(&name, now, lease_until).await {
                Ok(Some(task)) => {
                    let id = task.id.clone();
                    if let Err(err) = step(&state, task).await {
                        tracing::error!(task = %id, error = %err, "task step failed");
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    tracing::error!(error = %err, "claiming a task failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = state.wait_for_work() => {},
            () = tokio::time::sleep(state.engine().tick) => {},
        }
    }
}

/// A callback asked to look at a task now (its body is not trusted; the worker re-reads it).
pub async fn wake_from_callback(
    state: &AppState,
    task_id: &str,
    token: &str,
) -> Result<bool, BackendError> {
    let woken = state.store().wake_task(task_id, token, now_ms()).await?;
    if woken {
        state.wake_workers();
    }
    Ok(woken)
}

fn poll_delay(state: &AppState, attempts: i64) -> i64 {
    let settings = state.engine();
    let grown = settings.poll_first.as_secs_f64() * 1.5f64.powi(attempts.clamp(0, 30) as i32);
    let capped = grown.min(settings.poll_max.as_secs_f64());
    let jittered = capped * rand::thread_rng().gen_range(0.8..=1.2);
    (jittered * 1000.0) as i64
}

async fn save(
    state: &AppState,
    task: &TaskRecord,
    ledger: Option<LedgerWrite>,
) -> Result<(), BackendError> {
    if state
        .store()
        .save_task(task, ledger, state.billing().now())
        .await?
    {
        state.notify_task(TaskEvent {
            owner_id: task.owner_id,
            task_id: task.id.clone(),
        });
    } else {
        tracing::warn!(task = %task.id, "a newer lease owns this task; the late write was dropped");
    }
    Ok(())
}

/// Ends a task as failed with `message`, refunding its reservation in the same transaction.
async fn fail(
    state: &AppState,
    mut task: TaskRecord,
    code: &str,
    message: String,
) -> Result<(), BackendError> {
    task.state = "failed".into();
    task.failure_code = Some(code.into());
    task.failure_message = Some(message);
    task.finished_at = Some(now_unix());
    task.cost_final = Some(0);
    save(
        state,
        &task,
        Some(LedgerWrite {
            kind: "refund",
            amount: task.cost_reserved,
        }),
    )
    .await
}

async fn step(state: &AppState, task: TaskRecord) -> Result<(), BackendError> {
    let past_deadline = now_ms() > task.deadline_at;
    match task.state.as_str() {
        "queued" if past_deadline => {
            fail(state, task, "timed_out", "Timed out: the task could not be started in time. Your credits were returned.".into()).await
        }
        "queued" => submit(state, task).await,
        // Only seen after a crash between marking and saving the upstream id: the create may
        // have reached EvoLink, so it is never sent again.
        "submitting" => {
            fail(
                state,
                task,
                "outcome_unknown",
                "Kinema restarted while sending this task, so it cannot tell whether EvoLink accepted it. It was not sent again, to avoid paying twice; your credits were returned.".into(),
            )
            .await
        }
        "running" if past_deadline => {
            fail(state, task, "timed_out", "Timed out: EvoLink did not finish the task within the time limit. Your credits were returned.".into()).await
        }
        "running" => poll(state, task).await,
        "archiving" => archive(state, task).await,
        _ => Ok(()),
    }
}

/// The uploads a task sends, in request order: motion (image, video); element from a video
/// (video); element from images (frontal, then the other angles).
fn input_upload_ids(task: &TaskRecord) -> Result<Vec<Option<String>>, BackendError> {
    if task.kind == "element" {
        let params: ElementParamsRecord = serde_json::from_str(&task.params)
            .map_err(|err| BackendError::Internal(format!("element params: {err}")))?;
        if params.reference_type == "video" {
            return Ok(vec![task.video_upload_id.clone()]);
        }
        let mut ids = vec![task.image_upload_id.clone()];
        ids.extend(params.refer_upload_ids.into_iter().map(Some));
        return Ok(ids);
    }
    Ok(vec![
        task.image_upload_id.clone(),
        task.video_upload_id.clone(),
    ])
}

fn motion_request(
    task: &TaskRecord,
    urls: &[String],
    callback_url: Option<String>,
) -> Result<MotionRequest, BackendError> {
    let params: MotionParamsRecord = serde_json::from_str(&task.params)
        .map_err(|err| BackendError::Internal(format!("task params: {err}")))?;
    Ok(MotionRequest {
        model: MOTION_MODEL.into(),
        image_urls: vec![urls[0].clone()],
        video_urls: vec![urls[1].clone()],
        prompt: Some(params.prompt.clone()).filter(|p| !p.is_empty()),
        quality: task.quality.clone(),
        model_params: MotionParams {
            character_orientation: params.orientation.clone(),
            keep_sound: Some(params.keep_sound),
            element_list: params.element.map(|element| {
                vec![ElementRef {
                    element_id: element.upstream_id,
                }]
            }),
            watermark_info: None,
        },
        callback_url,
    })
}

fn element_request(
    task: &TaskRecord,
    urls: &[String],
    callback_url: Option<String>,
) -> Result<ElementRequest, BackendError> {
    let params: ElementParamsRecord = serde_json::from_str(&task.params)
        .map_err(|err| BackendError::Internal(format!("element params: {err}")))?;
    let from_video = params.reference_type == "video";
    Ok(ElementRequest {
        model: ELEMENT_MODEL.into(),
        model_params: ElementParams {
            element_name: params.name,
            element_description: params.description,
            reference_type: if from_video {
                "video_refer"
            } else {
                "image_refer"
            }
            .into(),
            element_image_list: (!from_video).then(|| ElementImageList {
                frontal_image: urls[0].clone(),
                refer_images: urls[1..]
                    .iter()
                    .map(|url| ImageUrl {
                        image_url: url.clone(),
                    })
                    .collect(),
            }),
            element_video_list: from_video.then(|| ElementVideoList {
                refer_videos: vec![VideoUrl {
                    video_url: urls[0].clone(),
                }],
            }),
            element_voice_id: params.voice_id.filter(|_| from_video),
        },
        callback_url,
    })
}

/// The upstream request for the task, ready to send.
enum CreateRequest {
    Motion(MotionRequest),
    Element(ElementRequest),
}

async fn submit(state: &AppState, mut task: TaskRecord) -> Result<(), BackendError> {
    let mut urls = Vec::new();
    for upload_id in &input_upload_ids(&task)? {
        let upload = match upload_id {
            Some(id) => state.store().upload_of_owner(id, task.owner_id).await?,
            None => None,
        };
        let Some(upload) = upload else {
            return fail(
                state,
                task,
                "input_missing",
                "An input file of this task is gone. Upload it again and resubmit.".into(),
            )
            .await;
        };
        match input_url(state, &upload).await {
            Ok(url) => urls.push(url),
            Err(err) => {
                task.attempts += 1;
                task.next_run_at = now_ms() + poll_delay(state, task.attempts);
                tracing::warn!(task = %task.id, error = %err, "publishing an input failed; will retry");
                return save(state, &task, None).await;
            }
        }
    }
    let callback_url = state.public_url().starts_with("https://").then(|| {
        format!(
            "{}/hooks/evolink/{}/{}",
            state.public_url(),
            task.id,
            task.callback_token
        )
    });
    let request = if task.kind == "element" {
        CreateRequest::Element(element_request(&task, &urls, callback_url)?)
    } else {
        CreateRequest::Motion(motion_request(&task, &urls, callback_url)?)
    };
    // Write down that the create is about to be sent before sending it.
    task.state = "submitting".into();
    if !state.store().mark_submitting(&task.id, task.epoch).await? {
        return Ok(());
    }
    let client = state.evolink()?;
    let created = match &request {
        CreateRequest::Motion(request) => client.create_motion(request).await,
        CreateRequest::Element(request) => client.create_element(request).await,
    };
    match created {
        Ok(upstream) => {
            task.state = "running".into();
            task.upstream_id = Some(upstream.id);
            task.progress = i64::from(upstream.progress);
            task.attempts = 0;
            task.next_run_at = now_ms() + poll_delay(state, 0);
            save(state, &task, None).await
        }
        Err(EvoLinkError::Unreachable { detail }) => {
            // Provably never received: safe to try again later.
            tracing::warn!(task = %task.id, %detail, "EvoLink unreachable; will retry the create");
            task.state = "queued".into();
            task.attempts += 1;
            task.next_run_at = now_ms() + poll_delay(state, task.attempts);
            save(state, &task, None).await
        }
        Err(err) => {
            let code = match &err {
                EvoLinkError::OutcomeUnknown { .. } => "outcome_unknown",
                _ => "create_refused",
            };
            let message = format!("{} Your credits were returned.", err.user_message());
            fail(state, task, code, message).await
        }
    }
}

async fn poll(state: &AppState, mut task: TaskRecord) -> Result<(), BackendError> {
    let Some(upstream_id) = task.upstream_id.clone() else {
        return fail(
            state,
            task,
            "outcome_unknown",
            "Kinema lost the EvoLink task id. Your credits were returned.".into(),
        )
        .await;
    };
    match state.evolink()?.get_task(&upstream_id).await {
        Ok(upstream) => match upstream.status {
            TaskStatus::Completed if task.kind == "element" => {
                finish_element(state, task, upstream.element_id).await
            }
            TaskStatus::Completed => {
                let Some(url) = upstream.results.first().cloned() else {
                    return fail(
                        state,
                        task,
                        "no_result",
                        "EvoLink finished without a result. Your credits were returned.".into(),
                    )
                    .await;
                };
                let params: Option<MotionParamsRecord> = serde_json::from_str(&task.params).ok();
                let orientation = if params.map(|p| p.orientation).as_deref() == Some("image") {
                    Orientation::Image
                } else {
                    Orientation::Video
                };
                let quality = if task.quality.as_deref() == Some("1080p") {
                    Quality::P1080
                } else {
                    Quality::P720
                };
                let seconds = upstream
                    .video_duration
                    .map(|s| billed_seconds((s * 1000.0) as u64, orientation));
                task.output_seconds = seconds.map(i64::from);
                task.cost_final = Some(match seconds {
                    Some(s) => {
                        (i64::from(s) * quality.micro_credits_per_second()).min(task.cost_reserved)
                    }
                    None => task.cost_reserved,
                });
                task.state = "archiving".into();
                task.progress = 100;
                task.result_url = Some(url);
                task.result_url_expires_at = Some(now_unix() + UPSTREAM_LINK_SECS);
                task.attempts = 0;
                archive(state, task).await
            }
            TaskStatus::Failed | TaskStatus::Cancelled => {
                let failure = upstream
                    .failure
                    .unwrap_or(crate::backend::evolink::TaskFailure {
                        code: "unknown_error".into(),
                        message: String::new(),
                    });
                let message = format!(
                    "{} Your credits were returned.",
                    failure_message(&failure.code, &failure.message)
                );
                fail(state, task, &failure.code, message).await
            }
            _ => {
                task.progress = task.progress.max(i64::from(upstream.progress));
                task.attempts += 1;
                task.next_run_at = now_ms() + poll_delay(state, task.attempts);
                save(state, &task, None).await
            }
        },
        Err(EvoLinkError::TaskNotFound) => {
            fail(
                state,
                task,
                "resource_not_found",
                "EvoLink no longer knows this task. Your credits were returned.".into(),
            )
            .await
        }
        Err(err) => {
            tracing::warn!(task = %task.id, error = %err, "polling failed; will retry");
            task.attempts += 1;
            task.next_run_at = now_ms() + poll_delay(state, task.attempts);
            save(state, &task, None).await
        }
    }
}

/// A finished element task: keep EvoLink's id (as received) and settle the credit.
async fn finish_element(
    state: &AppState,
    mut task: TaskRecord,
    element_id: Option<String>,
) -> Result<(), BackendError> {
    let Some(element_id) = element_id.filter(|id| !id.trim().is_empty()) else {
        return fail(
            state,
            task,
            "no_result",
            "EvoLink finished without an element id. Your credit was returned.".into(),
        )
        .await;
    };
    state
        .store()
        .set_upstream_element_id(&task.id, &element_id, now_unix())
        .await?;
    task.state = "completed".into();
    task.progress = 100;
    task.cost_final = Some(task.cost_reserved);
    task.finished_at = Some(now_unix());
    save(
        state,
        &task,
        Some(LedgerWrite {
            kind: "settle",
            amount: 0,
        }),
    )
    .await
}

async fn archive(state: &AppState, mut task: TaskRecord) -> Result<(), BackendError> {
    let url = task.result_url.clone().unwrap_or_default();
    match archive_result(state, &task.id, &url).await {
        Ok(key) => {
            task.state = "completed".into();
            task.result_key = Some(key);
            task.finished_at = Some(now_unix());
            let charged = task.cost_final.unwrap_or(task.cost_reserved);
            let release = task.cost_reserved - charged;
            save(state, &task, Some(LedgerWrite { kind: "settle", amount: release })).await
        }
        Err(why) if task.result_url_expires_at.is_some_and(|t| t <= now_unix()) => {
            fail(state, task, "archive_failed", format!("The result could not be saved before EvoLink's link expired ({why}). Your credits were returned.")).await
        }
        Err(why) => {
            tracing::warn!(task = %task.id, %why, "archiving failed; will retry");
            task.attempts += 1;
            task.next_run_at = now_ms() + poll_delay(state, task.attempts).min(Duration::from_secs(300).as_millis() as i64);
            save(state, &task, None).await
        }
    }
}
