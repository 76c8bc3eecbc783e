//! The template planner: turns a complex task into subtask drafts without a language model,
//! choosing a template by what the task asks (feature, bug fix, refactor, question, new app),
//! adding the workspace's own build/test commands as `shell` verification steps, and re-planning
//! from revision feedback ("remove the docs step", "add a step to run the linter").
//!
//! The planner does not touch the store and does not run anything. `detect` reads a few files
//! of the workspace (the only I/O here).

pub mod context;
pub mod detect;
pub mod llm;
mod revise;
mod templates;

use crate::classify::Tokens;
use crate::model::Subtask;
use crate::model::validate::SubtaskDraft;

pub use detect::{CommandPurpose, WorkspaceCommand, WorkspaceFacts, detect_workspace};

/// Longest plan title the planner derives from a task, in characters.
pub const PLAN_TITLE_MAX_CHARS: usize = 80;

/// Which template a task matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    Feature,
    BugFix,
    Refactor,
    Question,
    NewApp,
    Generic,
}

/// A planner's output: a title for the plan and its subtask drafts (ids assigned, dependencies set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDraft {
    pub title: String,
    pub template: TemplateKind,
    pub subtasks: Vec<SubtaskDraft>,
}

/// Feedback that could not be applied to a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviseError {
    #[error("feedback is empty")]
    EmptyFeedback,
    #[error("feedback would leave the plan without subtasks")]
    NothingLeft,
}

/// Plans a complex task from templates. `notes` is optional extra context from the request.
pub fn plan_task(task: &str, notes: Option<&str>, facts: &WorkspaceFacts) -> PlanDraft {
    let template = choose_template(task);
    PlanDraft { title: plan_title(task), template, subtasks: templates::drafts_for(template, task, notes, facts) }
}

/// Re-plans a draft from feedback: removes steps the feedback names ("remove/drop/skip/without
/// X", "remove step 3", "remove s3"), adds steps it asks for ("add/also X"), and folds any other
/// feedback into every kept step's description. Returns the new subtask list (ids stable for
/// kept steps; a removed step's dependents inherit its dependencies).
pub fn revise_plan(
    task: &str,
    current: &[Subtask],
    feedback: &str,
    facts: &WorkspaceFacts,
) -> Result<PlanDraft, ReviseError> {
    let subtasks = revise::revise_subtasks(task, current, feedback, facts)?;
    Ok(PlanDraft { title: plan_title(task), template: choose_template(task), subtasks })
}

/// The template a task's words ask for (token-based, English and Russian).
pub fn choose_template(task: &str) -> TemplateKind {
    templates::choose_template(&Tokens::of(task))
}

/// A plan title from the task: its first non-blank line, whitespace collapsed, at most
/// [`PLAN_TITLE_MAX_CHARS`] characters (cut at a word boundary when possible, ending in "…").
/// "Untitled plan" for a blank task.
pub fn plan_title(task: &str) -> String {
    let first_line = task.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let collapsed = first_line.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "Untitled plan".to_owned();
    }
    if collapsed.chars().count() <= PLAN_TITLE_MAX_CHARS {
        return collapsed;
    }
    let kept: String = collapsed.chars().take(PLAN_TITLE_MAX_CHARS - 1).collect();
    let at_word_boundary = match kept.rfind(' ') {
        Some(space) if space >= kept.len() / 2 => &kept[..space],
        _ => kept.as_str(),
    };
    format!("{}…", at_word_boundary.trim_end_matches([' ', ',', ';', ':', '.', '-']))
}
