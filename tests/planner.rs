//! Tests of the template planner: template choice (English and Russian), the shape of every
//! template's drafts (unique ids, backward-only dependencies, parallel branches, shell steps, the
//! baseline first), titles from the task's own parts for 30 varied tasks, plan titles, workspace
//! detection on real temporary directories, and revision from feedback.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{AgentKind, Subtask, SubtaskId};
use codelab_planner::planner::{
    CommandPurpose, ReviseError, TemplateKind, WorkspaceCommand, WorkspaceFacts, choose_template, detect_workspace,
    plan_task, plan_title, revise_plan,
};

fn command(purpose: CommandPurpose, title: &str, text: &str) -> WorkspaceCommand {
    WorkspaceCommand { title: title.to_owned(), command: text.to_owned(), purpose, cwd: None, builds: false }
}

/// A Makefile project with build, test and lint targets (the test target does not build).
fn make_facts() -> WorkspaceFacts {
    WorkspaceFacts {
        commands: vec![
            command(CommandPurpose::Build, "Build (make)", "make build"),
            command(CommandPurpose::Test, "Test (make)", "make test"),
            command(CommandPurpose::Lint, "Lint (make)", "make lint"),
        ],
        projects: Vec::new(),
    }
}

/// Checks what validation will check later: ids unique and well-formed, dependencies only on
/// earlier ids, known agents, a command exactly for shell steps, non-empty titles.
fn assert_valid_drafts(drafts: &[SubtaskDraft]) {
    let mut seen: HashSet<&str> = HashSet::new();
    for draft in drafts {
        let id = draft.id.as_deref().expect("every draft has an id");
        assert!(codelab_planner::model::validate::is_valid_subtask_id(id), "{id}");
        for dependency in &draft.depends_on {
            assert!(seen.contains(dependency.as_str()), "{id} depends on {dependency}, not an earlier step");
        }
        assert!(seen.insert(id), "duplicate id {id}");
        let agent = AgentKind::parse(&draft.agent).unwrap_or_else(|| panic!("unknown agent {}", draft.agent));
        assert_eq!(draft.command.is_some(), agent == AgentKind::Shell, "{id}: command only for shell");
        assert!(!draft.title.trim().is_empty() && draft.title.chars().count() <= 200, "{id} title");
        assert!(draft.estimate_secs.is_some_and(|secs| secs > 0), "{id} estimate");
    }
}

/// Every step each step waits for, transitively.
fn ancestors(drafts: &[SubtaskDraft]) -> HashMap<String, HashSet<String>> {
    let mut result: HashMap<String, HashSet<String>> = HashMap::new();
    for draft in drafts {
        let mut all = HashSet::new();
        for dependency in &draft.depends_on {
            all.insert(dependency.clone());
            all.extend(result.get(dependency).cloned().unwrap_or_default());
        }
        result.insert(draft.id.clone().unwrap_or_default(), all);
    }
    result
}

fn has_parallel_steps(drafts: &[SubtaskDraft]) -> bool {
    let ancestors = ancestors(drafts);
    let ids: Vec<String> = drafts.iter().filter_map(|draft| draft.id.clone()).collect();
    ids.iter().enumerate().any(|(position, left)| {
        ids[position + 1..].iter().any(|right| !ancestors[right].contains(left) && !ancestors[left].contains(right))
    })
}

#[test]
fn templates_are_chosen_from_the_task_words() {
    let cases = [
        ("Add OAuth login support to the settings page", TemplateKind::Feature),
        ("Implement export to CSV for reports", TemplateKind::Feature),
        ("Fix the crash when saving an empty file", TemplateKind::BugFix),
        ("Tests are failing after the upgrade", TemplateKind::BugFix),
        ("Refactor the storage layer into modules", TemplateKind::Refactor),
        ("Clean up the config loading code", TemplateKind::Refactor),
        ("Explain how the scheduler works", TemplateKind::Question),
        ("Document the public API", TemplateKind::Question),
        ("Create an app for tracking expenses", TemplateKind::NewApp),
        ("Start a new project for the billing service", TemplateKind::NewApp),
        ("Создай мобильное приложение с логином", TemplateKind::NewApp),
        ("Исправь ошибку при сохранении файла", TemplateKind::BugFix),
        ("Переименуй модуль хранения", TemplateKind::Refactor),
        ("Объясни, как работает планировщик", TemplateKind::Question),
        ("Добавь поддержку тёмной темы", TemplateKind::Feature),
        ("Migrate the database tables", TemplateKind::Generic),
        ("Address the prefix handling", TemplateKind::Generic),
    ];
    for (task, expected) in cases {
        assert_eq!(choose_template(task), expected, "{task}");
        assert_eq!(plan_task(task, None, &WorkspaceFacts::default()).template, expected, "{task}");
    }
}

/// Descriptions say what the step does and never repeat the task (issue 21: "Task: <the whole
/// task>" is gone); the request's notes still reach every agent step.
#[test]
fn every_template_yields_valid_drafts_whose_descriptions_say_what_the_step_does() {
    let tasks = [
        "Add OAuth login support to the settings page",
        "Fix the crash when saving an empty file",
        "Refactor the storage layer into modules",
        "Explain how the scheduler works",
        "Создай мобильное приложение с логином",
        "Migrate the database tables",
    ];
    for facts in [WorkspaceFacts::default(), make_facts()] {
        for task in tasks {
            let plan = plan_task(task, Some("use the existing HTTP client"), &facts);
            assert_valid_drafts(&plan.subtasks);
            let template_steps = plan.subtasks.iter().filter(|draft| draft.agent != "shell").count();
            assert!((3..=7).contains(&template_steps), "{task}: {template_steps} template steps");
            for draft in &plan.subtasks {
                let description = draft.description.as_deref().unwrap_or("");
                assert!(!description.contains(task), "{task}: the description repeats the task: {description}");
                assert!(!description.starts_with("Task:"), "{description}");
                assert!(description.chars().count() > 20, "{task}: {description}");
                if draft.agent != "shell" {
                    assert!(description.contains("use the existing HTTP client"), "{task}: notes missing");
                }
            }
        }
    }
}

#[test]
fn templates_that_build_things_run_steps_in_parallel() {
    for task in ["Add CSV export", "Fix the crash on save", "Create an app for notes"] {
        let plan = plan_task(task, None, &WorkspaceFacts::default());
        assert!(has_parallel_steps(&plan.subtasks), "{task} has no parallel steps");
    }
}

#[test]
fn workspace_commands_become_shell_steps_after_the_implementation() {
    let plan = plan_task("Add CSV export to reports", None, &make_facts());
    let shell: Vec<&SubtaskDraft> = plan.subtasks.iter().filter(|draft| draft.agent == "shell").collect();
    let commands: Vec<&str> = shell.iter().filter_map(|draft| draft.command.as_deref()).collect();
    assert_eq!(commands, ["make test", "make build", "make test", "make lint"]);
    let baseline = shell[0];
    assert_eq!(baseline.role.as_deref(), Some("baseline"));
    assert_eq!(baseline.title, "Test (make) before the change");
    assert_eq!(plan.subtasks[0].id, baseline.id, "the baseline comes first");
    assert!(baseline.depends_on.is_empty(), "the baseline runs without waiting for any agent");
    let baseline_id = baseline.id.clone().expect("baseline id");
    for coder in plan.subtasks.iter().filter(|draft| draft.agent == "coder") {
        assert!(coder.depends_on.contains(&baseline_id), "{} changes code after the baseline", coder.title);
    }
    let study = plan.subtasks.iter().find(|draft| draft.agent == "ask").expect("a study step");
    assert!(study.depends_on.is_empty(), "studying the code does not wait for the baseline");
    assert!(plan.subtasks.iter().filter(|draft| draft.role.is_some()).count() == 1);
    let shell = &shell[1..];
    let build = shell[0];
    let coder_ids: Vec<String> =
        plan.subtasks.iter().filter(|draft| draft.agent == "coder").filter_map(|draft| draft.id.clone()).collect();
    assert!(build.depends_on.iter().all(|id| coder_ids.contains(id)) && !build.depends_on.is_empty());
    assert_eq!(shell[1].depends_on, vec![build.id.clone().expect("build id")], "tests wait for the build");
    assert_eq!(shell[2].depends_on, build.depends_on, "lint runs beside the build");

    let tests_only = WorkspaceFacts {
        commands: vec![command(CommandPurpose::Test, "Test (npm)", "npm test")],
        projects: Vec::new(),
    };
    let plan = plan_task("Fix the crash on save", None, &tests_only);
    let test_step = plan.subtasks.last().expect("a test step");
    assert_eq!((test_step.command.as_deref(), test_step.role.as_deref()), (Some("npm test"), None));
    assert_eq!(plan.subtasks[0].role.as_deref(), Some("baseline"));
    assert!(!test_step.depends_on.is_empty(), "tests wait for the implementation when there is no build");

    let question = plan_task("Explain how the scheduler works", None, &make_facts());
    assert!(question.subtasks.iter().all(|draft| draft.agent == "ask"), "a question changes no code");
}

#[test]
fn plan_titles_are_the_first_line_shortened() {
    assert_eq!(plan_title("  Fix   the crash\nwith more detail"), "Fix the crash");
    assert_eq!(plan_title("\n\n  \n"), "Untitled plan");
    let long_task = "Implement a careful and complete migration of every storage table to the new schema with backfill";
    let title = plan_title(long_task);
    assert!(title.chars().count() <= 80, "{title}");
    assert!(title.ends_with('…'), "{title}");
    assert!(long_task.starts_with(title.trim_end_matches('…')), "{title}");
    let unbroken = "x".repeat(200);
    assert_eq!(plan_title(&unbroken).chars().count(), 80);
    let exactly_eighty = "y".repeat(80);
    assert_eq!(plan_title(&exactly_eighty), exactly_eighty);
}

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(path, text).expect("write file");
}

fn detected(root: &Path) -> Vec<(CommandPurpose, String)> {
    detect_workspace(root).commands.into_iter().map(|command| (command.purpose, command.command)).collect()
}

use CommandPurpose::{Build, Lint, Test};

fn pairs(expected: &[(CommandPurpose, &str)]) -> Vec<(CommandPurpose, String)> {
    expected.iter().map(|(purpose, text)| (*purpose, (*text).to_owned())).collect()
}

#[test]
fn detection_finds_each_ecosystem() {
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(detected(empty.path()), []);

    let cargo = tempfile::tempdir().expect("tempdir");
    write(cargo.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    assert_eq!(detected(cargo.path()), pairs(&[(Build, "cargo build"), (Test, "cargo test")]));

    let npm = tempfile::tempdir().expect("tempdir");
    write(npm.path(), "package.json", r#"{"scripts": {"lint": "eslint .", "test": "jest", "build": "tsc"}}"#);
    assert_eq!(detected(npm.path()), pairs(&[(Build, "npm run build"), (Test, "npm test"), (Lint, "npm run lint")]));

    let npm_test_only = tempfile::tempdir().expect("tempdir");
    write(npm_test_only.path(), "package.json", r#"{"name": "x", "scripts": {"test": "jest"}}"#);
    assert_eq!(detected(npm_test_only.path()), pairs(&[(Test, "npm test")]));

    let go = tempfile::tempdir().expect("tempdir");
    write(go.path(), "go.mod", "module example.com/x\n");
    assert_eq!(detected(go.path()), pairs(&[(Build, "go build ./..."), (Test, "go test ./...")]));
}

#[test]
fn detection_finds_pytest_by_config_or_test_files() {
    let configured = tempfile::tempdir().expect("tempdir");
    write(configured.path(), "pyproject.toml", "[tool.pytest.ini_options]\naddopts = \"-q\"\n");
    assert_eq!(detected(configured.path()), pairs(&[(Test, "python3 -m pytest")]));

    // No configuration and no environment: pytest if it is importable when the step runs, else
    // unittest (issue 21; it used to be unittest always).
    let by_files = tempfile::tempdir().expect("tempdir");
    write(by_files.path(), "tests/test_parser.py", "def test_x():\n    pass\n");
    assert_eq!(
        detected(by_files.path()),
        pairs(&[(
            Test,
            "if python3 -c 'import pytest' 2>/dev/null; then python3 -m pytest; else python3 -m unittest discover -s \
             tests; fi"
        )])
    );

    let tox = tempfile::tempdir().expect("tempdir");
    write(tox.path(), "tox.ini", "[testenv]\ncommands = pytest\n");
    assert_eq!(detected(tox.path()), pairs(&[(Test, "python3 -m pytest")]));

    let no_pytest = tempfile::tempdir().expect("tempdir");
    write(no_pytest.path(), "pyproject.toml", "[project]\nname = \"x\"\n");
    write(no_pytest.path(), "tests/helpers.py", "");
    assert_eq!(detected(no_pytest.path()), []);
}

#[test]
fn makefile_targets_win_over_ecosystem_commands() {
    let both = tempfile::tempdir().expect("tempdir");
    write(both.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    write(
        both.path(),
        "Makefile",
        "CHECK := yes\nbuild: deps\n\tcargo build\ntest:\n\tcargo test\nlint :\n\tcargo clippy\n",
    );
    assert_eq!(detected(both.path()), pairs(&[(Build, "make build"), (Test, "make test"), (Lint, "make lint")]));

    let check_only = tempfile::tempdir().expect("tempdir");
    write(check_only.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    write(check_only.path(), "Makefile", "check:\n\tcargo test\nbuild := nothing\n");
    assert_eq!(detected(check_only.path()), pairs(&[(Build, "cargo build"), (Test, "make check")]));
}

#[test]
fn malformed_or_unreadable_files_are_skipped() {
    let malformed = tempfile::tempdir().expect("tempdir");
    write(malformed.path(), "package.json", "{ \"scripts\": { \"test\": ");
    write(malformed.path(), "go.mod", "module example.com/x\n");
    assert_eq!(detected(malformed.path()), pairs(&[(Build, "go build ./..."), (Test, "go test ./...")]));

    let scripts_not_an_object = tempfile::tempdir().expect("tempdir");
    write(scripts_not_an_object.path(), "package.json", r#"{"scripts": ["test"]}"#);
    assert_eq!(detected(scripts_not_an_object.path()), []);

    let directories = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(directories.path().join("Cargo.toml")).expect("dir");
    std::fs::create_dir(directories.path().join("Makefile")).expect("dir");
    std::fs::create_dir(directories.path().join("package.json")).expect("dir");
    assert_eq!(detected(directories.path()), []);
}

/// Stands in for validation (not this module's job): drafts as stored subtasks.
fn stored(drafts: &[SubtaskDraft]) -> Vec<Subtask> {
    drafts
        .iter()
        .map(|draft| {
            let agent = AgentKind::parse(&draft.agent).expect("known agent");
            let mut subtask =
                Subtask::new(SubtaskId::from_raw(draft.id.clone().expect("id")), draft.title.clone(), agent);
            subtask.description = draft.description.clone().unwrap_or_default();
            subtask.command = draft.command.clone();
            subtask.depends_on = draft.depends_on.iter().map(|id| SubtaskId::from_raw(id.clone())).collect();
            subtask.estimate_secs = draft.estimate_secs;
            subtask
        })
        .collect()
}

fn ids(drafts: &[SubtaskDraft]) -> Vec<&str> {
    drafts.iter().filter_map(|draft| draft.id.as_deref()).collect()
}

fn draft<'a>(drafts: &'a [SubtaskDraft], id: &str) -> &'a SubtaskDraft {
    drafts.iter().find(|draft| draft.id.as_deref() == Some(id)).unwrap_or_else(|| panic!("no step {id}"))
}

const FEATURE_TASK: &str = "Add CSV export to reports and document it in the README";

#[test]
fn revise_removes_named_steps_and_keeps_ids() {
    let current = stored(&plan_task(FEATURE_TASK, None, &WorkspaceFacts::default()).subtasks);
    let docs_id = current.iter().find(|subtask| subtask.title.starts_with("Document")).expect("docs step").id.clone();
    let revised =
        revise_plan(FEATURE_TASK, &current, "Remove the docs step.", &WorkspaceFacts::default()).expect("revised");
    assert_valid_drafts(&revised.subtasks);
    assert_eq!(revised.subtasks.len(), current.len() - 1);
    assert!(!ids(&revised.subtasks).contains(&docs_id.as_str()));
    for (kept, original) in revised.subtasks.iter().zip(current.iter().filter(|subtask| subtask.id != docs_id)) {
        assert_eq!(kept.id.as_deref(), Some(original.id.as_str()));
        assert_eq!(kept.title, original.title);
        assert_eq!(kept.description.as_deref(), Some(original.description.as_str()), "no feedback folded in");
        assert_eq!(kept.max_attempts, Some(i64::from(original.max_attempts)));
    }
}

#[test]
fn revise_by_id_or_position_hands_dependencies_on() {
    let current = stored(&plan_task("Fix the crash on save", None, &WorkspaceFacts::default()).subtasks);
    // Bug fix: s1 investigate; s2 reproduce <- s1; s3 fix <- s1; s4 verify <- s2, s3.
    assert_eq!(current[3].depends_on, [SubtaskId::from_raw("s2"), SubtaskId::from_raw("s3")]);
    let revised =
        revise_plan("Fix the crash on save", &current, "remove s3", &WorkspaceFacts::default()).expect("revised");
    assert_eq!(ids(&revised.subtasks), ["s1", "s2", "s4"]);
    assert_eq!(draft(&revised.subtasks, "s4").depends_on, ["s2", "s1"]);

    let revised = revise_plan("Fix the crash on save", &current, "drop step 2 and step 3", &WorkspaceFacts::default())
        .expect("revised");
    assert_eq!(ids(&revised.subtasks), ["s1", "s4"]);
    assert_eq!(draft(&revised.subtasks, "s4").depends_on, ["s1"]);
    assert_valid_drafts(&revised.subtasks);
}

#[test]
fn revise_adds_a_coder_step_or_a_workspace_command() {
    let current = stored(&plan_task(FEATURE_TASK, None, &WorkspaceFacts::default()).subtasks);
    let revised = revise_plan(FEATURE_TASK, &current, "add a step to update the changelog", &WorkspaceFacts::default())
        .expect("revised");
    assert_valid_drafts(&revised.subtasks);
    let added = revised.subtasks.last().expect("a step");
    assert_eq!(added.title, "Update the changelog");
    assert_eq!(added.agent, "coder");
    assert_eq!(added.id.as_deref(), Some(format!("s{}", current.len() + 1).as_str()));
    let last_coder = current.iter().rev().find(|subtask| subtask.agent == AgentKind::Coder).expect("coder step");
    assert_eq!(added.depends_on, [last_coder.id.as_str()]);

    let facts = make_facts();
    let no_shell = stored(&plan_task(FEATURE_TASK, None, &WorkspaceFacts::default()).subtasks);
    let revised = revise_plan(FEATURE_TASK, &no_shell, "Looks good; also run the linter", &facts).expect("revised");
    let lint = revised.subtasks.last().expect("a step");
    assert_eq!((lint.agent.as_str(), lint.command.as_deref()), ("shell", Some("make lint")));
    assert_valid_drafts(&revised.subtasks);
    assert_eq!(revised.unapplied.len(), 1, "{:?}", revised.unapplied);
    assert!(revised.unapplied[0].starts_with("\"Looks good\""), "{:?}", revised.unapplied);
    assert!(
        !revised.subtasks[0].description.as_deref().unwrap_or("").contains("Looks good"),
        "nothing is folded into descriptions"
    );

    let with_shell = stored(&plan_task(FEATURE_TASK, None, &facts).subtasks);
    let revised = revise_plan(FEATURE_TASK, &with_shell, "include tests", &facts).expect("revised");
    assert_eq!(revised.subtasks.len(), with_shell.len(), "cargo test is already a step");
}

#[test]
fn feedback_that_cannot_be_applied_is_reported_not_folded_in() {
    let current = stored(&plan_task(FEATURE_TASK, None, &WorkspaceFacts::default()).subtasks);
    let refused = revise_plan(FEATURE_TASK, &current, "Use the existing HTTP client", &WorkspaceFacts::default());
    let Err(ReviseError::NothingApplied(reasons)) = refused else { panic!("{refused:?}") };
    assert_eq!(reasons, ["\"Use the existing HTTP client\" (no step named and nothing to add)"]);
    let revised =
        revise_plan(FEATURE_TASK, &current, "remove the docs step and make it faster", &WorkspaceFacts::default())
            .expect("revised");
    assert_eq!(revised.subtasks.len(), current.len() - 1);
    assert_eq!(revised.unapplied.len(), 1, "{:?}", revised.unapplied);
    assert!(revised.subtasks.iter().all(|draft| !draft.description.as_deref().unwrap_or("").contains("faster")));
}

#[test]
fn russian_feedback_removes_and_keeps_steps_by_meaning() {
    let current = stored(&plan_task(FEATURE_TASK, None, &WorkspaceFacts::default()).subtasks);
    let docs = current.iter().find(|subtask| subtask.title.starts_with("Document")).expect("docs step");
    let revised =
        revise_plan(FEATURE_TASK, &current, "убери шаг с документацией", &WorkspaceFacts::default()).expect("revised");
    assert_eq!(revised.subtasks.len(), current.len() - 1);
    assert!(!ids(&revised.subtasks).contains(&docs.id.as_str()));
    assert!(revised.unapplied.is_empty(), "{:?}", revised.unapplied);

    let revised =
        revise_plan(FEATURE_TASK, &current, "don't write tests", &WorkspaceFacts::default()).expect("revised");
    assert!(
        revised.subtasks.iter().all(|draft| !draft.title.starts_with("Write tests")),
        "{:?}",
        ids(&revised.subtasks)
    );

    let revised =
        revise_plan(FEATURE_TASK, &current, "всё кроме тестов убрать", &WorkspaceFacts::default()).expect("revised");
    assert!(revised.subtasks.iter().all(|draft| draft.title.contains("test")), "{:?}", revised.subtasks);
}

#[test]
fn adding_a_named_tool_or_a_quoted_command_gives_a_shell_step() {
    let cargo = tempfile::tempdir().expect("tempdir");
    write(cargo.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    let facts = detect_workspace(cargo.path());
    let current = stored(&plan_task(FEATURE_TASK, None, &facts).subtasks);
    let revised = revise_plan(FEATURE_TASK, &current, "add a step to run clippy", &facts).expect("revised");
    let clippy = revised.subtasks.last().expect("a step");
    assert_eq!(clippy.agent, "shell");
    assert_eq!(clippy.command.as_deref(), Some("cargo clippy --all-targets -- -D warnings"));
    let revised = revise_plan(FEATURE_TASK, &current, "добавь шаг `cargo fmt --check`", &facts).expect("revised");
    assert_eq!(revised.subtasks.last().and_then(|step| step.command.as_deref()), Some("cargo fmt --check"));
    let refused = revise_plan(FEATURE_TASK, &current, "add a step to run mypy", &facts);
    assert!(matches!(refused, Err(ReviseError::NothingApplied(_))), "no Python project: {refused:?}");
}

#[test]
fn revise_refuses_blank_feedback_and_an_empty_result() {
    let current = stored(&plan_task("Migrate the database tables", None, &WorkspaceFacts::default()).subtasks);
    assert_eq!(current.len(), 3);
    let facts = WorkspaceFacts::default();
    assert_eq!(revise_plan("Migrate", &current, " \n\t", &facts), Err(ReviseError::EmptyFeedback));
    assert_eq!(revise_plan("Migrate", &current, "remove s1, s2 and s3", &facts), Err(ReviseError::NothingLeft));
    assert_eq!(revise_plan("Migrate", &current[..1], "drop step 1", &facts), Err(ReviseError::NothingLeft));
}

/// Issue 21: for 30 varied tasks, English and Russian, no title contains the whole task, no two
/// titles of a plan are equal, every title is under 70 characters, and a Russian task's titles are
/// Russian (Cyrillic, with no English words of the template around its object).
#[test]
fn titles_of_thirty_varied_tasks_are_short_distinct_in_the_tasks_language_and_not_the_task() {
    const TASKS: [&str; 30] = [
        "Add input validation to the parse function, with tests and docs",
        "Add a --verbose flag to the CLI, with tests and docs",
        "Profile the parse function and speed it up, then update the docs",
        "Fix the crash when saving an empty file",
        "Fix the off-by-one error in paginate() and add a regression test",
        "Refactor the storage layer into separate reader and writer modules",
        "Explain how the scheduler picks the next ready subtask",
        "Create an app for tracking household expenses",
        "Migrate the database tables",
        "Implement rate limiting for the public API and document it",
        "Add CSV export to the reports page and write tests for it",
        "Rename getUser to fetchUser across the whole codebase, then update the changelog",
        "Dark mode",
        "Please implement a careful and complete migration of every storage table to the new schema with backfill \
         and progress reporting",
        "Set up CI with GitHub Actions: build, lint and test on every push",
        "Добавь валидацию входных данных в функцию parse и добавить тесты",
        "Сделай экспорт отчётов в CSV с тестами и документацией",
        "Исправь ошибку при сохранении пустого файла",
        "Исправить падение при запуске и написать регрессионный тест",
        "Переименуй модуль хранения и обнови документацию",
        "Объясни, как работает планировщик",
        "Создай мобильное приложение с логином и регистрацией",
        "Реализовать офлайн-режим с фоновой синхронизацией",
        "Профилировать функцию parse и ускорить её, затем обновить документацию",
        "Добавить флаг --dry-run в скрипт деплоя",
        "Перепиши модуль оплаты на Rust",
        "Настроить CI: сборка, линтер и тесты на каждый пуш",
        "Тёмная тема",
        "Нужно добавить поддержку PostgreSQL наряду с SQLite и задокументировать это",
        "Вынеси валидацию в отдельную функцию в forms.py и покрой её тестами",
    ];
    let english_template_words = ["Write", "tests", "Study", "Document", "Implement", "Run", "the", "for", "and"];
    let cargo = tempfile::tempdir().expect("tempdir");
    write(cargo.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    for facts in [WorkspaceFacts::default(), make_facts(), detect_workspace(cargo.path())] {
        for task in TASKS {
            let plan = plan_task(task, None, &facts);
            assert_valid_drafts(&plan.subtasks);
            let whole = task.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            let russian = task.chars().filter(|c| matches!(c, 'а'..='я' | 'А'..='Я')).count() > 3;
            let mut seen = HashSet::new();
            for draft in &plan.subtasks {
                let title = &draft.title;
                assert!(title.chars().count() < 70, "{task}: {title:?} is {} characters", title.chars().count());
                assert!(!title.to_lowercase().contains(&whole), "{task}: {title:?} repeats the task");
                assert!(seen.insert(title.to_lowercase()), "{task}: two steps are titled {title:?}");
                let description = draft.description.as_deref().unwrap_or("");
                assert!(!description.to_lowercase().contains(&whole), "{task}: {description:?} repeats the task");
                if russian {
                    assert!(
                        title.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я')),
                        "{task}: {title:?} is not Russian"
                    );
                    for word in title.split_whitespace() {
                        assert!(!english_template_words.contains(&word), "{task}: {title:?} has English words");
                    }
                    assert!(description.chars().any(|c| matches!(c, 'а'..='я')), "{task}: {description:?}");
                }
            }
        }
    }
}

#[test]
fn extra_requests_become_steps_of_their_own() {
    let titles = |task: &str| -> Vec<String> {
        plan_task(task, None, &WorkspaceFacts::default()).subtasks.into_iter().map(|draft| draft.title).collect()
    };
    let feature = titles("Add a --verbose flag to the CLI, with tests and docs");
    assert!(feature.contains(&"Add a --verbose flag to the CLI".to_owned()), "{feature:?}");
    assert!(feature.contains(&"Write tests for a --verbose flag".to_owned()), "{feature:?}");
    assert!(feature.contains(&"Document a --verbose flag".to_owned()), "{feature:?}");
    let profile = titles("Profile the parse function and speed it up, then update the docs");
    assert!(profile.contains(&"Profile the parse function and speed it up".to_owned()), "{profile:?}");
    assert!(profile.contains(&"Document the parse function".to_owned()), "{profile:?}");
    assert!(!profile.iter().any(|title| title.starts_with("Write tests")), "no tests were asked for: {profile:?}");
    let changelog = titles("Rename getUser to fetchUser across the whole codebase, then update the changelog");
    assert!(changelog.contains(&"Update the changelog".to_owned()), "{changelog:?}");
    let russian = titles("Сделай экспорт отчётов в CSV с тестами и документацией");
    assert!(russian.contains(&"Покрыть тестами экспорт отчётов".to_owned()), "{russian:?}");
    assert!(russian.contains(&"Задокументировать экспорт отчётов".to_owned()), "{russian:?}");
}
