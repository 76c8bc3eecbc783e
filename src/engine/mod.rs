//! The execution engine: runs a claimed plan's subtasks as a DAG with bounded parallelism,
//! retries with backoff, per-attempt timeouts, failure policies and real cancellation, committing
//! every transition to the store before emitting its event.
//!
//! - `queue`: the pure ready-queue (no I/O, no async).
//! - `driver`: the async loop that drives it.
//! - `agent`: the executor trait; `shell` the shell agent; `process` the only code that spawns
//!   child processes.
//! - `events`: run events and their coalescing queue.
//!
//! The engine does not decide whether a plan may run (the orchestrator claims it first) and does
//! not know about LSP.

pub mod agent;
mod attempt;
mod cgroup;
mod commit;
mod driver;
pub mod events;
pub mod manual;
mod output;
pub mod process;
pub mod questions;
pub mod queue;
pub mod reaper;
mod shell;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::{FailurePolicy, Plan, PlanId, PlanStatus, RunId, SubtaskId, SubtaskStatus};
use crate::store::PlanRepository;

pub use agent::{
    ActivityPhase, AgentActivity, AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSet, AgentSignal, AttemptClock,
    DependencyResult, DocumentEdit, EditorBridge, OpenDocument, OutputSink, SharedEditor, SignalSink, SubtaskExecutor,
    TextHunk, ToolKind,
};
pub use events::{EventReceiver, RunEvent, RunEventKind};
pub use manual::{ApprovalReply, CompleteError, Completion, RunControls};
pub use questions::{AnswerRefused, OpenQuestion, QuestionDesk};
pub use shell::ShellAgent;

/// Exponential backoff with full jitter between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The largest delay after failed attempt `failed_attempt` (1-based): `base × 2^(n-1)`, capped.
    pub fn ceiling(&self, failed_attempt: u32) -> Duration {
        let doublings = failed_attempt.saturating_sub(1).min(31);
        self.base.saturating_mul(1u32 << doublings).min(self.cap)
    }

    /// Full jitter: a uniformly random delay in `0..=ceiling(failed_attempt)`.
    pub fn delay(&self, failed_attempt: u32) -> Duration {
        use rand::Rng;
        let ceiling_micros = u64::try_from(self.ceiling(failed_attempt).as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(rand::thread_rng().gen_range(0..=ceiling_micros))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self { base: Duration::from_millis(500), cap: Duration::from_secs(30) }
    }
}

/// How one run behaves.
#[derive(Clone)]
pub struct RunConfig {
    pub max_parallel: usize,
    pub failure_policy: FailurePolicy,
    pub workspace_root: PathBuf,
    pub backoff: Backoff,
    /// Grace between SIGTERM and SIGKILL on cancel.
    pub kill_grace: Duration,
    pub agents: AgentSet,
    /// The client's editor, when it can take edits and questions (agents fall back to the disk).
    pub editor: Option<std::sync::Arc<dyn EditorBridge>>,
}

/// The outcome of a run (the seed's ExecutionResult, plus timing).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSummary {
    pub plan_id: PlanId,
    pub run_id: RunId,
    pub status: PlanStatus,
    pub total: u32,
    pub completed: u32,
    pub failed: u32,
    pub skipped: u32,
    pub cancelled: u32,
    /// `(id, result)` of every subtask that has one, in plan order.
    pub results: Vec<(SubtaskId, String)>,
    /// `(id, error)` of every failed, skipped or cancelled subtask, in plan order.
    pub errors: Vec<(SubtaskId, String)>,
    pub duration_ms: u64,
    /// done / total × 100 (0 for an empty plan).
    pub success_rate: f64,
    /// Longest dependency chain by measured subtask durations, in ms.
    pub critical_path_ms: u64,
}

/// Stops a run in one of two ways; cheap to clone.
#[derive(Clone)]
pub struct RunStopper {
    cancel: CancellationToken,
    interrupted: Arc<AtomicBool>,
}

impl RunStopper {
    /// The person asked: running process groups get SIGTERM, then SIGKILL after the grace; the
    /// plan ends `cancelled`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// The server is going away without being asked to (end of input, `exit` without
    /// `shutdown`, a broken stream): processes are stopped the same way, but the plan ends
    /// `interrupted` with its unfinished subtasks `pending`, so `planning/retry` resumes it.
    pub fn interrupt(&self) {
        self.interrupted.store(true, Ordering::SeqCst);
        self.cancel.cancel();
    }
}

impl ExecutionSummary {
    /// The summary of `plan` as the run left it.
    fn of(plan: &Plan, run_id: RunId, duration_ms: u64, critical_path_ms: u64) -> Self {
        let progress = plan.progress();
        let results = plan
            .subtasks
            .iter()
            .filter_map(|subtask| subtask.result.clone().map(|result| (subtask.id.clone(), result)))
            .collect();
        let errors = plan
            .subtasks
            .iter()
            .filter(|subtask| {
                matches!(subtask.status, SubtaskStatus::Failed | SubtaskStatus::Skipped | SubtaskStatus::Cancelled)
            })
            .map(|subtask| (subtask.id.clone(), subtask.error.clone().unwrap_or_default()))
            .collect();
        let success_rate =
            if progress.total == 0 { 0.0 } else { f64::from(progress.done) * 100.0 / f64::from(progress.total) };
        Self {
            plan_id: plan.id.clone(),
            run_id,
            status: plan.status,
            total: progress.total,
            completed: progress.done,
            failed: progress.failed,
            skipped: progress.skipped,
            cancelled: progress.cancelled,
            results,
            errors,
            duration_ms,
            success_rate,
            critical_path_ms,
        }
    }
}

/// A run in progress.
pub struct RunHandle {
    pub plan_id: PlanId,
    pub run_id: RunId,
    cancel: CancellationToken,
    /// Completes waiting steps.
    pub controls: RunControls,
    stopper: RunStopper,
    /// Resolves when the plan's final status is committed and `PlanFinished` emitted.
    pub finished: JoinHandle<ExecutionSummary>,
}

impl RunHandle {
    /// Asks the run to stop: running process groups get SIGTERM, then SIGKILL after the grace.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn stopper(&self) -> RunStopper {
        self.stopper.clone()
    }
}

/// Starts running `plan`, which the caller has already claimed (`status == running` in the
/// store, subtasks to run `pending`, finished ones kept). Returns at once.
/// Must be called inside a tokio runtime.
pub fn spawn_run(repository: PlanRepository, mut plan: Plan, config: RunConfig) -> (RunHandle, EventReceiver) {
    let (sender, receiver) = events::event_queue(events::DEFAULT_OUTPUT_EVENT_CAP);
    let run_id = plan.run_id.get_or_insert_with(RunId::generate).clone();
    let plan_id = plan.id.clone();
    let cancel = CancellationToken::new();
    let (controls, control_receiver) = RunControls::channel();
    let stopper = RunStopper { cancel: cancel.clone(), interrupted: Arc::new(AtomicBool::new(false)) };
    let driver = driver::Driver::new(repository, plan, config, sender, stopper.clone(), control_receiver);
    let finished = tokio::spawn(driver.run());
    (RunHandle { plan_id, run_id, cancel, controls, stopper, finished }, receiver)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitters_below_the_ceiling() {
        let backoff = Backoff { base: Duration::from_millis(500), cap: Duration::from_secs(30) };
        assert_eq!(backoff.ceiling(1), Duration::from_millis(500));
        assert_eq!(backoff.ceiling(3), Duration::from_secs(2));
        assert_eq!(backoff.ceiling(10), Duration::from_secs(30));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
        for attempt in 1..6 {
            assert!(backoff.delay(attempt) <= backoff.ceiling(attempt));
        }
    }
}
