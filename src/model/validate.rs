//! Validation of user input for plans: titles, goals and subtask lists.
//!
//! Every problem is collected (not only the first) with the wire field path, e.g.
//! `subtasks[2].dependsOn[0]: unknown subtask "build"`. Graph problems (cycles) are reported by
//! `crate::graph` and folded in here with the kind [`ProblemKind::Graph`].

use std::collections::{HashMap, HashSet};

use super::{AgentKind, Subtask, SubtaskId, SubtaskRole};
use crate::confine::LexicalError;
use crate::graph::{DependencyGraph, GraphError};

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
/// Largest `estimateSecs` (a year).
pub const ESTIMATE_SECS_LIMIT: u64 = 365 * 86_400;
/// Longest subtask id (ids are ASCII: `[A-Za-z0-9_.-]`).
pub const SUBTASK_ID_MAX_CHARS: usize = 64;

/// A subtask as the user wrote it, before validation. Numbers are signed so that a negative
/// value can be reported with its path instead of failing deserialisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubtaskDraft {
    pub id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub agent: String,
    pub command: Option<String>,
    /// Workspace-relative directory for a `shell` command.
    pub cwd: Option<String>,
    pub depends_on: Vec<String>,
    pub timeout_secs: Option<i64>,
    pub max_attempts: Option<i64>,
    pub estimate_secs: Option<u64>,
    /// `"baseline"` for a check run before the change; absent (or `"step"`) for any other step.
    pub role: Option<String>,
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
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

/// Checks a plan title: 1–200 characters after trimming. Returns the trimmed title.
pub fn validate_title(title: &str, path: &str) -> Result<String, Problem> {
    validate_trimmed_text(title, path, TITLE_MAX_CHARS)
}

/// Checks a goal (the task text): 1–10,000 characters after trimming. Returns the trimmed goal.
pub fn validate_goal(goal: &str, path: &str) -> Result<String, Problem> {
    validate_trimmed_text(goal, path, GOAL_MAX_CHARS)
}

fn validate_trimmed_text(text: &str, path: &str, max_chars: usize) -> Result<String, Problem> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(field_problem(path.to_owned(), "must not be empty".to_owned()));
    }
    check_max_chars(trimmed, path, max_chars)?;
    Ok(trimmed.to_owned())
}

fn check_max_chars(text: &str, path: &str, max_chars: usize) -> Result<(), Problem> {
    if text.chars().count() > max_chars {
        return Err(field_problem(path.to_owned(), format!("must be at most {max_chars} characters")));
    }
    Ok(())
}

fn field_problem(path: String, message: String) -> Problem {
    Problem { kind: ProblemKind::Field, path, message }
}

/// Turns drafts into pending subtasks: ids of the allowed shape and unique (missing ones become
/// `s1`, `s2`, ... by position, skipping ids already taken), agent known, `command` required for
/// `shell` and forbidden otherwise, title 1–200 chars, numbers in range, at most
/// [`MAX_SUBTASKS`], dependencies known and not on itself, no cycle (reported as a path).
/// `path` is the field name of the list, normally `subtasks`.
///
/// A blank `description` counts as absent (it becomes the title); a blank `command` on a
/// non-shell subtask counts as absent too.
pub fn build_subtasks(drafts: &[SubtaskDraft], path: &str) -> Result<Vec<Subtask>, ValidationErrors> {
    let mut problems = Vec::new();
    if drafts.len() > MAX_SUBTASKS {
        problems.push(field_problem(
            path.to_owned(),
            format!("must have at most {MAX_SUBTASKS} subtasks (got {})", drafts.len()),
        ));
    }
    let (ids, id_problems) = resolve_ids(drafts, path);
    let known_ids: HashSet<&str> = ids.iter().map(SubtaskId::as_str).collect();
    let mut id_problems = id_problems.into_iter().peekable();
    let mut references_valid = true;
    let mut fields = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        while let Some((_, problem)) = id_problems.next_if(|(problem_index, _)| *problem_index == index) {
            problems.push(problem);
        }
        let subtask_path = format!("{path}[{index}]");
        fields.push(check_fields(draft, &subtask_path, &mut problems));
        let problems_before = problems.len();
        check_dependencies(draft, &ids[index], &known_ids, &subtask_path, &mut problems);
        references_valid &= problems.len() == problems_before;
    }
    if references_valid {
        problems.extend(find_cycles(drafts, &ids, path));
    }
    if !problems.is_empty() {
        return Err(ValidationErrors(problems));
    }
    Ok(drafts
        .iter()
        .zip(ids)
        .zip(fields)
        .filter_map(|((draft, id), fields)| fields.map(|fields| fields.into_subtask(id, draft)))
        .collect())
}

/// The id of every draft: its own (even when malformed, so references to it still resolve) or
/// an assigned `s{n}`. Reports malformed and duplicate explicit ids.
fn resolve_ids(drafts: &[SubtaskDraft], path: &str) -> (Vec<SubtaskId>, Vec<(usize, Problem)>) {
    let mut problems = Vec::new();
    let mut first_index_of: HashMap<&str, usize> = HashMap::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        let Some(id) = draft.id.as_deref() else { continue };
        if !is_valid_subtask_id(id) {
            problems.push((
                index,
                field_problem(
                    format!("{path}[{index}].id"),
                    format!("invalid id \"{}\" (allowed: letters, digits, _ . -, 1 to 64 characters)", shorten(id)),
                ),
            ));
        }
        if let Some(first) = first_index_of.get(id) {
            problems.push((
                index,
                field_problem(
                    format!("{path}[{index}].id"),
                    format!("duplicate id \"{}\" (first at {path}[{first}])", shorten(id)),
                ),
            ));
        } else {
            first_index_of.insert(id, index);
        }
    }
    let mut taken: HashSet<String> = first_index_of.keys().map(|id| (*id).to_owned()).collect();
    let mut ids = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        let id = match &draft.id {
            Some(id) => id.clone(),
            None => assign_free_id(index + 1, &mut taken),
        };
        ids.push(SubtaskId::from_raw(id));
    }
    (ids, problems)
}

/// `s{number}`, or the next number whose id is not taken yet; marks it taken.
fn assign_free_id(mut number: usize, taken: &mut HashSet<String>) -> String {
    loop {
        let candidate = format!("s{number}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        number += 1;
    }
}

/// User text echoed in a message, cut at 80 characters so one huge value cannot flood a reply.
fn shorten(text: &str) -> String {
    const SHOWN_CHARS: usize = 80;
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A draft's fields once checked; `None` from [`check_fields`] when any of them was wrong.
struct CheckedFields {
    title: String,
    description: Option<String>,
    agent: AgentKind,
    command: Option<String>,
    cwd: Option<String>,
    timeout_secs: Option<u64>,
    max_attempts: Option<u32>,
    role: SubtaskRole,
}

impl CheckedFields {
    fn into_subtask(self, id: SubtaskId, draft: &SubtaskDraft) -> Subtask {
        let mut subtask = Subtask::new(id, self.title, self.agent);
        subtask.description = self.description.unwrap_or_else(|| subtask.title.clone());
        subtask.command = self.command;
        subtask.cwd = self.cwd;
        subtask.role = self.role;
        subtask.depends_on = draft.depends_on.iter().cloned().map(SubtaskId::from_raw).collect();
        if let Some(timeout_secs) = self.timeout_secs {
            subtask.timeout_secs = Some(timeout_secs);
        }
        if let Some(max_attempts) = self.max_attempts {
            subtask.max_attempts = max_attempts;
        }
        subtask.estimate_secs = draft.estimate_secs;
        subtask
    }
}

fn check_fields(draft: &SubtaskDraft, subtask_path: &str, problems: &mut Vec<Problem>) -> Option<CheckedFields> {
    let problems_before = problems.len();
    let title =
        validate_title(&draft.title, &format!("{subtask_path}.title")).map_err(|problem| problems.push(problem));
    let description = draft.description.as_deref().map(str::trim).filter(|text| !text.is_empty());
    if let Some(description) = description {
        check_max_chars(description, &format!("{subtask_path}.description"), DESCRIPTION_MAX_CHARS)
            .unwrap_or_else(|problem| problems.push(problem));
    }
    let agent = AgentKind::parse(&draft.agent);
    if agent.is_none() {
        problems.push(field_problem(
            format!("{subtask_path}.agent"),
            format!("unknown agent \"{}\" (expected {})", shorten(&draft.agent), AgentKind::expected()),
        ));
    }
    let command = check_command(draft, agent, subtask_path, problems);
    let cwd = check_cwd(draft, agent, subtask_path, problems);
    let role = check_role(draft, agent, subtask_path, problems);
    let timeout_secs =
        check_range(draft.timeout_secs, TIMEOUT_SECS_LIMIT, &format!("{subtask_path}.timeoutSecs"), problems);
    let max_attempts =
        check_range(draft.max_attempts, MAX_ATTEMPTS_LIMIT, &format!("{subtask_path}.maxAttempts"), problems);
    if draft.estimate_secs.is_some_and(|estimate| estimate > ESTIMATE_SECS_LIMIT) {
        let message = format!("must be at most {ESTIMATE_SECS_LIMIT}");
        problems.push(field_problem(format!("{subtask_path}.estimateSecs"), message));
    }
    if problems.len() > problems_before {
        return None;
    }
    Some(CheckedFields {
        title: title.ok()?,
        description: description.map(str::to_owned),
        agent: agent?,
        command,
        cwd,
        timeout_secs: timeout_secs.and_then(|value| u64::try_from(value).ok()),
        max_attempts: max_attempts.and_then(|value| u32::try_from(value).ok()),
        role,
    })
}

/// `role` is `"baseline"` or `"step"`; a baseline runs a check, so it is a `shell` step.
fn check_role(
    draft: &SubtaskDraft,
    agent: Option<AgentKind>,
    subtask_path: &str,
    problems: &mut Vec<Problem>,
) -> SubtaskRole {
    let Some(text) = draft.role.as_deref().map(str::trim).filter(|role| !role.is_empty()) else {
        return SubtaskRole::Step;
    };
    let path = format!("{subtask_path}.role");
    match SubtaskRole::parse(text) {
        None => {
            let message = format!("unknown role \"{}\" (expected {})", shorten(text), SubtaskRole::expected());
            problems.push(field_problem(path, message));
            SubtaskRole::Step
        }
        Some(SubtaskRole::Baseline) if agent.is_some_and(|agent| agent != AgentKind::Shell) => {
            let agent = agent.map_or("", AgentKind::as_str);
            let message =
                format!("a baseline runs a check before the change, so it must be a shell step (not {agent})");
            problems.push(field_problem(path, message));
            SubtaskRole::Step
        }
        Some(role) => role,
    }
}

/// Longest `cwd`, in characters.
pub const CWD_MAX_CHARS: usize = 512;

/// `cwd` is only for `shell`; it must be a relative path that stays inside the workspace: no
/// `..`, no root, no drive, no NUL. A blank or `.` `cwd` is the workspace root (`None`).
fn check_cwd(
    draft: &SubtaskDraft,
    agent: Option<AgentKind>,
    subtask_path: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let cwd_path = format!("{subtask_path}.cwd");
    let cwd = draft.cwd.as_deref().map(str::trim).filter(|cwd| !cwd.is_empty() && *cwd != ".")?;
    match agent? {
        AgentKind::Shell => {}
        other => {
            problems.push(field_problem(cwd_path, format!("not allowed for the {other} agent (only for shell)")));
            return None;
        }
    }
    if let Err(problem) = check_max_chars(cwd, &cwd_path, CWD_MAX_CHARS) {
        problems.push(problem);
        return None;
    }
    match workspace_relative(cwd) {
        Ok(normal) => Some(normal),
        Err(why) => {
            problems.push(field_problem(cwd_path, format!("{why} (got \"{}\")", shorten(cwd))));
            None
        }
    }
}

/// `a/./b/` → `a/b`; refuses what could leave the workspace (the confinement's lexical check).
pub fn workspace_relative(path: &str) -> Result<String, &'static str> {
    match crate::confine::relative_parts(path) {
        Ok(parts) if parts.is_empty() => Err("must name a directory"),
        Ok(parts) => Ok(parts.join("/")),
        Err(LexicalError::Nul) => Err("must not contain NUL"),
        Err(LexicalError::Absolute) => Err("must be relative to the workspace"),
        Err(LexicalError::Parent) => Err("must stay inside the workspace (no \"..\")"),
        Err(LexicalError::Empty) => Err("must name a directory"),
    }
}

/// `command` is required (non-blank) for `shell` and forbidden for the other agents; nothing is
/// checked when the agent itself is unknown.
fn check_command(
    draft: &SubtaskDraft,
    agent: Option<AgentKind>,
    subtask_path: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let command_path = format!("{subtask_path}.command");
    let command = draft.command.as_deref().filter(|command| !command.trim().is_empty());
    match (agent?, command) {
        (AgentKind::Shell, None) => {
            problems.push(field_problem(command_path, "required for the shell agent".to_owned()));
            None
        }
        (AgentKind::Shell, Some(command)) => {
            check_max_chars(command, &command_path, COMMAND_MAX_CHARS)
                .map_err(|problem| problems.push(problem))
                .ok()?;
            Some(command.to_owned())
        }
        (other, Some(_)) => {
            problems.push(field_problem(command_path, format!("not allowed for the {other} agent (only for shell)")));
            None
        }
        (_, None) => None,
    }
}

/// A value, when given, must be in `1..=limit`.
fn check_range(value: Option<i64>, limit: i64, path: &str, problems: &mut Vec<Problem>) -> Option<i64> {
    let value = value?;
    if (1..=limit).contains(&value) {
        Some(value)
    } else {
        problems.push(field_problem(path.to_owned(), format!("must be between 1 and {limit} (got {value})")));
        None
    }
}

/// Each `dependsOn[j]` names another subtask of the list, once.
fn check_dependencies(
    draft: &SubtaskDraft,
    own_id: &SubtaskId,
    known_ids: &HashSet<&str>,
    subtask_path: &str,
    problems: &mut Vec<Problem>,
) {
    let own_id = own_id.as_str();
    let mut first_position_of: HashMap<&str, usize> = HashMap::with_capacity(draft.depends_on.len());
    for (position, dependency) in draft.depends_on.iter().enumerate() {
        let dependency_path = format!("{subtask_path}.dependsOn[{position}]");
        let shown = shorten(dependency);
        if let Some(first) = first_position_of.get(dependency.as_str()) {
            problems.push(field_problem(
                dependency_path,
                format!("duplicate dependency \"{shown}\" (first at dependsOn[{first}])"),
            ));
            continue;
        }
        first_position_of.insert(dependency, position);
        if dependency == own_id {
            problems.push(field_problem(dependency_path, format!("subtask \"{shown}\" depends on itself")));
        } else if !known_ids.contains(dependency.as_str()) {
            problems.push(field_problem(dependency_path, format!("unknown subtask \"{shown}\"")));
        }
    }
}

/// True for ids matching `[A-Za-z0-9_.-]{1,64}`.
pub fn is_valid_subtask_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= SUBTASK_ID_MAX_CHARS
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

/// Cycles among valid references, as graph problems on the list's path.
fn find_cycles(drafts: &[SubtaskDraft], ids: &[SubtaskId], path: &str) -> Vec<Problem> {
    let nodes: Vec<(SubtaskId, Vec<SubtaskId>)> = drafts
        .iter()
        .zip(ids)
        .map(|(draft, id)| (id.clone(), draft.depends_on.iter().cloned().map(SubtaskId::from_raw).collect()))
        .collect();
    let Err(errors) = DependencyGraph::from_edges(&nodes) else { return Vec::new() };
    errors
        .into_iter()
        .map(|error| match error {
            GraphError::Cycle { .. } => {
                Problem { kind: ProblemKind::Graph, path: path.to_owned(), message: error.to_string() }
            }
            // Not reached after the reference checks above; reported whole rather than lost.
            other => Problem { kind: ProblemKind::Field, path: String::new(), message: other.to_string() },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SubtaskStatus;

    fn draft(id: Option<&str>, title: &str, agent: &str, depends_on: &[&str]) -> SubtaskDraft {
        SubtaskDraft {
            id: id.map(str::to_owned),
            title: title.to_owned(),
            agent: agent.to_owned(),
            command: (agent == "shell").then(|| "make".to_owned()),
            depends_on: depends_on.iter().map(|dependency| (*dependency).to_owned()).collect(),
            ..SubtaskDraft::default()
        }
    }

    fn coder(id: &str, depends_on: &[&str]) -> SubtaskDraft {
        draft(Some(id), &format!("Task {id}"), "coder", depends_on)
    }

    fn messages_of(drafts: &[SubtaskDraft]) -> Vec<String> {
        build_subtasks(drafts, "subtasks").unwrap_err().messages()
    }

    fn ids_of(subtasks: &[Subtask]) -> Vec<&str> {
        subtasks.iter().map(|subtask| subtask.id.as_str()).collect()
    }

    #[test]
    fn titles_and_goals_are_trimmed_and_bounded() {
        assert_eq!(validate_title("  Ship it \n", "title"), Ok("Ship it".to_owned()));
        assert_eq!(validate_title("   ", "title").unwrap_err().to_string(), "title: must not be empty");
        assert_eq!(validate_title(&"é".repeat(200), "title").map(|title| title.chars().count()), Ok(200));
        assert_eq!(
            validate_title(&"é".repeat(201), "title").unwrap_err().to_string(),
            "title: must be at most 200 characters"
        );
        assert_eq!(validate_goal(" build a thing ", "goal"), Ok("build a thing".to_owned()));
        assert_eq!(validate_goal("", "goal").unwrap_err().to_string(), "goal: must not be empty");
        assert!(validate_goal(&"x".repeat(GOAL_MAX_CHARS), "goal").is_ok());
        assert_eq!(
            validate_goal(&"x".repeat(GOAL_MAX_CHARS + 1), "goal").unwrap_err().to_string(),
            "goal: must be at most 10000 characters"
        );
    }

    #[test]
    fn valid_drafts_become_pending_subtasks_in_input_order() {
        let mut build = draft(Some("build"), "  Build  ", "shell", &[]);
        build.timeout_secs = Some(30);
        let mut test = draft(Some("test"), "Run tests", "coder", &["build"]);
        test.description = Some("Write and run the tests".to_owned());
        test.max_attempts = Some(5);
        test.estimate_secs = Some(120);
        let subtasks = build_subtasks(&[build, test], "subtasks").unwrap();
        assert_eq!(ids_of(&subtasks), vec!["build", "test"]);
        let (build, test) = (&subtasks[0], &subtasks[1]);
        assert_eq!(build.title, "Build");
        assert_eq!(build.description, "Build", "description defaults to the title");
        assert_eq!(build.command.as_deref(), Some("make"));
        assert_eq!(build.timeout_secs, Some(30));
        assert_eq!(build.max_attempts, AgentKind::Shell.default_max_attempts());
        assert_eq!(test.description, "Write and run the tests");
        assert_eq!(test.depends_on, vec![SubtaskId::from_raw("build")]);
        assert_eq!(test.max_attempts, 5);
        assert_eq!(test.timeout_secs, AgentKind::Coder.default_timeout_secs());
        assert_eq!(test.estimate_secs, Some(120));
        assert!(subtasks.iter().all(|subtask| subtask.status == SubtaskStatus::Pending && subtask.attempts == 0));
    }

    #[test]
    fn missing_ids_are_assigned_by_position_skipping_taken_ones() {
        let drafts = [
            draft(None, "one", "ask", &[]),
            draft(Some("s3"), "two", "ask", &[]),
            draft(None, "three", "ask", &["s1"]),
            draft(None, "four", "ask", &["s4", "s3"]),
        ];
        let subtasks = build_subtasks(&drafts, "subtasks").unwrap();
        // Position 2 wants s3 (taken by an explicit id) and gets s4; position 3 then gets s5.
        assert_eq!(ids_of(&subtasks), vec!["s1", "s3", "s4", "s5"]);
        assert_eq!(subtasks[3].depends_on, vec![SubtaskId::from_raw("s4"), SubtaskId::from_raw("s3")]);
    }

    #[test]
    fn cwd_is_relative_inside_the_workspace_and_only_for_shell() {
        let mut inside = draft(Some("a"), "build", "shell", &[]);
        inside.cwd = Some("crates/core".to_owned());
        assert_eq!(build_subtasks(&[inside], "subtask").unwrap()[0].cwd.as_deref(), Some("crates/core"));
        let mut up = draft(Some("b"), "build", "shell", &[]);
        up.cwd = Some("../elsewhere".to_owned());
        let mut absolute = draft(Some("c"), "build", "shell", &[]);
        absolute.cwd = Some("/etc".to_owned());
        let mut coder = draft(Some("d"), "code", "coder", &[]);
        coder.cwd = Some("src".to_owned());
        assert_eq!(
            messages_of(&[up, absolute, coder]),
            vec![
                r#"subtasks[0].cwd: must stay inside the workspace (no "..") (got "../elsewhere")"#,
                r#"subtasks[1].cwd: must be relative to the workspace (got "/etc")"#,
                "subtasks[2].cwd: not allowed for the coder agent (only for shell)",
            ]
        );
    }

    #[test]
    fn role_is_baseline_or_step_and_a_baseline_is_a_shell_step() {
        let mut baseline = draft(Some("base"), "Tests before the change", "shell", &[]);
        baseline.role = Some("baseline".to_owned());
        let subtasks = build_subtasks(&[baseline.clone(), coder("a", &["base"])], "subtasks").unwrap();
        assert_eq!((subtasks[0].role, subtasks[1].role), (SubtaskRole::Baseline, SubtaskRole::Step));
        let mut unknown = coder("b", &[]);
        unknown.role = Some("before".to_owned());
        let mut not_shell = coder("c", &[]);
        not_shell.role = Some("baseline".to_owned());
        assert_eq!(
            messages_of(&[baseline, unknown, not_shell]),
            [
                r#"subtasks[1].role: unknown role "before" (expected "step", "baseline")"#,
                "subtasks[2].role: a baseline runs a check before the change, so it must be a shell step (not coder)",
            ]
        );
    }

    #[test]
    fn empty_list_is_valid() {
        assert_eq!(build_subtasks(&[], "subtasks"), Ok(Vec::new()));
    }

    #[test]
    fn too_many_subtasks_are_refused_on_the_list_path() {
        let drafts: Vec<SubtaskDraft> = (0..=MAX_SUBTASKS).map(|_| draft(None, "t", "ask", &[])).collect();
        assert_eq!(messages_of(&drafts), vec!["subtasks: must have at most 1000 subtasks (got 1001)"]);
        assert!(build_subtasks(&drafts[..MAX_SUBTASKS], "subtasks").is_ok());
    }

    #[test]
    fn malformed_and_duplicate_ids_are_named() {
        let drafts = [
            coder("ok", &[]),
            coder("build", &[]),
            coder("x", &[]),
            coder("a b", &[]),
            coder("build", &[]),
            coder(&"z".repeat(65), &[]),
            coder("", &[]),
        ];
        let long = "z".repeat(65);
        assert_eq!(
            messages_of(&drafts),
            vec![
                r#"subtasks[3].id: invalid id "a b" (allowed: letters, digits, _ . -, 1 to 64 characters)"#.to_owned(),
                r#"subtasks[4].id: duplicate id "build" (first at subtasks[1])"#.to_owned(),
                format!(r#"subtasks[5].id: invalid id "{long}" (allowed: letters, digits, _ . -, 1 to 64 characters)"#),
                r#"subtasks[6].id: invalid id "" (allowed: letters, digits, _ . -, 1 to 64 characters)"#.to_owned(),
            ]
        );
        assert!(build_subtasks(&[coder(&"z".repeat(64), &[]), coder("A-z_0.9", &[])], "subtasks").is_ok());
    }

    #[test]
    fn title_must_be_present_and_short() {
        let drafts = [draft(Some("a"), "  ", "ask", &[]), draft(Some("b"), &"t".repeat(201), "ask", &[])];
        assert_eq!(
            messages_of(&drafts),
            vec!["subtasks[0].title: must not be empty", "subtasks[1].title: must be at most 200 characters"]
        );
    }

    #[test]
    fn unknown_agent_lists_the_known_ones() {
        let drafts = [coder("a", &[]), coder("b", &[]), draft(Some("c"), "plan it", "architect", &[])];
        assert_eq!(
            messages_of(&drafts),
            vec![
                r#"subtasks[2].agent: unknown agent "architect" (expected "coder", "debug", "ask", "shell", "manual")"#
            ]
        );
    }

    #[test]
    fn command_is_required_for_shell_and_forbidden_for_others() {
        let mut shell_without = draft(Some("a"), "run", "shell", &[]);
        shell_without.command = None;
        let mut shell_blank = draft(Some("b"), "run", "shell", &[]);
        shell_blank.command = Some("   ".to_owned());
        let mut coder_with = draft(Some("c"), "code", "coder", &[]);
        coder_with.command = Some("rm -rf /".to_owned());
        let mut coder_blank = draft(Some("d"), "code", "coder", &[]);
        coder_blank.command = Some(String::new());
        assert_eq!(
            messages_of(&[shell_without, shell_blank, coder_with, coder_blank.clone()]),
            vec![
                "subtasks[0].command: required for the shell agent",
                "subtasks[1].command: required for the shell agent",
                "subtasks[2].command: not allowed for the coder agent (only for shell)",
            ]
        );
        assert_eq!(build_subtasks(&[coder_blank], "subtasks").unwrap()[0].command, None);
    }

    #[test]
    fn long_description_and_command_are_refused() {
        let mut long_description = coder("a", &[]);
        long_description.description = Some("d".repeat(DESCRIPTION_MAX_CHARS + 1));
        let mut long_command = draft(Some("b"), "run", "shell", &[]);
        long_command.command = Some("c".repeat(COMMAND_MAX_CHARS + 1));
        assert_eq!(
            messages_of(&[long_description, long_command]),
            vec![
                "subtasks[0].description: must be at most 20000 characters",
                "subtasks[1].command: must be at most 20000 characters",
            ]
        );
    }

    #[test]
    fn numbers_out_of_range_are_named_with_their_value() {
        let mut negative_timeout = coder("a", &[]);
        negative_timeout.timeout_secs = Some(-5);
        let mut huge_timeout = coder("b", &[]);
        huge_timeout.timeout_secs = Some(TIMEOUT_SECS_LIMIT + 1);
        let mut zero_attempts = coder("c", &[]);
        zero_attempts.max_attempts = Some(0);
        let mut many_attempts = coder("d", &[]);
        many_attempts.max_attempts = Some(21);
        assert_eq!(
            messages_of(&[negative_timeout, huge_timeout, zero_attempts, many_attempts]),
            vec![
                "subtasks[0].timeoutSecs: must be between 1 and 86400 (got -5)",
                "subtasks[1].timeoutSecs: must be between 1 and 86400 (got 86401)",
                "subtasks[2].maxAttempts: must be between 1 and 20 (got 0)",
                "subtasks[3].maxAttempts: must be between 1 and 20 (got 21)",
            ]
        );
        let mut at_limits = coder("e", &[]);
        at_limits.timeout_secs = Some(TIMEOUT_SECS_LIMIT);
        at_limits.max_attempts = Some(MAX_ATTEMPTS_LIMIT);
        let subtask = &build_subtasks(&[at_limits], "subtasks").unwrap()[0];
        assert_eq!((subtask.timeout_secs, subtask.max_attempts), (Some(86_400), 20));
    }

    #[test]
    fn dependency_references_are_checked_without_a_cycle_report() {
        let drafts = [coder("build", &[]), coder("deploy", &["build", "build"]), coder("x", &["x", "ghost"])];
        let errors = build_subtasks(&drafts, "subtasks").unwrap_err();
        assert_eq!(
            errors.messages(),
            vec![
                r#"subtasks[1].dependsOn[1]: duplicate dependency "build" (first at dependsOn[0])"#,
                r#"subtasks[2].dependsOn[0]: subtask "x" depends on itself"#,
                r#"subtasks[2].dependsOn[1]: unknown subtask "ghost""#,
            ]
        );
        assert!(errors.0.iter().any(|problem| problem.kind == ProblemKind::Field));
    }

    #[test]
    fn unknown_dependency_matches_the_wire_example() {
        let drafts = [coder("test", &[]), coder("deploy", &["build"])];
        assert_eq!(messages_of(&drafts), vec![r#"subtasks[1].dependsOn[0]: unknown subtask "build""#]);
    }

    #[test]
    fn cycles_are_graph_problems_with_a_path() {
        let drafts = [coder("a", &["b"]), coder("b", &["a"]), coder("c", &[])];
        let errors = build_subtasks(&drafts, "subtasks").unwrap_err();
        assert_eq!(
            errors.0,
            vec![Problem {
                kind: ProblemKind::Graph,
                path: "subtasks".to_owned(),
                message: "dependency cycle: a -> b -> a".to_owned(),
            }]
        );
        assert!(errors.0.iter().all(|problem| problem.kind == ProblemKind::Graph));
        assert_eq!(errors.to_string(), "subtasks: dependency cycle: a -> b -> a");
    }

    #[test]
    fn cycles_through_assigned_ids_are_found() {
        let drafts = [
            draft(None, "one", "ask", &["s3"]),
            draft(None, "two", "ask", &["s1"]),
            draft(None, "three", "ask", &["s2"]),
        ];
        assert_eq!(messages_of(&drafts), vec!["subtasks: dependency cycle: s1 -> s3 -> s2 -> s1"]);
    }

    #[test]
    fn every_problem_is_collected_at_once_in_input_order() {
        let mut shell_without_command = draft(Some("run"), "", "shell", &[]);
        shell_without_command.command = None;
        shell_without_command.max_attempts = Some(-1);
        let drafts = [
            shell_without_command,
            draft(Some("run"), "again", "architect", &["run"]),
            coder("a", &["b"]),
            coder("b", &["a"]),
        ];
        let errors = build_subtasks(&drafts, "plan.subtasks").unwrap_err();
        assert_eq!(
            errors.messages(),
            vec![
                "plan.subtasks[0].title: must not be empty",
                "plan.subtasks[0].command: required for the shell agent",
                "plan.subtasks[0].maxAttempts: must be between 1 and 20 (got -1)",
                r#"plan.subtasks[1].id: duplicate id "run" (first at plan.subtasks[0])"#,
                r#"plan.subtasks[1].agent: unknown agent "architect" (expected "coder", "debug", "ask", "shell", "manual")"#,
                r#"plan.subtasks[1].dependsOn[0]: subtask "run" depends on itself"#,
            ]
        );
        assert_eq!(errors.to_string(), "plan.subtasks[0].title: must not be empty (and 5 more)");
    }

    #[test]
    fn field_problems_and_cycles_are_reported_together() {
        let drafts = [coder("a", &["b"]), draft(Some("b"), "", "coder", &["a"])];
        let errors = build_subtasks(&drafts, "subtasks").unwrap_err();
        assert_eq!(
            errors.messages(),
            vec!["subtasks[1].title: must not be empty", "subtasks: dependency cycle: a -> b -> a"]
        );
        assert!(errors.0.iter().any(|problem| problem.kind == ProblemKind::Field));
    }

    #[test]
    fn huge_values_are_shortened_in_messages() {
        let drafts = [draft(Some("a"), "t", &"q".repeat(500), &[])];
        let message = &messages_of(&drafts)[0];
        assert!(
            message.starts_with(&format!("subtasks[0].agent: unknown agent \"{}...\"", "q".repeat(80))),
            "{message}"
        );
    }
}
