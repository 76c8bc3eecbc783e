//! A stored plan → a markdown task list that reads back to the same steps: ids, titles, order,
//! agents, commands, folders, dependencies and limits. Steps that are done are ticked. A
//! dependency list equal to "the step before" is left to the order; any other is written out
//! (`after: …`, `after: none`).

use std::collections::HashSet;
use std::fmt::Write as _;

use super::inline::stated_command;
use crate::model::{AgentKind, Plan, Subtask, SubtaskStatus};

/// The plan as markdown task-list text.
pub fn export_markdown(plan: &Plan) -> String {
    let mut text = format!("# {}\n\n", one_line(&plan.title));
    let goal = plan.goal.split_whitespace().collect::<Vec<_>>().join(" ");
    if !goal.is_empty() && goal != plan.title {
        let _ = write!(text, "{goal}\n\n");
    }
    let ids: HashSet<&str> = plan.subtasks.iter().map(|subtask| subtask.id.as_str()).collect();
    let mut previous: Option<&str> = None;
    for subtask in &plan.subtasks {
        step(&mut text, subtask, previous, &ids);
        previous = Some(subtask.id.as_str());
    }
    text
}

fn step(text: &mut String, subtask: &Subtask, previous: Option<&str>, ids: &HashSet<&str>) {
    let mark = if subtask.status == SubtaskStatus::Done { 'x' } else { ' ' };
    let id = subtask.id.as_str();
    let title = one_line(&subtask.title);
    let leading = leads_well(id, ids);
    if leading {
        let _ = writeln!(text, "- [{mark}] {id} {title}");
    } else {
        let _ = writeln!(text, "- [{mark}] {title}");
        let _ = writeln!(text, "  - id: {id}");
    }
    let stated = stated_command(&title, 0).map(|(command, _)| command);
    let command_in_title = subtask.command.is_some() && stated == subtask.command;
    if !(subtask.agent == AgentKind::Shell && command_in_title) {
        let _ = writeln!(text, "  - agent: {}", subtask.agent.as_str());
    }
    if let Some(command) = subtask.command.as_ref().filter(|_| !command_in_title) {
        if command.contains('\n') || command.contains('`') || command.trim() != command {
            let fence = "`".repeat(longest_backtick_run(command).max(2) + 1);
            let _ = writeln!(text, "  {fence}sh");
            for line in command.lines() {
                let _ = writeln!(text, "  {line}");
            }
            let _ = writeln!(text, "  {fence}");
        } else {
            let _ = writeln!(text, "  - command: `{command}`");
        }
    }
    if let Some(cwd) = &subtask.cwd {
        let _ = writeln!(text, "  - cwd: {cwd}");
    }
    let dependencies: Vec<&str> = subtask.depends_on.iter().map(|id| id.as_str()).collect();
    let implied: Vec<&str> = previous.into_iter().collect();
    if dependencies != implied {
        let written = if dependencies.is_empty() { "none".to_owned() } else { dependencies.join(", ") };
        let _ = writeln!(text, "  - after: {written}");
    }
    if subtask.timeout_secs != subtask.agent.default_timeout_secs()
        && let Some(timeout) = subtask.timeout_secs
    {
        let _ = writeln!(text, "  - timeout: {timeout}");
    }
    if subtask.max_attempts != subtask.agent.default_max_attempts() {
        let _ = writeln!(text, "  - attempts: {}", subtask.max_attempts);
    }
    if let Some(estimate) = subtask.estimate_secs {
        let _ = writeln!(text, "  - estimate: {estimate}");
    }
    if !subtask.description.trim().is_empty() && subtask.description != subtask.title {
        for line in subtask.description.lines().filter(|line| !line.trim().is_empty()) {
            let _ = writeln!(text, "  {}", line.trim());
        }
    }
}

/// Whether `id` can stand in front of the title (`T001`, `2.1`) and be read back as the same id
/// without making another step its group.
fn leads_well(id: &str, ids: &HashSet<&str>) -> bool {
    let spec_kit = id.len() >= 2 && id.starts_with('T') && id[1..].bytes().all(|byte| byte.is_ascii_digit());
    let numbered = id.contains('.')
        && id.split('.').all(|part| !part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit()));
    let parent_is_a_step = id.rsplit_once('.').is_some_and(|(parent, _)| ids.contains(parent));
    spec_kit || (numbered && !parent_is_a_step)
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|character| character != '`').map(str::len).max().unwrap_or(0)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
