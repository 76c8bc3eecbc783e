//! The agents that do the work with a language model: `coder`, `debug` and `ask` as
//! tool-calling loops, one conversation per subtask.
//!
//! - [`LlmAgent`] implements the engine's `SubtaskExecutor`; [`agent_set`] builds a run's agents
//!   (shell plus the three LLM agents) when a model is configured.
//! - `session`: the turn loop. `prompt`: the opening messages. `context`: the token budget.
//! - `tools`: the tool layer (allow-lists, approval, dispatch); `approval`: the pure policy;
//!   `edit`: search-and-replace; `hunks`: minimal edits; `writer`: the one workspace writer. Paths
//!   are resolved by `crate::confine`.
//!
//! Not here: choosing whether a model is configured (the caller passes one), the provider
//! (`crate::llm`), JSON-RPC (the editor bridge is `crate::lsp::bridge`), the store.

pub mod approval;
mod ask;
pub mod context;
pub mod edit;
pub mod hunks;
pub mod prompt;
pub mod reach;
pub mod record;
pub mod sandbox;
mod session;
pub mod tools;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::config::{SandboxCommands, Settings, ToolApproval, WithoutModel};
use crate::engine::{AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSet, ShellAgent, SubtaskExecutor};
use crate::llm::{ChatMessage, ChatModel};
use crate::model::AgentKind;
use crate::planner::detect_workspace;

use session::{Session, SessionLimits};
use tools::{PlanApprovals, Role, ToolEnv, tool_specs};
use writer::{ChangeOrigin, WorkspaceWriter};

use crate::confine::Workspace;

pub use session::MAX_RESULT_BYTES;

/// Default timeout of `execute_command`.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How the LLM agents behave, from the settings.
#[derive(Debug, Clone)]
pub struct AgentsConfig {
    /// The model name sent to the endpoint (`llm.roles.agent`, else `llm.model`).
    pub model: String,
    pub context_tokens: u64,
    pub max_tool_calls: u32,
    pub approval: ToolApproval,
    /// The variable holding the API key: never passed to a command.
    pub api_key_env: String,
    /// The file holding the API key, if one does (`llm.apiKeyFile`).
    pub api_key_file: Option<std::path::PathBuf>,
    pub default_command_timeout: Duration,
    pub temperature: Option<f32>,
    /// `max_tokens` of each reply (`None` = the endpoint's default).
    pub max_reply_tokens: Option<u32>,
    /// `sandbox.commands`: whether `execute_command` runs in the command sandbox.
    pub command_sandbox: SandboxCommands,
}

impl AgentsConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        let llm = &settings.llm;
        Self {
            model: llm.model_for(llm.roles.agent.as_ref()).unwrap_or_default(),
            context_tokens: llm.context_tokens,
            max_tool_calls: llm.max_tool_calls,
            approval: settings.tool_approval,
            api_key_env: llm.api_key_env.clone(),
            api_key_file: llm.api_key_file.clone(),
            default_command_timeout: DEFAULT_COMMAND_TIMEOUT,
            temperature: Some(0.2),
            max_reply_tokens: None,
            command_sandbox: settings.sandbox_commands,
        }
    }
}

/// State shared by every LLM agent of a server: the workspace writer (per-path locks), the
/// "Allow for this plan" choices, and the router that puts each applied change on the record of
/// the attempt that made it.
#[derive(Clone)]
pub struct SharedAgentState {
    writer: WorkspaceWriter,
    approvals: Arc<PlanApprovals>,
    changes: Arc<record::ChangeRouter>,
}

impl Default for SharedAgentState {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedAgentState {
    pub fn new() -> Self {
        let writer = WorkspaceWriter::new();
        let changes = Arc::new(record::ChangeRouter::default());
        writer.observe(changes.clone());
        Self { writer, approvals: Arc::default(), changes }
    }

    /// The one workspace writer (attach a `writer::ChangeObserver` to it to see every change).
    pub fn writer(&self) -> &WorkspaceWriter {
        &self.writer
    }
}

/// A coder, debug or ask agent backed by a chat model.
pub struct LlmAgent {
    model: Arc<dyn ChatModel>,
    config: AgentsConfig,
    shared: SharedAgentState,
}

impl LlmAgent {
    pub fn new(model: Arc<dyn ChatModel>, config: AgentsConfig, shared: SharedAgentState) -> Self {
        Self { model, config, shared }
    }

    async fn run(&self, request: AgentRequest, io: AgentIo) -> Result<AgentOutcome, AgentError> {
        let workspace =
            Workspace::new(&request.workspace_root).map_err(|error| AgentError::Unavailable(error.to_string()))?;
        let role = Role::of(request.subtask.agent);
        // The key's value is read only to keep it out of results and output, never stored.
        let from_file = self
            .config
            .api_key_file
            .as_deref()
            .and_then(|path| crate::textfile::read_text_blocking(path, 16 * 1024).ok());
        let secret = from_file
            .and_then(|key| key.lines().next().map(|line| line.trim().to_owned()))
            .or_else(|| std::env::var(&self.config.api_key_env).ok())
            .filter(|value| value.len() >= 8);
        let origin = ChangeOrigin {
            plan_id: request.plan_id.clone(),
            subtask_id: request.subtask.id.clone(),
            attempt: request.attempt,
            agent: request.subtask.agent,
        };
        // Every change the writer applies for this attempt goes on its record until it returns.
        let _route = self.shared.changes.route(&origin, io.signals.clone(), secret.iter().cloned().collect());
        let env = ToolEnv {
            workspace,
            writer: self.shared.writer.clone(),
            io,
            plan_id: request.plan_id.clone(),
            origin,
            agent: request.subtask.agent,
            role,
            approval: self.config.approval,
            approvals: self.shared.approvals.clone(),
            secrets: secret.into_iter().collect(),
            default_command_timeout: self.config.default_command_timeout,
            command_sandbox: sandbox::CommandSandbox::new(self.config.command_sandbox),
        };
        let root = env.workspace.root().to_path_buf();
        let (facts, top_level) =
            tokio::task::spawn_blocking(move || (detect_workspace(&root), prompt::top_level_entries(&root)))
                .await
                .unwrap_or_default();
        let messages = vec![
            ChatMessage::system(prompt::system_prompt(request.subtask.agent)),
            ChatMessage::user(prompt::task_message(&request, &facts, &top_level)),
        ];
        let limits = SessionLimits {
            model: self.config.model.clone(),
            context_tokens: self.config.context_tokens,
            max_tool_calls: self.config.max_tool_calls,
            temperature: self.config.temperature,
            max_reply_tokens: self.config.max_reply_tokens,
        };
        let session = Session::new(self.model.as_ref(), &limits, tool_specs(role), &env, messages);
        let result = session.run().await?;
        Ok(AgentOutcome { result })
    }
}

impl SubtaskExecutor for LlmAgent {
    fn execute<'a>(&'a self, request: AgentRequest, io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        self.run(request, io).boxed()
    }
}

/// The agents a run uses under `settings`: with `llm.baseUrl` set and a usable model, the LLM
/// agents; otherwise the no-model set: coder / debug / ask steps wait for a person
/// (`agents.withoutModel = "manual"`, the default) or fail at once (`"fail"`).
pub fn agents_for_run(settings: &Settings, shared: &SharedAgentState) -> AgentSet {
    match crate::llm::from_settings(&settings.llm) {
        Some(model) => agent_set(model, AgentsConfig::from_settings(settings), shared.clone()),
        None => match settings.without_model {
            WithoutModel::Manual => AgentSet::for_person_without_llm(),
            WithoutModel::Fail => AgentSet::without_llm(),
        },
    }
}

/// A run's agents with a model: shell for `shell`, [`LlmAgent`]s for coder, debug and ask.
pub fn agent_set(model: Arc<dyn ChatModel>, config: AgentsConfig, shared: SharedAgentState) -> AgentSet {
    // Every child of the process (shell steps and agent commands) loses the key's variable.
    crate::engine::process::hide_env_from_children(&config.api_key_env);
    let shell = ShellAgent;
    let agent: Arc<dyn SubtaskExecutor> = Arc::new(LlmAgent::new(model, config, shared));
    AgentSet::new()
        .with(AgentKind::Shell, Arc::new(shell))
        .with(AgentKind::Coder, agent.clone())
        .with(AgentKind::Debug, agent.clone())
        .with(AgentKind::Ask, agent)
}
