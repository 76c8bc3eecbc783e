//! Turns a template into subtask drafts for one task: titles from the task's own parts (its
//! object: "Write tests for input validation", «Покрыть тестами валидацию входных данных»; the
//! request itself for the change step when it does not repeat the whole task), each extra request
//! ("with tests and docs", «и добавить тесты») a step of its own, titles in the task's language
//! and under 70 characters, descriptions that say what the step does (never the task again). Then
//! the workspace's commands as `shell` steps — per project (each in its own `cwd`), no separate
//! build before a test command that builds, a step for every linter or type checker the task
//! names — and first, a `baseline` run of the tests that the steps changing code wait for.
//!
//! Pure: works on the task text and the detected facts.

use crate::classify::Tokens;
use crate::model::validate::SubtaskDraft;
use crate::model::{AgentKind, SubtaskRole};

use super::TemplateKind;
use super::detect::{CommandPurpose, Tool, WorkspaceCommand, WorkspaceFacts};
use super::parts::{Extra, Lang, TaskParts, cut_at_word, fit, task_parts};
use super::templates::{StepKind, StepTemplate, extra_step, steps_for};

/// `s1`, `s2`, ... by 0-based position.
pub(super) fn step_id(position: usize) -> String {
    format!("s{}", position + 1)
}

/// A step's description: what it does, and the request's notes if any.
pub(super) fn describe_step(instructions: &str, notes: Option<&str>, lang: Lang) -> String {
    let mut description = instructions.to_owned();
    if let Some(notes) = notes.map(str::trim).filter(|notes| !notes.is_empty()) {
        let label = match lang {
            Lang::En => "Notes",
            Lang::Ru => "Заметки",
        };
        description.push_str(&format!("\n\n{label}: {notes}"));
    }
    description
}

/// The template's wanted steps (and one per extra request it has no step for) as drafts, with the
/// baseline first and the workspace's commands after (only when the template changes code).
pub(super) fn drafts_for(
    kind: TemplateKind,
    task: &str,
    notes: Option<&str>,
    facts: &WorkspaceFacts,
) -> Vec<SubtaskDraft> {
    let parts = task_parts(task);
    let tokens = Tokens::of(task);
    let wants_docs = parts.extras.contains(&Extra::Docs)
        || tokens.iter().any(|token| {
            matches!(token, "doc" | "docs" | "documentation" | "document" | "readme") || token.starts_with("документ")
        });
    let wants_tests = parts.extras.contains(&Extra::Tests);
    let has_test_command = facts.command_for(CommandPurpose::Test).is_some();
    let template = steps_for(kind);
    let mut steps: Vec<&StepTemplate> =
        template.iter().filter(|step| step.is_wanted(wants_docs, wants_tests, has_test_command)).collect();
    let change_position = template.iter().position(|step| step.kind == StepKind::Change);
    let change_dependency: &'static [usize] = match change_position {
        Some(1) => &[1],
        Some(2) => &[2],
        _ => &[0],
    };
    let extra_steps: Vec<StepTemplate> = parts
        .extras
        .iter()
        .filter(|extra| !steps.iter().any(|step| step.answers(**extra)))
        .map(|extra| extra_step(*extra, change_dependency))
        .collect();
    steps.extend(extra_steps.iter());
    let changes_code = steps.iter().any(|step| step.implements);
    let baselines = if changes_code { baseline_commands(facts) } else { Vec::new() };

    let mut drafts: Vec<SubtaskDraft> = Vec::new();
    let mut titles = Titles::default();
    for command in &baselines {
        let title = titles.unique(baseline_title(command, parts.lang));
        drafts.push(baseline_draft(step_id(drafts.len()), command, title, parts.lang));
    }
    let baseline_ids: Vec<String> = drafts.iter().filter_map(|draft| draft.id.clone()).collect();
    let first_template_id = drafts.len();
    // Template positions → ids of the kept steps (extra steps are after the template's own).
    let position_of =
        |step: &StepTemplate| template.iter().position(|candidate| std::ptr::eq(candidate, step)).unwrap_or(usize::MAX);
    let kept_positions: Vec<usize> = steps.iter().map(|step| position_of(step)).collect();
    let id_of_position = |position: usize| {
        kept_positions.iter().position(|kept| *kept == position).map(|index| step_id(first_template_id + index))
    };
    for step in &steps {
        let mut depends_on: Vec<String> =
            step.depends_on.iter().filter_map(|&earlier| id_of_position(earlier)).collect();
        if step.implements {
            depends_on.extend(baseline_ids.iter().cloned());
        }
        let title = titles.unique(step_title(step, &parts));
        drafts.push(SubtaskDraft {
            id: Some(step_id(drafts.len())),
            title,
            description: Some(describe_step(step.instructions.get(parts.lang), notes, parts.lang)),
            agent: step.agent.as_str().to_owned(),
            depends_on,
            estimate_secs: Some(step.estimate_secs),
            ..SubtaskDraft::default()
        });
    }
    let changing_code: Vec<String> = steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.implements)
        .map(|(index, _)| step_id(first_template_id + index))
        .collect();
    if !changing_code.is_empty() {
        let tools: Vec<Tool> = tokens.iter().filter_map(Tool::named).collect();
        append_workspace_steps(&mut drafts, &changing_code, facts, &tools, parts.lang, &mut titles);
    }
    drafts
}

/// The first of the step's candidate titles that does not repeat the whole task: for the change
/// step, the request as written ("Add input validation to the parse function") and then the
/// verb with the object; then the template's title with the object; then its plain title.
fn step_title(step: &StepTemplate, parts: &TaskParts) -> String {
    let mut candidates: Vec<String> = Vec::new();
    if step.kind == StepKind::Change {
        candidates.push(cut_at_word(&parts.request, 69));
        if let Some(verb) = &parts.verb {
            candidates.push(cut_at_word(format!("{verb} {}", parts.clause).trim(), 69));
            candidates.push(cut_at_word(format!("{verb} {}", parts.topic).trim(), 69));
        }
    }
    let topic = if parts.topic.is_empty() { None } else { Some(parts.topic.as_str()) };
    if let Some(topic) = topic {
        candidates.push(fit(step.title.get(parts.lang), topic));
    }
    let plain = step.plain.get(parts.lang).to_owned();
    candidates
        .into_iter()
        .filter(|title| !title.contains("{topic}") && title.split_whitespace().count() > 1)
        .find(|title| !repeats(title, &parts.whole))
        .unwrap_or(plain)
}

/// Whether `title` contains the whole task.
fn repeats(title: &str, whole: &str) -> bool {
    super::parts::normalised(title.trim_end_matches('…')).contains(whole)
        || (title.ends_with('…') && whole.starts_with(&super::parts::normalised(title.trim_end_matches('…'))))
}

/// Titles of one plan, kept distinct.
#[derive(Default)]
struct Titles(Vec<String>);

impl Titles {
    fn unique(&mut self, title: String) -> String {
        let mut candidate = title.clone();
        let mut number = 2;
        while self.0.iter().any(|taken| taken.eq_ignore_ascii_case(&candidate)) {
            candidate = format!("{title} ({number})");
            number += 1;
        }
        self.0.push(candidate.clone());
        candidate
    }
}

/// One baseline per test command, in project order.
fn baseline_commands(facts: &WorkspaceFacts) -> Vec<WorkspaceCommand> {
    facts.commands.iter().filter(|command| command.purpose == CommandPurpose::Test).cloned().collect()
}

fn baseline_title(command: &WorkspaceCommand, lang: Lang) -> String {
    let title = command_title(command, lang);
    match lang {
        Lang::En => format!("{title} before the change"),
        Lang::Ru => format!("{title} до изменений"),
    }
}

/// "Test (cargo)" in the task's language: «Тесты (cargo)», «Сборка backend (npm)».
pub(super) fn command_title(command: &WorkspaceCommand, lang: Lang) -> String {
    if lang == Lang::En {
        return command.title.clone();
    }
    for (english, russian) in [("Build", "Сборка"), ("Test", "Тесты"), ("Lint", "Линтер"), ("Run", "Запустить")]
    {
        if let Some(rest) = command.title.strip_prefix(english) {
            return format!("{russian}{rest}");
        }
    }
    command.title.clone()
}

/// The baseline: the tests before any change, to compare with the final check.
fn baseline_draft(id: String, command: &WorkspaceCommand, title: String, lang: Lang) -> SubtaskDraft {
    let place = place_of(command, lang);
    let instructions = match lang {
        Lang::En => format!(
            "Run `{}` {place} before any change, to compare with the final check. A failure here is recorded, not a failure of the plan.",
            command.command
        ),
        Lang::Ru => format!(
            "Запустить `{}` {place} до любых изменений, чтобы сравнить с итоговой проверкой. Падение здесь записывается, но не проваливает план.",
            command.command
        ),
    };
    SubtaskDraft {
        title,
        description: Some(instructions),
        role: Some(SubtaskRole::Baseline.as_str().to_owned()),
        ..shell_draft(id, command, Vec::new(), lang)
    }
}

fn place_of(command: &WorkspaceCommand, lang: Lang) -> String {
    match (command.cwd.as_deref(), lang) {
        (Some(cwd), Lang::En) => format!("in `{cwd}`"),
        (Some(cwd), Lang::Ru) => format!("в `{cwd}`"),
        (None, Lang::En) => "in the workspace".to_owned(),
        (None, Lang::Ru) => "в корне проекта".to_owned(),
    }
}

/// Per project: build (unless its test command builds), test after the build or after every
/// step that changes code, lint beside them; then the named tools.
fn append_workspace_steps(
    drafts: &mut Vec<SubtaskDraft>,
    changing_code: &[String],
    facts: &WorkspaceFacts,
    tools: &[Tool],
    lang: Lang,
    titles: &mut Titles,
) {
    let mut project_dirs: Vec<Option<&str>> = Vec::new();
    for command in &facts.commands {
        if !project_dirs.contains(&command.cwd.as_deref()) {
            project_dirs.push(command.cwd.as_deref());
        }
    }
    let mut push = |drafts: &mut Vec<SubtaskDraft>, command: &WorkspaceCommand, depends_on: Vec<String>| {
        let id = step_id(drafts.len());
        let mut draft = shell_draft(id.clone(), command, depends_on, lang);
        draft.title = titles.unique(draft.title);
        drafts.push(draft);
        id
    };
    for dir in project_dirs {
        let of_project = |purpose| facts.commands.iter().find(|c| c.cwd.as_deref() == dir && c.purpose == purpose);
        let test = of_project(CommandPurpose::Test);
        let mut build_id = None;
        if let Some(build) = of_project(CommandPurpose::Build).filter(|_| !test.is_some_and(|test| test.builds)) {
            build_id = Some(push(drafts, build, changing_code.to_vec()));
        }
        if let Some(test) = test {
            let depends_on = build_id.clone().map_or_else(|| changing_code.to_vec(), |build| vec![build]);
            push(drafts, test, depends_on);
        }
        if let Some(lint) = of_project(CommandPurpose::Lint) {
            push(drafts, lint, changing_code.to_vec());
        }
    }
    for tool in tools {
        for command in facts.tool_commands(*tool) {
            if !drafts.iter().any(|draft| draft.command.as_deref() == Some(command.command.as_str())) {
                push(drafts, &command, changing_code.to_vec());
            }
        }
    }
}

/// A `shell` step that runs a workspace command in its project's directory.
pub(super) fn shell_draft(id: String, command: &WorkspaceCommand, depends_on: Vec<String>, lang: Lang) -> SubtaskDraft {
    let instructions = match lang {
        Lang::En => format!("Run `{}` {}.", command.command, place_of(command, lang)),
        Lang::Ru => format!("Запустить `{}` {}.", command.command, place_of(command, lang)),
    };
    SubtaskDraft {
        id: Some(id),
        title: command_title(command, lang),
        description: Some(instructions),
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
    fn titles_come_from_the_task_parts_and_never_repeat_it() {
        let facts = WorkspaceFacts::default();
        let drafts = drafts_for(
            TemplateKind::Feature,
            "Add input validation to the parse function, with tests and docs",
            None,
            &facts,
        );
        let titles: Vec<&str> = drafts.iter().map(|draft| draft.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Study the code and design input validation",
                "Add input validation to the parse function",
                "Write tests for input validation",
                "Run the tests and fix failures",
                "Document input validation",
            ]
        );
        assert!(drafts.iter().all(|draft| !draft.description.as_deref().unwrap_or("").contains("with tests and docs")));
        let plain = drafts_for(TemplateKind::Feature, "Add CSV export to reports", None, &facts);
        assert_eq!(plain[1].title, "Add CSV export");
        let russian = drafts_for(
            TemplateKind::Feature,
            "Добавь валидацию входных данных в функцию parse и добавить тесты",
            None,
            &facts,
        );
        let titles: Vec<&str> = russian.iter().map(|draft| draft.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Изучить код и продумать валидацию входных данных",
                "Добавь валидацию входных данных в функцию parse",
                "Покрыть тестами валидацию входных данных",
                "Запустить тесты и исправить ошибки",
            ]
        );
    }
}
