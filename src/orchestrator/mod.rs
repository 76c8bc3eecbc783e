//! The orchestrator: the one owner of sessions, plans and runs. An actor task fed by a closed
//! [`Command`] enum; [`Orchestrator`] is its cheap, cloneable handle with one async method per
//! operation, each returning a typed result or an [`OrchestratorError`].
//!
//! Pipeline: classify → session FSM → plan (template planner, or the request's subtasks) →
//! store → `plan_review` (complex) or ready to run (atomic); approve / reject / revise / update /
//! delete; execute / retry (claims the run in the database, then hands it to the engine);
//! cancel; status; list; history.
//!
//! The orchestrator does not speak JSON-RPC and does not run subtasks itself.

use std::path::PathBuf;

use crate::config::Settings;
use crate::engine::EventReceiver;
use crate::fsm::SessionState;
use crate::model::validate::{Problem, SubtaskDraft, ValidationErrors};
use crate::model::{Classification, FailurePolicy, GuardError, Plan, PlanId, PlanStatus, Progress, RunId, SessionId, SubtaskId, Timestamp};
use crate::store::{PlanPage, PlanVersion, StoreError};

/// A typed failure of one operation.
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error("plan {0} not found")]
    PlanNotFound(PlanId),
    #[error("session {0} not found")]
    SessionNotFound(SessionId),
    /// The operation does not fit the plan's status.
    #[error("{message}")]
    InvalidState { message: String, status: PlanStatus, allowed: Vec<&'static str> },
    /// Malformed input: one field named (maps to invalid params).
    #[error("{0}")]
    InvalidParams(Problem),
    /// Every problem found in a plan's content.
    #[error(transparent)]
    Validation(#[from] ValidationErrors),
    /// `update` with a version that is not the stored one.
    #[error("plan {plan} is at version {actual}, not {expected}")]
    StaleVersion { plan: PlanId, expected: u64, actual: u64 },
    #[error("language model: {0}")]
    Llm(String),
    #[error(transparent)]
    Storage(StoreError),
    #[error("the orchestrator has stopped")]
    Stopped,
}

/// How `create` treats the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreateMode {
    /// Classify it.
    #[default]
    Auto,
    /// Treat it as complex.
    Plan,
    /// Treat it as atomic.
    Direct,
}

#[derive(Debug, Clone, Default)]
pub struct TaskContext {
    pub notes: Option<String>,
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub task: String,
    pub session_id: Option<SessionId>,
    pub title: Option<String>,
    pub mode: CreateMode,
    /// When given, the planner is skipped.
    pub subtasks: Option<Vec<SubtaskDraft>>,
    pub context: TaskContext,
}

/// A session as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    pub state: SessionState,
}

#[derive(Debug)]
pub struct Created {
    pub plan: Plan,
    pub session: SessionView,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    pub plan_id: Option<PlanId>,
    pub version: u64,
    pub title: Option<String>,
    pub subtasks: Option<Vec<SubtaskDraft>>,
}

#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub session_id: Option<SessionId>,
    pub status: Option<PlanStatus>,
    /// Default 50, at most 500.
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    pub plan_id: PlanId,
    pub max_parallel: Option<usize>,
    pub failure_policy: Option<FailurePolicy>,
}

#[derive(Debug, Clone)]
pub struct RetryRequest {
    pub plan_id: PlanId,
    /// Only these and what depends on them; `None` = every subtask that is not done.
    pub subtask_ids: Option<Vec<SubtaskId>>,
}

/// A run that has started: its events go to whoever holds `events`.
pub struct RunStarted {
    pub plan_id: PlanId,
    pub run_id: RunId,
    pub title: String,
    pub events: EventReceiver,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    pub plan_id: PlanId,
    pub cancelled: bool,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    pub plan_id: PlanId,
    pub status: PlanStatus,
    pub progress: Progress,
    pub running: Vec<SubtaskId>,
    pub run_id: Option<RunId>,
    pub started_at: Option<Timestamp>,
    pub elapsed_ms: Option<u64>,
}

/// What the orchestrator needs to start.
#[derive(Debug, Clone)]
pub struct OrchestratorConfig {
    pub workspace_root: PathBuf,
    /// The database file; `None` = `<workspace>/.codelab/planner.db`.
    pub database: Option<PathBuf>,
    pub settings: Settings,
}

/// What start-up found.
#[derive(Debug, Clone, Default)]
pub struct StartReport {
    pub database: PathBuf,
    pub interrupted: Vec<PlanId>,
}

/// Handle to the orchestrator actor. Cheap to clone.
#[derive(Clone)]
pub struct Orchestrator {
    _private: (),
}

impl Orchestrator {
    /// Opens the store (recovering crashed runs) and starts the actor.
    pub async fn start(config: OrchestratorConfig) -> Result<(Orchestrator, StartReport), OrchestratorError> {
        todo!("{config:?}")
    }

    /// Classifies without creating anything.
    pub async fn classify(&self, task: String) -> Result<Classification, OrchestratorError> {
        todo!("{task}")
    }

    pub async fn create(&self, request: CreateRequest) -> Result<Created, OrchestratorError> {
        todo!("{request:?}")
    }

    pub async fn get(&self, plan_id: PlanId) -> Result<Plan, OrchestratorError> {
        todo!("{plan_id}")
    }

    pub async fn list(&self, request: ListRequest) -> Result<PlanPage, OrchestratorError> {
        todo!("{request:?}")
    }

    pub async fn update(&self, request: UpdateRequest) -> Result<Plan, OrchestratorError> {
        todo!("{request:?}")
    }

    pub async fn delete(&self, plan_id: PlanId) -> Result<bool, OrchestratorError> {
        todo!("{plan_id}")
    }

    pub async fn approve(&self, plan_id: PlanId) -> Result<Plan, OrchestratorError> {
        todo!("{plan_id}")
    }

    pub async fn reject(&self, plan_id: PlanId, feedback: Option<String>) -> Result<Plan, OrchestratorError> {
        todo!("{plan_id} {feedback:?}")
    }

    pub async fn revise(&self, plan_id: PlanId, feedback: String) -> Result<Plan, OrchestratorError> {
        todo!("{plan_id} {feedback}")
    }

    /// Claims the run in the database and starts it; returns at once.
    pub async fn execute(&self, request: ExecuteRequest) -> Result<RunStarted, OrchestratorError> {
        todo!("{request:?}")
    }

    /// Stops a run and waits (briefly) until its final status is committed.
    pub async fn cancel(&self, plan_id: PlanId, reason: Option<String>) -> Result<CancelOutcome, OrchestratorError> {
        todo!("{plan_id} {reason:?}")
    }

    pub async fn retry(&self, request: RetryRequest) -> Result<RunStarted, OrchestratorError> {
        todo!("{request:?}")
    }

    pub async fn status(&self, plan_id: PlanId) -> Result<StatusView, OrchestratorError> {
        todo!("{plan_id}")
    }

    /// Every version of the plan's content, oldest first.
    pub async fn history(&self, plan_id: PlanId) -> Result<Vec<PlanVersion>, OrchestratorError> {
        todo!("{plan_id}")
    }

    pub async fn session(&self, session_id: SessionId) -> Result<SessionView, OrchestratorError> {
        todo!("{session_id}")
    }

    /// New settings from the client (`workspace/didChangeConfiguration`).
    pub async fn set_settings(&self, settings: Settings) -> Result<(), OrchestratorError> {
        todo!("{settings:?}")
    }

    /// Stops every run (processes killed, plans left `interrupted` for a later retry) and the actor.
    pub async fn shutdown(&self) {
        todo!()
    }
}

#[allow(dead_code)]
fn _uses(_: GuardError) {}
