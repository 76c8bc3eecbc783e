//! Markdown task lists as plans: spec-kit's `tasks.md`, Kiro's `tasks.md`, `*.plan.md` and any
//! plain checklist. Every `- [ ]` line is a step; a line with checkbox lines under it (or Kiro's
//! `2.` followed by `2.1`, `2.2`) is a group whose steps they are.
//!
//! - Ids: spec-kit's `T001`, Kiro's `2.1`, or an `id:` note; else `T0NN` after the highest in a
//!   spec-kit list, `s<position>` in others. A template placeholder (`TXXX`) gets a number, with a
//!   warning.
//! - Order: a step depends on the one before it; a run of `[P]` steps depends on what came before
//!   the run and runs together; headings (`## Phase 2`) are barriers; spec-kit's user-story phases
//!   all start after the phase before them and the next phase waits for all of them. Dependencies
//!   written out (`after: T003`, `(depends on T012, T013)`) replace the order's.
//! - A line that states a command (a backticked command after "run", or after `$`) is a shell
//!   step; others are agent steps with a model, steps for a person without one.
//! - `key: value` notes under a step set its fields (`agent`, `cwd`, `timeout`, `attempts`,
//!   `estimate`, `command`); other lines under it are its description (paths and Kiro's
//!   `_Requirements: 1.2_` included).
//!
//! What cannot be read is reported at its line: a malformed checkbox, a line that looks like a
//! task but has no checkbox, a task in a quote, a note with a bad value.

mod export;
mod inline;
mod lines;
mod order;

use std::collections::{HashMap, HashSet};

use super::{FileProblem, Format, GroupEntry, Mark, PlanFile, ReadOptions, Severity, Span, SubtaskEntry};
use crate::classify::classify_keywords;
use crate::model::AgentKind;
use crate::model::validate::{DESCRIPTION_MAX_CHARS, GOAL_MAX_CHARS, SubtaskDraft, TITLE_MAX_CHARS};
pub use export::export_markdown;
pub(crate) use inline::shortened;
use inline::{LeadingId, Note, id_list, note, seconds, stated_command, stated_dependencies, task_text};
use lines::{Block, Checkbox, Item, blocks};
use order::Placed;

/// A list item while the tree is built.
struct Node<'a> {
    item: Item<'a>,
    /// Has a checkbox: a task (else a bullet whose text belongs to the task above it, if any).
    task: bool,
    /// The nearest task above it.
    parent: Option<usize>,
    /// Tasks right under it.
    children: Vec<usize>,
    /// Lines under it that are not tasks: continuation text and bullets, with their spans.
    notes: Vec<(&'a str, Span)>,
    /// Fenced blocks under it: info string, body (without the fence's indent), span.
    fences: Vec<(&'a str, String, Span)>,
    /// The end of its last line.
    end: usize,
    /// Which phase (heading of level 1 or 2) it is under.
    phase: usize,
}

/// A heading that starts a phase.
struct Phase {
    text: String,
}

/// Parses a markdown task list. Always returns a `PlanFile` and every problem found.
pub fn parse(text: &str, options: &ReadOptions) -> (PlanFile, Vec<FileProblem>) {
    let mut problems = Vec::new();
    let mut file = PlanFile { format: Format::Markdown, ..PlanFile::default() };
    let (nodes, phases) = build_tree(text, &mut file, &mut problems);
    let nodes = adopt_numbered_children(nodes);
    let steps: Vec<usize> =
        (0..nodes.len()).filter(|index| nodes[*index].task && nodes[*index].children.is_empty()).collect();
    let mut reads: Vec<StepRead> =
        steps.iter().map(|index| read_step(&nodes, *index, options, &mut problems)).collect();
    assign_ids(&mut reads, &mut problems);
    let groups = groups_of(&nodes, &steps, &reads, &mut problems);
    let group_members: HashMap<&str, &[String]> =
        groups.iter().filter_map(|group| Some((group.id.as_deref()?, group.members.as_slice()))).collect();
    let story_phases = story_phases(&phases, &nodes, &steps, &reads);
    let placed: Vec<Placed> = reads
        .iter()
        .zip(&steps)
        .map(|(read, index)| Placed {
            id: read.id.clone(),
            phase: nodes[*index].phase,
            parallel: read.parallel,
            explicit: read.explicit.as_ref().map(|_| expand(&read.entry.draft.depends_on, &group_members)),
        })
        .collect();
    let dependencies = order::dependencies(&placed, &story_phases);
    for (read, dependencies) in reads.iter_mut().zip(dependencies) {
        if read.explicit.is_some() && dependencies.len() != read.entry.draft.depends_on.len() {
            // A group's id stood for its steps: the spans no longer line up one to one.
            read.entry.depends_on_spans.clear();
        }
        read.entry.draft.depends_on = dependencies;
        read.entry.draft.id = Some(read.id.clone());
    }
    file.subtasks = reads.into_iter().map(|read| read.entry).collect();
    file.groups = groups;
    if file.title.is_none() {
        file.title = options.file_name.clone();
    }
    (file, problems)
}

/// Blocks → list items with their nesting, phases, the title and goal; prose is left alone
/// except where it looks like a task.
fn build_tree<'a>(text: &'a str, file: &mut PlanFile, problems: &mut Vec<FileProblem>) -> (Vec<Node<'a>>, Vec<Phase>) {
    let mut nodes: Vec<Node<'a>> = Vec::new();
    let mut phases = vec![Phase { text: String::new() }];
    let mut open: Vec<usize> = Vec::new();
    let mut blank_before = false;
    let mut goal_lines: Option<Vec<&str>> = None;
    for block in blocks(text) {
        match block {
            Block::Blank => {
                blank_before = true;
                if goal_lines.as_ref().is_some_and(|lines| !lines.is_empty()) {
                    finish_goal(file, &mut goal_lines);
                }
                continue;
            }
            Block::Heading { level, text: heading, span } => {
                open.clear();
                finish_goal(file, &mut goal_lines);
                if level == 1 && file.title.is_none() && !heading.is_empty() {
                    file.title = Some(heading.to_owned());
                    file.title_span = Some(span);
                    goal_lines = Some(Vec::new());
                } else if level <= 2 {
                    phases.push(Phase { text: heading.to_owned() });
                }
            }
            Block::Item(item) => {
                finish_goal(file, &mut goal_lines);
                while open.last().is_some_and(|top| nodes[*top].item.indent >= item.indent) {
                    open.pop();
                }
                let parent = open.iter().rev().copied().find(|index| nodes[*index].task);
                let task = item.checkbox.is_some();
                if let Some(checkbox) = &item.checkbox
                    && let Some(why) = &checkbox.malformed
                {
                    problems.push(warning(checkbox.mark_span.clone(), why.clone()));
                }
                let index = nodes.len();
                if !task {
                    match parent {
                        Some(parent) => nodes[parent].notes.push((item.text, item.text_span.clone())),
                        None => looks_like_a_task(item.text, item.text_span.clone(), problems),
                    }
                } else if let Some(parent) = parent {
                    nodes[parent].children.push(index);
                }
                let end = item.line_span.end;
                for ancestor in &open {
                    nodes[*ancestor].end = end;
                }
                nodes.push(Node {
                    item,
                    task,
                    parent,
                    children: Vec::new(),
                    notes: Vec::new(),
                    fences: Vec::new(),
                    end,
                    phase: phases.len() - 1,
                });
                open.push(index);
            }
            Block::Text { indent, text: line, span, line_span } => {
                let continues = open.first().is_some_and(|first| indent > nodes[*first].item.indent) || !blank_before;
                match open.iter().rev().copied().find(|index| nodes[*index].task).filter(|_| continues) {
                    Some(task) => {
                        nodes[task].notes.push((line, span));
                        for ancestor in &open {
                            nodes[*ancestor].end = line_span.end;
                        }
                    }
                    None => {
                        open.clear();
                        if let Some(goal) = goal_lines.as_mut() {
                            goal.push(line);
                        }
                        prose_that_looks_like_a_task(line, span, problems);
                    }
                }
            }
            Block::Fence { indent, info, body, line_span } => {
                let under = open.first().is_some_and(|first| indent > nodes[*first].item.indent);
                match open.iter().rev().copied().find(|index| nodes[*index].task).filter(|_| under) {
                    Some(task) => {
                        nodes[task].fences.push((info, dedent(body, indent), line_span.clone()));
                        for ancestor in &open {
                            nodes[*ancestor].end = line_span.end;
                        }
                    }
                    None => open.clear(),
                }
                finish_goal(file, &mut goal_lines);
            }
        }
        blank_before = false;
    }
    finish_goal(file, &mut goal_lines);
    (nodes, phases)
}

fn finish_goal(file: &mut PlanFile, goal_lines: &mut Option<Vec<&str>>) {
    if let Some(lines) = goal_lines.take() {
        let goal = lines.join(" ");
        if !goal.trim().is_empty() && file.goal.is_none() {
            file.goal = Some(shortened(goal.trim(), GOAL_MAX_CHARS));
        }
    }
}

/// A bullet with no checkbox that starts like a spec-kit task (`T001 …`).
fn looks_like_a_task(text: &str, span: Span, problems: &mut Vec<FileProblem>) {
    let read = task_text(text, span.start);
    let starts_like_one =
        matches!(read.id, Some(LeadingId::Id(ref id, _) | LeadingId::Placeholder(ref id, _)) if id.starts_with('T'));
    if starts_like_one {
        problems.push(warning(
            span,
            format!("this looks like a task but has no checkbox, so it is not a step: write `- [ ] {text}`"),
        ));
    }
}

/// A quoted or unmarked checkbox line (`> - [ ] …`, `[ ] …`).
fn prose_that_looks_like_a_task(line: &str, span: Span, problems: &mut Vec<FileProblem>) {
    let unquoted = line.trim_start_matches(['>', ' ']);
    let unquoted = unquoted.strip_prefix(['-', '*', '+']).map_or(unquoted, str::trim_start);
    if ["[ ]", "[x]", "[X]"].iter().any(|checkbox| unquoted.starts_with(checkbox)) {
        let why = if line.starts_with('>') { "a task inside a quote" } else { "a checkbox outside a list" };
        problems.push(warning(span, format!("{why} is not a step: write it as `- [ ] …` at the start of a line")));
    }
}

/// Kiro's flat numbering: `- [ ] 2.` followed by `- [ ] 2.1`, `- [ ] 2.2` at the same level makes
/// 2.1 and 2.2 the steps of 2.
fn adopt_numbered_children(mut nodes: Vec<Node<'_>>) -> Vec<Node<'_>> {
    let numbered_id = |node: &Node<'_>| match task_text(node.item.text, 0).id {
        Some(LeadingId::Id(id, _)) if id.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') => Some(id),
        _ => None,
    };
    let ids: Vec<Option<String>> = nodes.iter().map(|node| node.task.then(|| numbered_id(node)).flatten()).collect();
    let by_id: HashMap<&str, usize> =
        ids.iter().enumerate().filter_map(|(index, id)| Some((id.as_deref()?, index))).collect();
    for index in 0..nodes.len() {
        if nodes[index].parent.is_some() {
            continue;
        }
        let Some(id) = ids[index].as_deref() else { continue };
        let Some((prefix, _)) = id.rsplit_once('.') else { continue };
        let Some(&parent) = by_id.get(prefix).filter(|parent| **parent < index) else { continue };
        nodes[index].parent = Some(parent);
        nodes[parent].children.push(index);
    }
    nodes
}

/// One step read off its node, before ids and the order are settled.
struct StepRead {
    entry: SubtaskEntry,
    /// Its id once settled (the leading id or `id:` note until then, or empty).
    id: String,
    placeholder: Option<(String, Span)>,
    parallel: bool,
    /// Written-out dependencies; `None`: the order decides.
    explicit: Option<Vec<String>>,
    labels: Vec<String>,
}

fn read_step(nodes: &[Node<'_>], index: usize, options: &ReadOptions, problems: &mut Vec<FileProblem>) -> StepRead {
    let node = &nodes[index];
    let read = task_text(node.item.text, node.item.text_span.start);
    let mut entry = SubtaskEntry {
        header_span: node.item.span.clone(),
        table_span: node.item.line_span.start..node.end,
        mark: node.item.checkbox.as_ref().map(mark_of),
        ..SubtaskEntry::default()
    };
    let mut step = StepRead {
        entry: SubtaskEntry::default(),
        id: String::new(),
        placeholder: None,
        parallel: read.parallel,
        explicit: None,
        labels: read.labels.clone(),
    };
    match &read.id {
        Some(LeadingId::Id(id, span)) => {
            step.id = id.clone();
            entry.id_span = Some(span.clone());
        }
        Some(LeadingId::Placeholder(id, span)) => step.placeholder = Some((id.clone(), span.clone())),
        None => {}
    }
    if read.title.is_empty() {
        problems.push(FileProblem::error(node.item.span.clone(), "a task with no text: write what the step does"));
    }
    let mut draft = SubtaskDraft { title: shortened(&read.title, TITLE_MAX_CHARS), ..SubtaskDraft::default() };
    entry.value_spans.push(("title", read.title_span.clone()));
    let stated = stated_dependencies(&read.title, read.title_span.start);
    if !stated.is_empty() {
        step.explicit = Some(Vec::new());
        for (id, span) in stated {
            draft.depends_on.push(id);
            entry.depends_on_spans.push(span);
        }
    }
    let mut description = Vec::new();
    if draft.title != read.title {
        description.push(read.title.clone());
    }
    if !read.labels.is_empty() {
        description.push(format!("Story: {}", read.labels.join(", ")));
    }
    let paths = paths_in(&read.title);
    if !paths.is_empty() {
        description.push(format!("Files: {}", paths.join(", ")));
    }
    if node.item.checkbox.as_ref().is_some_and(|checkbox| checkbox.optional) {
        description.push("Optional in the task list.".to_owned());
    }
    if let Some(group) = node.parent {
        description.push(format!("Part of: {}", nodes[group].item.text));
    }
    let mut agent_note = None;
    for (line, span) in &node.notes {
        let Some((kind, value, value_span)) = note(line, span.start) else {
            description.push(line.trim_matches('_').to_owned());
            continue;
        };
        apply_note(kind, value, value_span, &mut draft, &mut entry, &mut step, &mut agent_note, problems);
    }
    if draft.command.is_none() {
        if let Some((command, span)) = stated_command(&read.title, read.title_span.start) {
            draft.command = Some(command);
            entry.value_spans.push(("command", span));
        } else if let Some((_, body, span)) = node.fences.iter().find(|(info, _, _)| is_shell(info)) {
            draft.command = Some(body.clone());
            entry.value_spans.push(("command", span.clone()));
        }
    }
    draft.agent = match agent_note {
        Some(agent) => agent,
        None if draft.command.is_some() => AgentKind::Shell.as_str().to_owned(),
        None => step_kind(&read.title, options.with_model).0,
    };
    let description = description.join("\n");
    if !description.trim().is_empty() {
        draft.description = Some(shortened(&description, DESCRIPTION_MAX_CHARS));
    }
    entry.draft = draft;
    step.entry = entry;
    step
}

/// A note's value applied to the step (or reported at the value when it cannot be).
#[allow(clippy::too_many_arguments)]
fn apply_note(
    kind: Note,
    value: &str,
    value_span: Span,
    draft: &mut SubtaskDraft,
    entry: &mut SubtaskEntry,
    step: &mut StepRead,
    agent_note: &mut Option<String>,
    problems: &mut Vec<FileProblem>,
) {
    let bad = |problems: &mut Vec<FileProblem>, what: &str| {
        problems.push(FileProblem::error(value_span.clone(), format!("`{value}` is not {what}")));
    };
    match kind {
        Note::Id => {
            if !step.id.is_empty() && step.id != value {
                problems.push(FileProblem::error(
                    value_span.clone(),
                    format!("the task already has the id {} in front of it", step.id),
                ));
            }
            step.id = value.trim_matches('`').to_owned();
            entry.id_span = Some(value_span);
        }
        Note::After => {
            let explicit = step.explicit.get_or_insert_with(Vec::new);
            let none = matches!(value.to_lowercase().as_str(), "none" | "nothing" | "-" | "—" | "ничего");
            if !none {
                for (id, span) in id_list(value, value_span.start, false) {
                    draft.depends_on.push(id.clone());
                    entry.depends_on_spans.push(span);
                    explicit.push(id);
                }
            }
            entry.depends_on_array_span = Some(value_span);
        }
        Note::Agent => {
            *agent_note = Some(value.trim_matches('`').to_owned());
            entry.value_spans.push(("agent", value_span));
        }
        Note::Command => {
            let command = value.trim().trim_matches('`').trim();
            let command = command.strip_prefix("$ ").unwrap_or(command);
            draft.command = Some(command.to_owned());
            entry.value_spans.push(("command", value_span));
        }
        Note::Cwd => {
            draft.cwd = Some(value.trim_matches('`').to_owned());
            entry.value_spans.push(("cwd", value_span));
        }
        Note::Timeout => match seconds(value) {
            Some(secs) => {
                draft.timeout_secs = Some(secs);
                entry.value_spans.push(("timeout_secs", value_span));
            }
            None => bad(problems, "a duration (`600`, `90s`, `10m`, `1h`)"),
        },
        Note::Attempts => match value.parse::<i64>() {
            Ok(attempts) => {
                draft.max_attempts = Some(attempts);
                entry.value_spans.push(("max_attempts", value_span));
            }
            Err(_) => bad(problems, "a number of attempts"),
        },
        Note::Estimate => match seconds(value).and_then(|secs| u64::try_from(secs).ok()) {
            Some(secs) => {
                draft.estimate_secs = Some(secs);
                entry.value_spans.push(("estimate_secs", value_span));
            }
            None => bad(problems, "a duration (`30s`, `5m`)"),
        },
    }
}

/// The file paths a task names (`src/models/user.py`, `tests/`, `pyproject.toml`): words with a
/// file extension or ending in `/`, backticks and trailing punctuation taken off.
fn paths_in(title: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for word in title.split_whitespace() {
        let word =
            word.trim_matches(|character: char| matches!(character, '`' | '(' | ')' | ',' | ';' | ':' | '"' | '\''));
        let word = word.strip_suffix('.').unwrap_or(word);
        let has_extension = word.rsplit_once('.').is_some_and(|(stem, extension)| {
            stem.trim_start_matches(['.', '/']).chars().count() > 1
                && (1..=5).contains(&extension.len())
                && extension.bytes().all(|byte| byte.is_ascii_alphanumeric())
                && extension.bytes().any(|byte| byte.is_ascii_alphabetic())
        });
        let folder = word.len() > 1 && word.ends_with('/') && !word.contains("://");
        let looks_like_a_path = folder || (has_extension && !word.contains("://"));
        if looks_like_a_path && !paths.iter().any(|path| path == word) {
            paths.push(word.to_owned());
        }
    }
    paths
}

/// A fenced block's body with the fence's indent taken off each line.
fn dedent(body: &str, indent: usize) -> String {
    let lines: Vec<&str> = body
        .lines()
        .map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            &line[spaces.min(indent)..]
        })
        .collect();
    lines.join("\n")
}

fn is_shell(info: &str) -> bool {
    matches!(info.split_whitespace().next(), Some("sh" | "bash" | "shell" | "zsh" | "console" | "shell-session"))
}

/// The agent and command of a step that says only its title: a shell step for a command it
/// states, else an agent step with a model, a step for a person without one.
pub(super) fn step_kind(title: &str, with_model: bool) -> (String, Option<String>) {
    if let Some((command, _)) = stated_command(title, 0) {
        return (AgentKind::Shell.as_str().to_owned(), Some(command));
    }
    let agent = if with_model { agent_for(title) } else { AgentKind::Manual };
    (agent.as_str().to_owned(), None)
}

/// The agent a step with no command gets when a model is configured: the keyword classifier's
/// (debug for a fix, ask for an explanation), else coder.
fn agent_for(title: &str) -> AgentKind {
    let classification = classify_keywords(title);
    if classification.is_atomic() {
        AgentKind::for_route(classification.agent()).unwrap_or(AgentKind::Coder)
    } else {
        AgentKind::Coder
    }
}

fn mark_of(checkbox: &Checkbox) -> Mark {
    Mark { span: checkbox.mark_span.clone(), checked: checkbox.checked() }
}

/// Settles every step's id: its own, else the next `T0NN` in a spec-kit list (with a warning for
/// a placeholder), else `s<position>`; ids already taken are skipped.
fn assign_ids(reads: &mut [StepRead], problems: &mut Vec<FileProblem>) {
    let mut taken: HashSet<String> =
        reads.iter().filter(|read| !read.id.is_empty()).map(|read| read.id.clone()).collect();
    let spec_kit = reads.iter().any(|read| is_spec_kit_id(&read.id) || read.placeholder.is_some());
    let mut next_number = reads.iter().filter_map(|read| spec_kit_number(&read.id)).max().unwrap_or(0) + 1;
    for (position, read) in reads.iter_mut().enumerate() {
        if !read.id.is_empty() {
            continue;
        }
        let id = loop {
            let candidate = if spec_kit { format!("T{next_number:03}") } else { format!("s{}", position + 1) };
            if spec_kit {
                next_number += 1;
            }
            if taken.insert(candidate.clone()) {
                break candidate;
            }
            if !spec_kit {
                // `s<position>` is taken: the next free `s<n>` after it.
                let mut number = position + 2;
                while !taken.insert(format!("s{number}")) {
                    number += 1;
                }
                break format!("s{number}");
            }
        };
        if let Some((placeholder, span)) = &read.placeholder {
            problems
                .push(warning(span.clone(), format!("`{placeholder}` is a placeholder: this step is numbered {id}")));
        }
        read.id = id;
    }
}

fn is_spec_kit_id(id: &str) -> bool {
    spec_kit_number(id).is_some()
}

fn spec_kit_number(id: &str) -> Option<u32> {
    id.strip_prefix('T').filter(|digits| !digits.is_empty()).and_then(|digits| digits.parse().ok())
}

/// Tasks with tasks under them, as groups of the steps below them.
fn groups_of(
    nodes: &[Node<'_>],
    steps: &[usize],
    reads: &[StepRead],
    problems: &mut Vec<FileProblem>,
) -> Vec<GroupEntry> {
    let id_of_node: HashMap<usize, &str> =
        steps.iter().zip(reads).map(|(index, read)| (*index, read.id.as_str())).collect();
    let mut groups = Vec::new();
    for node in nodes {
        if !node.task || node.children.is_empty() {
            continue;
        }
        let mut members = Vec::new();
        let mut pending: Vec<usize> = node.children.iter().rev().copied().collect();
        while let Some(child) = pending.pop() {
            match id_of_node.get(&child) {
                Some(id) => members.push((*id).to_owned()),
                None => pending.extend(nodes[child].children.iter().rev().copied()),
            }
        }
        let read = task_text(node.item.text, node.item.text_span.start);
        let id = match read.id {
            Some(LeadingId::Id(id, _)) => Some(id),
            _ => None,
        };
        for (line, span) in &node.notes {
            if note(line, span.start).is_some() {
                problems.push(warning(
                    span.clone(),
                    "a note on a task with sub-tasks applies to none of them: put it under the sub-task it is for",
                ));
            }
        }
        groups.push(GroupEntry {
            id,
            title: read.title,
            header_span: node.item.span.clone(),
            mark: node.item.checkbox.as_ref().map(mark_of),
            members,
        });
    }
    groups
}

/// Phases whose steps all start after the phase before them, side by side: spec-kit's user-story
/// phases (the heading names a user story, or every step in it carries a `US` label).
fn story_phases(phases: &[Phase], nodes: &[Node<'_>], steps: &[usize], reads: &[StepRead]) -> HashSet<usize> {
    let mut by_phase: HashMap<usize, Vec<&StepRead>> = HashMap::new();
    for (index, read) in steps.iter().zip(reads) {
        by_phase.entry(nodes[*index].phase).or_default().push(read);
    }
    by_phase
        .into_iter()
        .filter(|(phase, reads)| {
            let heading = phases[*phase].text.to_lowercase();
            let named = heading.contains("user story") || heading.contains("история");
            let labelled = reads.iter().all(|read| read.labels.iter().any(|label| label.starts_with("US")));
            *phase > 0 && (named || labelled)
        })
        .map(|(phase, _)| phase)
        .collect()
}

/// Ids with a group's id replaced by its steps' ids.
fn expand(ids: &[String], groups: &HashMap<&str, &[String]>) -> Vec<String> {
    let mut expanded = Vec::with_capacity(ids.len());
    for id in ids {
        match groups.get(id.as_str()) {
            Some(members) => expanded.extend(members.iter().cloned()),
            None => expanded.push(id.clone()),
        }
    }
    expanded.dedup();
    expanded
}

fn warning(span: Span, message: impl Into<String>) -> FileProblem {
    FileProblem { span, message: message.into(), severity: Severity::Warning }
}

#[cfg(test)]
mod tests;
