//! `codelab-planner run FILE`: the `run_file` use case (problems printed as `file:line:col: ...`,
//! exit 2), then the run shown until its one `planFinished` event. Ctrl-C (or SIGTERM) cancels the run through the
//! orchestrator — processes killed as a group, plan recorded `cancelled` — then exits 130.
//!
//! [`watch`] is the loop `new --run` and `retry` share; steps that wait for a person are asked
//! about on the terminal meanwhile (`prompt`).

use std::path::Path;

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::display::{Display, DisplayMode};
use super::prompt::ManualSteps;
use super::{Cli, CliError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, RunOptions};
use crate::engine::RunEventKind;
use crate::model::{PlanId, PlanStatus, SubtaskId};
use crate::orchestrator::{ImportRequest, OrchestratorError, RunStarted};

/// SIGINT and SIGTERM, watched from the start of the command.
pub(crate) struct Interrupts {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupts {
    pub fn install() -> std::io::Result<Self> {
        Ok(Self { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    /// The next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }

    /// The result of `work`, or `None` when Ctrl-C or SIGTERM comes first (`work` is dropped:
    /// a planning call's connection closes, a file read is abandoned).
    pub async fn or_interrupted<T>(&mut self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            result = work => Some(result),
            () = self.next() => None,
        }
    }
}

pub(crate) async fn run_file(
    cli: &Cli,
    file: &Path,
    options: &RunOptions,
    mut interrupts: Interrupts,
) -> Result<i32, CliError> {
    let request = ImportRequest { path: file.to_path_buf(), ..ImportRequest::default() };
    let Some(started) = interrupts.or_interrupted(cli.orchestrator.run_file(request, options.start())).await else {
        eprintln!("interrupted before the run started");
        return Ok(EXIT_INTERRUPTED);
    };
    watch(cli, started.map_err(plan_file_error)?, options, interrupts).await
}

/// Approves a draft, executes it and shows the run.
pub(crate) async fn start_and_watch(
    cli: &Cli,
    plan_id: PlanId,
    options: &RunOptions,
    interrupts: Interrupts,
) -> Result<i32, CliError> {
    let run = cli.orchestrator.approve_and_execute(plan_id, options.start()).await?;
    watch(cli, run, options, interrupts).await
}

/// Shows a run until it finishes; Ctrl-C cancels it; steps that wait for a person are asked
/// about on the terminal (see `prompt`). Returns the exit code.
pub(crate) async fn watch(
    cli: &Cli,
    run: RunStarted,
    options: &RunOptions,
    mut interrupts: Interrupts,
) -> Result<i32, CliError> {
    let RunStarted { plan_id, mut events, .. } = run;
    let mut display = Display::new(DisplayMode::choose(cli.json), options.verbose);
    let mut manual = ManualSteps::new(plan_id.clone(), cli.json);
    let mut cancelling: Option<tokio::task::JoinHandle<_>> = None;
    let mut final_status = None;
    let mut left_waiting = None;
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                // A step the person is asked about is announced by the question itself.
                let asked = matches!(event.kind, RunEventKind::SubtaskWaiting { .. }) && manual.interactive();
                if !asked {
                    display.show(&event);
                }
                match event.kind {
                    RunEventKind::PlanFinished { status, .. } => {
                        final_status = Some(status);
                        break;
                    }
                    RunEventKind::SubtaskWaiting { subtask_id, instructions, .. } if cancelling.is_none() => {
                        manual.waiting(&mut display, subtask_id, instructions);
                    }
                    _ => {}
                }
            }
            line = manual.next_line(), if manual.asking() && cancelling.is_none() => {
                manual.answer(cli, &mut display, line).await;
            }
            () = interrupts.next(), if cancelling.is_none() => {
                if manual.asking() {
                    eprintln!();
                }
                display.resume();
                display.note("interrupted: cancelling the run (processes are stopped, the plan is kept)");
                let orchestrator = cli.orchestrator.clone();
                let id = plan_id.clone();
                let reason = Some("interrupted from the command line".to_owned());
                cancelling = Some(tokio::spawn(async move { orchestrator.cancel(id, reason).await }));
            }
        }
        if cancelling.is_none() {
            left_waiting = manual.stuck(cli).await;
            if left_waiting.is_some() {
                break;
            }
        }
    }
    display.finish();
    let interrupted = cancelling.is_some();
    if let Some(cancelling) = cancelling {
        let _ = cancelling.await;
    }
    if let Some(steps) = left_waiting {
        eprintln!("{}", left_waiting_line(&plan_id, &steps));
        return Ok(EXIT_FAILED);
    }
    let plan = cli.orchestrator.get(plan_id).await?;
    if !cli.json {
        super::print_line(&super::display::summary_line(&plan));
    }
    Ok(match final_status {
        _ if interrupted => EXIT_INTERRUPTED,
        Some(PlanStatus::Completed) => EXIT_OK,
        _ => EXIT_FAILED,
    })
}

/// What to do about steps left waiting: `left waiting: edit; the plan is kept (ID). Finish with
/// `codelab-planner complete ID edit`, then `codelab-planner retry ID``.
fn left_waiting_line(plan_id: &PlanId, steps: &[SubtaskId]) -> String {
    let names: Vec<&str> = steps.iter().map(SubtaskId::as_str).collect();
    let step = match names.as_slice() {
        [one] => (*one).to_owned(),
        _ => "STEP".to_owned(),
    };
    format!(
        "left waiting: {}; the plan is kept ({plan_id}). Finish with `codelab-planner complete {plan_id} {step}`, \
         then `codelab-planner retry {plan_id}`",
        names.join(", ")
    )
}

/// A plan file's problems as `file:line:column: error: message` lines (exit 2).
pub(crate) fn plan_file_error(failure: OrchestratorError) -> CliError {
    match failure {
        OrchestratorError::Validation(problems) => {
            let lines: Vec<String> =
                problems.0.iter().map(|problem| format!("{}: error: {}", problem.path, problem.message)).collect();
            CliError::PlanFile(format!("{} problem(s) in the plan file\n{}", lines.len(), lines.join("\n")))
        }
        other => CliError::Orchestrator(other),
    }
}
