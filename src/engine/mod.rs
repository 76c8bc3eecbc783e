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
mod driver;
pub mod events;
pub mod process;
pub mod queue;
mod shell;

use std::path::PathBuf;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::model::{FailurePolicy, Plan, PlanId, PlanStatus, RunId, SubtaskId};
use crate::store::PlanRepository;

pub use agent::{AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSet, DependencyResult, EditorBridge, OutputSink, SubtaskExecutor};
pub use events::{EventReceiver, RunEvent, RunEventKind};
pub use shell::ShellAgent;

/// Exponential backoff with full jitter between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
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

/// A run in progress.
pub struct RunHandle {
    pub plan_id: PlanId,
    pub run_id: RunId,
    cancel: CancellationToken,
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
}

/// Starts running `plan`, which the caller has already claimed (`status == running` in the
/// store, subtasks to run `pending`, finished ones kept). Returns at once.
pub fn spawn_run(repository: PlanRepository, plan: Plan, config: RunConfig) -> (RunHandle, EventReceiver) {
    todo!("engine helper {} {}", plan.id, config.max_parallel + usize::from(repository.path().exists()))
}
