//! The tool layer: the tools offered to the model, per-role allow-lists, argument parsing, the
//! approval policy (enforced here, once, for every agent) and dispatch.
//!
//! A tool failure is a result, not an exception: unknown tool, bad JSON (quoted back), a path
//! the confinement refuses, no match, a denial — all go back to the model as text. Only
//! cancellation ends the subtask from here ([`ToolStep::Cancelled`]).
//!
//! - `files`: `read_file`, `list_files`, `search_in_code` (read-only).
//! - `change`: `write_file`, `edit_file`, `create_directory`, `delete_file`, `move_file`.
//! - `command`: `execute_command`.

mod change;
mod command;
mod files;
mod specs;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::approval::{Action, Answer, CommandFacts, Decision, Remembered, decide};
use super::sandbox::CommandSandbox;
use super::writer::{ChangeOrigin, WorkspaceWriter, WriteContext};
use crate::config::ToolApproval;
use crate::confine::Workspace;
use crate::engine::{ActivityPhase, AgentActivity, AgentIo, AgentSignal, ToolKind};
use crate::llm::ToolCall;
use crate::model::{AgentKind, PlanId};

pub use specs::{kind_of, target_of, tool_specs};

/// What an agent may do. `Architect` is the planner's role: it writes only Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Coder,
    Debug,
    Ask,
    Architect,
}

impl Role {
    pub fn of(agent: AgentKind) -> Self {
        match agent {
            AgentKind::Debug => Role::Debug,
            AgentKind::Ask => Role::Ask,
            _ => Role::Coder,
        }
    }

    /// Whether the role is offered (and may call) `tool`.
    pub fn allows(self, tool: &str) -> bool {
        const READ: &[&str] =
            &["read_file", "list_files", "search_in_code", "attempt_completion", "ask_followup_question"];
        const WRITE: &[&str] = &["write_file", "edit_file", "create_directory", "delete_file", "move_file"];
        if READ.contains(&tool) {
            return true;
        }
        match self {
            Role::Coder => WRITE.contains(&tool) || tool == "execute_command",
            Role::Debug => tool == "execute_command",
            Role::Ask => false,
            Role::Architect => matches!(tool, "write_file" | "edit_file" | "create_directory"),
        }
    }
}

/// "Allow for this plan" choices, per plan. Shared by every agent of the server.
#[derive(Default)]
pub struct PlanApprovals {
    by_plan: Mutex<HashMap<PlanId, HashSet<Remembered>>>,
}

impl PlanApprovals {
    fn remembered(&self, plan: &PlanId) -> HashSet<Remembered> {
        self.lock().get(plan).cloned().unwrap_or_default()
    }

    fn remember(&self, plan: &PlanId, choice: Remembered) {
        self.lock().entry(plan.clone()).or_default().insert(choice);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PlanId, HashSet<Remembered>>> {
        self.by_plan.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Everything a tool call may use: the subtask's channels and the server's shared pieces.
pub struct ToolEnv {
    pub workspace: Workspace,
    pub writer: WorkspaceWriter,
    pub io: AgentIo,
    pub plan_id: PlanId,
    /// The plan, subtask, attempt and agent every change is recorded under.
    pub origin: ChangeOrigin,
    pub agent: AgentKind,
    pub role: Role,
    pub approval: ToolApproval,
    pub approvals: Arc<PlanApprovals>,
    /// Values replaced by `[redacted]` in anything a tool returns (the API key).
    pub secrets: Vec<String>,
    pub default_command_timeout: Duration,
    pub command_sandbox: CommandSandbox,
}

impl ToolEnv {
    /// What the writer needs for a change labelled `label` (shown by the editor).
    pub fn write_context<'a>(&'a self, label: &'a str) -> WriteContext<'a> {
        WriteContext { workspace: &self.workspace, editor: self.io.editor.as_deref(), origin: &self.origin, label }
    }

    pub fn redact(&self, text: String) -> String {
        self.secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(text, |text, secret| text.replace(secret.as_str(), "[redacted]"))
    }

    fn activity(&self, phase: ActivityPhase, tool: &str, kind: ToolKind, target: Option<String>) {
        let activity = AgentActivity {
            agent: self.agent,
            phase,
            tool: Some(tool.to_owned()),
            kind: Some(kind),
            target,
            tokens: None,
        };
        self.io.signals.send(AgentSignal::Activity(activity));
    }
}

/// What the agent remembers between tool calls of one subtask.
#[derive(Default)]
pub struct ToolState {
    /// Content of each file as the agent last read or wrote it (stale-edit check).
    pub seen: HashMap<String, String>,
}

/// How one tool call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolStep {
    /// Text for the model (success or a tool error).
    Result(String),
    /// `attempt_completion`: the subtask's result.
    Complete(String),
    Cancelled,
}

/// Runs one call: allow-list, arguments, approval, the tool.
pub async fn run_tool(env: &ToolEnv, state: &mut ToolState, call: &ToolCall) -> ToolStep {
    if !specs::is_known(&call.name) {
        return ToolStep::Result(format!("error: unknown tool `{}`", call.name));
    }
    if !env.role.allows(&call.name) {
        return ToolStep::Result(format!("error: the {} agent may not use `{}`", env.agent, call.name));
    }
    let kind = specs::kind_of(&call.name);
    let target = specs::target_of(&call.arguments);
    env.activity(ActivityPhase::ToolStarted, &call.name, kind, target.clone());
    let step = dispatch(env, state, call).await;
    env.activity(ActivityPhase::ToolFinished, &call.name, kind, target);
    match step {
        ToolStep::Result(text) => ToolStep::Result(env.redact(text)),
        ToolStep::Complete(text) => ToolStep::Complete(env.redact(text)),
        ToolStep::Cancelled => ToolStep::Cancelled,
    }
}

/// The call's arguments, or (returned at once) a tool result that quotes them back.
macro_rules! parse {
    ($text:expr) => {
        match parse_arguments($text) {
            Ok(arguments) => arguments,
            Err(message) => return ToolStep::Result(message),
        }
    };
}

async fn dispatch(env: &ToolEnv, state: &mut ToolState, call: &ToolCall) -> ToolStep {
    let arguments = call.arguments.as_str();
    let result = match call.name.as_str() {
        "read_file" => files::read_file(env, state, parse!(arguments)).await,
        "list_files" => files::list_files(env, parse!(arguments)).await,
        "search_in_code" => files::search_in_code(env, parse!(arguments)).await,
        "write_file" => change::write_file(env, state, parse!(arguments)).await,
        "edit_file" => change::edit_file(env, state, parse!(arguments)).await,
        "create_directory" => change::create_directory(env, parse!(arguments)).await,
        "delete_file" => change::delete_file(env, parse!(arguments)).await,
        "move_file" => change::move_file(env, parse!(arguments)).await,
        "execute_command" => command::execute_command(env, parse!(arguments)).await,
        "attempt_completion" => {
            let arguments: specs::CompletionArgs = parse!(arguments);
            return ToolStep::Complete(arguments.result);
        }
        "ask_followup_question" => ask_followup(env, parse!(arguments)).await,
        _ => Ok(format!("error: unknown tool `{}`", call.name)),
    };
    match result {
        Ok(text) => ToolStep::Result(text),
        Err(Stop::Cancelled) => ToolStep::Cancelled,
        Err(Stop::Tool(message)) => ToolStep::Result(format!("error: {message}")),
    }
}

/// Why a tool stopped early: a tool error (text for the model) or cancellation.
#[derive(Debug)]
pub(crate) enum Stop {
    Tool(String),
    Cancelled,
}

impl<T: std::fmt::Display> From<T> for Stop {
    fn from(error: T) -> Self {
        Stop::Tool(error.to_string())
    }
}

fn parse_arguments<T: DeserializeOwned>(arguments: &str) -> Result<T, String> {
    let text = if arguments.trim().is_empty() { "{}" } else { arguments };
    serde_json::from_str::<Value>(text)
        .map_err(|error| error.to_string())
        .and_then(|value| {
            serde_path_to_error::deserialize::<_, T>(value)
                .map_err(|error| format!("{}: {}", error.path(), error.inner()))
        })
        .map_err(|error| format!("error: bad arguments ({error}); you sent: {}", shorten(arguments)))
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= 300 { text.to_owned() } else { text.chars().take(300).collect::<String>() + "…" }
}

/// Runs `work` unless the subtask is cancelled first (then `work` is dropped: an edit the editor
/// never answers does not hold the run open).
pub(crate) async fn unless_cancelled<T>(env: &ToolEnv, work: impl std::future::Future<Output = T>) -> Result<T, Stop> {
    tokio::select! {
        output = work => Ok(output),
        () = env.io.cancel.cancelled() => Err(Stop::Cancelled),
    }
}

/// Asks the policy, then the person when it says so. `Err` is the denial text for the model.
pub(crate) async fn approve(env: &ToolEnv, action: Action) -> Result<(), Stop> {
    approve_with(env, action, None).await
}

/// [`approve`] with what is known about a command: what it reaches and whether it is sandboxed
/// (the question says so when it is not).
pub(crate) async fn approve_with(env: &ToolEnv, action: Action, command: Option<CommandFacts>) -> Result<(), Stop> {
    match policy(env, &action, command.as_ref()) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(Stop::Tool(format!("denied: {reason}"))),
        Decision::Confirm => confirm(env, action, command.as_ref(), None).await,
    }
}

/// What the policy says about `action` for this plan, before anyone is asked.
pub(crate) fn policy(env: &ToolEnv, action: &Action, command: Option<&CommandFacts>) -> Decision {
    let remembered = env.approvals.remembered(&env.plan_id);
    decide(action, env.approval, &remembered, command)
}

/// Asks the person (`ask::ask_person`); "Allow for this plan" is remembered for the action's
/// tool kind (and its exact command or file). `Err` is the denial text for the model.
pub(crate) async fn confirm(
    env: &ToolEnv,
    action: Action,
    command: Option<&CommandFacts>,
    preview: Option<super::ask::ChangePreview>,
) -> Result<(), Stop> {
    let mut question = action.question(env.agent.as_str());
    if let Some(note) = command.and_then(CommandFacts::note) {
        question = format!("{question} {note}");
    }
    if let (Action::Execute { .. }, Some(reason)) = (&action, env.command_sandbox.unsandboxed_reason()) {
        question = format!("{question} ({reason})");
    }
    match super::ask::ask_person(env, &action, question, preview).await? {
        Answer::AllowOnce => Ok(()),
        Answer::AllowForPlan => {
            env.approvals.remember(&env.plan_id, Remembered::Kind(action.kind()));
            env.approvals.remember(&env.plan_id, action.remembered_as());
            Ok(())
        }
        Answer::Deny => {
            Err(Stop::Tool("denied by the person; do not try this again, find another way or finish".to_owned()))
        }
    }
}

async fn ask_followup(env: &ToolEnv, arguments: specs::QuestionArgs) -> Result<String, Stop> {
    let Some(editor) = env.io.editor.clone() else {
        return Ok("no one can answer questions here; decide yourself and go on".to_owned());
    };
    env.activity(ActivityPhase::WaitingForApproval, "ask_followup_question", ToolKind::Other, None);
    let _pause = env.io.clock.pause();
    let suggestions: Vec<String> = arguments.suggestions.into_iter().take(5).collect();
    tokio::select! {
        chosen = editor.ask(arguments.question, suggestions) => match chosen {
            Ok(Some(answer)) => Ok(format!("the person answered: {answer}")),
            Ok(None) => Ok("the person dismissed the question; decide yourself and go on".to_owned()),
            Err(cause) => Ok(format!("the question could not be asked ({cause}); decide yourself and go on")),
        },
        () = env.io.cancel.cancelled() => Err(Stop::Cancelled),
    }
}
