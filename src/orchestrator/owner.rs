//! Who runs a plan this process does not, and cancelling it there. A run belongs to the process
//! that claimed it; another process cannot stop its children. When the owner is a
//! `codelab-planner` command line (`run`, `retry`, `new`), it is sent SIGINT — exactly what Ctrl-C
//! in its terminal does, so it cancels the run cleanly — and the plan's status is awaited. A
//! server (an editor's language server, an MCP or ACP server) is never signalled: its runs are
//! cancelled through it.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{Orchestrator, OrchestratorError};
use crate::model::{PlanId, PlanStatus};

/// How long to wait for the owning command line to record the cancelled run.
const OWNER_STOP_WAIT: Duration = Duration::from_secs(15);
/// How often the database is read meanwhile (the owner is another process: no event reaches us).
const OWNER_STOP_POLL: Duration = Duration::from_millis(50);

/// The live process that runs a plan this process does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOwner {
    /// A `codelab-planner` command line (`run`, `retry`, `new --run`): cancelled with SIGINT.
    CommandLine(u32),
    /// A server: its runs are cancelled through it. `face` says which: `language server`,
    /// `MCP server`, `ACP agent`.
    Server { pid: u32, face: &'static str },
}

impl Orchestrator {
    /// The other live process that runs `plan_id`, if any.
    pub async fn run_owner(&self, plan_id: PlanId) -> Result<Option<RunOwner>, OrchestratorError> {
        let Some(pid) = self.live_run_owner(plan_id).await? else { return Ok(None) };
        let arguments = arguments_of(pid);
        let runs_plans = arguments.iter().skip(1).any(|argument| matches!(argument.as_str(), "run" | "retry" | "new"));
        let face = match arguments.get(1).map(String::as_str) {
            Some("mcp") => "MCP server",
            Some("acp") => "ACP agent",
            _ => "language server",
        };
        let planner = arguments.first().is_some_and(|program| program.ends_with("codelab-planner"));
        Ok(Some(if planner && runs_plans { RunOwner::CommandLine(pid) } else { RunOwner::Server { pid, face } }))
    }

    /// Sends SIGINT to the command line that runs the plan and waits until the plan is no longer
    /// `running`; returns the status it reached (still `running` if the owner did not stop in time).
    pub(super) async fn interrupt_owner(&self, plan_id: &PlanId, pid: u32) -> Result<PlanStatus, OrchestratorError> {
        let refused = |message: String| OrchestratorError::InvalidState {
            message,
            status: PlanStatus::Running,
            allowed: PlanStatus::Running.allowed_actions(),
        };
        let target = Pid::from_raw(i32::try_from(pid).map_err(|_| refused(format!("bad pid {pid}")))?);
        kill(target, Signal::SIGINT).map_err(|error| refused(format!("cannot interrupt process {pid}: {error}")))?;
        let deadline = tokio::time::Instant::now() + OWNER_STOP_WAIT;
        loop {
            let status = self.get(plan_id.clone()).await?.status;
            if status != PlanStatus::Running || tokio::time::Instant::now() >= deadline {
                return Ok(status);
            }
            tokio::time::sleep(OWNER_STOP_POLL).await;
        }
    }
}

/// A process's arguments, from `/proc` (none when it is gone).
fn arguments_of(pid: u32) -> Vec<String> {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return Vec::new() };
    raw.split(|byte| *byte == 0).map(|argument| String::from_utf8_lossy(argument).into_owned()).collect()
}
