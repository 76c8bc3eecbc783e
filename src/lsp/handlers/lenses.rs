//! Code lenses and code actions on plan files. Lenses: "▶ Run plan" on the title ("▶ Run all" in
//! a task list), "▶ Run from here" on each step (`[[subtask]]`, a task line), and the last run's
//! outcome on each step ("✓ done 1.2s", "✗ failed", "⊘ skipped"); in a task list also "↻ Retry"
//! on a step that failed and "✓ Mark done" on one that waits for a person; the server asks for them again (`workspace/codeLens/refresh`) as a
//! run it started progresses. Code actions offer the same runs, for editors without lenses.
//! Every one is a `workspace/executeCommand` command (`ext::command`).

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, CodeLens, CodeLensParams,
    Command, Uri,
};

use super::plan_files::{last_plan_of, open_plan_file};
use crate::lsp::documents::{LineIndex, span_of_range};
use crate::lsp::ext::command;
use crate::lsp::server::PlannerServer;
use crate::model::{Plan, PlanStatus, SubtaskStatus};
use crate::planfile::{Format, PlanFile, duration};

pub async fn handle_code_lens(server: &PlannerServer, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
    let uri = params.text_document.uri;
    let Some(open) = open_plan_file(server, &uri).await else { return Ok(None) };
    let last = last_plan_of(server, &uri).await;
    let file = &open.checked.file;
    let index = LineIndex::new(&open.text);
    let last_subtasks: std::collections::HashMap<&str, &crate::model::Subtask> = last
        .iter()
        .filter(|plan| plan.started_at.is_some())
        .flat_map(|plan| plan.subtasks.iter().map(|subtask| (subtask.id.as_str(), subtask)))
        .collect();
    let mut lenses = Vec::with_capacity(2 * file.subtasks.len() + 2);
    let title_span = file.title_span.clone().unwrap_or(0..0);
    let title_range = index.range(&title_span);
    let task_list = open.format != Format::Toml;
    let mut run_all = run_command(&uri, None);
    if task_list {
        run_all.title = "▶ Run all".to_owned();
    }
    lenses.push(CodeLens { range: title_range, command: Some(run_all), data: None });
    if let Some(plan) = last.as_ref().filter(|plan| plan.started_at.is_some()) {
        let title = format!("last run: {}", plan_outcome(plan));
        lenses.push(CodeLens { range: title_range, command: Some(status_command(plan, title)), data: None });
    }
    for (position, entry) in file.subtasks.iter().enumerate() {
        let range = index.range(&entry.header_span);
        let id = file.id_of(position);
        lenses.push(CodeLens { range, command: Some(run_command(&uri, Some(&id))), data: None });
        let outcome =
            last.as_ref().zip(last_subtasks.get(id.as_str())).map(|(plan, subtask)| (plan, subtask_outcome(subtask)));
        if let Some((plan, title)) = outcome {
            lenses.push(CodeLens { range, command: Some(status_command(plan, title)), data: None });
        }
        let stored = last.as_ref().zip(last_subtasks.get(id.as_str()));
        if let (true, Some((plan, subtask))) = (task_list, stored) {
            lenses.extend(step_actions(plan, subtask).into_iter().map(|command| CodeLens {
                range,
                command: Some(command),
                data: None,
            }));
        }
    }
    Ok(Some(lenses))
}

pub async fn handle_code_action(
    server: &PlannerServer,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let uri = params.text_document.uri;
    let Some(open) = open_plan_file(server, &uri).await else { return Ok(None) };
    let file: &PlanFile = &open.checked.file;
    let span = span_of_range(&open.text, params.range);
    let mut actions = vec![action("Run plan", run_command(&uri, None))];
    if let Some((index, _)) = file.entry_at(span.start) {
        let id = file.id_of(index);
        actions.push(action(&format!("Run from here ({id})"), run_command(&uri, Some(&id))));
    }
    Ok(Some(actions))
}

/// What a person can do about a step of a task list's last run: retry it when it failed (or was
/// skipped or cancelled), mark it done when it waits for them.
fn step_actions(plan: &Plan, subtask: &crate::model::Subtask) -> Vec<Command> {
    let plan_id = json!(plan.id.as_str());
    let id = json!(subtask.id.as_str());
    match subtask.status {
        SubtaskStatus::Failed | SubtaskStatus::Skipped | SubtaskStatus::Cancelled
            if plan.status != PlanStatus::Running =>
        {
            vec![Command {
                title: "↻ Retry".to_owned(),
                command: command::RETRY.to_owned(),
                arguments: Some(vec![json!({ "planId": plan_id, "subtaskIds": [id] })]),
            }]
        }
        SubtaskStatus::Waiting => vec![Command {
            title: "✓ Mark done".to_owned(),
            command: command::COMPLETE.to_owned(),
            arguments: Some(vec![plan_id, id]),
        }],
        _ => Vec::new(),
    }
}

fn action(title: &str, command: Command) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title: title.to_owned(),
        kind: Some(CodeActionKind::new("source.run")),
        command: Some(command),
        ..CodeAction::default()
    })
}

fn run_command(uri: &Uri, from: Option<&str>) -> Command {
    let mut arguments: Vec<Value> = vec![json!(uri.as_str())];
    let title = match from {
        Some(id) => {
            arguments.push(json!(id));
            "▶ Run from here".to_owned()
        }
        None => "▶ Run plan".to_owned(),
    };
    Command { title, command: command::RUN_FILE.to_owned(), arguments: Some(arguments) }
}

fn status_command(plan: &Plan, title: String) -> Command {
    Command { title, command: command::STATUS.to_owned(), arguments: Some(vec![json!(plan.id.as_str())]) }
}

/// `completed 6/6 in 1.2s`, `running 2/6`.
pub fn plan_outcome(plan: &Plan) -> String {
    let progress = plan.progress();
    let took = match (plan.started_at, plan.finished_at) {
        (Some(started), Some(finished)) if plan.status != PlanStatus::Running => {
            format!(" in {}", duration(finished.millis_since(started)))
        }
        _ => String::new(),
    };
    format!("{} {}/{}{took}", plan.status.as_str(), progress.done, progress.total)
}

/// `✓ done 1.2s`, `✗ failed`, `⊘ skipped`, `… running`.
pub fn subtask_outcome(subtask: &crate::model::Subtask) -> String {
    let took = match (subtask.started_at, subtask.finished_at) {
        (Some(started), Some(finished)) => format!(" {}", duration(finished.millis_since(started))),
        _ => String::new(),
    };
    match subtask.status {
        SubtaskStatus::Done => format!("✓ done{took}"),
        SubtaskStatus::Failed => format!("✗ failed{took}"),
        SubtaskStatus::Skipped => "⊘ skipped".to_owned(),
        SubtaskStatus::Cancelled => "⊘ cancelled".to_owned(),
        SubtaskStatus::Running => "… running".to_owned(),
        other => format!("· {}", other.as_str()),
    }
}
