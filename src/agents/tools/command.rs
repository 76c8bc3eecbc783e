//! `execute_command`: a shell command in the workspace, through the engine's process handling
//! (own process group, stdin closed, killed as a group on cancel or timeout, bounded output), in
//! the command sandbox where it is active (`agents::sandbox`: writes confined to the workspace
//! minus `.git/` and `.codelab/`, and the temporary folder). What the command reaches is judged
//! first (`agents::reach`) for the approval policy. The API key's variable is removed from the
//! child's environment; its output streams to the subtask's output and comes back to the model
//! cut to head and tail.

use std::path::PathBuf;
use std::time::Duration;

use super::specs::CommandArgs;
use super::{Stop, ToolEnv, approve_with};
use crate::agents::approval::{Action, CommandFacts};
use crate::agents::context::{MODEL_VIEW_BYTES, truncate_for_model};
use crate::agents::reach::{Surroundings, assess};
use crate::engine::process::{ShellCommand, ShellExit, run_shell};

/// The longest a command may run.
pub const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

pub(super) async fn execute_command(env: &ToolEnv, arguments: CommandArgs) -> Result<String, Stop> {
    let command = arguments.command.trim().to_owned();
    if command.is_empty() {
        return Err(Stop::Tool("command is empty".to_owned()));
    }
    let directory = env.workspace.resolve_directory(arguments.cwd.as_deref().unwrap_or("."))?;
    let timeout = arguments.timeout.map_or(env.default_command_timeout, Duration::from_secs).min(MAX_COMMAND_TIMEOUT);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let temporary = std::env::temp_dir();
    let surroundings = Surroundings {
        workspace_root: env.workspace.root(),
        cwd: &directory.absolute,
        home: home.as_deref(),
        temporary: &temporary,
    };
    let facts = CommandFacts { reach: assess(&command, &surroundings), sandboxed: env.command_sandbox.active() };
    approve_with(env, Action::Execute { command: command.clone() }, Some(facts)).await?;
    let launcher = env.command_sandbox.launcher(&env.workspace).map_err(Stop::Tool)?;
    let spec = ShellCommand {
        command: command.clone(),
        working_directory: directory.absolute.clone(),
        extra_env: Vec::new(),
        plan_id: Some(env.plan_id.to_string()),
        kill_grace: env.io.kill_grace,
        timeout: Some(timeout.max(Duration::from_secs(1))),
        launcher,
    };
    let output = env.io.output.clone();
    let secrets = env.secrets.clone();
    let on_line = move |line: String| {
        let line = secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .fold(line, |line, secret| line.replace(secret.as_str(), "[redacted]"));
        output.line(line)
    };
    let outcome = run_shell(&spec, &env.io.cancel, &on_line).await.map_err(|error| Stop::Tool(error.to_string()))?;
    let status = match outcome.exit {
        ShellExit::Code(code) => format!("exit code {code}"),
        ShellExit::Signal(signal) => format!("killed by {signal}"),
        ShellExit::TimedOut(limit) => format!("timed out after {} s and was killed", limit.as_secs()),
        ShellExit::Cancelled => return Err(Stop::Cancelled),
    };
    let shown = truncate_for_model(&outcome.output, MODEL_VIEW_BYTES);
    Ok(format!("`{command}`: {status}\n{shown}"))
}
