//! The doing half of the engine: claim a due task with a lease, perform the effect its step
//! needs (publish and create, poll, archive), let [`next`] decide, and write the result back
//! under the lease's epoch. [`run_once`] is one such step; the workers loop over it.

use rand::Rng;

use super::{
    archive::{archive_result, ArchiveError},
    publish::input_url,
    requests::{create_request, input_upload_ids, CreateRequest},
    transition::{
        next, observe_create, observe_poll, plan, Effect, Observation, Pacing, Transition,
    },
    TaskEvent,
};
use crate::backend::{metrics::UpstreamCall, store::TaskRecord, AppState, BackendError};
use crate::rules::vocab::TaskState;

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub task_id: String,
    /// The state the task was claimed in.
    pub from: TaskState,
    /// The state it was left in (unchanged when a newer lease owned it).
    pub to: TaskState,
    /// False when a newer lease owned the task and this step's write was dropped.
    pub saved: bool,
}

/// The states the creating-and-polling workers take.
const FRONT_STATES: [TaskState; 3] = [TaskState::Queued, TaskState::Submitting, TaskState::Running];
/// The state the archive workers take.
const ARCHIVE_STATES: [TaskState; 1] = [TaskState::Archiving];

/// Runs the configured workers until the process ends: some create and poll, the others copy
/// results, so a slow download never holds up polling.
pub async fn run_workers(state: AppState) {
    let engine = state.engine();
    let pools = [
        ("w", engine.workers, &FRONT_STATES[..]),
        ("a", engine.archive_workers, &ARCHIVE_STATES[..]),
    ];
    let mut handles = Vec::new();
    for (pool, count, states) in pools {
        for n in 0..count {
            let state = state.clone();
            let name = format!("{}-{pool}{n}", state.worker_id());
            handles.push(tokio::spawn(
                async move { worker(state, name, states).await },
            ));
        }
    }
    for handle in handles {
        let _ = handle.await;
    }
}

async fn worker(state: AppState, name: String, states: &'static [TaskState]) {
    loop {
        loop {
            match step(&state, &name, states).await {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(err) => {
                    tracing::error!(error = %err, "a task step failed");
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

/// Claims one due task (in any active state) and takes it one step further; `None` when
/// nothing is due.
pub async fn run_once(state: &AppState) -> Result<Option<Outcome>, BackendError> {
    step(state, state.worker_id(), &TaskState::ACTIVE).await
}

async fn step(
    state: &AppState,
    worker: &str,
    states: &[TaskState],
) -> Result<Option<Outcome>, BackendError> {
    let now = state.clock().now_ms();
    let lease_until = now + state.engine().lease.as_millis() as i64;
    let Some(task) = state
        .store()
        .claim_due_task(worker, now, lease_until, states)
        .await?
    else {
        return Ok(None);
    };
    let pacing = pacing(state).await;
    let unchanged = |task: &TaskRecord| Outcome {
        task_id: task.id.clone(),
        from: task.state,
        to: task.state,
        saved: false,
    };
    let Some(effect) = plan(&task, now, &pacing) else {
        return Ok(Some(unchanged(&task)));
    };
    let mut heartbeat = Heartbeat::start(state, &task, worker);
    let observed = tokio::select! {
        observed = perform(state, &task, effect) => observed?,
        () = heartbeat.lost() => {
            tracing::warn!(task = %task.id, "the lease was lost mid-step; stopping before any write");
            return Ok(Some(unchanged(&task)));
        }
    };
    drop(heartbeat);
    let Some(observation) = observed else {
        // A newer lease took the task before the create was sent.
        return Ok(Some(unchanged(&task)));
    };
    let transition = next(&task, observation, state.clock().now_ms(), &pacing);
    let to = transition.task.state;
    let saved = apply(state, transition).await?;
    Ok(Some(Outcome {
        task_id: task.id.clone(),
        from: task.state,
        to: if saved { to } else { task.state },
        saved,
    }))
}

/// Performs a step's effect; `None` when the task turned out to belong to a newer lease.
async fn perform(
    state: &AppState,
    task: &TaskRecord,
    effect: Effect,
) -> Result<Option<Observation>, BackendError> {
    Ok(Some(match effect {
        Effect::Decide(observation) => *observation,
        Effect::Create => return create(state, task).await,
        Effect::Poll => poll(state, task).await?,
        Effect::Archive => archive(state, task).await,
    }))
}

/// Renews a claimed task's lease every third of the lease while a step runs, fenced by the
/// epoch; reports when the lease was lost to a newer claim.
struct Heartbeat {
    lost: tokio::sync::watch::Receiver<bool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    fn start(state: &AppState, task: &TaskRecord, worker: &str) -> Heartbeat {
        let (report, lost) = tokio::sync::watch::channel(false);
        let (state, id, epoch, worker) = (
            state.clone(),
            task.id.clone(),
            task.epoch,
            worker.to_string(),
        );
        let renewer = tokio::spawn(async move {
            let lease = state.engine().lease;
            loop {
                tokio::time::sleep(lease / 3).await;
                let until = state.clock().now_ms() + lease.as_millis() as i64;
                match state.store().renew_lease(&id, epoch, &worker, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = report.send(true);
                        return;
                    }
                    Err(err) => tracing::warn!(task = %id, error = %err, "renewing a lease failed"),
                }
            }
        });
        Heartbeat { lost, renewer }
    }

    /// Completes once the lease is known to be lost; never while it holds.
    async fn lost(&mut self) {
        if self.lost.wait_for(|lost| *lost).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// This step's pacing, with a fresh random factor.
async fn pacing(state: &AppState) -> Pacing {
    let settings = state.engine();
    let running = state
        .running_tasks()
        .estimate(state.store(), state.clock().now_ms())
        .await;
    Pacing {
        poll_first_ms: settings.poll_first.as_millis() as i64,
        poll_max_ms: settings.poll_max.as_millis() as i64,
        jitter: rand::thread_rng().gen_range(0.8..=1.2),
        reconcile_grace_ms: settings.reconcile_grace.as_millis() as i64,
        running_tasks: running,
        upstream_rps: settings.upstream_rps,
    }
}

/// Writes a transition (task, ledger entry and element id in one transaction) and tells the
/// owner's pages; `false` when a newer lease owns the task.
async fn apply(state: &AppState, transition: Transition) -> Result<bool, BackendError> {
    let Transition {
        task,
        ledger,
        element_id,
    } = transition;
    let entry = ledger.as_ref().map(|entry| (entry.kind, entry.amount));
    let saved = state
        .store()
        .save_task(&task, ledger, element_id.as_deref(), state.clock().now())
        .await?;
    if saved {
        if let Some((kind, amount)) = entry {
            state.metrics().ledger_entry(kind, amount);
            if task.state.is_final() {
                state
                    .metrics()
                    .task_finished(task.state, task.cost_reserved - amount);
            }
        }
        state.notify_task(TaskEvent {
            owner_id: task.owner_id,
            task_id: task.id.clone(),
        });
    } else {
        tracing::warn!(task = %task.id, "a newer lease owns this task; the late write was dropped");
    }
    Ok(saved)
}

/// Publishes the inputs and sends the create with the task's idempotency key (again, for a task
/// already `submitting`); `None` when a newer lease took the task before anything was sent.
async fn create(state: &AppState, task: &TaskRecord) -> Result<Option<Observation>, BackendError> {
    let mut urls = Vec::new();
    for upload_id in input_upload_ids(task) {
        let upload = match upload_id {
            Some(id) => state.store().upload_of_owner(&id, task.owner_id).await?,
            None => None,
        };
        let Some(upload) = upload else {
            return Ok(Some(Observation::InputMissing));
        };
        match input_url(state, &upload).await {
            Ok(url) => urls.push(url),
            Err(err) => {
                tracing::warn!(task = %task.id, error = %err, "publishing an input failed; will retry");
                return Ok(Some(Observation::PublishFailed));
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
    let request = create_request(task, &urls, callback_url);
    // Write down that the create is about to be sent before sending it.
    if task.state == TaskState::Queued
        && !state
            .store()
            .mark_submitting(&task.id, task.epoch, state.clock().now_ms())
            .await?
    {
        return Ok(None);
    }
    let client = state.evolink()?;
    let key = idempotency_key(task);
    let started = std::time::Instant::now();
    let created = match &request {
        CreateRequest::Motion(request) => client.create_motion(request, &key).await,
        CreateRequest::Element(request) => client.create_element(request, &key).await,
    };
    let outcome = created.as_ref().map_or_else(|err| err.kind(), |_| "ok");
    state
        .metrics()
        .upstream_call(UpstreamCall::Create, outcome, started.elapsed());
    if let Err(err) = &created {
        tracing::warn!(task = %task.id, error = %err, "the create did not succeed");
    }
    Ok(Some(observe_create(created)))
}

/// The key every create of `task` carries, so that sending it again returns the same upstream
/// task instead of a second one.
pub fn idempotency_key(task: &TaskRecord) -> String {
    format!("kinema-{}", task.id)
}

/// Asks the upstream how the task is doing.
async fn poll(state: &AppState, task: &TaskRecord) -> Result<Observation, BackendError> {
    let Some(upstream_id) = task.upstream_id.as_deref() else {
        return Ok(Observation::UpstreamIdMissing);
    };
    let started = std::time::Instant::now();
    let answer = state.evolink()?.get_task(upstream_id).await;
    let outcome = answer.as_ref().map_or_else(|err| err.kind(), |_| "ok");
    state
        .metrics()
        .upstream_call(UpstreamCall::Poll, outcome, started.elapsed());
    if let Err(err) = &answer {
        tracing::warn!(task = %task.id, error = %err, "polling failed");
    }
    Ok(observe_poll(answer))
}

/// Copies the result into storage.
async fn archive(state: &AppState, task: &TaskRecord) -> Observation {
    let url = task.result_url.clone().unwrap_or_default();
    let started = std::time::Instant::now();
    let archived = archive_result(state, &task.id, &url).await;
    let outcome = match &archived {
        Ok(_) => "ok",
        Err(ArchiveError::Refused(_)) => "refused",
        Err(ArchiveError::Failed(_)) => "failed",
    };
    state
        .metrics()
        .upstream_call(UpstreamCall::Download, outcome, started.elapsed());
    match archived {
        Ok(key) => Observation::Archived { key },
        Err(ArchiveError::Refused(why)) => {
            tracing::warn!(task = %task.id, %why, "the result link was refused");
            Observation::ArchiveRefused { why }
        }
        Err(ArchiveError::Failed(why)) => {
            tracing::warn!(task = %task.id, %why, "archiving failed; will retry");
            Observation::ArchiveFailed { why }
        }
    }
}

/// A callback asked to look at a task now (its body is not trusted; the worker re-reads it).
pub async fn wake_from_callback(
    state: &AppState,
    task_id: &str,
    token: &str,
) -> Result<bool, BackendError> {
    let woken = state
        .store()
        .wake_task(task_id, token, state.clock().now_ms())
        .await?;
    if woken {
        state.wake_workers();
    }
    Ok(woken)
}
