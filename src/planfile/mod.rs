//! Plan files (`*.plan.toml`): a plan kept in the repository as text. The format is documented
//! in `docs/plan-files.md`: `title`, optional `goal`, and `[[subtask]]` tables with the
//! `SubtaskInput` fields in snake_case plus an optional `cwd` for shell steps.
//!
//! - `parse`: TOML → [`PlanFile`], keeping the byte range of every key and value, reporting
//!   syntax errors, unknown fields and wrong types as [`FileProblem`]s with exact ranges.
//! - `check`: the plan-level rules (the same `build_subtasks` the server applies to
//!   `planning/create`) mapped back onto those ranges: unknown and duplicate ids, cycles (on each
//!   id of the cycle), unknown agents, a shell step without `command`.
//! - `export`: a stored plan → plan-file text that parses back to the same subtasks.
//!
//! Shared by the command line and the language server; it knows neither. Ranges are byte
//! offsets into the text; converting them to editor positions is the caller's business. No I/O.

mod check;
mod export;
mod parse;

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::model::validate::SubtaskDraft;

pub use check::{check, run_from};
pub use export::export_plan;
pub use parse::parse;

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
    pub title: Option<String>,
    /// The `title` value (quotes included).
    pub title_span: Option<Span>,
    pub goal: Option<String>,
    pub subtasks: Vec<SubtaskEntry>,
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
