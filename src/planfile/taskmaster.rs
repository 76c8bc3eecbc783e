//! Taskmaster's `tasks.json`, read from its format alone (`{ "master": { "tasks": [...] } }`,
//! or the older `{ "tasks": [...] }`): every task with no subtasks is a step with its number as
//! id; a task with subtasks is a group, and each subtask a step `N.M`. `dependencies` are kept
//! (a subtask's plain number is a sibling when it has one, `"N.M"` any subtask, a task with subtasks stands for
//! all of them), a subtask also waits for what its task waits for, and `"status": "done"` is the
//! tick. Other fields (`priority`, …) are left alone.

use std::collections::HashMap;

use super::json::{self, Json, Spanned};
use super::{FileProblem, Format, GroupEntry, Mark, PlanFile, ReadOptions, Severity, Span, SubtaskEntry};
use crate::model::validate::{DESCRIPTION_MAX_CHARS, GOAL_MAX_CHARS, SubtaskDraft, TITLE_MAX_CHARS};

/// The status that is a tick.
pub const DONE: &str = "done";

/// A task or subtask as read, before dependencies are resolved.
struct Read {
    entry: SubtaskEntry,
    /// `(written id, span)`; the parent's number for a subtask's plain numbers.
    written: Vec<(String, Span)>,
    parent: Option<String>,
}

/// Parses a `tasks.json`. Always returns a `PlanFile` and every problem found.
pub fn parse(text: &str, options: &ReadOptions) -> (PlanFile, Vec<FileProblem>) {
    let mut file = PlanFile { format: Format::Taskmaster, title: options.file_name.clone(), ..PlanFile::default() };
    let mut problems = Vec::new();
    let root = match json::parse(text) {
        Ok(root) => root,
        Err(error) => {
            problems.push(FileProblem::error(error.span, format!("json: {}", error.message)));
            return (file, problems);
        }
    };
    let Some(tag) = tasks_holder(&root, &mut problems) else { return (file, problems) };
    if let Some(description) = tag.get("metadata").and_then(|metadata| metadata.get("description")) {
        file.goal = description.as_str().map(|goal| super::markdown::shortened(goal, GOAL_MAX_CHARS));
    }
    let Some(tasks) = tag.get("tasks") else { return (file, problems) };
    let Some(tasks) = tasks.as_array() else {
        problems.push(wrong(tasks, "`tasks` must be an array of tasks"));
        return (file, problems);
    };
    let mut reads = Vec::new();
    let mut groups: Vec<GroupEntry> = Vec::new();
    for task in tasks {
        read_task(task, options, &mut reads, &mut groups, &mut problems);
    }
    let members: HashMap<&str, &[String]> =
        groups.iter().filter_map(|group| Some((group.id.as_deref()?, group.members.as_slice()))).collect();
    let group_dependencies: HashMap<String, Vec<(String, Span)>> = reads
        .iter()
        .filter(|read| read.parent.is_none())
        .filter_map(|read| Some((read.entry.draft.id.clone()?, read.written.clone())))
        .collect();
    let ids: std::collections::HashSet<&str> = reads.iter().filter_map(|read| read.entry.draft.id.as_deref()).collect();
    let mut subtasks = Vec::with_capacity(reads.len());
    for read in &reads {
        if read.parent.is_none() && read.entry.draft.id.as_deref().is_some_and(|id| members.contains_key(id)) {
            continue; // a task with subtasks: a group, not a step
        }
        let mut entry = read.entry.clone();
        for (written, span) in &read.written {
            let id = match &read.parent {
                Some(parent) if !written.contains('.') && ids.contains(format!("{parent}.{written}").as_str()) => {
                    format!("{parent}.{written}")
                }
                _ => written.clone(),
            };
            for resolved in expand(&id, &members) {
                entry.draft.depends_on.push(resolved);
                entry.depends_on_spans.push(span.clone());
            }
        }
        if let Some(inherited) = read.parent.as_ref().and_then(|parent| group_dependencies.get(parent)) {
            for (written, _) in inherited {
                for resolved in expand(written, &members) {
                    if !entry.draft.depends_on.contains(&resolved) {
                        entry.draft.depends_on.push(resolved);
                    }
                }
            }
        }
        subtasks.push(entry);
    }
    file.subtasks = subtasks;
    file.groups = groups;
    (file, problems)
}

/// The object that holds `tasks`: the root (older files), else the `master` tag, else the first
/// tag that has tasks.
fn tasks_holder<'a>(root: &'a Spanned, problems: &mut Vec<FileProblem>) -> Option<&'a Spanned> {
    let Json::Object(members) = &root.value else {
        problems.push(wrong(root, "a Taskmaster tasks.json is an object with `tasks` (or a tag such as `master`)"));
        return None;
    };
    if root.get("tasks").is_some() {
        return Some(root);
    }
    let tagged: Vec<&(String, Span, Spanned)> =
        members.iter().filter(|(_, _, value)| value.get("tasks").is_some()).collect();
    let chosen = tagged.iter().find(|(name, _, _)| name == "master").or_else(|| tagged.first());
    let Some((chosen_name, _, holder)) = chosen.copied() else {
        problems.push(FileProblem::error(
            root.span.start..root.span.start + 1,
            "no `tasks` list found (expected `{ \"master\": { \"tasks\": [...] } }`)",
        ));
        return None;
    };
    for (name, key_span, _) in tagged.iter().copied() {
        if name != chosen_name {
            problems.push(FileProblem {
                span: key_span.clone(),
                message: format!("only the tag `{chosen_name}` is read; the tasks of `{name}` are not steps"),
                severity: Severity::Warning,
            });
        }
    }
    Some(holder)
}

fn read_task(
    task: &Spanned,
    options: &ReadOptions,
    reads: &mut Vec<Read>,
    groups: &mut Vec<GroupEntry>,
    problems: &mut Vec<FileProblem>,
) {
    let Some(read) = read_one(task, None, options, problems) else { return };
    let task_id = read.entry.draft.id.clone().unwrap_or_default();
    let subtasks = match task.get("subtasks") {
        Some(list) => match list.as_array() {
            Some(list) => list,
            None => {
                problems.push(wrong(list, "`subtasks` must be an array"));
                &[]
            }
        },
        None => &[],
    };
    let mut members = Vec::new();
    let at = reads.len();
    for subtask in subtasks {
        if let Some(sub) = read_one(subtask, Some(&task_id), options, problems) {
            members.extend(sub.entry.draft.id.clone());
            reads.push(sub);
        }
    }
    if !members.is_empty() {
        groups.push(GroupEntry {
            id: Some(task_id),
            title: read.entry.draft.title.clone(),
            header_span: read.entry.header_span.clone(),
            mark: read.entry.mark.clone(),
            members,
        });
    }
    reads.insert(at, read); // before its subtasks
}

fn read_one(
    value: &Spanned,
    parent: Option<&str>,
    options: &ReadOptions,
    problems: &mut Vec<FileProblem>,
) -> Option<Read> {
    if !matches!(value.value, Json::Object(_)) {
        problems.push(wrong(value, "a task must be an object with `id` and `title`"));
        return None;
    }
    let title_member = value.get("title");
    let header_span = member_span(value, "title").unwrap_or_else(|| value.span.start..value.span.start + 1);
    let mut entry =
        SubtaskEntry { header_span: header_span.clone(), table_span: value.span.clone(), ..SubtaskEntry::default() };
    let id = match value.get("id") {
        Some(id) => match id.as_key() {
            Some(number) => {
                entry.id_span = Some(id.span.clone());
                match parent {
                    Some(parent) => format!("{parent}.{number}"),
                    None => number,
                }
            }
            None => {
                problems.push(wrong(id, &format!("`id` must be a number, not {}", id.kind())));
                return None;
            }
        },
        None => {
            problems.push(FileProblem::error(header_span, "a task without `id`"));
            return None;
        }
    };
    let title = match title_member.map(|title| (title, title.as_str())) {
        Some((title, Some(text))) => {
            entry.value_spans.push(("title", title.span.clone()));
            text.trim().to_owned()
        }
        Some((title, None)) => {
            problems.push(wrong(title, "`title` must be a string"));
            String::new()
        }
        None => {
            problems.push(FileProblem::error(entry.header_span.clone(), format!("task {id} has no `title`")));
            String::new()
        }
    };
    let mut description = Vec::new();
    if super::markdown::shortened(&title, TITLE_MAX_CHARS) != title {
        description.push(title.clone());
    }
    for (field, label) in [("description", ""), ("details", ""), ("testStrategy", "Test strategy: ")] {
        if let Some(text) = value.get(field) {
            match text.as_str() {
                Some(text) if !text.trim().is_empty() => description.push(format!("{label}{}", text.trim())),
                Some(_) => {}
                None => problems.push(wrong(text, &format!("`{field}` must be a string"))),
            }
        }
    }
    if let Some(status) = value.get("status") {
        match status.as_str() {
            Some(text) => entry.mark = Some(Mark { span: status.span.clone(), checked: text == DONE }),
            None => problems.push(wrong(status, "`status` must be a string (`pending`, `in-progress`, `done`, …)")),
        }
    }
    let mut written = Vec::new();
    if let Some(dependencies) = value.get("dependencies") {
        match dependencies.as_array() {
            Some(items) => {
                entry.depends_on_array_span = Some(dependencies.span.clone());
                for item in items {
                    match item.as_key() {
                        Some(key) => written.push((key, item.span.clone())),
                        None => problems.push(wrong(item, "a dependency is a task number or `\"N.M\"`")),
                    }
                }
            }
            None => problems.push(wrong(dependencies, "`dependencies` must be an array")),
        }
    }
    let (agent, command) = super::markdown::step_kind(&title, options.with_model);
    let description = description.join("\n\n");
    entry.draft = SubtaskDraft {
        id: Some(id),
        title: super::markdown::shortened(&title, TITLE_MAX_CHARS),
        description: (!description.is_empty()).then(|| super::markdown::shortened(&description, DESCRIPTION_MAX_CHARS)),
        agent,
        command,
        ..SubtaskDraft::default()
    };
    Some(Read { entry, written, parent: parent.map(str::to_owned) })
}

/// The span from a member's key to the end of its value.
fn member_span(object: &Spanned, key: &str) -> Option<Span> {
    let Json::Object(members) = &object.value else { return None };
    members.iter().find(|(name, _, _)| name == key).map(|(_, key_span, value)| key_span.start..value.span.end)
}

fn expand(id: &str, groups: &HashMap<&str, &[String]>) -> Vec<String> {
    match groups.get(id) {
        Some(members) => members.to_vec(),
        None => vec![id.to_owned()],
    }
}

fn wrong(value: &Spanned, message: &str) -> FileProblem {
    FileProblem::error(value.span.clone(), message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_subtasks_and_dependencies() {
        let text = r#"{"master": {"tasks": [
            {"id": 1, "title": "Set up", "status": "done", "dependencies": []},
            {"id": 2, "title": "API", "status": "pending", "dependencies": [1], "subtasks": [
                {"id": 1, "title": "Routes", "status": "pending", "dependencies": []},
                {"id": 2, "title": "Handlers", "status": "pending", "dependencies": [1]}
            ]},
            {"id": 3, "title": "Run `npm test`", "status": "pending", "dependencies": [2]}
        ], "metadata": {"description": "A web app"}}}"#;
        let (file, problems) = parse(text, &ReadOptions { with_model: true, file_name: Some("tasks.json".into()) });
        assert_eq!(problems, vec![]);
        let shape: Vec<(String, Vec<String>, String)> = file
            .subtasks
            .iter()
            .map(|entry| (entry.draft.id.clone().unwrap(), entry.draft.depends_on.clone(), entry.draft.agent.clone()))
            .collect();
        let expected = [
            ("1", vec![], "coder"),
            ("2.1", vec!["1"], "coder"),
            ("2.2", vec!["2.1", "1"], "coder"),
            ("3", vec!["2.1", "2.2"], "shell"),
        ];
        let expected: Vec<(String, Vec<String>, String)> = expected
            .iter()
            .map(|(id, deps, agent)| (id.to_string(), deps.iter().map(|d| d.to_string()).collect(), agent.to_string()))
            .collect();
        assert_eq!(shape, expected);
        assert_eq!(file.ticked(), vec!["1"]);
        assert_eq!(file.groups[0].members, vec!["2.1", "2.2"]);
        assert_eq!(file.goal.as_deref(), Some("A web app"));
        assert_eq!(file.subtasks[3].draft.command.as_deref(), Some("npm test"));
    }

    #[test]
    fn problems_are_placed() {
        let text = "{\"tasks\": [{\"id\": \"x\", \"title\": 5}, {\"title\": \"no id\"}, 3]}";
        let (_, problems) = parse(text, &ReadOptions::default());
        let placed: Vec<&str> = problems.iter().map(|problem| &text[problem.span.clone()]).collect();
        assert_eq!(placed, vec!["5", "\"title\": \"no id\"", "3"]);
        let (_, problems) = parse("{\"tasks\": [", &ReadOptions::default());
        assert!(problems[0].message.starts_with("json: "), "{problems:?}");
    }
}
