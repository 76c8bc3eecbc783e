//! The plan rules applied to a parsed plan file, each problem placed on the text it is about.
//!
//! The rules are the server's own (`model::validate::build_subtasks`, `graph`): this module only
//! maps their wire paths (`subtask[2].dependsOn[0]`) back onto byte ranges, and reports a cycle
//! on every id in it. It also cuts a plan down for "run from here".

use std::collections::{BTreeSet, HashMap};

use super::{CheckedPlanFile, FileProblem, Format, PlanFile, ReadOptions, Span, parse_as};
use crate::graph::{DependencyGraph, GraphError};
use crate::model::AgentKind;
use crate::model::validate::{Problem, ProblemKind, SubtaskDraft, build_subtasks, validate_title};
use crate::model::{SubtaskId, validate::validate_goal};

/// The list path used for problems; it matches the file's `[[subtask]]`.
const LIST_PATH: &str = "subtask";

/// Parses and checks a `*.plan.toml` file: every problem, sorted by position.
pub fn check(text: &str) -> CheckedPlanFile {
    check_as(text, Format::Toml, &ReadOptions::default())
}

/// Parses and checks a plan file of any format: every problem, sorted by position.
pub fn check_as(text: &str, format: Format, options: &ReadOptions) -> CheckedPlanFile {
    let (file, mut problems) = parse_as(text, format, options);
    if format != Format::Toml && file.subtasks.is_empty() && !problems.iter().any(|problem| problem.span == (0..0)) {
        let what = match format {
            Format::Taskmaster => "no task found: a Taskmaster tasks.json lists them under `tasks`",
            _ => "no task found: a step is a list item with a checkbox, `- [ ] …`",
        };
        problems.push(FileProblem::error(0..0, what));
    }
    if let (Some(title), Some(span)) = (&file.title, &file.title_span)
        && let Err(problem) = validate_title(title, "title")
    {
        problems.push(FileProblem::error(span.clone(), problem.message));
    }
    if let Some(goal) = &file.goal
        && let Err(problem) = validate_goal(goal, "goal")
    {
        problems.push(FileProblem::error(0..0, format!("goal: {}", problem.message)));
    }
    if let Err(errors) = build_subtasks(&file.drafts(), LIST_PATH) {
        // Cycles come from `cycle_problems`, which finds them even beside unknown ids.
        let field_problems = errors.0.iter().filter(|problem| problem.kind == ProblemKind::Field);
        problems.extend(field_problems.map(|problem| locate(&file, problem)));
    }
    problems.extend(cycle_problems(&file));
    problems.sort_by_key(|problem| (problem.span.start, problem.span.end));
    problems.dedup();
    CheckedPlanFile { file, problems }
}

/// Places one field problem: on the value it names, else on its subtask's header.
fn locate(file: &PlanFile, problem: &Problem) -> FileProblem {
    let Some((index, field, position)) = split_path(&problem.path) else {
        return FileProblem::error(0..0, problem.to_string());
    };
    let Some(entry) = file.subtasks.get(index) else { return FileProblem::error(0..0, problem.to_string()) };
    let snake = snake_case(field);
    let span = match (snake.as_str(), position) {
        ("depends_on", Some(position)) => entry.depends_on_spans.get(position).cloned(),
        (name, _) => entry.value_span(name),
    };
    match span {
        Some(span) => FileProblem::error(span, problem.message.clone()),
        None if snake == "agent" => FileProblem::error(
            entry.header_span.clone(),
            format!("missing field `agent` (expected {})", AgentKind::expected()),
        ),
        None if snake == "title" => FileProblem::error(entry.header_span.clone(), "missing field `title`"),
        None => FileProblem::error(entry.header_span.clone(), format!("`{snake}`: {}", problem.message)),
    }
}

/// `subtask[2].dependsOn[0]` → `(2, "dependsOn", Some(0))`; `subtask[2].agent` → `(2, "agent", None)`.
fn split_path(path: &str) -> Option<(usize, &str, Option<usize>)> {
    let rest = path.strip_prefix(LIST_PATH)?.strip_prefix('[')?;
    let (index, rest) = rest.split_once(']')?;
    let index = index.parse().ok()?;
    let field = rest.strip_prefix('.').unwrap_or("");
    match field.split_once('[') {
        Some((name, position)) => Some((index, name, position.trim_end_matches(']').parse().ok())),
        None => Some((index, field, None)),
    }
}

fn snake_case(field: &str) -> String {
    let mut snake = String::with_capacity(field.len() + 2);
    for character in field.chars() {
        if character.is_ascii_uppercase() {
            snake.push('_');
            snake.push(character.to_ascii_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}

/// Each cycle, reported on every id in it (the message is the whole path).
fn cycle_problems(file: &PlanFile) -> Vec<FileProblem> {
    let nodes: Vec<(SubtaskId, Vec<SubtaskId>)> = (0..file.subtasks.len())
        .map(|index| {
            let dependencies = file.subtasks[index].draft.depends_on.iter().cloned().map(SubtaskId::from_raw);
            (SubtaskId::from_raw(file.id_of(index)), dependencies.collect())
        })
        .collect();
    let Err(errors) = DependencyGraph::from_edges(&nodes) else { return Vec::new() };
    let mut problems = Vec::new();
    for error in errors {
        let GraphError::Cycle { path } = &error else { continue };
        let ids: BTreeSet<&str> = path.iter().map(SubtaskId::as_str).collect();
        for id in ids {
            problems.push(FileProblem::error(id_span(file, id), error.to_string()));
        }
    }
    problems
}

fn id_span(file: &PlanFile, id: &str) -> Span {
    match file.entry_with_id(id) {
        Some((_, entry)) => entry.id_span.clone().unwrap_or_else(|| entry.header_span.clone()),
        None => (0..file.subtasks.len())
            .find(|index| file.id_of(*index) == id)
            .map_or(0..0, |index| file.subtasks[index].header_span.clone()),
    }
}

/// "Run from here": the subtask `from` and everything that depends on it, directly or not;
/// dependencies outside that set are dropped (they are taken as done).
pub fn run_from(file: &PlanFile, from: &str) -> Option<Vec<SubtaskDraft>> {
    let ids: Vec<String> = (0..file.subtasks.len()).map(|index| file.id_of(index)).collect();
    let start = ids.iter().position(|id| id == from)?;
    let mut dependents_of: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, entry) in file.subtasks.iter().enumerate() {
        for dependency in &entry.draft.depends_on {
            dependents_of.entry(dependency.as_str()).or_default().push(index);
        }
    }
    let mut chosen = BTreeSet::from([start]);
    let mut pending = vec![start];
    while let Some(index) = pending.pop() {
        for dependent in dependents_of.get(ids[index].as_str()).into_iter().flatten() {
            if chosen.insert(*dependent) {
                pending.push(*dependent);
            }
        }
    }
    let kept: BTreeSet<&str> = chosen.iter().map(|index| ids[*index].as_str()).collect();
    Some(
        chosen
            .iter()
            .map(|index| {
                let mut draft = file.subtasks[*index].draft.clone();
                draft.id = Some(ids[*index].clone());
                draft.depends_on.retain(|dependency| kept.contains(dependency.as_str()));
                draft
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        check(text).problems.into_iter().map(|problem| (text[problem.span].to_owned(), problem.message)).collect()
    }

    fn step(id: &str, depends_on: &str) -> String {
        format!(
            "[[subtask]]\nid = \"{id}\"\ntitle = \"Step {id}\"\nagent = \"shell\"\ncommand = \"true\"\ndepends_on = [{depends_on}]\n"
        )
    }

    #[test]
    fn a_valid_file_has_no_problems() {
        let text = format!("title = \"ok\"\n{}{}", step("a", ""), step("b", "\"a\""));
        assert_eq!(found(&text), vec![]);
    }

    #[test]
    fn unknown_and_duplicate_ids_agents_and_missing_commands_are_placed() {
        let text = format!(
            "title = \"t\"\n{}{}[[subtask]]\nid = \"c\"\ntitle = \"C\"\nagent = \"wizard\"\n[[subtask]]\nid = \"d\"\ntitle = \"D\"\nagent = \"shell\"\n",
            step("a", "\"nope\""),
            step("a", "")
        );
        assert_eq!(
            found(&text),
            vec![
                ("\"nope\"".to_owned(), "unknown subtask \"nope\"".to_owned()),
                ("\"a\"".to_owned(), "duplicate id \"a\" (first at subtask[0])".to_owned()),
                (
                    "\"wizard\"".to_owned(),
                    "unknown agent \"wizard\" (expected \"coder\", \"debug\", \"ask\", \"shell\", \"manual\")"
                        .to_owned()
                ),
                ("[[subtask]]".to_owned(), "`command`: required for the shell agent".to_owned()),
            ]
        );
    }

    #[test]
    fn a_cycle_is_reported_on_each_id_in_it() {
        let text = format!("title = \"t\"\n{}{}{}", step("a", "\"c\""), step("b", "\"a\""), step("c", "\"b\""));
        let problems = found(&text);
        assert_eq!(problems.len(), 3, "{problems:?}");
        for (id, (slice, message)) in ["a", "b", "c"].iter().zip(&problems) {
            assert_eq!(slice, &format!("\"{id}\""));
            assert_eq!(message, "dependency cycle: a -> c -> b -> a");
        }
    }

    #[test]
    fn run_from_keeps_the_subtask_and_its_dependents() {
        let text = format!(
            "title = \"t\"\n{}{}{}{}",
            step("a", ""),
            step("b", "\"a\""),
            step("c", "\"b\""),
            step("d", "\"a\"")
        );
        let file = check(&text).file;
        let drafts = run_from(&file, "b").unwrap();
        let shape: Vec<(Option<&str>, Vec<&str>)> = drafts
            .iter()
            .map(|draft| (draft.id.as_deref(), draft.depends_on.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(shape, vec![(Some("b"), vec![]), (Some("c"), vec!["b"])]);
        assert!(run_from(&file, "zzz").is_none());
    }
}
