//! `execute_command`: a shell command in the workspace, through the engine's process handling
//! (own process group, stdin closed, killed as a group on cancel or timeout, bounded output).
//! The API key's variable is removed from the child's environment; its output streams to the
//! subtask's output and comes back to the model cut to head and tail.

use std::time::Duration;

use super::specs::CommandArgs;
use super::{Stop, ToolEnv, approve};
use crate::agents::approval::Action;
use crate::agents::context::{MODEL_VIEW_BYTES, truncate_for_model};
use crate::engine::process::{ShellCommand, ShellExit, run_shell};

/// The longest a command may run.
pub const MAX_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

pub(super) async fn execute_command(env: &ToolEnv, arguments: CommandArgs) -> Result<String, Stop> {
    let command = arguments.command.trim().to_owned();
    if command.is_empty() {
        return Err(Stop::Tool("command is empty".to_owned()));
    }
    let directory = env.sandbox.resolve(arguments.cwd.as_deref().unwrap_or("."))?;
    if !directory.absolute.is_dir() {
        return Err(Stop::Tool(format!("cwd {} is not a directory", directory.relative)));
    }
    let timeout = arguments.timeout.map_or(env.default_command_timeout, Duration::from_secs).min(MAX_COMMAND_TIMEOUT);
    approve(env, Action::Execute { command: command.clone() }).await?;
    let spec = ShellCommand {
        command: command.clone(),
        working_directory: directory.absolute.clone(),
        extra_env: Vec::new(),
        plan_id: Some(env.plan_id.to_string()),
        kill_grace: env.io.kill_grace,
        timeout: Some(timeout.max(Duration::from_secs(1))),
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
