//! The shell agent: runs a subtask's `command` through `sh -c` in the workspace root (or the
//! subtask's `cwd` below it, resolved and checked to stay inside the workspace), streaming
//! each output line to `io.output` and stopping the process group when `io.cancel` fires.
//!
//! It spawns nothing itself (that is `process`), retries nothing and writes nothing to the store.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::agent::{AgentError, AgentIo, AgentOutcome, AgentRequest, SubtaskExecutor};
use super::process::{ShellCommand, ShellExit, run_shell};
use crate::confine::{ConfineError, Workspace};

/// Runs `command` with `sh -c` (see `process`; the API key's variable never reaches it).
#[derive(Debug, Clone, Default)]
pub struct ShellAgent;

/// How many of the last stderr lines go into a failure message.
const STDERR_LINES_IN_MESSAGE: usize = 3;

impl SubtaskExecutor for ShellAgent {
    fn execute<'a>(&'a self, request: AgentRequest, io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        run_command(request, io).boxed()
    }
}

async fn run_command(request: AgentRequest, io: AgentIo) -> Result<AgentOutcome, AgentError> {
    let Some(command) = request.subtask.command.clone() else {
        return Err(AgentError::Unavailable(format!("shell subtask \"{}\" has no command", request.subtask.id)));
    };
    let working_directory = working_directory(&request)?;
    let spec = ShellCommand {
        command,
        working_directory,
        extra_env: vec![("CODELAB_SUBTASK_ID".to_owned(), request.subtask.id.to_string())],
        plan_id: Some(request.plan_id.to_string()),
        kill_grace: io.kill_grace,
        timeout: None,
        // The person's own command: not sandboxed.
        launcher: None,
    };
    let output = io.output.clone();
    let on_line = move |line: String| output.line(line);
    let outcome = run_shell(&spec, &io.cancel, &on_line)
        .await
        .map_err(|error| AgentError::Failed { message: error.to_string(), output: None })?;
    match outcome.exit {
        ShellExit::Code(0) => Ok(AgentOutcome { result: outcome.output }),
        ShellExit::Cancelled => Err(AgentError::Cancelled),
        ShellExit::Code(code) => Err(AgentError::Failed {
            message: with_stderr(format!("exit code {code}"), &outcome.stderr_tail),
            output: Some(outcome.output),
        }),
        ShellExit::Signal(signal) => Err(AgentError::Failed {
            message: with_stderr(format!("killed by signal {}", signal.as_str()), &outcome.stderr_tail),
            output: Some(outcome.output),
        }),
        ShellExit::TimedOut(after) => Err(AgentError::Failed {
            message: format!("timed out after {} s", after.as_secs()),
            output: Some(outcome.output),
        }),
    }
}

/// The workspace root joined with the subtask's `cwd`, resolved by the one confinement
/// (symlinks followed) and refused when it does not exist, is not a folder or leads outside.
fn working_directory(request: &AgentRequest) -> Result<std::path::PathBuf, AgentError> {
    let Some(cwd) = request.subtask.cwd.as_deref() else { return Ok(request.workspace_root.clone()) };
    let unusable = |why: String| AgentError::Unavailable(format!("cwd \"{cwd}\" {why}"));
    let workspace =
        Workspace::new(&request.workspace_root).map_err(|error| unusable(format!("unusable root: {error}")))?;
    match workspace.resolve_directory(cwd) {
        Ok(directory) => Ok(directory.absolute),
        Err(ConfineError::Io { cause, .. }) => Err(unusable(cause)),
        Err(ConfineError::Escapes(_)) => Err(unusable("resolves outside the workspace".to_owned())),
        Err(error) => Err(unusable(format!("is refused: {error}"))),
    }
}

/// `"exit code 2: <last stderr lines>"`, or just the head when stderr was empty.
fn with_stderr(head: String, stderr_tail: &str) -> String {
    let lines: Vec<&str> = stderr_tail.lines().filter(|line| !line.trim().is_empty()).collect();
    if lines.is_empty() {
        return head;
    }
    let last = &lines[lines.len().saturating_sub(STDERR_LINES_IN_MESSAGE)..];
    format!("{head}: {}", last.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_message_names_the_exit_code_and_the_last_stderr_lines() {
        assert_eq!(with_stderr("exit code 1".into(), ""), "exit code 1");
        assert_eq!(with_stderr("exit code 1".into(), "a\nb\n\nc\nd\n"), "exit code 1: b\nc\nd");
    }
}
