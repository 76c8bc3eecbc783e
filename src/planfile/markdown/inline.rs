//! What one task line says, read from its text: the task id in front (spec-kit's `T001`, Kiro's
//! `2.1`), the labels after it (`[P]` runs alongside, `[US1]` a user story), dependencies written
//! in words (`(depends on T012, T013)`), a command it states (a backticked command after "run",
//! or after `$`), and the `key: value` notes under it (`after: T003`, `agent: ask`, …).

use super::super::Span;

/// The id in front of a task line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LeadingId {
    /// `T001`, `2.1`, `3.` (the dot dropped).
    Id(String, Span),
    /// A template's placeholder (`TXXX`, `T0XX`): the step gets an id of its own.
    Placeholder(String, Span),
}

/// A task line taken apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TaskText {
    pub id: Option<LeadingId>,
    pub parallel: bool,
    /// `[US1]`, `[Story]`: kept in the description.
    pub labels: Vec<String>,
    /// What is left once the id and labels are taken: the step's title.
    pub title: String,
    pub title_span: Span,
}

/// Reads the id and labels off the front of `text` (which starts at `start`).
pub(super) fn task_text(text: &str, start: usize) -> TaskText {
    let mut rest = text;
    let mut offset = 0;
    let mut read = TaskText::default();
    if let Some((id, length)) = leading_id(rest) {
        let span = start..start + id.len();
        read.id = Some(if id.contains('X') { LeadingId::Placeholder(id, span) } else { LeadingId::Id(id, span) });
        offset += length;
        rest = &text[offset..];
    }
    while let Some((label, length)) = leading_label(rest) {
        if label.eq_ignore_ascii_case("P") {
            read.parallel = true;
        } else {
            read.labels.push(label.to_owned());
        }
        offset += length;
        rest = &text[offset..];
    }
    let skipped = rest.len() - rest.trim_start().len();
    read.title = rest.trim().to_owned();
    read.title_span = start + offset + skipped..start + offset + skipped + read.title.len();
    read
}

/// `T001 `, `T0XX `, `2.1 `, `3. `: the id (without Kiro's trailing dot) and the length taken
/// (with the spaces after it). A number alone (`3 apples`) is not an id.
fn leading_id(text: &str) -> Option<(String, usize)> {
    let word_end = text.find([' ', '\t']).unwrap_or(text.len());
    let word = &text[..word_end];
    let after = &text[word_end..];
    let taken = word_end + (after.len() - after.trim_start().len());
    if word.len() >= 2 && word.starts_with('T') && word[1..].bytes().all(|byte| byte.is_ascii_digit() || byte == b'X') {
        return (word_end < text.len()).then(|| (word.to_owned(), taken));
    }
    let numbered = word.trim_end_matches('.');
    let is_numbering = !numbered.is_empty()
        && numbered
            .split('.')
            .all(|part| !part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit()))
        && (word.ends_with('.') || numbered.contains('.'));
    (is_numbering && word_end < text.len()).then(|| (numbered.to_owned(), taken))
}

/// `[P] `, `[US1] `, `[Story] `: a short label in brackets and the length taken.
fn leading_label(text: &str) -> Option<(&str, usize)> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(']')?;
    let label = &inner[..close];
    let mut characters = label.chars();
    let first = characters.next()?;
    let shaped = first.is_ascii_uppercase()
        && label.len() <= 8
        && label.chars().all(|character| character.is_ascii_alphanumeric())
        && (label == "P" || label.chars().skip_while(char::is_ascii_alphabetic).all(|c| c.is_ascii_digit()));
    if !shaped {
        return None;
    }
    let after = &inner[close + 1..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    Some((label, 1 + close + 1 + (after.len() - after.trim_start().len())))
}

/// Ids named in words inside the text: `(depends on T012, T013)`, `(after 2.1)`, `(needs T4)`,
/// each with its span (absolute, from `start`).
pub(super) fn stated_dependencies(text: &str, start: usize) -> Vec<(String, Span)> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return stated_dependencies_ascii(text, start);
    }
    stated_dependencies_in(text, &lower, start)
}

/// For texts whose lowercase changes byte lengths (some non-ASCII letters): only the ASCII
/// letters are folded, so offsets stay put.
fn stated_dependencies_ascii(text: &str, start: usize) -> Vec<(String, Span)> {
    let lower = text.to_ascii_lowercase();
    stated_dependencies_in(text, &lower, start)
}

fn stated_dependencies_in(text: &str, lower: &str, start: usize) -> Vec<(String, Span)> {
    const OPENERS: [&str; 5] = ["(depends on ", "(after ", "(needs ", "(blocked by ", "(зависит от "];
    let mut found = Vec::new();
    for opener in OPENERS {
        let mut from = 0;
        while let Some(at) = lower[from..].find(opener) {
            let inner_start = from + at + opener.len();
            let Some(close) = text[inner_start..].find(')') else { break };
            let inner = &text[inner_start..inner_start + close];
            found.extend(id_list(inner, start + inner_start, true));
            from = inner_start + close;
        }
    }
    found.sort_by_key(|(_, span)| span.start);
    found
}

/// `T001, T002 and 2.1`: every id in a list, with its span. In prose (`in_prose`) only words
/// with a digit count as ids (`(after the setup)` names none); in a note every word does, so a
/// wrong one is reported rather than dropped.
pub(super) fn id_list(text: &str, start: usize, in_prose: bool) -> Vec<(String, Span)> {
    let mut ids = Vec::new();
    let mut offset = 0;
    for piece in text.split([',', ' ', ';', '\t']) {
        let piece_start = offset;
        offset += piece.len() + 1;
        let word = piece.trim_matches(|character: char| matches!(character, '`' | '*' | '_' | '"' | '\''));
        let word = word.strip_suffix('.').unwrap_or(word);
        if word.is_empty() || matches!(word.to_lowercase().as_str(), "and" | "и" | "or" | "или") {
            continue;
        }
        if in_prose && !(crate::model::validate::is_valid_subtask_id(word) && word.bytes().any(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let local = piece.find(word).unwrap_or(0);
        ids.push((word.to_owned(), start + piece_start + local..start + piece_start + local + word.len()));
    }
    ids
}

/// The command a task line states, with its span: a backticked command after "run" (or
/// "запустить", "выполнить", "execute"), a backticked `$ command`, or a line that starts with
/// `$ `. Words inside backticks do not count as "run".
pub(crate) fn stated_command(text: &str, start: usize) -> Option<(String, Span)> {
    if let Some(rest) = text.strip_prefix("$ ") {
        let command = rest.trim();
        let command_start = start + text.len() - rest.len() + (rest.len() - rest.trim_start().len());
        return (!command.is_empty()).then(|| (command.to_owned(), command_start..command_start + command.len()));
    }
    let mut after_run_word = false;
    let mut position = 0;
    while position < text.len() {
        let rest = &text[position..];
        if let Some(inner) = rest.strip_prefix('`') {
            let ticks = 1 + inner.chars().take_while(|character| *character == '`').count();
            let fence = &rest[..ticks];
            let body_start = position + ticks;
            let close = text[body_start..].find(fence)?;
            let body = &text[body_start..body_start + close];
            let trimmed = body.trim();
            let trimmed_start = body_start + (body.len() - body.trim_start().len());
            if let Some(dollar) = trimmed.strip_prefix("$ ") {
                let command = dollar.trim();
                let command_start =
                    trimmed_start + (trimmed.len() - dollar.len()) + (dollar.len() - dollar.trim_start().len());
                return Some((command.to_owned(), start + command_start..start + command_start + command.len()));
            }
            if after_run_word && !trimmed.is_empty() {
                return Some((trimmed.to_owned(), start + trimmed_start..start + trimmed_start + trimmed.len()));
            }
            position = body_start + close + ticks;
            continue;
        }
        let word_end = rest.find(|character: char| !character.is_alphabetic()).unwrap_or(rest.len());
        if word_end == 0 {
            position += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let word = rest[..word_end].to_lowercase();
        if is_run_word(&word) {
            after_run_word = true;
        }
        position += word_end;
    }
    None
}

fn is_run_word(word: &str) -> bool {
    matches!(
        word,
        "run"
            | "runs"
            | "rerun"
            | "execute"
            | "запусти"
            | "запустить"
            | "запустите"
            | "выполни"
            | "выполнить"
            | "выполните"
    )
}

/// A note under a task: `key: value` when the key is one this format reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Note {
    Id,
    After,
    Agent,
    Command,
    Cwd,
    Timeout,
    Attempts,
    Estimate,
}

/// `after: T001`, `**Depends on**: T001`, `_agent: shell_`: the key and the value with its span.
/// Kiro's `_Requirements: 1.2_` is not one (it stays in the description).
pub(super) fn note(text: &str, start: usize) -> Option<(Note, &str, Span)> {
    let stripped =
        text.trim_matches(|character: char| character == '_' || character == '*' || character.is_whitespace());
    let offset = text.find(stripped).unwrap_or(0);
    let (key, value) = stripped.split_once(':')?;
    let key = key.trim_matches(|character: char| character == '*' || character == '_' || character.is_whitespace());
    let kind = match key.to_lowercase().as_str() {
        "id" => Note::Id,
        "after" | "depends on" | "depends" | "dependencies" | "needs" | "blocked by" | "зависит от" | "после" => {
            Note::After
        }
        "agent" | "агент" => Note::Agent,
        "command" | "run" | "команда" => Note::Command,
        "cwd" | "folder" | "directory" | "папка" => Note::Cwd,
        "timeout" => Note::Timeout,
        "attempts" | "max attempts" => Note::Attempts,
        "estimate" => Note::Estimate,
        _ => return None,
    };
    let value_offset = offset + stripped.len() - value.len();
    let trimmed = value.trim();
    let trimmed_start = start + value_offset + (value.len() - value.trim_start().len());
    Some((kind, trimmed, trimmed_start..trimmed_start + trimmed.len()))
}

/// `600`, `600s`, `10m`, `1h`, `1h30m`: a number of seconds.
pub(super) fn seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(plain) = text.parse::<i64>() {
        return Some(plain);
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for character in text.chars() {
        if character.is_ascii_digit() {
            number.push(character);
            continue;
        }
        let unit = match character {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            ' ' if number.is_empty() => continue,
            _ => return None,
        };
        let value: i64 = number.parse().ok()?;
        total = total.checked_add(value.checked_mul(unit)?)?;
        number.clear();
    }
    number.is_empty().then_some(total)
}

/// A title of at most `max` characters: cut at a word with "…" (the whole text goes to the
/// description).
pub(crate) fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = cut.rfind(' ').filter(|at| *at > cut.len() / 2).map_or(cut.as_str(), |at| &cut[..at]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_labels_come_off_the_front() {
        let read = task_text("T012 [P] [US1] Create [Entity1] model in src/models/e.py", 10);
        assert_eq!(read.id, Some(LeadingId::Id("T012".into(), 10..14)));
        assert!(read.parallel);
        assert_eq!(read.labels, vec!["US1"]);
        assert_eq!(read.title, "Create [Entity1] model in src/models/e.py");
        assert_eq!(read.title_span, 25..66);
        assert_eq!(task_text("2.1 Sub", 0).id, Some(LeadingId::Id("2.1".into(), 0..3)));
        assert_eq!(task_text("3. Kiro", 0).id, Some(LeadingId::Id("3".into(), 0..1)));
        assert!(matches!(task_text("TXXX Cleanup", 0).id, Some(LeadingId::Placeholder(..))));
        assert_eq!(task_text("3 apples", 0).id, None);
        assert_eq!(task_text("Tidy up", 0).id, None);
        assert_eq!(task_text("T1", 0).title, "T1", "an id alone is the title");
    }

    #[test]
    fn dependencies_in_words() {
        let text = "Implement service (depends on T012, T013)";
        let found = stated_dependencies(text, 0);
        let ids: Vec<(&str, &str)> = found.iter().map(|(id, span)| (id.as_str(), &text[span.clone()])).collect();
        assert_eq!(ids, vec![("T012", "T012"), ("T013", "T013")]);
        assert_eq!(stated_dependencies("Wire it up (after 2.1 and 2.2)", 0).len(), 2);
        assert!(stated_dependencies("Nothing here (see docs)", 0).is_empty());
    }

    #[test]
    fn commands_stated_after_run_or_a_dollar() {
        let text = "Run `cargo test --workspace` in the root";
        let (command, span) = stated_command(text, 0).unwrap();
        assert_eq!((command.as_str(), &text[span]), ("cargo test --workspace", "cargo test --workspace"));
        assert_eq!(stated_command("Check with `$ make lint`", 0).unwrap().0, "make lint");
        assert_eq!(stated_command("$ npm test", 5).unwrap(), ("npm test".to_owned(), 7..15));
        assert_eq!(stated_command("Запустить `pytest -q`", 0).unwrap().0, "pytest -q");
        assert_eq!(stated_command("Implement `run_tests()` helper", 0), None);
        assert_eq!(stated_command("Run quickstart.md validation", 0), None);
        assert_eq!(stated_command("Document `foo` then run it", 0), None);
    }

    #[test]
    fn notes_with_known_keys() {
        let (kind, value, span) = note("**Depends on**: T001, T002", 100).unwrap();
        assert_eq!((kind, value), (Note::After, "T001, T002"));
        assert_eq!(span, 116..126);
        assert_eq!(note("agent: shell", 0).map(|(kind, value, _)| (kind, value)), Some((Note::Agent, "shell")));
        assert_eq!(note("_Requirements: 1.1, 2.3_", 0), None);
        assert_eq!(note("Create the folder", 0), None);
    }

    #[test]
    fn durations_and_titles() {
        assert_eq!(seconds("600"), Some(600));
        assert_eq!(seconds("10m"), Some(600));
        assert_eq!(seconds("1h30m"), Some(5400));
        assert_eq!(seconds("soon"), None);
        assert_eq!(shortened("short", 10), "short");
        assert_eq!(shortened("one two three four five", 12), "one two…");
    }
}
