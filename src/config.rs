//! Runtime settings of the server, in domain terms. The LSP layer parses and validates the
//! client's JSON (`crate::lsp::config`) into this; the orchestrator and engine read it.

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

/// The OpenAI-compatible endpoint, when one is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmSettings {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (never the key itself).
    pub api_key_env: String,
    pub timeout_secs: u64,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self { base_url: None, model: None, api_key_env: "OPENAI_API_KEY".to_owned(), timeout_secs: 120 }
    }
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
