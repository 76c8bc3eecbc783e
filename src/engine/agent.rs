//! The one agent trait every executor implements (shell now; tool-calling LLM agents later),
//! the request it gets, and the set of agents a run uses.
//!
//! An agent does its work and returns; it does not touch the store or emit status events (the
//! driver does both). Every await inside an agent races against `io.cancel`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::shell::ShellAgent;
use crate::model::{AgentKind, PlanId, RunId, Subtask, SubtaskId};

/// The result of a completed dependency, passed to its dependents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyResult {
    pub id: SubtaskId,
    pub title: String,
    pub agent: AgentKind,
    pub result: String,
}

/// Everything an agent needs for one attempt of one subtask: its own isolated context.
#[derive(Debug, Clone)]
pub struct AgentRequest {
    pub plan_id: PlanId,
    pub run_id: RunId,
    /// The plan's goal (the user's task text).
    pub goal: String,
    pub subtask: Subtask,
    /// Results of the subtask's completed dependencies, in plan order.
    pub dependencies: Vec<DependencyResult>,
    pub workspace_root: PathBuf,
    /// 1-based attempt number.
    pub attempt: u32,
}

/// A line of output streamed while an agent works. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct OutputSink {
    sink: Arc<dyn Fn(String) + Send + Sync>,
}

impl OutputSink {
    pub fn new(sink: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self { sink: Arc::new(sink) }
    }

    /// A sink that drops everything (benchmarks, agents run outside a plan).
    pub fn discard() -> Self {
        Self::new(|_| {})
    }

    pub fn line(&self, text: String) {
        (self.sink)(text)
    }
}

/// A change to a file, proposed by an agent, that the editor applies (undoable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// Workspace-relative path.
    pub path: PathBuf,
    /// The whole new content.
    pub new_text: String,
}

/// Server→client requests an agent may need; implemented by the LSP layer and called from run
/// tasks only (never from a request handler).
pub trait EditorBridge: Send + Sync {
    /// Applies edits through the editor (`workspace/applyEdit`); `Ok(false)` when refused.
    fn apply_edits(&self, label: String, edits: Vec<FileEdit>) -> BoxFuture<'_, Result<bool, String>>;
    /// Asks the user (`window/showMessageRequest`); returns the chosen action, `None` if dismissed.
    fn ask(&self, message: String, actions: Vec<String>) -> BoxFuture<'_, Result<Option<String>, String>>;
}

/// The channels an agent works with.
#[derive(Clone)]
pub struct AgentIo {
    /// Cancelled on user cancel, `failFast`, or the attempt's timeout.
    pub cancel: CancellationToken,
    pub output: OutputSink,
    /// Present when the client can take edits and questions.
    pub editor: Option<Arc<dyn EditorBridge>>,
    /// Grace between SIGTERM and SIGKILL when a child process group is stopped.
    pub kill_grace: Duration,
}

impl AgentIo {
    /// Channels with no editor and the default kill grace.
    pub fn new(cancel: CancellationToken, output: OutputSink) -> Self {
        Self { cancel, output, editor: None, kill_grace: DEFAULT_KILL_GRACE }
    }
}

/// Default grace between SIGTERM and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);

/// What an LLM agent answers when no language model is configured.
pub const NO_LANGUAGE_MODEL: &str = "no language model is configured: set llm.baseUrl";

/// An executor that refuses at once with [`AgentError::Unavailable`] (not retried, no wait).
pub struct UnavailableAgent {
    pub reason: String,
}

impl SubtaskExecutor for UnavailableAgent {
    fn execute<'a>(&'a self, _request: AgentRequest, _io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        let reason = self.reason.clone();
        Box::pin(async move { Err(AgentError::Unavailable(reason)) })
    }
}

/// What a successful attempt produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOutcome {
    /// The subtask's result text (bounded by the agent).
    pub result: String,
}

/// Why an attempt did not succeed. Structured: the driver never matches on message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The work ran and failed (retryable). `output` keeps what it produced.
    #[error("{message}")]
    Failed { message: String, output: Option<String> },
    /// Stopped by `io.cancel` (not retried).
    #[error("cancelled")]
    Cancelled,
    /// The agent cannot run at all, e.g. no language model configured (not retried).
    #[error("{0}")]
    Unavailable(String),
}

/// One executor of subtasks.
pub trait SubtaskExecutor: Send + Sync {
    fn execute<'a>(&'a self, request: AgentRequest, io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>>;
}

/// The executors a run uses, by agent kind.
#[derive(Clone)]
pub struct AgentSet {
    executors: HashMap<AgentKind, Arc<dyn SubtaskExecutor>>,
    /// Kinds whose steps wait for a person instead of running (besides `manual`, which always does).
    for_person: HashSet<AgentKind>,
}

impl AgentSet {
    pub fn new() -> Self {
        Self { executors: HashMap::new(), for_person: HashSet::new() }
    }

    /// Steps of `kind` wait for a person (`waiting`) instead of going to an executor.
    pub fn done_by_person(mut self, kind: AgentKind) -> Self {
        self.for_person.insert(kind);
        self
    }

    /// Whether the run parks a step of `kind` until a person completes it: always for `manual`.
    pub fn waits_for_person(&self, kind: AgentKind) -> bool {
        kind == AgentKind::Manual || self.for_person.contains(&kind)
    }

    pub fn with(mut self, kind: AgentKind, executor: Arc<dyn SubtaskExecutor>) -> Self {
        self.executors.insert(kind, executor);
        self
    }

    pub fn get(&self, kind: AgentKind) -> Option<Arc<dyn SubtaskExecutor>> {
        self.executors.get(&kind).cloned()
    }

    /// Shell for `shell`; for coder/debug/ask an executor that fails at once with
    /// "no language model is configured: set llm.baseUrl".
    pub fn without_llm() -> Self {
        let no_model: Arc<dyn SubtaskExecutor> = Arc::new(UnavailableAgent { reason: NO_LANGUAGE_MODEL.to_owned() });
        Self::new()
            .with(AgentKind::Shell, Arc::new(ShellAgent))
            .with(AgentKind::Coder, no_model.clone())
            .with(AgentKind::Debug, no_model.clone())
            .with(AgentKind::Ask, no_model)
    }

    /// With no language model and `agents.withoutModel = "manual"`: shell steps run, coder / debug
    /// / ask steps wait for a person like `manual` ones.
    pub fn for_person_without_llm() -> Self {
        Self::without_llm()
            .done_by_person(AgentKind::Coder)
            .done_by_person(AgentKind::Debug)
            .done_by_person(AgentKind::Ask)
    }
}

impl Default for AgentSet {
    fn default() -> Self {
        Self::new()
    }
}
