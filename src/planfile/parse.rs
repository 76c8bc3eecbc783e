//! TOML text → [`PlanFile`] with the byte range of every value, using `toml_edit`'s
//! span-keeping `ImDocument`. Reports what TOML itself can tell: syntax errors, unknown fields,
//! values of the wrong type, a missing `title`. Plan rules (ids, agents, cycles) are `check`'s.

use toml_edit::{ImDocument, Item, Table, Value};

use super::{FileProblem, PlanFile, Span, SubtaskEntry};
use crate::model::validate::SubtaskDraft;

const TOP_FIELDS: &[&str] = &["title", "goal", "subtask"];
const SUBTASK_FIELDS: &[&str] = &[
    "id",
    "title",
    "description",
    "agent",
    "command",
    "cwd",
    "depends_on",
    "timeout_secs",
    "max_attempts",
    "estimate_secs",
    "role",
];

/// Parses a plan file. Always returns a `PlanFile` (empty after a syntax error) and every
/// problem found, so an editor can show all of them at once.
pub fn parse(text: &str) -> (PlanFile, Vec<FileProblem>) {
    let mut problems = Vec::new();
    let document = match ImDocument::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let span = widen(text, error.span().unwrap_or(0..0));
            let message = error.message().lines().next().unwrap_or("invalid toml").trim().to_owned();
            problems.push(FileProblem::error(span, format!("toml: {message}")));
            return (PlanFile::default(), problems);
        }
    };
    let root = document.as_table();
    let mut file = PlanFile::default();
    for (key, item) in root.iter() {
        let key_span = key_span(root, key);
        match key {
            "title" => {
                file.title = string_of(item, "title", &key_span, &mut problems);
                file.title_span = item.span();
            }
            "goal" => file.goal = string_of(item, "goal", &key_span, &mut problems),
            "subtask" => file.subtasks = subtasks_of(text, item, &key_span, &mut problems),
            other => problems.push(unknown_field(other, key_span, TOP_FIELDS)),
        }
    }
    if root.get("title").is_none() {
        problems.push(FileProblem::error(first_line(text), "missing field `title`"));
    }
    set_table_spans(&mut file.subtasks, text.len());
    (file, problems)
}

fn subtasks_of(text: &str, item: &Item, key_span: &Span, problems: &mut Vec<FileProblem>) -> Vec<SubtaskEntry> {
    let Some(tables) = item.as_array_of_tables() else {
        let span = item.span().unwrap_or_else(|| key_span.clone());
        problems.push(FileProblem::error(span, "`subtask` must be a list of [[subtask]] tables"));
        return Vec::new();
    };
    tables.iter().map(|table| subtask_of(text, table, problems)).collect()
}

fn subtask_of(text: &str, table: &Table, problems: &mut Vec<FileProblem>) -> SubtaskEntry {
    let header_span = header_of(text, table.span().unwrap_or(0..0));
    let mut entry = SubtaskEntry { header_span: header_span.clone(), ..SubtaskEntry::default() };
    let mut draft = SubtaskDraft::default();
    for (key, item) in table.iter() {
        let key_span = key_span(table, key);
        let Some(field) = SUBTASK_FIELDS.iter().copied().find(|field| *field == key) else {
            problems.push(unknown_field(key, key_span, SUBTASK_FIELDS));
            continue;
        };
        if let Some(span) = item.span() {
            entry.value_spans.push((field, span));
        }
        match field {
            "id" => {
                draft.id = string_of(item, field, &key_span, problems);
                entry.id_span = item.span();
            }
            "title" => draft.title = string_of(item, field, &key_span, problems).unwrap_or_default(),
            "description" => draft.description = string_of(item, field, &key_span, problems),
            "agent" => draft.agent = string_of(item, field, &key_span, problems).unwrap_or_default(),
            "command" => draft.command = string_of(item, field, &key_span, problems),
            "cwd" => draft.cwd = string_of(item, field, &key_span, problems),
            "role" => draft.role = string_of(item, field, &key_span, problems),
            "depends_on" => {
                entry.depends_on_array_span = item.span();
                for (dependency, span) in dependencies_of(item, &key_span, problems) {
                    draft.depends_on.push(dependency);
                    entry.depends_on_spans.push(span);
                }
            }
            "timeout_secs" => draft.timeout_secs = integer_of(item, field, &key_span, problems),
            "max_attempts" => draft.max_attempts = integer_of(item, field, &key_span, problems),
            _ => {
                let value = integer_of(item, field, &key_span, problems);
                draft.estimate_secs = value.and_then(|value| u64::try_from(value).ok());
                if value.is_some_and(|value| value < 0) {
                    problems.push(type_problem(item, field, &key_span, "a number of seconds, 0 or more"));
                }
            }
        }
    }
    entry.draft = draft;
    entry
}

fn dependencies_of(item: &Item, key_span: &Span, problems: &mut Vec<FileProblem>) -> Vec<(String, Span)> {
    let Some(array) = item.as_array() else {
        problems.push(type_problem(item, "depends_on", key_span, "a list of subtask ids"));
        return Vec::new();
    };
    let mut dependencies = Vec::new();
    for value in array.iter() {
        let span = value.span().unwrap_or_else(|| key_span.clone());
        match value {
            Value::String(text) => dependencies.push((text.value().clone(), span)),
            _ => problems.push(FileProblem::error(span, "`depends_on` must hold subtask ids (strings)")),
        }
    }
    dependencies
}

fn string_of(item: &Item, field: &str, key_span: &Span, problems: &mut Vec<FileProblem>) -> Option<String> {
    match item.as_str() {
        Some(text) => Some(text.to_owned()),
        None => {
            problems.push(type_problem(item, field, key_span, "a string"));
            None
        }
    }
}

fn integer_of(item: &Item, field: &str, key_span: &Span, problems: &mut Vec<FileProblem>) -> Option<i64> {
    match item.as_integer() {
        Some(number) => Some(number),
        None => {
            problems.push(type_problem(item, field, key_span, "an integer"));
            None
        }
    }
}

fn type_problem(item: &Item, field: &str, key_span: &Span, expected: &str) -> FileProblem {
    FileProblem::error(item.span().unwrap_or_else(|| key_span.clone()), format!("`{field}` must be {expected}"))
}

fn unknown_field(key: &str, span: Span, expected: &[&str]) -> FileProblem {
    FileProblem::error(span, format!("unknown field `{key}` (expected one of: {})", expected.join(", ")))
}

fn key_span(table: &Table, key: &str) -> Span {
    table.key(key).and_then(|key| key.span()).unwrap_or(0..0)
}

/// The `[[subtask]]` header at the start of a table's span.
fn header_of(text: &str, table_span: Span) -> Span {
    let start = table_span.start.min(text.len());
    match text[start..].find("]]") {
        Some(end) if start + end < table_span.end.max(start + 1) => start..start + end + 2,
        _ => table_span,
    }
}

/// Each subtask's table runs from its header to the next header (or the end).
/// Linear after one sort (a file with thousands of steps must not cost their square).
fn set_table_spans(entries: &mut [SubtaskEntry], text_len: usize) {
    let mut starts: Vec<usize> = entries.iter().map(|entry| entry.header_span.start).collect();
    starts.sort_unstable();
    for entry in entries.iter_mut() {
        let next = starts.partition_point(|start| *start <= entry.header_span.start);
        let end = starts.get(next).copied().unwrap_or(text_len);
        entry.table_span = entry.header_span.start..end.max(entry.header_span.end);
    }
}

/// An empty range grows to the character at it (or the one before, at the end), so an editor
/// has something to underline.
fn widen(text: &str, span: Span) -> Span {
    if !span.is_empty() {
        return span;
    }
    let start = span.start.min(text.len());
    match text[start..].chars().next() {
        Some(character) => start..start + character.len_utf8(),
        None => match text[..start].chars().next_back() {
            Some(character) => start - character.len_utf8()..start,
            None => 0..0,
        },
    }
}

fn first_line(text: &str) -> Span {
    0..text.find('\n').unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice<'a>(text: &'a str, span: &Span) -> &'a str {
        &text[span.clone()]
    }

    #[test]
    fn fields_and_their_spans_are_kept() {
        let text = "title = \"Check\"\ngoal = \"make sure\"\n\n[[subtask]]\nid = \"fmt\"\ntitle = \"Format\"\n\
                    agent = \"shell\"\ncommand = \"cargo fmt --check\"\n\n[[subtask]]\nid = \"test\"\ntitle = \"Test\"\n\
                    agent = \"shell\"\ncommand = \"cargo test\"\ncwd = \"crates/a\"\ndepends_on = [\"fmt\"]\n\
                    timeout_secs = 600\nmax_attempts = 2\nestimate_secs = 30\n";
        let (file, problems) = parse(text);
        assert_eq!(problems, vec![]);
        assert_eq!(file.title.as_deref(), Some("Check"));
        assert_eq!(slice(text, file.title_span.as_ref().unwrap()), "\"Check\"");
        assert_eq!(file.goal.as_deref(), Some("make sure"));
        let [fmt, test] = &file.subtasks[..] else { panic!("two subtasks") };
        assert_eq!(slice(text, &fmt.header_span), "[[subtask]]");
        assert_eq!(slice(text, fmt.id_span.as_ref().unwrap()), "\"fmt\"");
        assert_eq!(fmt.table_span.end, test.header_span.start);
        assert_eq!(test.table_span.end, text.len());
        assert_eq!(test.draft.depends_on, vec!["fmt"]);
        assert_eq!(slice(text, &test.depends_on_spans[0]), "\"fmt\"");
        assert_eq!(test.draft.cwd.as_deref(), Some("crates/a"));
        assert_eq!(
            (test.draft.timeout_secs, test.draft.max_attempts, test.draft.estimate_secs),
            (Some(600), Some(2), Some(30))
        );
        assert_eq!(slice(text, &test.value_span("command").unwrap()), "\"cargo test\"");
    }

    #[test]
    fn syntax_errors_unknown_fields_and_wrong_types_are_placed() {
        let (_, problems) = parse("title = \"x\"\n[[subtask]]\nid = \n");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.starts_with("toml: "), "{problems:?}");
        let text = "title = 3\nowner = \"me\"\n[[subtask]]\nid = \"a\"\ntitel = \"typo\"\ntimeout_secs = \"ten\"\n";
        let (_, problems) = parse(text);
        let found: Vec<(&str, &str)> =
            problems.iter().map(|problem| (slice(text, &problem.span), problem.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                ("3", "`title` must be a string"),
                ("owner", "unknown field `owner` (expected one of: title, goal, subtask)"),
                (
                    "titel",
                    "unknown field `titel` (expected one of: id, title, description, agent, command, cwd, depends_on, \
                     timeout_secs, max_attempts, estimate_secs, role)"
                ),
                ("\"ten\"", "`timeout_secs` must be an integer"),
            ]
        );
    }

    #[test]
    fn lists_of_the_wrong_shape_are_named() {
        let text = "title = \"é\"\nsubtask = [{ id = \"a\" }]\n";
        let (file, problems) = parse(text);
        assert!(file.subtasks.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "`subtask` must be a list of [[subtask]] tables");
        assert_eq!(slice(text, &problems[0].span), "[{ id = \"a\" }]");
        let text = "title = \"t\"\n[[subtask]]\ndepends_on = \"a\"\n[[subtask]]\ndepends_on = [1, \"b\"]\nestimate_secs = -1\n";
        let (file, problems) = parse(text);
        let found: Vec<(&str, &str)> =
            problems.iter().map(|problem| (slice(text, &problem.span), problem.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                ("\"a\"", "`depends_on` must be a list of subtask ids"),
                ("1", "`depends_on` must hold subtask ids (strings)"),
                ("-1", "`estimate_secs` must be a number of seconds, 0 or more"),
            ]
        );
        assert_eq!(file.subtasks[1].draft.depends_on, vec!["b"]);
    }

    #[test]
    fn a_missing_title_is_reported_on_the_first_line() {
        let (_, problems) = parse("goal = \"g\"\n");
        assert_eq!(problems, vec![FileProblem::error(0..10, "missing field `title`")]);
    }
}
