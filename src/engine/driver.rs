//! The run loop: the single owner of a run's state. It drives the pure [`ReadyQueue`], starts a
//! subtask the moment it is ready and a slot is free, applies every transition to the in-memory
//! plan through the model's guards, commits each batch of transitions to the store in one
//! transaction, and only then emits their events. It always ends with exactly one `PlanFinished`.
//!
//! It does not spawn processes (agents do, through `process`) and does not decide whether the
//! plan may run (the caller claimed it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use tokio::sync::mpsc;

use super::agent::{AgentError, AgentIo, AgentRequest, AgentSignal, AttemptClock, DependencyResult};
use super::attempt::{SharedProgress, TaskReport, output_sink, run_attempt, signal_sink, wait_backoff};
use super::events::{EventSender, RunEvent, RunEventKind};
use super::queue::ReadyQueue;
use super::{ExecutionSummary, RunConfig};
use crate::model::{FailurePolicy, Plan, PlanStatus, Progress, SubtaskStatus, Timestamp};
use crate::panics::panic_message;
use crate::store::{PlanEvent, PlanHeader, PlanRepository, WriteOp};

/// Why the run stopped launching work before the queue drained.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StopReason {
    UserCancel,
    FailFast { failed: String },
    Storage { error: String },
}

impl StopReason {
    fn cancel_reason(&self) -> String {
        match self {
            Self::UserCancel => "cancelled".to_owned(),
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
}

pub(super) struct Driver {
    repository: PlanRepository,
    plan: Plan,
    config: RunConfig,
    events: Arc<EventSender>,
    run_cancel: CancellationToken,
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
    run_started: Instant,
    /// Why the plan's dependencies cannot be scheduled (then nothing runs).
    graph_problem: Option<String>,
    /// Usage and approval answers from running agents, by node.
    signal_sender: mpsc::UnboundedSender<(usize, AgentSignal)>,
    signal_receiver: mpsc::UnboundedReceiver<(usize, AgentSignal)>,
}

impl Driver {
    pub(super) fn new(
        repository: PlanRepository,
        plan: Plan,
        config: RunConfig,
        events: EventSender,
        run_cancel: CancellationToken,
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
            run_cancel,
            tasks: JoinSet::new(),
            task_nodes: HashMap::new(),
            attempt_tokens: HashMap::new(),
            first_started: vec![None; size],
            durations_ms: vec![0; size],
            progress,
            shared_progress: Arc::new(Mutex::new(progress)),
            batch: Batch { is_dirty: vec![false; size], ..Batch::default() },
            stop: None,
            run_started: Instant::now(),
        }
    }

    pub(super) async fn run(mut self) -> ExecutionSummary {
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
            self.start_ready_subtasks();
            self.flush().await;
            if self.tasks.is_empty() {
                if self.queue.is_drained() {
                    break;
                }
                self.give_up_on_unreachable();
                continue;
            }
            tokio::select! {
                biased;
                () = self.run_cancel.cancelled(), if self.stop.is_none() => self.begin_stop(StopReason::UserCancel),
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
        };
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
            AgentSignal::ApprovalAnswered { question, answer } => {
                let detail = format!("{question} -> {answer}");
                self.push_plan_event("toolApproval", Some(node), None, None, Some(detail));
            }
            AgentSignal::Activity(_) => {}
        }
    }

    fn on_joined(&mut self, joined: Result<(tokio::task::Id, TaskReport), JoinError>) {
        // Signals sent before the attempt returned belong to it: record them first.
        while let Ok((node, signal)) = self.signal_receiver.try_recv() {
            self.on_signal(node, signal);
        }
        if self.run_cancel.is_cancelled() && self.stop.is_none() {
            self.begin_stop(StopReason::UserCancel);
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
        match outcome {
            Ok(outcome) => self.complete(node, outcome.result),
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
        self.stop = Some(reason);
        for token in self.attempt_tokens.values() {
            token.cancel();
        }
        for node in self.queue.cancel_pending() {
            if let Err(error) = self.plan.subtasks[node].cancel(Self::now(), cancel_reason.clone()) {
                tracing::error!(%error, "cannot cancel subtask");
                continue;
            }
            self.record_finished(node, SubtaskStatus::Pending);
        }
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
        if self.batch.dirty.is_empty() && self.batch.plan_events.is_empty() && self.batch.launches.is_empty() {
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
        let committed = self.commit(ops).await;
        *self.shared_progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = self.progress;
        for event in batch.run_events {
            self.events.send(event);
        }
        if committed {
            for node in batch.launches {
                self.spawn_attempt(node);
            }
        } else {
            for node in batch.launches {
                self.cancel_running(node);
            }
        }
    }

    /// Commits `ops`; on a storage error logs it and stops the run (it will end `failed`).
    async fn commit(&mut self, ops: Vec<WriteOp>) -> bool {
        if ops.is_empty() {
            return true;
        }
        match self.repository.commit(ops).await {
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
        let user_cancelled = self.stop == Some(StopReason::UserCancel);
        let now = Self::now();
        let from = self.plan.status;
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
        let duration_ms = u64::try_from(self.run_started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let header = PlanHeader::of(&self.plan);
        self.push_plan_event("runFinished", None, None, Some(status.as_str().to_owned()), self.plan.error.clone());
        let mut ops = vec![WriteOp::UpdateHeader(header)];
        ops.extend(std::mem::take(&mut self.batch.plan_events).into_iter().map(WriteOp::AppendEvent));
        if from == PlanStatus::Running {
            if let Err(error) = self.repository.commit(ops).await {
                tracing::error!(plan = %self.plan.id, %error, "cannot record the end of the run");
            }
        }
        self.batch.run_events.clear();
        while let Ok((node, signal)) = self.signal_receiver.try_recv() {
            self.on_signal(node, signal);
        }
        let usage = self.plan.usage();
        self.push_run_event(RunEventKind::PlanFinished { status, duration_ms, usage });
        for event in std::mem::take(&mut self.batch.run_events) {
            self.events.send(event);
        }
        self.summary(duration_ms)
    }

    fn summary(&self, duration_ms: u64) -> ExecutionSummary {
        let progress = self.plan.progress();
        let results = self
            .plan
            .subtasks
            .iter()
            .filter_map(|subtask| subtask.result.clone().map(|result| (subtask.id.clone(), result)))
            .collect();
        let errors = self
            .plan
            .subtasks
            .iter()
            .filter(|subtask| {
                matches!(subtask.status, SubtaskStatus::Failed | SubtaskStatus::Skipped | SubtaskStatus::Cancelled)
            })
            .map(|subtask| (subtask.id.clone(), subtask.error.clone().unwrap_or_default()))
            .collect();
        let success_rate =
            if progress.total == 0 { 0.0 } else { f64::from(progress.done) * 100.0 / f64::from(progress.total) };
        ExecutionSummary {
            plan_id: self.plan.id.clone(),
            run_id: self.run_id(),
            status: self.plan.status,
            total: progress.total,
            completed: progress.done,
            failed: progress.failed,
            skipped: progress.skipped,
            cancelled: progress.cancelled,
            results,
            errors,
            duration_ms,
            success_rate,
            critical_path_ms: self.queue.critical_path(&self.durations_ms),
        }
    }
}
