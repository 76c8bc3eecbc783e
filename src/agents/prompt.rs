//! The opening of each subtask's own conversation: a system prompt for the agent's role, and the
//! task message — the plan's goal, the subtask's title and description, its dependencies'
//! results (each bounded) and facts about the workspace (top-level entries, its build and test
//! commands). Pure text assembly; the facts are gathered by the caller.

use crate::engine::AgentRequest;
use crate::model::AgentKind;
use crate::planner::WorkspaceFacts;

use super::context::truncate_for_model;

/// Bytes of one dependency's result put in the prompt at most.
pub const DEPENDENCY_RESULT_BYTES: usize = 2 * 1024;
/// Top-level workspace entries named in the prompt at most.
pub const TOP_LEVEL_ENTRIES: usize = 40;

/// Sent once when the model stops without calling a tool.
pub const NUDGE: &str = "You stopped without calling a tool. If the subtask is done, call attempt_completion with \
     the result; otherwise go on with the next tool call.";

pub fn system_prompt(agent: AgentKind) -> String {
    let role = match agent {
        AgentKind::Debug => {
            "You are the debug agent. Investigate the problem: read code, search, and run commands to reproduce \
             it. You cannot change files; report the cause and the fix you recommend."
        }
        AgentKind::Ask => {
            "You are the ask agent. Answer the question by reading the workspace. You cannot change files or run \
             commands."
        }
        _ => {
            "You are the coder agent. Make the change the subtask asks for. Read before you edit; change files with \
             edit_file (search-and-replace blocks copied exactly from the file), and use write_file only for new \
             files. Verify with a command when the workspace has one."
        }
    };
    format!(
        "{role}\n\nYou work on ONE subtask of a larger plan, inside a workspace; paths are relative to its root. \
         Use the tools one step at a time. When the subtask is done, call attempt_completion with a short result: \
         what you did or found, which files changed. Do not ask for confirmation unless you cannot go on."
    )
}

/// The first user message of the subtask's conversation.
pub fn task_message(request: &AgentRequest, facts: &WorkspaceFacts, top_level: &[String]) -> String {
    let subtask = &request.subtask;
    let mut text = format!("# Goal of the plan\n{}\n\n# Your subtask: {}\n", request.goal.trim(), subtask.title);
    if !subtask.description.trim().is_empty() && subtask.description.trim() != subtask.title.trim() {
        text.push_str(subtask.description.trim());
        text.push('\n');
    }
    if request.attempt > 1 {
        text.push_str(&format!("(This is attempt {}; an earlier attempt failed.)\n", request.attempt));
    }
    if !request.dependencies.is_empty() {
        text.push_str("\n# Results of the steps this one depends on\n");
        for dependency in &request.dependencies {
            let result = truncate_for_model(dependency.result.trim(), DEPENDENCY_RESULT_BYTES);
            text.push_str(&format!("## {} ({}, {})\n{}\n", dependency.title, dependency.id, dependency.agent, result));
        }
    }
    text.push_str("\n# Workspace\n");
    if top_level.is_empty() {
        text.push_str("The workspace is empty.\n");
    } else {
        text.push_str(&format!("Top level: {}\n", top_level.join(", ")));
    }
    for command in &facts.commands {
        text.push_str(&format!("{}: `{}`\n", command.title, command.command));
    }
    text
}

/// The workspace's top-level entries (directories with a trailing `/`), sorted, bounded,
/// without `.git` and `.codelab`.
pub fn top_level_entries(root: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".git" || name == ".codelab" {
                return None;
            }
            let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
            Some(if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    if names.len() > TOP_LEVEL_ENTRIES {
        let more = names.len() - TOP_LEVEL_ENTRIES;
        names.truncate(TOP_LEVEL_ENTRIES);
        names.push(format!("… {more} more"));
    }
    names
}
