//! The run loop: the single owner of a run's state. It drives the pure [`ReadyQueue`], starts a
//! subtask the moment it is ready and a slot is free, applies every transition to the in-memory
//! plan through the model's guards, commits each batch of transitions to the store in one
//! transaction, and only then emits their events (a failed commit is retried with backoff; its
//! events wait for it). It always ends with exactly one `PlanFinished`.
//!
//! It does not spawn processes (agents do, through `process`) and does not decide whether the
//! plan may run (the caller claimed it).

mod baseline;
mod record;
mod waiting;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::agent::{AgentError, AgentIo, AgentRequest, AgentSignal, AttemptClock, DependencyResult};
use super::attempt::{SharedProgress, TaskReport, output_sink, run_attempt, signal_sink, wait_backoff};
use super::commit::commit_with_retry;
use super::events::{EventSender, RunEvent, RunEventKind};
use super::manual::{CompleteError, RunControl};
use super::questions::AnswerRefused;
use super::queue::ReadyQueue;
use super::{ExecutionSummary, RunConfig, RunStopper};
use crate::model::{FailurePolicy, Plan, PlanStatus, Progress, SubtaskStatus, Timestamp};
use crate::panics::panic_message;
use crate::store::{PlanEvent, PlanHeader, PlanRepository, WriteOp};

/// Why the run stopped launching work before the queue drained.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StopReason {
    UserCancel,
    /// The server is going away unasked: stop processes, leave the plan `interrupted`.
    Interrupted,
    FailFast {
        failed: String,
    },
    Storage {
        error: String,
    },
}

impl StopReason {
    fn cancel_reason(&self) -> String {
        match self {
            Self::UserCancel => "cancelled".to_owned(),
            Self::Interrupted => "interrupted: the server stopped".to_owned(),
            Self::FailFast { failed } => format!("cancelled: subtask \"{failed}\" failed (failFast)"),
            Self::Storage { error } => format!("cancelled: storage error: {error}"),
        }
    }
}

/// Transitions applied in memory but not yet committed, with the events they will emit.
#[derive(Default)]
struct Batch {
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    plan_events: Vec<PlanEvent>,
    run_events: Vec<RunEvent>,
    /// Attempts to spawn once the batch is committed.
    launches: Vec<usize>,
    /// Answers to `planning/complete`, sent once the batch is committed.
    replies: Vec<oneshot::Sender<Result<(), CompleteError>>>,
    /// Agent work on the record (transcripts, file changes), committed with the rest.
    record_ops: Vec<WriteOp>,
    /// Answers to `planning/answer`, sent once the batch is committed.
    answer_replies: Vec<oneshot::Sender<Result<(), AnswerRefused>>>,
}

pub(super) struct Driver {
    repository: PlanRepository,
    plan: Plan,
    config: RunConfig,
    events: Arc<EventSender>,
    run_cancel: CancellationToken,
    interrupted: Arc<AtomicBool>,
    queue: ReadyQueue,
    tasks: JoinSet<TaskReport>,
    task_nodes: HashMap<tokio::task::Id, usize>,
    attempt_tokens: HashMap<usize, CancellationToken>,
    first_started: Vec<Option<Instant>>,
    durations_ms: Vec<u64>,
    progress: Progress,
    shared_progress: SharedProgress,
    batch: Batch,
    stop: Option<StopReason>,
    /// Whether the person was told that progress cannot be recorded (once per run).
    told_storage_trouble: bool,
    run_started: Instant,
    /// Why the plan's dependencies cannot be scheduled (then nothing runs).
    graph_problem: Option<String>,
    /// Completions of waiting steps, from the orchestrator.
    controls: mpsc::UnboundedReceiver<RunControl>,
    /// Nodes parked in `waiting` until a person completes them.
    waiting: BTreeSet<usize>,
    /// Usage and approval answers from running agents, by node.
    signal_sender: mpsc::UnboundedSender<(usize, AgentSignal)>,
    signal_receiver: mpsc::UnboundedReceiver<(usize, AgentSignal)>,
    /// Questions, transcripts and file changes of the run's agents (`driver/record.rs`).
    record: record::RunRecord,
}

impl Driver {
    pub(super) fn new(
        repository: PlanRepository,
        plan: Plan,
        config: RunConfig,
        events: EventSender,
        stopper: RunStopper,
        controls: mpsc::UnboundedReceiver<RunControl>,
    ) -> Self {
        let size = plan.subtasks.len();
        let progress = plan.progress();
        let (queue, graph_problem) = match ReadyQueue::new(&plan.subtasks) {
            Ok(queue) => (queue, None),
            Err(errors) => {
                let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
                (ReadyQueue::unschedulable(&plan.subtasks), Some(problems.join("; ")))
            }
        };
        let (signal_sender, signal_receiver) = mpsc::unbounded_channel();
        Self {
            signal_sender,
            signal_receiver,
            repository,
            queue,
            graph_problem,
            plan,
            config,
            events: Arc::new(events),
            run_cancel: stopper.cancel,
            interrupted: stopper.interrupted,
            tasks: JoinSet::new(),
            task_nodes: HashMap::new(),
            attempt_tokens: HashMap::new(),
            first_started: vec![None; size],
            durations_ms: vec![0; size],
            progress,
            shared_progress: Arc::new(Mutex::new(progress)),
            batch: Batch { is_dirty: vec![false; size], ..Batch::default() },
            stop: None,
            told_storage_trouble: false,
            run_started: Instant::now(),
            controls,
            waiting: BTreeSet::new(),
            record: record::RunRecord::new(size),
        }
    }

    pub(super) async fn run(mut self) -> ExecutionSummary {
        self.record.load(&self.repository, &self.plan.id).await;
        let total = u32::try_from(self.plan.subtasks.len()).unwrap_or(u32::MAX);
        self.push_plan_event("runStarted", None, None, Some(PlanStatus::Running.as_str().to_owned()), None);
        self.push_run_event(RunEventKind::PlanStarted { title: self.plan.title.clone(), total });
        if self.plan.status != PlanStatus::Running {
            tracing::error!(plan = %self.plan.id, status = %self.plan.status, "engine was given a plan that is not running");
            self.queue.cancel_pending();
        }
        if let Some(problem) = self.graph_problem.take() {
            for node in self.queue.cancel_pending() {
                self.skip(node, format!("invalid dependency graph: {problem}"));
            }
        }
        self.skip_initially_blocked();
        loop {
            // A cancel that came while a commit was being retried is seen before anything starts.
            if self.stop.is_none() && self.run_cancel.is_cancelled() {
                self.begin_stop(self.requested_stop());
            }
            self.start_ready_subtasks();
            self.flush().await;
            if self.tasks.is_empty() && self.waiting.is_empty() {
                if self.queue.is_drained() || self.stop == Some(StopReason::Interrupted) {
                    break;
                }
                self.give_up_on_unreachable();
                continue;
            }
            tokio::select! {
                biased;
                () = self.run_cancel.cancelled(), if self.stop.is_none() => self.begin_stop(self.requested_stop()),
                Some(control) = self.controls.recv() => self.on_control(control),
                Some((node, signal)) = self.signal_receiver.recv() => self.on_signal(node, signal),
                Some(joined) = self.tasks.join_next_with_id() => {
                    self.on_joined(joined);
                    while let Some(joined) = self.tasks.try_join_next_with_id() {
                        self.on_joined(joined);
                    }
                }
            }
        }
        self.finish().await
    }

    /// Why the run token fired: the person cancelled, or the server is going away.
    fn requested_stop(&self) -> StopReason {
        if self.interrupted.load(Ordering::SeqCst) { StopReason::Interrupted } else { StopReason::UserCancel }
    }

    fn now() -> Timestamp {
        Timestamp::now()
    }

    fn skip_initially_blocked(&mut self) {
        for (node, blocker) in self.queue.take_initially_blocked() {
            let blocker_subtask = &self.plan.subtasks[blocker];
            let reason = format!("dependency \"{}\" is {}", blocker_subtask.id, blocker_subtask.status);
            self.skip(node, reason);
        }
    }

    /// Nodes still waiting with nothing running: impossible on a DAG, but the loop must end.
    fn give_up_on_unreachable(&mut self) {
        for node in self.queue.cancel_pending() {
            self.skip(node, "unreachable: no dependency can finish".to_owned());
        }
    }

    fn start_ready_subtasks(&mut self) {
        let slots = self.config.max_parallel.max(1);
        while self.stop.is_none() && self.queue.running_count() < slots {
            let Some(node) = self.queue.next_ready() else { break };
            self.queue.mark_started(node);
            if self.config.agents.waits_for_person(self.plan.subtasks[node].agent) {
                self.begin_waiting(node);
                continue;
            }
            let now = Self::now();
            let subtask = &mut self.plan.subtasks[node];
            if let Err(error) = subtask.start(now) {
                tracing::error!(%error, "ready subtask refused to start");
                self.queue.mark_failed(node);
                continue;
            }
            self.first_started[node] = Some(Instant::now());
            self.record_started(node, SubtaskStatus::Pending);
            self.batch.launches.push(node);
        }
    }

    fn record_started(&mut self, node: usize, from: SubtaskStatus) {
        let subtask = &self.plan.subtasks[node];
        let (id, title, attempt) = (subtask.id.clone(), subtask.title.clone(), subtask.attempts);
        self.shift(from, SubtaskStatus::Running);
        self.mark_dirty(node);
        let detail = format!("attempt {attempt}");
        self.push_plan_event("subtaskStarted", Some(node), Some(from), Some("running".to_owned()), Some(detail));
        self.push_run_event(RunEventKind::SubtaskStarted { subtask_id: id, title, attempt });
    }

    fn spawn_attempt(&mut self, node: usize) {
        let subtask = self.plan.subtasks[node].clone();
        let dependencies = self
            .queue
            .dependencies(node)
            .iter()
            .map(|&dependency| &self.plan.subtasks[dependency])
            .filter(|dependency| dependency.status == SubtaskStatus::Done)
            .map(|dependency| DependencyResult {
                id: dependency.id.clone(),
                title: dependency.title.clone(),
                agent: dependency.agent,
                result: dependency.result.clone().unwrap_or_default(),
            })
            .collect();
        let token = self.run_cancel.child_token();
        self.attempt_tokens.insert(node, token.clone());
        let output = output_sink(
            self.events.clone(),
            self.shared_progress.clone(),
            self.plan.id.clone(),
            self.run_id(),
            subtask.id.clone(),
        );
        let io = AgentIo {
            cancel: token,
            output,
            editor: self.config.editor.clone(),
            kill_grace: self.config.kill_grace,
            signals: signal_sink(
                self.events.clone(),
                self.shared_progress.clone(),
                self.signal_sender.clone(),
                (self.plan.id.clone(), self.run_id(), subtask.id.clone()),
                node,
            ),
            clock: AttemptClock::default(),
            questions: self.record.questions.clone(),
        };
        self.record.begin_attempt(node);
        let timeout = subtask.timeout_secs.map(std::time::Duration::from_secs);
        let executor = self.config.agents.get(subtask.agent);
        let request = AgentRequest {
            plan_id: self.plan.id.clone(),
            run_id: self.run_id(),
            goal: self.plan.goal.clone(),
            attempt: subtask.attempts,
            subtask,
            dependencies,
            workspace_root: self.config.workspace_root.clone(),
        };
        let handle = self.tasks.spawn(run_attempt(node, executor, request, io, timeout));
        self.task_nodes.insert(handle.id(), node);
    }

    fn on_signal(&mut self, node: usize, signal: AgentSignal) {
        match signal {
            AgentSignal::Usage(usage) => {
                self.plan.subtasks[node].usage.add(usage);
                self.mark_dirty(node);
            }
            AgentSignal::Activity(_) => {}
            other => self.on_record_signal(node, other),
        }
    }

    fn on_joined(&mut self, joined: Result<(tokio::task::Id, TaskReport), JoinError>) {
        // Signals sent before the attempt returned belong to it: record them first.
        while let Ok((node, signal)) = self.signal_receiver.try_recv() {
            self.on_signal(node, signal);
        }
        if self.run_cancel.is_cancelled() && self.stop.is_none() {
            self.begin_stop(self.requested_stop());
        }
        match joined {
            Ok((id, report)) => {
                self.task_nodes.remove(&id);
                match report {
                    TaskReport::Attempt { node, outcome } => self.on_attempt_finished(node, outcome),
                    TaskReport::BackoffOver { node, cancelled } => self.on_backoff_over(node, cancelled),
                }
            }
            Err(join_error) => {
                let Some(node) = self.task_nodes.remove(&join_error.id()) else { return };
                let message = if join_error.is_panic() {
                    format!("internal error: {}", panic_message(&*join_error.into_panic()))
                } else {
                    "internal error: the attempt was aborted".to_owned()
                };
                self.fail_for_good(node, message, None);
            }
        }
    }

    fn on_attempt_finished(&mut self, node: usize, outcome: Result<super::AgentOutcome, AgentError>) {
        let token = self.attempt_tokens.remove(&node);
        let stopped_by_us = self.stop.is_some() && token.is_some_and(|token| token.is_cancelled());
        self.forget_question(node);
        if self.plan.subtasks[node].is_baseline() && !stopped_by_us && !matches!(outcome, Err(AgentError::Cancelled)) {
            return self.finish_baseline(node, outcome);
        }
        match outcome {
            Ok(outcome) => self.complete(node, self.honest_result(node, outcome.result)),
            // Left `running`: `finish` puts it back to `pending` with the plan `interrupted`.
            Err(_) if stopped_by_us && self.stop == Some(StopReason::Interrupted) => {}
            Err(_) if stopped_by_us => self.cancel_running(node),
            Err(AgentError::Failed { message, output }) => {
                let subtask = &self.plan.subtasks[node];
                if subtask.attempts < subtask.max_attempts && self.stop.is_none() {
                    self.schedule_retry(node, message);
                } else {
                    self.fail_for_good(node, message, output);
                }
            }
            Err(error) => self.fail_for_good(node, error.to_string(), None),
        }
    }

    fn complete(&mut self, node: usize, result: String) {
        if let Err(error) = self.plan.subtasks[node].complete(Self::now(), result.clone()) {
            tracing::error!(%error, "cannot complete subtask");
        }
        self.queue.mark_done(node);
        self.record_finished(node, SubtaskStatus::Running);
    }

    fn schedule_retry(&mut self, node: usize, error: String) {
        let subtask = &mut self.plan.subtasks[node];
        let failed_attempt = subtask.attempts;
        if let Err(guard) = subtask.note_attempt_failed(error.clone()) {
            tracing::error!(%guard, "cannot note a failed attempt");
        }
        let subtask_id = subtask.id.clone();
        let delay = self.config.backoff.delay(failed_attempt);
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.mark_dirty(node);
        let detail = format!("attempt {failed_attempt} failed, retrying in {delay_ms} ms: {error}");
        self.push_plan_event("subtaskRetrying", Some(node), Some(SubtaskStatus::Running), None, Some(detail));
        self.push_run_event(RunEventKind::SubtaskRetrying { subtask_id, attempt: failed_attempt + 1, delay_ms, error });
        let token = self.run_cancel.child_token();
        self.attempt_tokens.insert(node, token.clone());
        let handle = self.tasks.spawn(wait_backoff(node, delay, token));
        self.task_nodes.insert(handle.id(), node);
    }

    fn on_backoff_over(&mut self, node: usize, cancelled: bool) {
        self.attempt_tokens.remove(&node);
        if self.stop == Some(StopReason::Interrupted) {
            return;
        }
        if cancelled || self.stop.is_some() {
            self.cancel_running(node);
            return;
        }
        if let Err(error) = self.plan.subtasks[node].begin_next_attempt() {
            tracing::error!(%error, "cannot begin the next attempt");
        }
        self.record_started(node, SubtaskStatus::Running);
        self.batch.launches.push(node);
    }

    fn fail_for_good(&mut self, node: usize, error: String, output: Option<String>) {
        self.attempt_tokens.remove(&node);
        if let Err(guard) = self.plan.subtasks[node].fail(Self::now(), error, output) {
            tracing::error!(%guard, "cannot fail subtask");
        }
        self.record_finished(node, SubtaskStatus::Running);
        let failed_id = self.plan.subtasks[node].id.clone();
        for dependent in self.queue.mark_failed(node) {
            self.skip(dependent, format!("dependency \"{failed_id}\" failed"));
        }
        if self.config.failure_policy == FailurePolicy::FailFast && self.stop.is_none() {
            self.begin_stop(StopReason::FailFast { failed: failed_id.to_string() });
        }
    }

    fn skip(&mut self, node: usize, reason: String) {
        if let Err(error) = self.plan.subtasks[node].skip(Self::now(), reason) {
            tracing::error!(%error, "cannot skip subtask");
            return;
        }
        self.record_finished(node, SubtaskStatus::Pending);
    }

    fn cancel_running(&mut self, node: usize) {
        let reason = self.stop.as_ref().map_or_else(|| "cancelled".to_owned(), StopReason::cancel_reason);
        if let Err(error) = self.plan.subtasks[node].cancel(Self::now(), reason) {
            tracing::error!(%error, "cannot cancel subtask");
        }
        self.record_finished(node, SubtaskStatus::Running);
        let cancelled_id = self.plan.subtasks[node].id.clone();
        for dependent in self.queue.mark_failed(node) {
            self.skip(dependent, format!("dependency \"{cancelled_id}\" was cancelled"));
        }
    }

    /// Stops launching, cancels every running attempt (SIGTERM, then SIGKILL) and every pending
    /// subtask. Running ones are marked cancelled as their attempts return.
    fn begin_stop(&mut self, reason: StopReason) {
        let cancel_reason = reason.cancel_reason();
        let interrupted = reason == StopReason::Interrupted;
        self.stop = Some(reason);
        for token in self.attempt_tokens.values() {
            token.cancel();
        }
        if interrupted {
            // Pending subtasks stay pending and waiting ones waiting: the plan is resumed later.
            self.release_waiting();
            return;
        }
        for node in self.queue.cancel_pending() {
            if let Err(error) = self.plan.subtasks[node].cancel(Self::now(), cancel_reason.clone()) {
                tracing::error!(%error, "cannot cancel subtask");
                continue;
            }
            self.record_finished(node, SubtaskStatus::Pending);
        }
        self.cancel_waiting(&cancel_reason);
    }

    fn record_finished(&mut self, node: usize, from: SubtaskStatus) {
        if let Some(started) = self.first_started[node] {
            self.durations_ms[node] = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        }
        let subtask = &self.plan.subtasks[node];
        let kind = RunEventKind::SubtaskFinished {
            subtask_id: subtask.id.clone(),
            title: subtask.title.clone(),
            status: subtask.status,
            result: subtask.result.clone(),
            error: subtask.error.clone(),
            duration_ms: self.durations_ms[node],
        };
        let (to, detail) = (subtask.status, subtask.error.clone());
        self.shift(from, to);
        self.mark_dirty(node);
        self.push_plan_event("subtaskFinished", Some(node), Some(from), Some(to.as_str().to_owned()), detail);
        self.push_run_event(kind);
    }

    fn shift(&mut self, from: SubtaskStatus, to: SubtaskStatus) {
        self.progress.shift(from, to);
    }

    fn mark_dirty(&mut self, node: usize) {
        if !self.batch.is_dirty[node] {
            self.batch.is_dirty[node] = true;
            self.batch.dirty.push(node);
        }
    }

    fn run_id(&self) -> crate::model::RunId {
        self.plan.run_id.clone().unwrap_or_else(|| crate::model::RunId::from_raw(""))
    }

    fn push_plan_event(
        &mut self,
        kind: &str,
        node: Option<usize>,
        from: Option<SubtaskStatus>,
        to: Option<String>,
        detail: Option<String>,
    ) {
        self.batch.plan_events.push(PlanEvent {
            plan_id: self.plan.id.clone(),
            at: Self::now(),
            run_id: self.plan.run_id.clone(),
            subtask_id: node.map(|node| self.plan.subtasks[node].id.clone()),
            kind: kind.to_owned(),
            from_status: from.map(|status| status.as_str().to_owned()),
            to_status: to,
            detail,
        });
    }

    fn push_run_event(&mut self, kind: RunEventKind) {
        self.batch.run_events.push(RunEvent {
            plan_id: self.plan.id.clone(),
            run_id: self.run_id(),
            at: Self::now(),
            progress: self.progress,
            kind,
        });
    }

    /// Commits the batch in one transaction, then emits its events, then spawns its attempts.
    async fn flush(&mut self) {
        if self.batch.dirty.is_empty()
            && self.batch.plan_events.is_empty()
            && self.batch.launches.is_empty()
            && self.batch.replies.is_empty()
            && self.batch.record_ops.is_empty()
            && self.batch.answer_replies.is_empty()
        {
            return;
        }
        for &node in &self.batch.dirty {
            self.batch.is_dirty[node] = false;
        }
        let is_dirty = std::mem::take(&mut self.batch.is_dirty);
        let batch = std::mem::replace(&mut self.batch, Batch { is_dirty, ..Batch::default() });
        let mut ops = Vec::with_capacity(batch.plan_events.len() + 1);
        if !batch.dirty.is_empty() {
            let subtasks = batch.dirty.iter().map(|&node| self.plan.subtasks[node].clone()).collect();
            ops.push(WriteOp::UpdateSubtasks { plan_id: self.plan.id.clone(), subtasks });
        }
        ops.extend(batch.plan_events.into_iter().map(WriteOp::AppendEvent));
        ops.extend(batch.record_ops);
        let committed = self.commit(ops).await;
        for reply in batch.replies {
            let answer = if committed { Ok(()) } else { Err(CompleteError::Storage("not recorded".to_owned())) };
            let _ = reply.send(answer);
        }
        for reply in batch.answer_replies {
            let answer = if committed { Ok(()) } else { Err(AnswerRefused::Storage("not recorded".to_owned())) };
            let _ = reply.send(answer);
        }
        *self.shared_progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = self.progress;
        if committed {
            for event in batch.run_events {
                self.events.send(event);
            }
            // The commit may have waited: a cancel (or a stop) that came meanwhile wins over a launch.
            if self.stop.is_none() && self.run_cancel.is_cancelled() {
                self.begin_stop(self.requested_stop());
            }
            for node in batch.launches {
                match self.stop {
                    None => self.spawn_attempt(node),
                    // Left `running`: `finish` puts it back to `pending`.
                    Some(StopReason::Interrupted) => {}
                    Some(_) => self.cancel_running(node),
                }
            }
        } else {
            // Never emitted: the client is told only what the database holds.
            for node in batch.launches {
                self.cancel_running(node);
            }
        }
    }

    /// Commits `ops`, retrying what the database may recover from (disk full, I/O, locked) until
    /// it lands — the person is told once per run, and the run's processes keep going (a cancel
    /// still reaches them through their tokens). Any other failure stops the run (it ends
    /// `failed`) and returns false.
    async fn commit(&mut self, ops: Vec<WriteOp>) -> bool {
        if ops.is_empty() {
            return true;
        }
        let (events, plan_id, run_id, progress) =
            (self.events.clone(), self.plan.id.clone(), self.run_id(), self.progress);
        let mut told = self.told_storage_trouble;
        let committed = commit_with_retry(&self.repository, ops, |error, failures| {
            if failures == 0 {
                tracing::error!(plan = %plan_id, %error, "cannot record run progress; retrying until it succeeds");
            }
            if !told {
                told = true;
                let kind = RunEventKind::StorageRetrying { error: error.to_string() };
                let (plan_id, run_id) = (plan_id.clone(), run_id.clone());
                events.send(RunEvent { plan_id, run_id, at: Self::now(), progress, kind });
            }
        })
        .await;
        self.told_storage_trouble = told;
        match committed {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(plan = %self.plan.id, %error, "cannot record run progress");
                if !matches!(self.stop, Some(StopReason::Storage { .. })) {
                    self.begin_stop(StopReason::Storage { error: error.to_string() });
                }
                false
            }
        }
    }

    async fn finish(mut self) -> ExecutionSummary {
        self.flush().await;
        let now = Self::now();
        let from = self.plan.status;
        let (status, mut ops) = self.close_plan(now);
        let duration_ms = u64::try_from(self.run_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let header = PlanHeader::of(&self.plan);
        self.push_plan_event("runFinished", None, None, Some(status.as_str().to_owned()), self.plan.error.clone());
        ops.push(WriteOp::UpdateHeader(header));
        ops.extend(std::mem::take(&mut self.batch.plan_events).into_iter().map(WriteOp::AppendEvent));
        if from == PlanStatus::Running && !self.commit(ops).await {
            tracing::error!(plan = %self.plan.id, "cannot record the end of the run");
        }
        self.batch.run_events.clear();
        while let Ok((node, signal)) = self.signal_receiver.try_recv() {
            self.on_signal(node, signal);
        }
        let usage = self.plan.usage();
        let summary = self.plan.check_summary();
        self.push_run_event(RunEventKind::PlanFinished { status, duration_ms, usage, summary });
        for event in std::mem::take(&mut self.batch.run_events) {
            self.events.send(event);
        }
        self.summary(duration_ms)
    }

    /// The plan's final status in memory, with the subtask writes it needs: `interrupted` (its
    /// running subtasks back to `pending`) when the server is going away, else the run's outcome.
    fn close_plan(&mut self, now: Timestamp) -> (PlanStatus, Vec<WriteOp>) {
        if self.stop == Some(StopReason::Interrupted) && self.plan.status == PlanStatus::Running {
            let reset = self.plan.interrupt(now);
            let subtasks = self.plan.subtasks.iter().filter(|subtask| reset.contains(&subtask.id)).cloned().collect();
            self.progress = self.plan.progress();
            return (
                PlanStatus::Interrupted,
                vec![WriteOp::UpdateSubtasks { plan_id: self.plan.id.clone(), subtasks }],
            );
        }
        let user_cancelled = self.stop == Some(StopReason::UserCancel);
        let status = match self.plan.finish_run(now, user_cancelled) {
            Ok(status) => status,
            Err(error) => {
                tracing::error!(%error, "cannot finish the run");
                self.plan.status
            }
        };
        if let Some(StopReason::Storage { error }) = &self.stop {
            self.plan.error = Some(format!("storage error: {error}"));
        }
        (status, Vec::new())
    }

    fn summary(&self, duration_ms: u64) -> ExecutionSummary {
        let critical_path_ms = self.queue.critical_path(&self.durations_ms);
        ExecutionSummary::of(&self.plan, self.run_id(), duration_ms, critical_path_ms)
    }
}
