//! Cancelling a run that another process owns. A run belongs to the process that claimed it; a
//! second command line cannot stop its children. When the owner is a `codelab-planner` command
//! line (`run`, `retry`, `new`), it is sent SIGINT — exactly what Ctrl-C in its terminal does, so
//! it cancels the run cleanly — and the plan's status is awaited. A language server is never
//! signalled: its runs are cancelled from the editor.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Cli, CliError};
use crate::model::{PlanId, PlanStatus};

/// How long to wait for the owning command line to record the cancelled run.
const OWNER_STOP_WAIT: Duration = Duration::from_secs(15);
/// How often the database is read meanwhile (the owner is another process: no event reaches us).
const OWNER_STOP_POLL: Duration = Duration::from_millis(50);

/// Who runs a plan that this process does not.
pub enum Owner {
    CommandLine(u32),
    Server(u32),
    /// No other live process runs it (it is not running, or it is finishing, or its process
    /// crashed and the next start marks it `interrupted`).
    Unknown,
}

pub async fn owner_of(cli: &Cli, plan_id: &PlanId) -> Result<Owner, CliError> {
    let Some(pid) = cli.orchestrator.live_run_owner(plan_id.clone()).await? else { return Ok(Owner::Unknown) };
    Ok(if is_command_line(pid) { Owner::CommandLine(pid) } else { Owner::Server(pid) })
}

/// A `codelab-planner` process started with a subcommand that runs plans.
fn is_command_line(pid: u32) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let arguments: Vec<String> =
        raw.split(|byte| *byte == 0).map(|argument| String::from_utf8_lossy(argument).into_owned()).collect();
    let is_planner = arguments.first().is_some_and(|program| program.ends_with("codelab-planner"));
    is_planner && arguments.iter().skip(1).any(|argument| matches!(argument.as_str(), "run" | "retry" | "new"))
}

/// Sends SIGINT to the owning command line and waits until the plan is no longer `running`;
/// returns the status it reached (still `running` if the owner did not stop in time).
pub async fn interrupt_and_wait(cli: &Cli, plan_id: &PlanId, pid: u32) -> Result<PlanStatus, CliError> {
    let target = Pid::from_raw(i32::try_from(pid).map_err(|_| CliError::Usage(format!("bad pid {pid}")))?);
    kill(target, Signal::SIGINT)
        .map_err(|error| CliError::Usage(format!("cannot interrupt process {pid}: {error}")))?;
    let deadline = tokio::time::Instant::now() + OWNER_STOP_WAIT;
    loop {
        let status = cli.orchestrator.get(plan_id.clone()).await?.status;
        if status != PlanStatus::Running || tokio::time::Instant::now() >= deadline {
            return Ok(status);
        }
        tokio::time::sleep(OWNER_STOP_POLL).await;
    }
}
