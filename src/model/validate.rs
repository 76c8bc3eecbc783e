//! Validation of user input for plans: titles, goals and subtask lists.
//!
//! Every problem is collected (not only the first) with the wire field path, e.g.
//! `subtasks[2].dependsOn[0]: unknown subtask "build"`. Graph problems (cycles) are reported by
//! `crate::graph` and folded in here with the kind [`ProblemKind::Graph`].

use super::{AgentKind, Subtask, SubtaskId};

/// Most subtasks a plan may have.
pub const MAX_SUBTASKS: usize = 1000;
/// Title length bounds, in characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// Goal (task text) length bounds, in characters.
pub const GOAL_MAX_CHARS: usize = 10_000;
/// Longest subtask description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 20_000;
/// Longest shell command, in characters.
pub const COMMAND_MAX_CHARS: usize = 20_000;
/// Largest `maxAttempts`.
pub const MAX_ATTEMPTS_LIMIT: i64 = 20;
/// Largest `timeoutSecs` (one day).
pub const TIMEOUT_SECS_LIMIT: i64 = 86_400;

/// A subtask as the user wrote it, before validation. Numbers are signed so that a negative
/// value can be reported with its path instead of failing deserialisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubtaskDraft {
    pub id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub agent: String,
    pub command: Option<String>,
    pub depends_on: Vec<String>,
    pub timeout_secs: Option<i64>,
    pub max_attempts: Option<i64>,
    pub estimate_secs: Option<u64>,
}

/// Whether a problem is about one field or about the dependency graph as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Field,
    Graph,
}

/// One validation problem: `path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// Wire path, e.g. `subtasks[2].dependsOn[0]`; empty for whole-plan problems.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            formatter.write_str(&self.message)
        } else {
            write!(formatter, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one input, in input order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct ValidationErrors(pub Vec<Problem>);

fn summary(problems: &[Problem]) -> String {
    match problems {
        [] => "invalid input".to_owned(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

impl ValidationErrors {
    /// True when every problem is a graph problem (cycles), not a malformed field.
    pub fn is_graph_only(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|problem| problem.kind == ProblemKind::Graph)
    }

    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

/// Checks a plan title: 1–200 characters after trimming. Returns the trimmed title.
pub fn validate_title(title: &str, path: &str) -> Result<String, Problem> {
    todo!("graph/validation helper: {title} {path}")
}

/// Checks a goal (the task text): 1–10,000 characters after trimming. Returns the trimmed goal.
pub fn validate_goal(goal: &str, path: &str) -> Result<String, Problem> {
    todo!("graph/validation helper: {goal} {path}")
}

/// Turns drafts into pending subtasks: ids of the allowed shape and unique (missing ones become
/// `s1`, `s2`, ... by position, skipping ids already taken), agent known, `command` required for
/// `shell` and forbidden otherwise, title 1–200 chars, numbers in range, at most
/// [`MAX_SUBTASKS`], dependencies known and not on itself, no cycle (reported as a path).
/// `path` is the field name of the list, normally `subtasks`.
pub fn build_subtasks(drafts: &[SubtaskDraft], path: &str) -> Result<Vec<Subtask>, ValidationErrors> {
    todo!("graph/validation helper: {} {path}", drafts.len())
}

/// True for ids matching `[A-Za-z0-9_.-]{1,64}`.
pub fn is_valid_subtask_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

#[allow(dead_code)]
fn _uses(_: AgentKind, _: SubtaskId) {}
