//! The orchestrator: the one owner of sessions, plans and runs. An actor task fed by a closed
//! [`Command`] enum; [`Orchestrator`] is its cheap, cloneable handle with one async method per
//! operation, each returning a typed result or an [`OrchestratorError`].
//!
//! Pipeline: classify → session FSM → plan (the LLM planner, the template planner, or the
//! request's subtasks) → store → `plan_review` (complex) or ready to run (atomic); approve /
//! reject / revise / update / delete; execute / retry (claims the run in the database, then hands
//! it to the engine); cancel; status; list; history.
//!
//! `create` and `revise` are split: the slow part (classifier, workspace reads, model calls) runs
//! in the caller's task (`prepare.rs`), and only a short guarded commit runs on the actor, so
//! reads and `cancel` never wait for a model.
//!
//! The orchestrator does not speak JSON-RPC and does not run subtasks itself.

mod actor;
mod complete;
mod errors;
mod follow;
mod import;
mod keep;
mod next;
mod owner;
mod plans;
mod prepare;
mod record;
mod rollback;
mod runs;
mod session;
mod source;
mod start;
mod ticks;

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{Settings, default_database_path};
use crate::engine::{EventReceiver, SharedEditor};
use crate::fsm::SessionState;
use crate::model::validate::{Problem, ProblemKind, SubtaskDraft, ValidationErrors, validate_goal};
use crate::model::{
    Classification, FailurePolicy, Plan, PlanId, PlanStatus, Progress, RunId, SessionId, SubtaskId, SubtaskStatus,
    Timestamp,
};
use crate::store::{ListQuery, PlanRepository, PlanVersion, StoreError};
/// What `list` answers.
pub use crate::store::{PlanPage, PlanSummary};
pub use prepare::{PlanningHooks, PlanningSetup};

use actor::Command;
pub use complete::CompleteRequest;
pub use import::{ImportRequest, PlanFormat};
pub use keep::OmittedFields;
pub use next::{ClaimRequest, DEFAULT_LEASE, MAX_CLAIM_LIMIT, MAX_LEASE, NextOutcome, NextRequest, ReadyStep};
pub use owner::RunOwner;
pub use record::{AnswerRequest, FileDiff, MAX_DIFF_LINES};
pub use rollback::RollbackReport;
pub use start::StartOptions;

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
    /// The caller cancelled planning (the model call was aborted).
    #[error("planning was cancelled")]
    PlanningCancelled,
    #[error(transparent)]
    Storage(StoreError),
    #[error("the orchestrator has stopped")]
    Stopped,
    /// A bug: the operation panicked or lost its reply.
    #[error("internal error: {0}")]
    Internal(String),
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
    /// The plan file the subtasks come from (kept with the plan).
    pub source_file: Option<String>,
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
    /// What an imported file said that was read anyway (`file:line:column` paths), for the
    /// face to show; empty for every other way a plan is made.
    pub warnings: Vec<Problem>,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateRequest {
    pub plan_id: Option<PlanId>,
    pub version: u64,
    pub title: Option<String>,
    pub subtasks: Option<Vec<SubtaskDraft>>,
    /// Per draft of `subtasks`, the fields its client left out: a draft whose id names a stored
    /// subtask keeps their stored values (`planning/update` keeps what a client omits). Empty:
    /// every draft is taken as it is.
    pub omitted: Vec<OmittedFields>,
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

/// A run that has started (or is being followed): its events go to whoever holds `events`.
pub struct RunStarted {
    pub plan_id: PlanId,
    pub run_id: RunId,
    pub title: String,
    pub events: EventReceiver,
    /// Another process owns the run: its events come from the store (no output), and it is
    /// stopped where it runs, not from here.
    pub elsewhere: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    pub plan_id: PlanId,
    pub cancelled: bool,
    pub status: PlanStatus,
    /// Another process that runs the plan: a command line (interrupted) or a server (left to it).
    pub owner: Option<RunOwner>,
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
    /// The client's editor (edits and questions from agents); `None` = agents write to the disk
    /// and cannot ask (the command line).
    pub editor: Option<SharedEditor>,
}

/// What start-up found.
#[derive(Debug, Clone, Default)]
pub struct StartReport {
    pub database: PathBuf,
    pub interrupted: Vec<PlanId>,
}

/// Default and largest page size of `list`.
pub const DEFAULT_LIST_LIMIT: usize = 50;
pub const MAX_LIST_LIMIT: usize = 500;
/// How long `cancel` waits for the run to commit its final status.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// Handle to the orchestrator actor. Cheap to clone. Mutations go through the actor (the one
/// owner of sessions and runs); reads go straight to the repository.
#[derive(Clone)]
pub struct Orchestrator {
    commands: mpsc::Sender<Command>,
    repository: PlanRepository,
    planning: watch::Receiver<Arc<PlanningSetup>>,
    /// The runs of this process (shared with the actor), so `tail` leaves them to live events.
    local_runs: follow::LocalRuns,
    /// Runs of other processes, followed through the store.
    tail: follow::Tail,
}

impl Orchestrator {
    /// Opens the store (recovering crashed runs) and starts the actor.
    pub async fn start(config: OrchestratorConfig) -> Result<(Orchestrator, StartReport), OrchestratorError> {
        let database = config
            .database
            .clone()
            .or_else(|| config.settings.database.clone())
            .unwrap_or_else(|| default_database_path(&config.workspace_root));
        crate::engine::process::hide_env_from_children(&config.settings.llm.api_key_env);
        let (repository, open_report) =
            PlanRepository::open(database.clone()).await.map_err(OrchestratorError::from)?;
        kill_leftovers(open_report.interrupted.iter().map(ToString::to_string).collect()).await;
        let (commands, receiver) = mpsc::channel(256);
        let setup = PlanningSetup::new(config.workspace_root.clone(), config.settings.llm.clone());
        let (planning_sender, planning) = watch::channel(Arc::new(setup));
        let mut actor = actor::Actor::new(
            repository.clone(),
            config.workspace_root,
            config.settings,
            commands.downgrade(),
            planning_sender,
        );
        actor.editor = config.editor;
        let local_runs = actor.local_runs.clone();
        tokio::spawn(actor.run(receiver));
        let report = StartReport { database, interrupted: open_report.interrupted };
        let tail = follow::Tail::new(repository.clone(), local_runs.clone());
        Ok((Orchestrator { commands, repository, planning, local_runs, tail }, report))
    }

    /// The repository this orchestrator writes to (read-only use by callers).
    pub fn repository(&self) -> &PlanRepository {
        &self.repository
    }

    async fn ask<R>(&self, make: impl FnOnce(oneshot::Sender<R>) -> Command) -> Result<R, OrchestratorError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| OrchestratorError::Stopped)?;
        answer.await.map_err(|_| OrchestratorError::Internal("the operation failed unexpectedly".to_owned()))
    }

    /// The current planning settings and model (never waits for the actor).
    fn planning_setup(&self) -> Arc<PlanningSetup> {
        self.planning.borrow().clone()
    }

    /// Classifies without creating anything: keywords, then (per `llm.classify`) the cache or
    /// the model. Off the actor.
    pub async fn classify(&self, task: String) -> Result<Classification, OrchestratorError> {
        let goal = validate_goal(&task, "task").map_err(OrchestratorError::InvalidParams)?;
        let cancel = tokio_util::sync::CancellationToken::new();
        prepare::classify(&self.planning_setup(), &self.repository, &goal, &cancel).await
    }

    pub async fn create(&self, request: CreateRequest) -> Result<Created, OrchestratorError> {
        self.create_with(request, PlanningHooks::default()).await
    }

    /// `create` with streamed subtasks and a cancellation token. Classifying and planning run in
    /// this task (cancelling `hooks.cancel` or dropping the future aborts a model call); only the
    /// commit goes through the actor.
    pub async fn create_with(
        &self,
        request: CreateRequest,
        hooks: PlanningHooks,
    ) -> Result<Created, OrchestratorError> {
        let prepared = prepare::prepare_create(&self.planning_setup(), &self.repository, request, &hooks).await?;
        self.ask(|reply| Command::Create(Box::new(prepared), reply)).await?
    }

    pub async fn get(&self, plan_id: PlanId) -> Result<Plan, OrchestratorError> {
        let lookup = plan_id.clone();
        self.repository.get_plan(lookup).await?.ok_or(OrchestratorError::PlanNotFound(plan_id))
    }

    /// The pid of another live process that runs this plan, if any.
    pub async fn live_run_owner(&self, plan_id: PlanId) -> Result<Option<u32>, OrchestratorError> {
        Ok(self.repository.call(move |store| store.live_run_owner(&plan_id)).await?)
    }

    /// The newest plan made from this plan file (see `planfile::source_key`), if any.
    pub async fn latest_plan_of_file(&self, source_file: String) -> Result<Option<Plan>, OrchestratorError> {
        Ok(self.repository.call(move |store| store.latest_plan_of_file(&source_file)).await?)
    }

    pub async fn list(&self, request: ListRequest) -> Result<PlanPage, OrchestratorError> {
        let limit = request.limit.unwrap_or(DEFAULT_LIST_LIMIT);
        if limit == 0 || limit > MAX_LIST_LIMIT {
            return Err(invalid_param("limit", format!("must be between 1 and {MAX_LIST_LIMIT}, got {limit}")));
        }
        let query = ListQuery { session_id: request.session_id, status: request.status, limit, cursor: request.cursor };
        self.repository.call(move |store| store.list_plans(&query)).await.map_err(OrchestratorError::from)
    }

    pub async fn update(&self, request: UpdateRequest) -> Result<Plan, OrchestratorError> {
        self.ask(|reply| Command::Update(request, reply)).await?
    }

    pub async fn delete(&self, plan_id: PlanId) -> Result<bool, OrchestratorError> {
        self.ask(|reply| Command::Delete(plan_id, reply)).await?
    }

    pub async fn approve(&self, plan_id: PlanId) -> Result<Plan, OrchestratorError> {
        self.ask(|reply| Command::Approve(plan_id, reply)).await?
    }

    pub async fn reject(&self, plan_id: PlanId, feedback: Option<String>) -> Result<Plan, OrchestratorError> {
        self.ask(|reply| Command::Reject(plan_id, feedback, reply)).await?
    }

    pub async fn revise(&self, plan_id: PlanId, feedback: String) -> Result<Plan, OrchestratorError> {
        self.revise_with(plan_id, feedback, PlanningHooks::default()).await
    }

    /// `revise` through the model when one is configured (the template's rules otherwise);
    /// prepared in this task, committed on the actor (refused if the plan changed meanwhile).
    pub async fn revise_with(
        &self,
        plan_id: PlanId,
        feedback: String,
        hooks: PlanningHooks,
    ) -> Result<Plan, OrchestratorError> {
        let setup = self.planning_setup();
        let prepared = prepare::prepare_revise(&setup, &self.repository, plan_id, feedback, &hooks).await?;
        self.ask(|reply| Command::Revise(Box::new(prepared), reply)).await?
    }

    /// Claims the run in the database and starts it; returns at once.
    pub async fn execute(&self, request: ExecuteRequest) -> Result<RunStarted, OrchestratorError> {
        self.ask(|reply| Command::Execute(request, false, reply)).await?
    }

    /// [`Self::execute`] where only shell steps run: coder, debug and ask steps wait for whoever
    /// takes them (`next`, then `complete`), as they do with no model configured.
    pub async fn execute_agents_by_hand(&self, request: ExecuteRequest) -> Result<RunStarted, OrchestratorError> {
        self.ask(|reply| Command::Execute(request, true, reply)).await?
    }

    /// Stops a run and answers at once: a run of this process gives `cancelled: true` with the
    /// status the plan has now (its processes are being stopped; its `planFinished` event follows
    /// once the final status is committed). A run a `codelab-planner` command line runs is
    /// interrupted (as Ctrl-C in its terminal would); a run a server runs is left to it (`owner`
    /// says which). A plan that is not running gives `cancelled: false` and its status.
    pub async fn cancel(&self, plan_id: PlanId, reason: Option<String>) -> Result<CancelOutcome, OrchestratorError> {
        let lookup = plan_id.clone();
        let waiter = self.ask(|reply| Command::Cancel(lookup, reason, reply)).await??;
        match waiter {
            runs::CancelWait::NotRunning(PlanStatus::Running) => match self.run_owner(plan_id.clone()).await? {
                Some(owner @ RunOwner::CommandLine(pid)) => {
                    let status = self.interrupt_owner(&plan_id, pid).await?;
                    Ok(CancelOutcome {
                        plan_id,
                        cancelled: status == PlanStatus::Cancelled,
                        status,
                        owner: Some(owner),
                    })
                }
                owner => Ok(CancelOutcome { plan_id, cancelled: false, status: PlanStatus::Running, owner }),
            },
            runs::CancelWait::NotRunning(status) => {
                Ok(CancelOutcome { plan_id, cancelled: false, status, owner: None })
            }
            runs::CancelWait::Stopping(mut finished) => {
                let status = match finished.try_recv() {
                    Ok(status) => status,
                    Err(_) => self.get(plan_id.clone()).await?.status,
                };
                // A run whose end was already committed (its events sent) had nothing left to cancel.
                let cancelled = matches!(status, PlanStatus::Running | PlanStatus::Cancelled);
                Ok(CancelOutcome { plan_id, cancelled, status, owner: None })
            }
        }
    }

    pub async fn retry(&self, request: RetryRequest) -> Result<RunStarted, OrchestratorError> {
        self.ask(|reply| Command::Retry(request, reply)).await?
    }

    /// Read from the database, so a plan run by another server process shows too.
    pub async fn status(&self, plan_id: PlanId) -> Result<StatusView, OrchestratorError> {
        let plan = self.get(plan_id).await?;
        let running = plan
            .subtasks
            .iter()
            .filter(|subtask| subtask.status == SubtaskStatus::Running)
            .map(|subtask| subtask.id.clone())
            .collect();
        let elapsed_ms = plan.started_at.map(|started| {
            let end = if plan.status == PlanStatus::Running {
                Timestamp::now()
            } else {
                plan.finished_at.unwrap_or(plan.updated_at)
            };
            end.millis_since(started)
        });
        Ok(StatusView {
            plan_id: plan.id.clone(),
            status: plan.status,
            progress: plan.progress(),
            running,
            run_id: plan.run_id.clone(),
            started_at: plan.started_at,
            elapsed_ms,
        })
    }

    /// Every version of the plan's content, oldest first.
    pub async fn history(&self, plan_id: PlanId) -> Result<Vec<PlanVersion>, OrchestratorError> {
        let lookup = plan_id.clone();
        let versions = self.repository.call(move |store| store.plan_versions(&lookup)).await?;
        if versions.is_empty() {
            return Err(OrchestratorError::PlanNotFound(plan_id));
        }
        Ok(versions)
    }

    pub async fn session(&self, session_id: SessionId) -> Result<SessionView, OrchestratorError> {
        let lookup = session_id.clone();
        let record = self.repository.call(move |store| store.get_session(&lookup)).await?;
        record
            .map(|record| SessionView { id: record.id, state: record.state })
            .ok_or(OrchestratorError::SessionNotFound(session_id))
    }

    /// `reset`: ends whatever the session is doing — a plan in review is rejected, its runs here
    /// are cancelled (and waited for, briefly) — and returns it to `idle`.
    pub async fn reset_session(&self, session_id: SessionId) -> Result<SessionView, OrchestratorError> {
        let (view, stopping) = self.ask(|reply| Command::ResetSession(session_id, reply)).await??;
        let _ = tokio::time::timeout(CANCEL_WAIT, futures::future::join_all(stopping)).await;
        Ok(view)
    }

    /// Shows every change agents make to the workspace to `observer` (the ACP face shows them as
    /// diffs), after it is applied.
    pub async fn observe_changes(
        &self,
        observer: Arc<dyn crate::agents::writer::ChangeObserver>,
    ) -> Result<(), OrchestratorError> {
        self.ask(|reply| Command::ObserveChanges(observer, reply)).await?
    }

    /// New settings from the client (`workspace/didChangeConfiguration`).
    pub async fn set_settings(&self, settings: Settings) -> Result<(), OrchestratorError> {
        self.ask(|reply| Command::SetSettings(Box::new(settings), reply)).await
    }

    /// Stops every run of this process leaving its plan `interrupted` (processes killed,
    /// unfinished subtasks `pending`, waiting steps still `waiting`; `planning/retry` resumes it)
    /// and waits for it. Every end of the server does this — `shutdown` + `exit` (the editor
    /// closed), end of input, `exit` alone, a broken stream — since none of them is the person
    /// asking to cancel the work; only `planning/cancel` cancels.
    pub async fn shutdown(&self) {
        if let Ok(finished) = self.ask(|reply| Command::Shutdown { reply }).await {
            let _ = tokio::time::timeout(CANCEL_WAIT, futures::future::join_all(finished)).await;
        }
    }
}

/// Kills what a crashed server left running of these plans (their steps carry the plan marker),
/// so that nothing of an `interrupted` plan runs when it is retried.
pub(crate) async fn kill_leftovers(plan_ids: Vec<String>) {
    if plan_ids.is_empty() {
        return;
    }
    let killing = tokio::task::spawn_blocking(move || {
        for plan_id in &plan_ids {
            crate::engine::reaper::kill_plan_leftovers(plan_id);
        }
    });
    if let Err(error) = killing.await {
        tracing::warn!(%error, "the search for leftover processes failed");
    }
}

/// An `InvalidParams` error for one field.
pub(crate) fn invalid_param(path: &str, message: impl Into<String>) -> OrchestratorError {
    OrchestratorError::InvalidParams(Problem {
        kind: ProblemKind::Field,
        path: path.to_owned(),
        message: message.into(),
    })
}
