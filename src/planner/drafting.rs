//! Turns a template into subtask drafts for one task: titles from the task's own words (the
//! request verb and its object: "Implement CSV export in reports.rs"), only the steps the task
//! needs, and the workspace's commands as `shell` steps — per project (each in its own `cwd`),
//! no separate build before a test command that builds, a step for every linter or type checker
//! the task names, and a baseline test run that depends on nothing.
//!
//! Pure: works on the task text and the detected facts.

use crate::classify::Tokens;
use crate::model::AgentKind;
use crate::model::validate::SubtaskDraft;

use super::TemplateKind;
use super::detect::{CommandPurpose, Tool, WorkspaceCommand, WorkspaceFacts};
use super::templates::steps_for;

/// Longest task-derived subject in a step title, in characters.
const SUBJECT_MAX_CHARS: usize = 70;

/// Words before the request itself.
const POLITE_WORDS: &[&str] = &["please", "can", "could", "would", "you", "kindly", "пожалуйста", "нужно", "надо"];

/// English request verbs that can head a step title as written ("Add", "Rename", ...).
#[rustfmt::skip]
const TITLE_VERBS: &[&str] = &[
    "add", "implement", "create", "build", "write", "make", "update", "change", "modify", "refactor", "rename",
    "remove", "delete", "replace", "move", "extract", "convert", "introduce", "support", "migrate", "port",
    "rewrite", "redesign", "split", "enable", "disable", "integrate", "restructure", "simplify", "clean", "fix",
    "debug", "investigate", "explain", "describe", "document", "test",
];

/// `s1`, `s2`, ... by 0-based position.
pub(super) fn step_id(position: usize) -> String {
    format!("s{}", position + 1)
}

/// The description every step carries: the user's task, the step, and the notes if any.
pub(super) fn describe_step(task: &str, instructions: &str, notes: Option<&str>) -> String {
    let mut description = format!("Task: {}\n\nStep: {instructions}", task.trim());
    if let Some(notes) = notes.map(str::trim).filter(|notes| !notes.is_empty()) {
        description.push_str(&format!("\n\nNotes: {notes}"));
    }
    description
}

/// The request verb (as a title word) and its object, from the task's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TaskWords {
    pub verb: String,
    pub subject: String,
}

/// "Please add CSV export to reports.rs." → verb "Add", subject "CSV export to reports.rs".
/// A Russian request keeps its own verb («Добавь»); a task with no known verb keeps all its words.
pub(super) fn task_words(task: &str, kind: TemplateKind) -> TaskWords {
    let line = task.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    let mut words: Vec<&str> = line.split_whitespace().collect();
    while words.first().is_some_and(|word| POLITE_WORDS.contains(&word.to_lowercase().as_str())) {
        words.remove(0);
    }
    let default_verb = match kind {
        TemplateKind::Refactor => "Restructure",
        TemplateKind::Generic => "Carry out",
        _ => "Implement",
    };
    let first = words.first().map(|word| word.to_lowercase()).unwrap_or_default();
    let is_english_verb = TITLE_VERBS.contains(&first.as_str());
    let is_russian_verb = is_russian_imperative(&first);
    let (verb, rest) = if is_english_verb || is_russian_verb {
        (capitalized(words[0]), &words[1..])
    } else {
        (default_verb.to_owned(), &words[..])
    };
    let subject = shortened(first_clause(&rest.join(" ")).trim_end_matches(['.', '!', '?', ';', ',']));
    let subject = if subject.is_empty() { "the task".to_owned() } else { subject };
    TaskWords { verb, subject }
}

/// The object of the first request only: "CSV export and write tests" → "CSV export" (cut where
/// a second request verb starts a clause).
fn first_clause(subject: &str) -> &str {
    let mut cut = subject.len();
    for separator in [", ", " and ", " then ", " и ", "; "] {
        for (at, _) in subject.match_indices(separator) {
            let next = subject[at + separator.len()..].split_whitespace().next().unwrap_or("").to_lowercase();
            if (TITLE_VERBS.contains(&next.as_str()) || is_russian_imperative(&next)) && at < cut {
                cut = at;
            }
        }
    }
    &subject[..cut]
}

fn is_russian_imperative(word: &str) -> bool {
    word.chars().next().is_some_and(|letter| matches!(letter, 'а'..='я' | 'ё'))
        && (word.ends_with(['й', 'и', 'ь']) || word.ends_with("ть"))
}

fn capitalized(word: &str) -> String {
    let mut characters = word.chars();
    characters.next().map(|first| first.to_uppercase().chain(characters).collect()).unwrap_or_default()
}

/// At most [`SUBJECT_MAX_CHARS`]: cut at the first clause break, then at a word boundary ("…").
fn shortened(subject: &str) -> String {
    if subject.chars().count() <= SUBJECT_MAX_CHARS {
        return subject.to_owned();
    }
    let first_clause = [",", ";", " and ", " then ", " и "]
        .iter()
        .filter_map(|separator| subject.find(separator))
        .min()
        .map_or(subject, |end| &subject[..end]);
    if first_clause.chars().count() <= SUBJECT_MAX_CHARS {
        return first_clause.to_owned();
    }
    let kept: String = first_clause.chars().take(SUBJECT_MAX_CHARS - 1).collect();
    let cut = kept.rfind(' ').filter(|space| *space > kept.len() / 2).map_or(kept.as_str(), |space| &kept[..space]);
    format!("{cut}…")
}

/// The template's wanted steps as drafts, then the workspace's commands as `shell` steps (only
/// when the template changes code).
pub(super) fn drafts_for(
    kind: TemplateKind,
    task: &str,
    notes: Option<&str>,
    facts: &WorkspaceFacts,
) -> Vec<SubtaskDraft> {
    let words = task_words(task, kind);
    let tokens = Tokens::of(task);
    let mentions_docs = tokens.iter().any(|token| {
        matches!(token, "doc" | "docs" | "documentation" | "document" | "readme") || token.starts_with("документ")
    });
    let has_test_command = facts.command_for(CommandPurpose::Test).is_some();
    let steps = steps_for(kind);
    let kept: Vec<usize> =
        (0..steps.len()).filter(|&position| steps[position].is_wanted(mentions_docs, has_test_command)).collect();
    let new_id = |old: usize| kept.iter().position(|&position| position == old).map(step_id);
    let mut drafts: Vec<SubtaskDraft> = kept
        .iter()
        .enumerate()
        .map(|(new_position, &old)| {
            let template = &steps[old];
            let title = template.title.replace("{Verb}", &words.verb).replace("{subject}", &words.subject);
            SubtaskDraft {
                id: Some(step_id(new_position)),
                title,
                description: Some(describe_step(task, template.instructions, notes)),
                agent: template.agent.as_str().to_owned(),
                depends_on: template.depends_on.iter().filter_map(|&earlier| new_id(earlier)).collect(),
                estimate_secs: Some(template.estimate_secs),
                ..SubtaskDraft::default()
            }
        })
        .collect();
    let changing_code: Vec<String> =
        kept.iter().filter(|&&old| steps[old].implements).filter_map(|&old| new_id(old)).collect();
    if !changing_code.is_empty() {
        let tools: Vec<Tool> = tokens.iter().filter_map(Tool::named).collect();
        append_workspace_steps(&mut drafts, &changing_code, task, facts, &tools);
    }
    drafts
}

/// Per project: build (unless its test command builds), test after the build or after every
/// step that changes code, lint beside them; then the named tools; then one baseline test run
/// per test command, depending on nothing.
fn append_workspace_steps(
    drafts: &mut Vec<SubtaskDraft>,
    changing_code: &[String],
    task: &str,
    facts: &WorkspaceFacts,
    tools: &[Tool],
) {
    let mut project_dirs: Vec<Option<&str>> = Vec::new();
    for command in &facts.commands {
        if !project_dirs.contains(&command.cwd.as_deref()) {
            project_dirs.push(command.cwd.as_deref());
        }
    }
    for dir in project_dirs {
        let of_project = |purpose| facts.commands.iter().find(|c| c.cwd.as_deref() == dir && c.purpose == purpose);
        let test = of_project(CommandPurpose::Test);
        let mut build_id = None;
        if let Some(build) = of_project(CommandPurpose::Build).filter(|_| !test.is_some_and(|test| test.builds)) {
            let id = step_id(drafts.len());
            drafts.push(shell_draft(id.clone(), build, changing_code.to_vec(), task));
            build_id = Some(id);
        }
        if let Some(test) = test {
            let depends_on = build_id.clone().map_or_else(|| changing_code.to_vec(), |build| vec![build]);
            drafts.push(shell_draft(step_id(drafts.len()), test, depends_on, task));
        }
        if let Some(lint) = of_project(CommandPurpose::Lint) {
            drafts.push(shell_draft(step_id(drafts.len()), lint, changing_code.to_vec(), task));
        }
    }
    for tool in tools {
        for command in facts.tool_commands(*tool) {
            if !drafts.iter().any(|draft| draft.command.as_deref() == Some(command.command.as_str())) {
                drafts.push(shell_draft(step_id(drafts.len()), &command, changing_code.to_vec(), task));
            }
        }
    }
    // A baseline run of the tests that depends on nothing: it shows the state before any change
    // and does real work even when nobody has done the other steps yet.
    for test in facts.commands.iter().filter(|command| command.purpose == CommandPurpose::Test) {
        let baseline =
            WorkspaceCommand { title: format!("Baseline: {} before the change", test.title), ..test.clone() };
        drafts.push(shell_draft(step_id(drafts.len()), &baseline, Vec::new(), task));
    }
}

/// A `shell` step that runs a workspace command in its project's directory.
pub(super) fn shell_draft(id: String, command: &WorkspaceCommand, depends_on: Vec<String>, task: &str) -> SubtaskDraft {
    let place = command.cwd.as_deref().map_or_else(|| "the workspace".to_owned(), |cwd| format!("`{cwd}`"));
    SubtaskDraft {
        id: Some(id),
        title: command.title.clone(),
        description: Some(describe_step(task, &format!("Run `{}` in {place}.", command.command), None)),
        agent: AgentKind::Shell.as_str().to_owned(),
        command: Some(command.command.clone()),
        cwd: command.cwd.clone(),
        depends_on,
        estimate_secs: Some(120),
        ..SubtaskDraft::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_take_the_request_verb_and_its_object() {
        let words = task_words("Please implement CSV export in reports.rs.", TemplateKind::Feature);
        assert_eq!((words.verb.as_str(), words.subject.as_str()), ("Implement", "CSV export in reports.rs"));
        let words = task_words("Добавь экспорт в CSV", TemplateKind::Feature);
        assert_eq!((words.verb.as_str(), words.subject.as_str()), ("Добавь", "экспорт в CSV"));
        let words = task_words("Fix the crash on save and add a regression test", TemplateKind::BugFix);
        assert_eq!((words.verb.as_str(), words.subject.as_str()), ("Fix", "the crash on save"));
        let words = task_words("OAuth login for the admin panel", TemplateKind::Feature);
        assert_eq!((words.verb.as_str(), words.subject.as_str()), ("Implement", "OAuth login for the admin panel"));
        let long = task_words(
            "Add CSV export to the reports page with per-column filters, and write tests for every format",
            TemplateKind::Feature,
        );
        assert_eq!(long.subject, "CSV export to the reports page with per-column filters");
    }
}
