//! `codelab-planner mcp`: the Model Context Protocol face, over stdio, for coding agents (Claude
//! Code, Codex, Cursor, VS Code's agent mode). Seven tools on the orchestrator (`tools.rs`), whose
//! answers are compact JSON (`present.rs`); the server is the official SDK's (`rmcp`).
//!
//! It opens the same database as the language server and the command line (`.codelab/planner.db`
//! under the current folder, or `--db`), so a plan an agent makes shows up live in the editor,
//! and steps are handed out under the store's claims, so two agents never take the same step.
//! Runs it starts belong to this process: when the client goes away they are left
//! `interrupted` (resumable), as the language server leaves its runs.
//!
//! It converts and presents only; every operation is one method of the orchestrator's handle.

mod present;
mod tools;

use std::path::PathBuf;

use rmcp::ServiceExt;

use crate::config::Settings;
use crate::orchestrator::{Orchestrator, OrchestratorConfig};

/// How the MCP server starts.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// `--db PATH` (relative to the current folder).
    pub database: Option<PathBuf>,
    pub settings: Settings,
}

/// Serves MCP on stdin/stdout until the client closes it; returns the process exit code.
pub async fn serve_stdio(options: McpOptions) -> i32 {
    let workspace_root = match std::env::current_dir() {
        Ok(folder) => folder,
        Err(failure) => {
            eprintln!("codelab-planner mcp: cannot read the current folder: {failure}");
            return 2;
        }
    };
    let config = OrchestratorConfig {
        workspace_root: workspace_root.clone(),
        database: options.database.map(|path| workspace_root.join(path)),
        settings: options.settings,
        editor: None,
    };
    let orchestrator = match Orchestrator::start(config).await {
        Ok((orchestrator, _report)) => orchestrator,
        Err(failure) => {
            eprintln!("codelab-planner mcp: {failure}");
            return 1;
        }
    };
    let server = tools::PlannerTools::new(orchestrator.clone());
    let exit_code = match server.serve(rmcp::transport::stdio()).await {
        Ok(running) => match running.waiting().await {
            Ok(reason) => {
                tracing::info!(?reason, "the MCP client went away");
                0
            }
            Err(failure) => {
                tracing::error!(%failure, "the MCP service stopped");
                1
            }
        },
        Err(failure) => {
            tracing::error!(%failure, "the MCP client did not initialize");
            1
        }
    };
    orchestrator.shutdown().await;
    exit_code
}
