//! Finished steps ticked in their task list: `[ ]` → `[x]` (or `[X]` where the file ticks with
//! capitals), a Taskmaster `"status"` → `"done"`, and a group's own line once all its steps are.
//! A pure function of the current text: ticking twice is ticking once, and ticks made by someone
//! else in between are kept, so whoever holds the file's lock can always apply it to what is
//! there now.

use std::collections::HashSet;

use super::{Format, Mark, ReadOptions, Span, parse_as, taskmaster};

/// The text with the steps `done` (and the groups they complete) ticked; `None` when nothing
/// changes (all already ticked, or a format without ticks).
pub fn tick(text: &str, format: Format, done: &[String]) -> Option<String> {
    if !format.ticks() {
        return None;
    }
    let (file, _) = parse_as(text, format, &ReadOptions::default());
    let done: HashSet<&str> = done.iter().map(String::as_str).collect();
    let mut ticked: HashSet<String> = file.ticked().into_iter().collect();
    let mut edits: Vec<Span> = Vec::new();
    for (index, entry) in file.subtasks.iter().enumerate() {
        let id = file.id_of(index);
        if let Some(mark) = entry.mark.as_ref().filter(|mark| !mark.checked && done.contains(id.as_str())) {
            edits.push(mark.span.clone());
            ticked.insert(id);
        }
    }
    for group in &file.groups {
        let complete = !group.members.is_empty() && group.members.iter().all(|member| ticked.contains(member));
        if let Some(mark) = group.mark.as_ref().filter(|mark| !mark.checked && complete) {
            edits.push(mark.span.clone());
        }
    }
    if edits.is_empty() {
        return None;
    }
    let replacement = match format {
        Format::Taskmaster => format!("\"{}\"", taskmaster::DONE),
        _ => capital_ticks(text, &file.subtasks.iter().filter_map(|entry| entry.mark.as_ref()).collect::<Vec<_>>())
            .to_string(),
    };
    edits.sort_by_key(|span| std::cmp::Reverse(span.start));
    let mut out = text.to_owned();
    for span in edits {
        out.replace_range(span, &replacement);
    }
    Some(out)
}

/// `X` when the file's ticks are capitals (more `[X]` than `[x]`), else `x`.
fn capital_ticks(text: &str, marks: &[&Mark]) -> char {
    let count =
        |wanted: &str| marks.iter().filter(|mark| mark.checked && text.get(mark.span.clone()) == Some(wanted)).count();
    if count("X") > count("x") { 'X' } else { 'x' }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| id.to_string()).collect()
    }

    #[test]
    fn ticks_keep_the_files_case_and_complete_groups() {
        let text = "# P\n\n- [X] T001 one\n- [ ] T002 two\n- [ ] 3. group\n  - [ ] 3.1 a\n  - [-] 3.2 b\n";
        let once = tick(text, Format::Markdown, &ids(&["T002", "3.1"])).unwrap();
        assert_eq!(once, "# P\n\n- [X] T001 one\n- [X] T002 two\n- [ ] 3. group\n  - [X] 3.1 a\n  - [-] 3.2 b\n");
        let twice = tick(&once, Format::Markdown, &ids(&["3.2"])).unwrap();
        assert!(twice.contains("- [X] 3. group\n  - [X] 3.1 a\n  - [X] 3.2 b\n"), "{twice}");
        assert_eq!(tick(&twice, Format::Markdown, &ids(&["T002", "3.2"])), None, "a tick is made once");
        assert_eq!(tick("- [ ] a\n", Format::Markdown, &ids(&["s1"])).as_deref(), Some("- [x] a\n"));
    }

    #[test]
    fn taskmaster_statuses_become_done() {
        let text = r#"{"tasks": [{"id": 1, "title": "A", "status": "pending", "subtasks": [{"id": 1, "title": "a", "status": "in-progress"}]}]}"#;
        let ticked = tick(text, Format::Taskmaster, &ids(&["1.1"])).unwrap();
        assert_eq!(ticked.matches("\"done\"").count(), 2, "{ticked}");
        assert_eq!(tick(&ticked, Format::Taskmaster, &ids(&["1.1"])), None);
        assert_eq!(tick("title = \"x\"", Format::Toml, &ids(&["a"])), None);
    }
}
