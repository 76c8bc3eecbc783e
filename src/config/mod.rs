//! Runtime settings, in domain terms, and where they come from: `keys` (every key, checked and
//! applied the same way from any source), `files` (the workspace's `codelab-planner.toml` and
//! the user's `config.toml`: [`load`] is the one loading every face calls), `database` (where
//! the `database` setting may lead). The language server puts an editor's settings on top
//! (`crate::lsp::config`); the orchestrator and engine read [`Settings`].

pub mod database;
pub mod files;
pub mod keys;

pub use database::{checked_database, database_change_notice, resolve_database};
pub use files::{FileProblem, LoadedSettings, Origin, load};

use std::path::PathBuf;

use crate::model::FailurePolicy;

/// Which plans need an explicit approval before `execute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanApproval {
    /// Complex plans need approval; atomic ones are auto-approved (the default).
    Complex,
    /// Every plan needs approval.
    Always,
    /// No plan needs approval: `execute` approves a draft.
    Never,
}

/// Whether tool calls that change things ask the user first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolApproval {
    Ask,
    Auto,
}

/// When the language model classifies a task (`llm.classify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmClassify {
    /// Every task goes to the model.
    Always,
    /// Only when the keyword classifier is not highly confident (the default).
    WhenUnsure,
    /// Never: the keyword classifier decides.
    Never,
}

/// Model names per role (`llm.roles.*`); `None` = `llm.model`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmRoles {
    pub classify: Option<String>,
    pub plan: Option<String>,
    pub agent: Option<String>,
}

/// The OpenAI-compatible endpoint, when one is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmSettings {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (never the key itself).
    pub api_key_env: String,
    /// A file holding the API key (its first line), read when a model client is made; wins
    /// over `api_key_env`. Keeps the key out of the server's environment, which any process of
    /// the same user can read in `/proc/<pid>/environ`.
    pub api_key_file: Option<PathBuf>,
    pub timeout_secs: u64,
    pub roles: LlmRoles,
    /// The context window an agent's conversation must stay inside, in tokens.
    pub context_tokens: u64,
    /// Tool calls one LLM subtask may make before it fails.
    pub max_tool_calls: u32,
    pub classify: LlmClassify,
}

impl LlmSettings {
    /// The model for a role: the role's own, else `llm.model`.
    pub fn model_for(&self, role: Option<&String>) -> Option<String> {
        role.or(self.model.as_ref()).cloned()
    }
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            model: None,
            api_key_env: "OPENAI_API_KEY".to_owned(),
            api_key_file: None,
            timeout_secs: 120,
            roles: LlmRoles::default(),
            context_tokens: 16_384,
            max_tool_calls: 20,
            classify: LlmClassify::WhenUnsure,
        }
    }
}

/// What `coder` / `debug` / `ask` steps do when no model is configured (`agents.withoutModel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithoutModel {
    /// They wait for a person (`waiting`), who completes them with `planning/complete` (the default).
    Manual,
    /// They fail at once with "no language model is configured".
    Fail,
}

/// Whether an agent's `execute_command` runs in the command sandbox (`sandbox.commands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxCommands {
    /// Writes confined to the workspace (minus `.git/` and `.codelab/`) and the temporary
    /// folder, where the kernel offers Landlock (the default).
    Workspace,
    /// Commands run with the server's own rights.
    Off,
}

/// Everything the server can be configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `None` = `<workspace>/.codelab/planner.db`.
    pub database: Option<PathBuf>,
    pub max_parallel: usize,
    pub failure_policy: FailurePolicy,
    pub plan_approval: PlanApproval,
    pub tool_approval: ToolApproval,
    pub llm: LlmSettings,
    pub without_model: WithoutModel,
    pub sandbox_commands: SandboxCommands,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: None,
            max_parallel: default_max_parallel(),
            failure_policy: FailurePolicy::Continue,
            plan_approval: PlanApproval::Complex,
            tool_approval: ToolApproval::Ask,
            llm: LlmSettings::default(),
            without_model: WithoutModel::Manual,
            sandbox_commands: SandboxCommands::Workspace,
        }
    }
}

/// Number of CPUs, at least 2.
pub fn default_max_parallel() -> usize {
    std::thread::available_parallelism().map(|count| count.get()).unwrap_or(2).max(2)
}

/// The database path for a workspace root.
pub fn default_database_path(workspace_root: &std::path::Path) -> PathBuf {
    workspace_root.join(".codelab").join("planner.db")
}
