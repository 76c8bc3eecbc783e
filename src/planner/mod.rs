//! The template planner: turns a complex task into subtask drafts without a language model,
//! choosing a template by what the task asks (feature, bug fix, refactor, question, new app),
//! adding the workspace's own build/test commands as `shell` verification steps, and re-planning
//! from revision feedback ("remove the docs step", "add a step to run the linter").
//!
//! The planner does not touch the store and does not run anything. `detect` reads a few files
//! of the workspace (the only I/O here).

mod choose;
mod concepts;
pub mod context;
pub mod detect;
mod drafting;
pub mod llm;
mod parts;
mod revise;
mod templates;

use crate::classify::Tokens;
use crate::model::Subtask;
use crate::model::validate::SubtaskDraft;

pub use detect::{CommandPurpose, Ecosystem, Project, Tool, WorkspaceCommand, WorkspaceFacts, detect_workspace};

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
    /// Clauses of revision feedback that could not be applied, as written (empty for a new plan).
    pub unapplied: Vec<String>,
}

/// Feedback that could not be applied to a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviseError {
    #[error("feedback is empty")]
    EmptyFeedback,
    #[error("feedback would leave the plan without subtasks")]
    NothingLeft,
    /// No clause could be applied; each is listed with why.
    #[error("could not apply the feedback: {}", .0.join("; "))]
    NothingApplied(Vec<String>),
}

/// Plans a complex task from templates. `notes` is optional extra context from the request.
pub fn plan_task(task: &str, notes: Option<&str>, facts: &WorkspaceFacts) -> PlanDraft {
    let template = choose_template(task);
    let subtasks = drafting::drafts_for(template, task, notes, facts);
    PlanDraft { title: plan_title(task), template, subtasks, unapplied: Vec::new() }
}

/// Re-plans a draft from feedback (English and Russian): removes the steps it names ("remove /
/// drop / skip / don't X", «убери X», "remove step 3", "remove s3"), keeps only some ("everything
/// except X", «всё кроме X»), adds what it asks for ("add a step to run `CMD`", a known tool such
/// as clippy or mypy → a `shell` step with the workspace's command). Ids stay stable for kept
/// steps; a removed step's dependents inherit its dependencies. Clauses that could not be
/// applied are returned in `unapplied` (never folded into descriptions); when none could be
/// applied the revision is refused with [`ReviseError::NothingApplied`].
pub fn revise_plan(
    task: &str,
    current: &[Subtask],
    feedback: &str,
    facts: &WorkspaceFacts,
) -> Result<PlanDraft, ReviseError> {
    let (subtasks, unapplied) = revise::revise_subtasks(task, current, feedback, facts)?;
    Ok(PlanDraft { title: plan_title(task), template: choose_template(task), subtasks, unapplied })
}

/// The template a task's words ask for (token-based, English and Russian): the request's words,
/// not those of its extras ("… with tests and docs" does not make a feature a question).
pub fn choose_template(task: &str) -> TemplateKind {
    let mut lines = task.lines().skip_while(|line| line.trim().is_empty());
    let first_line = lines.next().unwrap_or("");
    let words = format!("{}\n{}", parts::task_parts(first_line).request, lines.collect::<Vec<_>>().join("\n"));
    choose::choose_template(&Tokens::of(&words))
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
