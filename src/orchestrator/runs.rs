//! Run operations of the actor: execute and retry (claim the run in the database, then hand the
//! plan to the engine), cancel, and the bookkeeping when a run ends (session FSM, waiters).
//!
//! The engine owns a run while it goes; the actor only keeps its cancel token and run id.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::actor::{Actor, Command};
use super::errors::{invalid_state, refused};
use super::plans::{event, status_change};
use super::session::SessionWalk;
use super::{ExecuteRequest, OrchestratorError, RetryRequest, RunStarted, invalid_param};
use crate::config::PlanApproval;
use std::sync::{Arc, Mutex};

use super::follow::lock;
use super::ticks::Ticker;
use crate::engine::events::{DEFAULT_OUTPUT_EVENT_CAP, EventSender, event_queue};
use crate::engine::{
    Backoff, EventReceiver, ExecutionSummary, RunConfig, RunControls, RunEvent, RunEventKind, RunStopper, spawn_run,
};
use crate::fsm::{SessionEvent, SessionState};
use crate::graph::DependencyGraph;
use crate::model::{FailurePolicy, Plan, PlanId, PlanStatus, RunId, SessionId, SubtaskId, SubtaskStatus, Timestamp};
use crate::panics::panic_message;
use crate::store::{PlanEvent, PlanHeader, WriteOp};

/// Most subtasks run at once, whatever the request asks.
const MAX_PARALLEL_LIMIT: usize = 256;
/// Grace between SIGTERM and SIGKILL when a run is cancelled.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// A run of this process, as the actor tracks it.
pub(super) struct ActiveRun {
    pub run_id: RunId,
    pub session_id: SessionId,
    pub cancel: CancellationToken,
    /// Completes the run's waiting steps.
    pub controls: RunControls,
    stopper: RunStopper,
    waiters: Vec<oneshot::Sender<PlanStatus>>,
    /// Where the run's events go: whoever started it, then whoever follows it.
    followers: Followers,
}

/// The queues of a run's followers; `None` once the run's last event has gone out.
type Followers = Arc<Mutex<Option<Vec<EventSender>>>>;

/// Passes every event of the run to each follower that is still there; their queues end after
/// the run's `planFinished`, the last event.
async fn fan_out(mut events: EventReceiver, followers: Followers, ticker: Option<Ticker>) {
    while let Some(event) = events.recv().await {
        if let (Some(ticker), RunEventKind::SubtaskFinished { subtask_id, status: SubtaskStatus::Done, .. }) =
            (&ticker, &event.kind)
        {
            ticker.tick(subtask_id).await;
        }
        let mut followers = lock(&followers);
        let Some(followers) = followers.as_mut() else { return };
        followers.retain(|follower| !follower.is_closed());
        for follower in followers.iter() {
            follower.send(event.clone());
        }
    }
    *lock(&followers) = None;
}

impl ActiveRun {
    /// Cancels the run; the receiver resolves with the final status once it is committed.
    pub fn stop(&mut self, reason: Option<String>) -> oneshot::Receiver<PlanStatus> {
        tracing::info!(run = %self.run_id, reason = reason.as_deref().unwrap_or("none"), "cancelling run");
        self.cancel.cancel();
        let (sender, receiver) = oneshot::channel();
        self.waiters.push(sender);
        receiver
    }

    /// Stops the run leaving the plan `interrupted` (resumable); resolves like [`Self::stop`].
    pub fn interrupt(&mut self) -> oneshot::Receiver<PlanStatus> {
        tracing::info!(run = %self.run_id, "interrupting run: the server is going away");
        self.stopper.interrupt();
        let (sender, receiver) = oneshot::channel();
        self.waiters.push(sender);
        receiver
    }
}

/// What `cancel` found.
pub(super) enum CancelWait {
    /// Not running in this process: nothing to cancel.
    NotRunning(PlanStatus),
    /// Cancelling: resolves with the final status.
    Stopping(oneshot::Receiver<PlanStatus>),
}

/// A run's end, reported by its watcher task.
pub(super) struct RunEnd {
    plan_id: PlanId,
    run_id: RunId,
    /// The engine's summary, or what went wrong if the engine task itself died.
    outcome: Result<ExecutionSummary, String>,
}

/// How a run is configured, from the request and the settings.
struct Launch {
    max_parallel: usize,
    failure_policy: FailurePolicy,
    /// Coder, debug and ask steps wait for whoever takes them (`next`, `complete`) even when a
    /// model is configured; only shell steps run.
    agents_by_hand: bool,
}

impl Actor {
    pub(super) async fn execute(
        &mut self,
        request: ExecuteRequest,
        agents_by_hand: bool,
    ) -> Result<RunStarted, OrchestratorError> {
        let mut launch = self.launch_settings(request.max_parallel, request.failure_policy)?;
        launch.agents_by_hand = agents_by_hand;
        let mut plan = self.load_plan(&request.plan_id).await?;
        self.book_committed_end(&plan).await;
        self.refuse_if_running(&plan)?;
        let previous = plan.status;
        let now = Timestamp::now();
        let mut session = self.load_session_for(&plan, now).await?;
        if plan.status == PlanStatus::Draft {
            if !self.auto_approves(&plan) {
                return Err(invalid_state(&plan, format!("plan {} needs approval before it runs", plan.id)));
            }
            plan.approve(now).map_err(|error| refused(&plan, error))?;
            if session.state == SessionState::PlanReview {
                session.fire_if_legal(SessionEvent::PlanApproved);
            }
        }
        let run_id = RunId::generate();
        plan.start_run(now, run_id.clone()).map_err(|error| refused(&plan, error))?;
        let mut ops = status_change(&plan, previous, now, "runClaimed", None);
        ops.extend(session.into_ops());
        self.commit_claim(&run_id, ops).await?;
        Ok(self.launch(plan, launch))
    }

    pub(super) async fn retry(&mut self, request: RetryRequest) -> Result<RunStarted, OrchestratorError> {
        let launch = self.launch_settings(None, None)?;
        let mut plan = self.load_plan(&request.plan_id).await?;
        self.book_committed_end(&plan).await;
        self.refuse_if_running(&plan)?;
        if !matches!(plan.status, PlanStatus::Failed | PlanStatus::Cancelled | PlanStatus::Interrupted) {
            return Err(invalid_state(
                &plan,
                format!(
                    "only a failed, cancelled or interrupted plan can be retried; plan {} is {}",
                    plan.id, plan.status
                ),
            ));
        }
        let rerun = rerun_set(&plan, request.subtask_ids.as_deref())?;
        // Never alongside a previous attempt that a crashed server left running.
        super::kill_leftovers(vec![plan.id.to_string()]).await;
        let previous = plan.status;
        let now = Timestamp::now();
        let run_id = RunId::generate();
        plan.start_retry(now, run_id.clone(), &rerun, true).map_err(|error| refused(&plan, error))?;
        let reset = plan.subtasks.iter().filter(|subtask| rerun.contains(&subtask.id)).cloned().collect();
        let detail = format!("retry: {}", rerun.iter().map(SubtaskId::as_str).collect::<Vec<_>>().join(", "));
        let mut ops = status_change(&plan, previous, now, "runClaimed", Some(detail));
        ops.insert(1, WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: reset });
        let mut session = self.load_session_for(&plan, now).await?;
        if session.state == SessionState::ErrorHandling {
            let event = if is_atomic(&plan) { SessionEvent::RetrySubtask } else { SessionEvent::PlanApproved };
            session.fire_if_legal(event);
        }
        ops.extend(session.into_ops());
        self.commit_claim(&run_id, ops).await?;
        Ok(self.launch(plan, launch))
    }

    /// Commits a run's claim; its id is first made known as this process's, so the tail that
    /// follows other processes' runs never takes it for one of theirs.
    async fn commit_claim(&mut self, run_id: &RunId, ops: Vec<WriteOp>) -> Result<(), OrchestratorError> {
        lock(&self.local_runs).insert(run_id.clone());
        let committed = self.repository.commit(ops).await;
        if committed.is_err() {
            lock(&self.local_runs).remove(run_id);
        }
        Ok(committed?)
    }

    /// A new follower of the plan's run in this process, if it has one: its events from now on,
    /// after a `planStarted` with the progress as stored.
    pub(super) async fn follow(&mut self, plan_id: &PlanId) -> Result<Option<RunStarted>, OrchestratorError> {
        let Some(run) = self.runs.get(plan_id) else { return Ok(None) };
        let (run_id, followers) = (run.run_id.clone(), run.followers.clone());
        let plan = self.load_plan(plan_id).await?;
        let (sender, events) = event_queue(DEFAULT_OUTPUT_EVENT_CAP);
        let total = u32::try_from(plan.subtasks.len()).unwrap_or(u32::MAX);
        let kind = RunEventKind::PlanStarted { title: plan.title.clone(), total };
        let at = Timestamp::now();
        sender.send(RunEvent { plan_id: plan_id.clone(), run_id: run_id.clone(), at, progress: plan.progress(), kind });
        if lock(&followers).as_mut().map(|followers| followers.push(sender)).is_none() {
            return Ok(None); // Its last event has gone out: the run is over.
        }
        Ok(Some(RunStarted { plan_id: plan_id.clone(), run_id, title: plan.title, events, elsewhere: false }))
    }

    pub(super) async fn cancel(
        &mut self,
        plan_id: PlanId,
        reason: Option<String>,
    ) -> Result<CancelWait, OrchestratorError> {
        if let Some(run) = self.runs.get_mut(&plan_id) {
            let run_id = run.run_id.clone();
            let waiter = run.stop(reason.clone());
            let note = PlanEvent {
                plan_id: plan_id.clone(),
                at: Timestamp::now(),
                run_id: Some(run_id),
                subtask_id: None,
                kind: "cancelRequested".to_owned(),
                from_status: None,
                to_status: None,
                detail: reason,
            };
            // The run is stopping either way; a database that cannot take the note (disk full)
            // must not turn the cancel into an error.
            if let Err(error) = self.repository.commit(vec![WriteOp::AppendEvent(note)]).await {
                tracing::warn!(plan = %plan_id, %error, "cannot record the cancel request");
            }
            return Ok(CancelWait::Stopping(waiter));
        }
        // Running elsewhere too: the handle finds who runs it.
        Ok(CancelWait::NotRunning(self.load_plan(&plan_id).await?.status))
    }

    /// A run's end, as its watcher reports it once the engine task is over. Already booked when
    /// a request saw the end committed first ([`Actor::book_committed_end`]).
    pub(super) async fn run_finished(&mut self, end: RunEnd) {
        if self.runs.get(&end.plan_id).is_none_or(|run| run.run_id != end.run_id) {
            return;
        }
        let status = match end.outcome {
            Ok(summary) => summary.status,
            Err(message) => self.fail_dead_run(&end.plan_id, &message).await,
        };
        self.book_end(&end.plan_id, status).await;
    }

    /// The client can hold a run's `planFinished` before the engine task is over and its watcher
    /// has reported the end: a plan whose end is committed (completed, failed, cancelled) has no
    /// run left, and a request that comes in that moment is judged on the plan as it ended, never
    /// refused as "running". Books the end now; the watcher's report then finds it booked.
    pub(super) async fn book_committed_end(&mut self, plan: &Plan) {
        if plan.status.is_finished() && self.runs.contains_key(&plan.id) {
            self.book_end(&plan.id, plan.status).await;
        }
    }

    /// Books a run's end: forgets it, moves the session, wakes whoever waits for it.
    async fn book_end(&mut self, plan_id: &PlanId, status: PlanStatus) {
        let Some(run) = self.runs.remove(plan_id) else { return };
        if let Err(error) = self.record_session_outcome(plan_id, status).await {
            tracing::warn!(plan = %plan_id, %error, "could not record the session's outcome");
        }
        for waiter in run.waiters {
            let _ = waiter.send(status);
        }
    }

    async fn record_session_outcome(&mut self, plan_id: &PlanId, status: PlanStatus) -> Result<(), OrchestratorError> {
        let plan = self.load_plan(plan_id).await?;
        let mut session = self.load_session_for(&plan, Timestamp::now()).await?;
        let event = match (is_atomic(&plan), status) {
            (_, PlanStatus::Cancelled) => SessionEvent::PlanCancelled,
            (true, PlanStatus::Completed) => SessionEvent::AllSubtasksDone,
            (true, _) => SessionEvent::SubtaskFailed,
            (false, PlanStatus::Completed) => SessionEvent::PlanExecutionCompleted,
            (false, _) => SessionEvent::PlanExecutionFailed,
        };
        let expected = if is_atomic(&plan) { SessionState::Execution } else { SessionState::PlanExecution };
        if session.state == expected {
            session.fire_if_legal(event);
        }
        let ops = session.into_ops();
        if !ops.is_empty() {
            self.repository.commit(ops).await?;
        }
        Ok(())
    }

    /// The engine task died without finishing the plan (a bug): fail what is left so the plan
    /// never stays `running`.
    async fn fail_dead_run(&mut self, plan_id: &PlanId, message: &str) -> PlanStatus {
        tracing::error!(plan = %plan_id, message, "run ended without a final status");
        let Ok(mut plan) = self.load_plan(plan_id).await else { return PlanStatus::Failed };
        if plan.status != PlanStatus::Running {
            return plan.status;
        }
        let now = Timestamp::now();
        let error = format!("internal error: {message}");
        for subtask in &mut plan.subtasks {
            let _ = match subtask.status {
                SubtaskStatus::Running => subtask.fail(now, error.clone(), None),
                SubtaskStatus::Pending | SubtaskStatus::Waiting => subtask.cancel(now, error.clone()),
                _ => Ok(()),
            };
        }
        let status = plan.finish_run(now, false).unwrap_or(PlanStatus::Failed);
        plan.error = Some(error.clone());
        let ops = vec![
            WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: plan.subtasks.clone() },
            WriteOp::UpdateHeader(PlanHeader::of(&plan)),
            WriteOp::AppendEvent(PlanEvent {
                detail: Some(error),
                ..event(&plan, now, "runFinished", Some(PlanStatus::Running), Some(status))
            }),
        ];
        if let Err(error) = self.repository.commit(ops).await {
            tracing::error!(plan = %plan_id, %error, "could not record the failed run");
        }
        status
    }

    /// Cancels every run of this process that belongs to `session`.
    pub(super) fn stop_runs_of_session(
        &mut self,
        session: &SessionId,
        reason: &str,
    ) -> Vec<oneshot::Receiver<PlanStatus>> {
        self.runs
            .values_mut()
            .filter(|run| &run.session_id == session)
            .map(|run| run.stop(Some(reason.to_owned())))
            .collect()
    }

    fn launch_settings(
        &self,
        max_parallel: Option<usize>,
        failure_policy: Option<FailurePolicy>,
    ) -> Result<Launch, OrchestratorError> {
        let max_parallel = max_parallel.unwrap_or(self.settings.max_parallel);
        if max_parallel == 0 || max_parallel > MAX_PARALLEL_LIMIT {
            return Err(invalid_param(
                "maxParallel",
                format!("must be between 1 and {MAX_PARALLEL_LIMIT}, got {max_parallel}"),
            ));
        }
        Ok(Launch {
            max_parallel,
            failure_policy: failure_policy.unwrap_or(self.settings.failure_policy),
            agents_by_hand: false,
        })
    }

    fn refuse_if_running(&self, plan: &Plan) -> Result<(), OrchestratorError> {
        if self.runs.contains_key(&plan.id) || plan.status == PlanStatus::Running {
            return Err(invalid_state(plan, format!("plan {} is already running", plan.id)));
        }
        if self.rolling_back.contains(&plan.id) {
            return Err(invalid_state(plan, format!("plan {} is being reverted; run it when that is done", plan.id)));
        }
        Ok(())
    }

    /// Whether `execute` may approve this draft itself (`approval.plans`). Under `complex` only a
    /// one-step plan the classifier was sure is atomic runs unreviewed: never a low-confidence
    /// verdict, never a plan of several steps.
    fn auto_approves(&self, plan: &Plan) -> bool {
        match self.settings.plan_approval {
            PlanApproval::Never => true,
            PlanApproval::Always => false,
            PlanApproval::Complex => {
                plan.subtasks.len() == 1
                    && plan.classification.as_ref().is_some_and(|classification| classification.is_sure_atomic())
            }
        }
    }

    async fn load_session_for(&self, plan: &Plan, now: Timestamp) -> Result<SessionWalk, OrchestratorError> {
        let lookup = plan.session_id.clone();
        let record = self.repository.call(move |store| store.get_session(&lookup)).await?;
        let state = record.map(|record| record.state).unwrap_or(SessionState::Idle);
        let mut walk = SessionWalk::new(plan.session_id.clone(), state, now);
        walk.about(&plan.id);
        Ok(walk)
    }

    /// Hands a claimed plan to the engine and watches for its end.
    fn launch(&mut self, plan: Plan, launch: Launch) -> RunStarted {
        let config = RunConfig {
            max_parallel: launch.max_parallel,
            failure_policy: launch.failure_policy,
            workspace_root: self.workspace_root.clone(),
            backoff: Backoff::default(),
            kill_grace: KILL_GRACE,
            agents: if launch.agents_by_hand {
                crate::engine::AgentSet::for_person_without_llm()
            } else {
                crate::agents::agents_for_run(&self.settings, &self.agent_state)
            },
            editor: self.editor.as_ref().map(|editor| editor.0.clone()),
        };
        let plan_id = plan.id.clone();
        let session_id = plan.session_id.clone();
        let title = plan.title.clone();
        let editor = self.editor.as_ref().map(|editor| editor.0.clone());
        let ticker = Ticker::for_plan(&plan, &self.workspace_root, self.agent_state.writer().clone(), editor);
        let (handle, engine_events) = spawn_run(self.repository.clone(), plan, config);
        let run_id = handle.run_id.clone();
        let (first, events) = event_queue(DEFAULT_OUTPUT_EVENT_CAP);
        let followers = Arc::new(Mutex::new(Some(vec![first])));
        tokio::spawn(fan_out(engine_events, followers.clone(), ticker));
        let cancel = handle.cancel_token();
        let controls = handle.controls.clone();
        let stopper = handle.stopper();
        let commands = self.commands.clone();
        let watched = RunEnd { plan_id: plan_id.clone(), run_id: run_id.clone(), outcome: Err(String::new()) };
        tokio::spawn(async move {
            let outcome = handle.finished.await.map_err(|error| match error.try_into_panic() {
                Ok(panic) => format!("run panicked: {}", panic_message(&*panic)),
                Err(error) => format!("run stopped: {error}"),
            });
            if let Some(commands) = commands.upgrade() {
                let _ = commands.send(Command::RunFinished(RunEnd { outcome, ..watched })).await;
            }
        });
        self.runs.insert(
            plan_id.clone(),
            ActiveRun { run_id: run_id.clone(), session_id, cancel, controls, stopper, waiters: Vec::new(), followers },
        );
        RunStarted { plan_id, run_id, title, events, elsewhere: false }
    }
}

fn is_atomic(plan: &Plan) -> bool {
    plan.classification.as_ref().is_some_and(|classification| classification.is_atomic())
}

/// The subtasks a retry re-runs: the named ones and everything that depends on them, or every
/// subtask that is not done.
fn rerun_set(plan: &Plan, named: Option<&[SubtaskId]>) -> Result<Vec<SubtaskId>, OrchestratorError> {
    let Some(named) = named else {
        return Ok(plan
            .subtasks
            .iter()
            .filter(|subtask| subtask.status != SubtaskStatus::Done)
            .map(|subtask| subtask.id.clone())
            .collect());
    };
    if named.is_empty() {
        return Err(invalid_param("subtaskIds", "must not be empty (omit it to retry every subtask that is not done)"));
    }
    let graph = DependencyGraph::build(&plan.subtasks)
        .map_err(|errors| OrchestratorError::Internal(format!("stored plan has an invalid graph: {}", errors.len())))?;
    let mut positions = Vec::new();
    for (index, id) in named.iter().enumerate() {
        let Some(position) = plan.subtasks.iter().position(|subtask| &subtask.id == id) else {
            return Err(invalid_param(&format!("subtaskIds[{index}]"), format!("unknown subtask \"{id}\"")));
        };
        positions.push(position);
        positions.extend(graph.transitive_dependents(position));
    }
    positions.sort_unstable();
    positions.dedup();
    Ok(positions.into_iter().map(|position| plan.subtasks[position].id.clone()).collect())
}
