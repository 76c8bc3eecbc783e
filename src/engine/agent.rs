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

use super::questions::QuestionDesk;
use super::shell::ShellAgent;
use crate::model::record::{FileChangeRecord, TranscriptEntry};
use crate::model::{AgentKind, Answer, PendingApproval, PlanId, RunId, Subtask, SubtaskId};

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

/// A document the editor has open, as it has it: its text (unsaved changes included) and the
/// version the editor gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDocument {
    pub text: String,
    pub version: i32,
}

/// One changed range of a document: `range` is in bytes of the text the edit was computed
/// against ([`DocumentEdit::base_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextHunk {
    pub range: std::ops::Range<usize>,
    pub new_text: String,
}

/// An agent's change to an open document: the changed ranges only, against the version the agent
/// read, so that an editor whose buffer moved on refuses it instead of clobbering it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEdit {
    /// Workspace-relative path.
    pub path: PathBuf,
    /// The version the hunks apply to.
    pub version: i32,
    /// The text of that version (positions are converted against it).
    pub base_text: String,
    pub hunks: Vec<TextHunk>,
}

/// Server→client requests an agent may need, and the documents the editor has open; implemented
/// by the LSP layer and called from run tasks only (never from a request handler).
pub trait EditorBridge: Send + Sync {
    /// The editor's buffer of the workspace-relative `path`, when it has the file open.
    fn open_document(&self, path: &std::path::Path) -> Option<OpenDocument>;
    /// Waits (at most `timeout`) until the editor reports a version of `path` newer than
    /// `version`; returns it, or `None` (closed, or no news in time).
    fn newer_document(
        &self,
        path: &std::path::Path,
        version: i32,
        timeout: Duration,
    ) -> BoxFuture<'_, Option<OpenDocument>>;
    /// Whether the editor takes edits at all (`workspace.applyEdit`).
    fn takes_edits(&self) -> bool;
    /// Applies edits through the editor (`workspace/applyEdit`); `Ok(false)` when refused (a
    /// stale version among them).
    fn apply_edits(&self, label: String, edits: Vec<DocumentEdit>) -> BoxFuture<'_, Result<bool, String>>;
    /// Asks the user (`window/showMessageRequest`); returns the chosen action, `None` if dismissed.
    fn ask(&self, message: String, actions: Vec<String>) -> BoxFuture<'_, Result<Option<String>, String>>;
}

/// An editor bridge that can sit in `Debug` configuration structs.
#[derive(Clone)]
pub struct SharedEditor(pub Arc<dyn EditorBridge>);

impl std::fmt::Debug for SharedEditor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SharedEditor")
    }
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
    /// Activity, token usage and approval answers, for the driver (never blocks).
    pub signals: SignalSink,
    /// The attempt's timeout clock: paused while the agent waits for the person.
    pub clock: AttemptClock,
    /// Where the agent's questions are open, so that `planning/answer` can answer them too.
    pub questions: QuestionDesk,
}

impl AgentIo {
    /// Channels with no editor, no signal consumer and the default kill grace.
    pub fn new(cancel: CancellationToken, output: OutputSink) -> Self {
        Self {
            cancel,
            output,
            editor: None,
            kill_grace: DEFAULT_KILL_GRACE,
            signals: SignalSink::discard(),
            clock: AttemptClock::default(),
            questions: QuestionDesk::new(),
        }
    }
}

/// What an LLM agent is doing, for `agentActivity` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityPhase {
    Thinking,
    ToolStarted,
    ToolFinished,
    WaitingForApproval,
}

pub use crate::model::ToolKind;

/// One sign of life of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentActivity {
    /// Which agent (for `$/progress` text; not on the wire).
    pub agent: AgentKind,
    pub phase: ActivityPhase,
    pub tool: Option<String>,
    pub kind: Option<ToolKind>,
    /// The file or command the tool works on.
    pub target: Option<String>,
    /// Tokens streamed so far in this reply (thinking).
    pub tokens: Option<u64>,
}

/// Something an agent tells the driver while it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSignal {
    Activity(AgentActivity),
    /// Tokens spent by one model call (summed into the subtask's usage, failed attempts too).
    Usage(crate::model::Usage),
    /// The agent asks the person and waits (kept with the subtask until it is answered; the
    /// question is open on the run's [`QuestionDesk`] under the same request id).
    ApprovalAsked(PendingApproval),
    /// The question was answered, by `by` (the editor's message, or `planning/answer`): the
    /// subtask no longer waits; kept in the plan's event log as `question -> answer_text`.
    ApprovalAnswered {
        request_id: String,
        question: String,
        answer: Answer,
        answer_text: String,
        by: String,
    },
    /// One entry of the attempt's transcript (bounded and without secrets already).
    Transcript {
        attempt: u32,
        entry: TranscriptEntry,
    },
    /// The attempt's record of a file, after a change the workspace writer applied: content
    /// before the attempt's first change of it and after this one. `replaces`: the attempt's
    /// record of the path the file was moved from (now superseded).
    FileChanged {
        record: Box<FileChangeRecord>,
        replaces: Option<String>,
    },
}

/// Where an agent's signals go. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct SignalSink {
    sink: Arc<dyn Fn(AgentSignal) + Send + Sync>,
}

impl SignalSink {
    pub fn new(sink: impl Fn(AgentSignal) + Send + Sync + 'static) -> Self {
        Self { sink: Arc::new(sink) }
    }

    pub fn discard() -> Self {
        Self::new(|_| {})
    }

    pub fn send(&self, signal: AgentSignal) {
        (self.sink)(signal)
    }
}

/// An attempt's timeout clock that stops while the agent waits for the person.
#[derive(Clone, Default)]
pub struct AttemptClock {
    state: Arc<std::sync::Mutex<ClockState>>,
    resumed: Arc<tokio::sync::Notify>,
}

#[derive(Default)]
struct ClockState {
    pauses: u32,
    paused_since: Option<tokio::time::Instant>,
    paused_total: Duration,
}

impl AttemptClock {
    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stops the clock until the guard is dropped (nested pauses are fine).
    pub fn pause(&self) -> ClockPause {
        let mut state = self.lock();
        state.pauses += 1;
        if state.pauses == 1 {
            state.paused_since = Some(tokio::time::Instant::now());
        }
        ClockPause { clock: self.clone() }
    }

    /// Time spent paused so far, and whether the clock is paused now.
    pub fn paused(&self) -> (Duration, bool) {
        let state = self.lock();
        let current = state.paused_since.map(|since| since.elapsed()).unwrap_or_default();
        (state.paused_total + current, state.pauses > 0)
    }

    /// Resolves at the next resume.
    pub async fn resumed(&self) {
        self.resumed.notified().await
    }
}

/// Restarts the clock when dropped.
pub struct ClockPause {
    clock: AttemptClock,
}

impl AgentActivity {
    /// `$/progress` text such as "coder: editing src/lib.rs".
    pub fn describe(&self) -> String {
        let target = self.target.as_deref().unwrap_or_default();
        let doing = match (self.phase, self.kind) {
            (ActivityPhase::Thinking, _) => "thinking".to_owned(),
            (ActivityPhase::WaitingForApproval, _) => format!("waiting for approval of {target}"),
            (ActivityPhase::ToolFinished, _) => format!("done with {}", self.tool.as_deref().unwrap_or("a tool")),
            (ActivityPhase::ToolStarted, Some(ToolKind::Read)) => format!("reading {target}"),
            (ActivityPhase::ToolStarted, Some(ToolKind::Edit)) => format!("editing {target}"),
            (ActivityPhase::ToolStarted, Some(ToolKind::Delete)) => format!("deleting {target}"),
            (ActivityPhase::ToolStarted, Some(ToolKind::Move)) => format!("moving {target}"),
            (ActivityPhase::ToolStarted, Some(ToolKind::Search)) => format!("searching {target}"),
            (ActivityPhase::ToolStarted, Some(ToolKind::Execute)) => format!("running {target}"),
            (ActivityPhase::ToolStarted, _) => self.tool.clone().unwrap_or_else(|| "working".to_owned()),
        };
        format!("{}: {}", self.agent, doing.trim_end())
    }
}

impl Drop for ClockPause {
    fn drop(&mut self) {
        let mut state = self.clock.lock();
        state.pauses = state.pauses.saturating_sub(1);
        if state.pauses == 0 {
            if let Some(since) = state.paused_since.take() {
                state.paused_total += since.elapsed();
            }
            drop(state);
            self.clock.resumed.notify_waiters();
        }
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
