//! The short commands: `new`, `list`, `show`, `approve`, `cancel`, `retry`, `export`, `complete`, `next`. Each is one
//! orchestrator call and a printout (text, or the wire object as JSON with `--json`).

use std::io::{BufRead, IsTerminal, Write};

use super::display::{duration, summary_line};
use super::run::{Interrupts, start_and_watch, watch};
use super::{Cli, CliError, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, RunOptions};
use crate::engine::Completion;
use crate::model::{Plan, PlanId, PlanStatus, SubtaskId, SubtaskStatus};
use crate::orchestrator::{
    CompleteRequest, CreateRequest, ListRequest, NextRequest, PlanFormat, RetryRequest, RunOwner,
};
use crate::wire::convert::{cancel_outcome_to_wire, next_outcome_to_wire, plan_page_to_wire, plan_to_wire};

pub(crate) struct NewOptions {
    pub run: bool,
    pub yes: bool,
    pub options: RunOptions,
}

pub(crate) async fn new_task(
    cli: &Cli,
    task: String,
    new: NewOptions,
    mut interrupts: Interrupts,
) -> Result<i32, CliError> {
    let planning = cli.orchestrator.create(CreateRequest { task, ..CreateRequest::default() });
    let Some(created) = interrupts.or_interrupted(planning).await else {
        eprintln!("interrupted while planning");
        return Ok(EXIT_INTERRUPTED);
    };
    let created = created?;
    print_plan(cli, &created.plan)?;
    if !new.run {
        return Ok(EXIT_OK);
    }
    if !new.yes {
        let question = format!("Run \"{}\" ({} steps)?", created.plan.title, created.plan.subtasks.len());
        let answer = confirm(&question, &mut interrupts).await?;
        if answer != Answer::Yes {
            eprintln!("not run; the plan is kept as {} ({})", created.plan.id, created.plan.status.as_str());
            return Ok(if answer == Answer::Interrupted { EXIT_INTERRUPTED } else { EXIT_FAILED });
        }
    }
    start_and_watch(cli, created.plan.id, &new.options, interrupts).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Interrupted,
}

/// Asks on the terminal (Ctrl-C answers too); without a terminal, refuses with a clear message.
async fn confirm(question: &str, interrupts: &mut Interrupts) -> Result<Answer, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage("no terminal to confirm the run: pass --yes to run without asking".to_owned()));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let reading = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).map(|_| answer)
    });
    tokio::select! {
        answer = reading => {
            let answer = answer
                .map_err(|_| CliError::Usage("cannot read the answer".to_owned()))?
                .map_err(|cause| CliError::Io { path: "stdin".to_owned(), cause })?;
            let yes = matches!(answer.trim().to_lowercase().as_str(), "y" | "yes");
            Ok(if yes { Answer::Yes } else { Answer::No })
        }
        () = interrupts.next() => {
            eprintln!();
            Ok(Answer::Interrupted)
        }
    }
}

pub(crate) async fn list(cli: &Cli, status: Option<String>, limit: usize) -> Result<i32, CliError> {
    let status = match status {
        Some(text) => Some(PlanStatus::parse(&text).ok_or_else(|| {
            CliError::Usage(format!("--status: unknown status \"{text}\" ({})", PlanStatus::expected()))
        })?),
        None => None,
    };
    let page = cli.orchestrator.list(ListRequest { status, limit: Some(limit), ..ListRequest::default() }).await?;
    if cli.json {
        print_json(&plan_page_to_wire(&page))?;
        return Ok(EXIT_OK);
    }
    if page.plans.is_empty() {
        super::print_line("no plans");
    }
    for plan in &page.plans {
        let progress = plan.progress;
        super::print_line(&format!(
            "{}  {:<11} {:>3}/{:<3} {}",
            plan.id,
            plan.status.as_str(),
            progress.done,
            progress.total,
            plan.title
        ));
    }
    Ok(EXIT_OK)
}

/// `import FILE`: the file as a draft plan, printed.
pub(crate) async fn import(cli: &Cli, file: &std::path::Path) -> Result<i32, CliError> {
    let request = crate::orchestrator::ImportRequest { path: file.to_path_buf(), ..Default::default() };
    let created = cli.orchestrator.import(request).await.map_err(super::run::plan_file_error)?;
    for warning in &created.warnings {
        eprintln!("{}: warning: {}", warning.path, warning.message);
    }
    print_plan(cli, &created.plan)?;
    Ok(EXIT_OK)
}

pub(crate) async fn show(cli: &Cli, plan_id: String) -> Result<i32, CliError> {
    let plan = cli.orchestrator.get(PlanId::from_raw(plan_id)).await?;
    print_plan(cli, &plan)?;
    Ok(EXIT_OK)
}

pub(crate) async fn approve(cli: &Cli, plan_id: String) -> Result<i32, CliError> {
    let plan = cli.orchestrator.approve(PlanId::from_raw(plan_id)).await?;
    if cli.json {
        print_json(&plan_to_wire(&plan))?;
    } else {
        super::print_line(&format!("approved {} ({})", plan.id, plan.title));
    }
    Ok(EXIT_OK)
}

/// Cancels a run: one of this process, or one a `codelab-planner` command line runs (it is
/// interrupted as by Ctrl-C). A run owned by a language server is left to the editor.
pub(crate) async fn cancel(cli: &Cli, plan_id: String, reason: Option<String>) -> Result<i32, CliError> {
    let outcome = cli.orchestrator.cancel(PlanId::from_raw(plan_id), reason).await?;
    let note = match outcome.owner {
        Some(RunOwner::CommandLine(pid)) => Some(format!("interrupted the command line running it (pid {pid})")),
        Some(RunOwner::Server { pid, face: "language server" }) => Some(format!(
            "it runs in a language server (pid {pid}): cancel it from the editor (codelab-planner.cancel)"
        )),
        Some(RunOwner::Server { pid, face }) => Some(format!("it runs in an {face} (pid {pid}): cancel it there")),
        None => None,
    };
    if cli.json {
        print_json(&cancel_outcome_to_wire(&outcome))?;
    } else {
        let head = if outcome.cancelled { "cancelled" } else { "not cancelled" };
        let note = note.map(|note| format!("; {note}")).unwrap_or_default();
        super::print_line(&format!("{head}: {} is {}{note}", outcome.plan_id, outcome.status.as_str()));
    }
    Ok(if outcome.cancelled { EXIT_OK } else { EXIT_FAILED })
}

pub(crate) async fn retry(
    cli: &Cli,
    plan_id: String,
    subtasks: Vec<String>,
    options: &RunOptions,
    interrupts: Interrupts,
) -> Result<i32, CliError> {
    let subtask_ids = (!subtasks.is_empty()).then(|| subtasks.into_iter().map(SubtaskId::from_raw).collect::<Vec<_>>());
    let run = cli.orchestrator.retry(RetryRequest { plan_id: PlanId::from_raw(plan_id), subtask_ids }).await?;
    watch(cli, run, options, interrupts).await
}

/// Finishes a step by hand: a `waiting` one in a run of this process or in a stored plan with no
/// run, or a ready one of an approved plan (a plan another process runs is refused; its owner
/// takes the answer).
pub(crate) async fn complete(
    cli: &Cli,
    plan_id: String,
    subtask: String,
    done: bool,
    note: Option<String>,
) -> Result<i32, CliError> {
    let completion = Completion { subtask_id: SubtaskId::from_raw(subtask.clone()), done, note };
    let plan = cli.orchestrator.complete(CompleteRequest { plan_id: PlanId::from_raw(plan_id), completion }).await?;
    if cli.json {
        print_json(&plan_to_wire(&plan))?;
        return Ok(EXIT_OK);
    }
    let status = plan.subtask(&SubtaskId::from_raw(subtask.clone())).map_or("?", |step| step.status.as_str());
    super::print_line(&format!("{subtask} is {status} ({} is {})", plan.id, plan.status.as_str()));
    if matches!(plan.status, PlanStatus::Interrupted | PlanStatus::Failed | PlanStatus::Cancelled) {
        super::print_line(&format!("resume the plan with: codelab-planner retry {}", plan.id));
    } else if plan.status == PlanStatus::Approved {
        super::print_line(&format!("what can be taken now: codelab-planner next {}", plan.id));
    }
    Ok(EXIT_OK)
}

/// The steps that can be taken now (listed, never claimed): of `plan_id`, or of the newest plan
/// that has some.
pub(crate) async fn next(cli: &Cli, plan_id: Option<String>) -> Result<i32, CliError> {
    let request = NextRequest { plan_id: plan_id.clone().map(PlanId::from_raw), claim: None };
    let outcome = cli.orchestrator.next(request).await?;
    if cli.json {
        print_json(&next_outcome_to_wire(&outcome))?;
        return Ok(EXIT_OK);
    }
    let (Some(id), Some(status)) = (&outcome.plan_id, outcome.status) else {
        super::print_line("no plan has a step that can be taken now");
        return Ok(EXIT_OK);
    };
    if outcome.ready.is_empty() {
        super::print_line(&format!("nothing in {id} can be taken now (it is {status})"));
        return Ok(EXIT_OK);
    }
    let width = outcome.ready.iter().map(|step| step.subtask.id.as_str().len()).max().unwrap_or(0);
    super::print_line(&format!("{id} is {status}; ready now:"));
    for step in &outcome.ready {
        let subtask = &step.subtask;
        let held = step.claim.as_ref().map_or_else(String::new, |claim| {
            format!("  (claimed by {} until {})", claim.claimant, claim.expires_at.to_rfc3339())
        });
        let line = format!("  · {:<width$}  {} [{}]{held}", subtask.id.as_str(), subtask.title, subtask.agent.as_str());
        super::print_line(&line);
    }
    super::print_line(&format!("when one is done: codelab-planner complete {id} STEP (add --failed if it failed)"));
    Ok(EXIT_OK)
}

pub(crate) async fn export(cli: &Cli, plan_id: String, format: PlanFormat) -> Result<i32, CliError> {
    let text = cli.orchestrator.export(PlanId::from_raw(plan_id), format).await?;
    super::print_text(&text);
    Ok(EXIT_OK)
}

fn print_plan(cli: &Cli, plan: &Plan) -> Result<(), CliError> {
    if cli.json {
        return print_json(&plan_to_wire(plan));
    }
    super::print_line(&format!("{}  {}", plan.id, plan.title));
    super::print_line(&summary_line(plan));
    let width = plan.subtasks.iter().map(|subtask| subtask.id.as_str().len()).max().unwrap_or(0);
    for subtask in &plan.subtasks {
        let mark = match subtask.status {
            SubtaskStatus::Done => "✓",
            SubtaskStatus::Failed => "✗",
            SubtaskStatus::Skipped | SubtaskStatus::Cancelled => "⊘",
            SubtaskStatus::Running => "…",
            _ => "·",
        };
        let took = match (subtask.started_at, subtask.finished_at) {
            (Some(started), Some(finished)) => format!("  {}", duration(finished.millis_since(started))),
            _ => String::new(),
        };
        let after = if subtask.depends_on.is_empty() {
            String::new()
        } else {
            let ids: Vec<&str> = subtask.depends_on.iter().map(SubtaskId::as_str).collect();
            format!("  (after {})", ids.join(", "))
        };
        super::print_line(&format!(
            "  {mark} {:<width$}  {} [{}] {}{after}{took}",
            subtask.id.as_str(),
            subtask.title,
            subtask.agent.as_str(),
            subtask.status.as_str()
        ));
        if let Some(error) = &subtask.error {
            super::print_line(&format!("      {}", error.lines().next().unwrap_or("")));
        }
        if let Some(changes) = subtask.changes {
            super::print_line(&format!(
                "      changed {} file{} (+{} \u{2212}{}): codelab-planner changes {} {}",
                changes.files,
                if changes.files == 1 { "" } else { "s" },
                changes.added,
                changes.removed,
                plan.id,
                subtask.id
            ));
        }
        if let Some(pending) = &subtask.pending_approval {
            let summary = pending.summary.as_deref().map(|line| format!(" ({line})")).unwrap_or_default();
            super::print_line(&format!("      waiting for an answer: {}{summary}", pending.question));
        }
    }
    Ok(())
}

pub(super) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let line = serde_json::to_string(value)
        .map_err(|failure| CliError::Usage(format!("cannot encode the answer as json: {failure}")))?;
    super::print_line(&line);
    Ok(())
}
