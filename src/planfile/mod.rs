//! Plan files: a plan kept in the repository as text, in one of three formats ([`Format`],
//! documented in `docs/plan-files.md`):
//!
//! - `*.plan.toml`: `title`, optional `goal`, and `[[subtask]]` tables with the `SubtaskInput`
//!   fields in snake_case plus an optional `cwd` for shell steps (`parse`, `export`);
//! - markdown task lists — `*.plan.md`, spec-kit's and Kiro's `tasks.md`, a plain checklist —
//!   where each `- [ ]` line is a step, headings are phases and `[P]` marks steps that run
//!   together (`markdown/`);
//! - Taskmaster's `tasks.json`, its format only (`taskmaster`, over the span-keeping `json`).
//!
//! Every format parses into the same [`PlanFile`], keeping the byte range of every value, and
//! reports what it cannot read as [`FileProblem`]s at their place — nothing is dropped silently.
//! `check` applies the plan-level rules (the same `build_subtasks` the server applies to
//! `planning/create`) mapped back onto those ranges: unknown and duplicate ids, cycles (on each
//! id of the cycle), unknown agents, a shell step without `command`, a plan with no step.
//! `ticks` computes the text of a task list with finished steps ticked (`[x]`, `"done"`).
//!
//! Shared by the command line and the language server; it knows neither. Ranges are byte
//! offsets into the text; converting them to editor positions is the caller's business. No I/O.

mod check;
mod export;
mod json;
pub mod markdown;
mod parse;
pub mod taskmaster;
mod ticks;

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::model::validate::SubtaskDraft;

pub use check::{check, check_as, run_from};
pub use export::export_plan;
pub use markdown::export_markdown;
pub use parse::parse;
pub use ticks::tick;

/// The syntax of a plan file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `*.plan.toml`.
    #[default]
    Toml,
    /// A markdown task list: `*.plan.md`, spec-kit's or Kiro's `tasks.md`, any checklist.
    Markdown,
    /// Taskmaster's `tasks.json`.
    Taskmaster,
}

impl Format {
    /// Every format, for messages.
    pub const ALL: &'static [Format] = &[Format::Toml, Format::Markdown, Format::Taskmaster];

    /// The format a file's name says: `*.plan.toml`, `*.md` / `*.markdown`, `*.json`.
    pub fn of_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        if name.ends_with(".plan.toml") {
            Some(Format::Toml)
        } else if name.ends_with(".md") || name.ends_with(".markdown") {
            Some(Format::Markdown)
        } else if name.ends_with(".json") {
            Some(Format::Taskmaster)
        } else {
            None
        }
    }

    /// How a file of this format is named (for messages).
    pub fn pattern(self) -> &'static str {
        match self {
            Format::Toml => "*.plan.toml",
            Format::Markdown => "*.md (*.plan.md, tasks.md, a checklist)",
            Format::Taskmaster => "tasks.json (Taskmaster)",
        }
    }

    /// The name `--format` and `planning/export` take.
    pub fn name(self) -> &'static str {
        match self {
            Format::Toml => "toml",
            Format::Markdown => "md",
            Format::Taskmaster => "taskmaster",
        }
    }

    /// A `--format` name: `toml`, `md` / `markdown`, `taskmaster` / `json`.
    pub fn parse_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "toml" | "plan.toml" => Some(Format::Toml),
            "md" | "markdown" | "plan.md" => Some(Format::Markdown),
            "taskmaster" | "json" | "tasks.json" => Some(Format::Taskmaster),
            _ => None,
        }
    }

    /// Whether steps of this format have a checkbox (or status) that ticks as they finish.
    pub fn ticks(self) -> bool {
        matches!(self, Format::Markdown | Format::Taskmaster)
    }
}

/// What reading a task list needs besides its text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// A language model is configured: a step that states no command becomes an agent step
    /// (the keyword classifier picks coder, debug or ask); without one it is a step for a person.
    pub with_model: bool,
    /// The file's name, for a task list with no `# Title` (its title then).
    pub file_name: Option<String>,
}

/// Parses a plan file of any format (see [`parse`] for `*.plan.toml`).
pub fn parse_as(text: &str, format: Format, options: &ReadOptions) -> (PlanFile, Vec<FileProblem>) {
    match format {
        Format::Toml => parse(text),
        Format::Markdown => markdown::parse(text, options),
        Format::Taskmaster => taskmaster::parse(text, options),
    }
}

/// A byte range in the plan file's text.
pub type Span = Range<usize>;

/// How bad a problem is. Every problem found today is an error (the file cannot run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a plan file, at an exact place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub span: Span,
    pub message: String,
    pub severity: Severity,
}

impl FileProblem {
    pub(crate) fn error(span: Span, message: impl Into<String>) -> Self {
        Self { span, message: message.into(), severity: Severity::Error }
    }
}

/// A parsed plan file: what it says, and where it says it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanFile {
    pub format: Format,
    pub title: Option<String>,
    /// The `title` value (quotes included), or the `# Title` heading's text.
    pub title_span: Option<Span>,
    pub goal: Option<String>,
    pub subtasks: Vec<SubtaskEntry>,
    /// Task-list lines that stand for several steps (a Kiro task with sub-tasks, a Taskmaster
    /// task with subtasks): not steps themselves, ticked once all of theirs are done.
    pub groups: Vec<GroupEntry>,
}

/// A step's checkbox (`[ ]`, `[x]`) or a Taskmaster `"status"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// What a tick replaces: the character between the brackets, or the status value with its quotes.
    pub span: Span,
    /// Ticked (`[x]`, `[X]`, `"done"`).
    pub checked: bool,
}

/// A line that stands for several steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupEntry {
    pub id: Option<String>,
    pub title: String,
    pub header_span: Span,
    pub mark: Option<Mark>,
    /// The ids of its steps, in file order.
    pub members: Vec<String>,
}

/// One `[[subtask]]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubtaskEntry {
    pub draft: SubtaskDraft,
    /// The `[[subtask]]` header.
    pub header_span: Span,
    /// From the header to the next table (or the end of the text).
    pub table_span: Span,
    /// The `id` value (quotes included).
    pub id_span: Option<Span>,
    /// Each `depends_on` element (quotes included), in order.
    pub depends_on_spans: Vec<Span>,
    /// The whole `depends_on` array, brackets included.
    pub depends_on_array_span: Option<Span>,
    /// Field name (snake_case) → its value.
    pub value_spans: Vec<(&'static str, Span)>,
    /// A task list's checkbox or status (none in `*.plan.toml`).
    pub mark: Option<Mark>,
}

impl SubtaskEntry {
    /// The span of a field's value, by snake_case name.
    pub fn value_span(&self, field: &str) -> Option<Span> {
        self.value_spans.iter().find(|(name, _)| *name == field).map(|(_, span)| span.clone())
    }
}

impl PlanFile {
    /// The id a subtask will have: its own, or `s<position>` as the server assigns it.
    pub fn id_of(&self, index: usize) -> String {
        match &self.subtasks.get(index).and_then(|entry| entry.draft.id.clone()) {
            Some(id) => id.clone(),
            None => format!("s{}", index + 1),
        }
    }

    /// The subtask whose `id` is `id`.
    pub fn entry_with_id(&self, id: &str) -> Option<(usize, &SubtaskEntry)> {
        self.subtasks.iter().enumerate().find(|(_, entry)| entry.draft.id.as_deref() == Some(id))
    }

    /// The subtask whose table contains `offset`.
    pub fn entry_at(&self, offset: usize) -> Option<(usize, &SubtaskEntry)> {
        self.subtasks.iter().enumerate().find(|(_, entry)| entry.table_span.contains(&offset))
    }

    /// The drafts, in file order.
    pub fn drafts(&self) -> Vec<SubtaskDraft> {
        self.subtasks.iter().map(|entry| entry.draft.clone()).collect()
    }

    /// The ids of the steps already ticked in the file (`[x]`, `"done"`), in file order.
    pub fn ticked(&self) -> Vec<String> {
        (0..self.subtasks.len())
            .filter(|index| self.subtasks[*index].mark.as_ref().is_some_and(|mark| mark.checked))
            .map(|index| self.id_of(index))
            .collect()
    }

    /// The plan's title: `title`, else the file's `goal`.
    pub fn title_or_goal(&self) -> Option<&str> {
        self.title.as_deref().or(self.goal.as_deref())
    }

    /// The task text stored with the plan: `goal`, else `title`.
    pub fn goal_or_title(&self) -> Option<&str> {
        self.goal.as_deref().filter(|goal| !goal.trim().is_empty()).or(self.title.as_deref())
    }
}

/// A file's text, its parse and every problem in it, sorted by position.
#[derive(Debug, Clone, Default)]
pub struct CheckedPlanFile {
    pub file: PlanFile,
    pub problems: Vec<FileProblem>,
}

impl CheckedPlanFile {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|problem| problem.severity == Severity::Error)
    }
}

/// 1-based line and column (in characters) of a byte offset, for messages like `file:3:7: ...`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// How a plan remembers its file: the path relative to the workspace root when the file is
/// inside it (`examples/check.plan.toml`), else the absolute path. Lexical only (`.` and `..`
/// are folded; links are not resolved), so the command line and the server agree.
pub fn source_key(workspace_root: &Path, file: &Path) -> String {
    let absolute = normalize(&workspace_root.join(file));
    let root = normalize(workspace_root);
    match absolute.strip_prefix(&root) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
        _ => absolute.display().to_string(),
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normalized.pop();
            }
            other => normalized.push(other.as_os_str()),
        }
    }
    normalized
}

/// A run time as both faces show it: `850ms`, `1.2s`, `2m05s`.
pub fn duration(millis: u64) -> String {
    match millis {
        0..1_000 => format!("{millis}ms"),
        1_000..60_000 => format!("{:.1}s", millis as f64 / 1000.0),
        _ => format!("{}m{:02}s", millis / 60_000, (millis % 60_000) / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(1_240), "1.2s");
        assert_eq!(duration(125_000), "2m05s");
    }

    #[test]
    fn source_keys_are_workspace_relative_when_inside() {
        let root = Path::new("/work/repo");
        assert_eq!(source_key(root, Path::new("examples/check.plan.toml")), "examples/check.plan.toml");
        assert_eq!(source_key(root, Path::new("/work/repo/./a/../b.plan.toml")), "b.plan.toml");
        assert_eq!(source_key(root, Path::new("../other/x.plan.toml")), "/work/other/x.plan.toml");
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_and_column("ab\nçd", 5), (2, 2));
        assert_eq!(line_and_column("ab", 0), (1, 1));
    }
}
