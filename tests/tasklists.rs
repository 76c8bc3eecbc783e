//! Task lists people already write, read as plans: spec-kit's own `tasks.md` template and a filled
//! one, a Kiro `tasks.md`, a Taskmaster `tasks.json` and a plain checklist (`tests/data/tasklists`)
//! each give the steps and dependencies a person reading them would; then, against real SQLite
//! and real shell steps, import → run → export keeps ids, titles and order, finished steps tick
//! their checkbox in the file, and two runs ticking one file at once lose and double nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codelab_planner::config::Settings;
use codelab_planner::engine::{Completion, EventReceiver, RunEventKind};
use codelab_planner::model::{PlanStatus, SubtaskId, SubtaskStatus};
use codelab_planner::orchestrator::{
    CompleteRequest, ImportRequest, Orchestrator, OrchestratorConfig, PlanFormat, StartOptions,
};
use codelab_planner::planfile::{CheckedPlanFile, Format, ReadOptions, Severity, check_as, line_and_column};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tasklists").join(name)
}

fn read(name: &str, with_model: bool) -> (String, CheckedPlanFile) {
    let text = std::fs::read_to_string(data(name)).expect("test data");
    let format = Format::of_path(Path::new(name)).expect("a known format");
    let checked = check_as(&text, format, &ReadOptions { with_model, file_name: Some(name.to_owned()) });
    (text, checked)
}

/// `(id, dependencies)` of every step, in file order.
fn graph(checked: &CheckedPlanFile) -> Vec<(String, Vec<String>)> {
    let file = &checked.file;
    (0..file.subtasks.len()).map(|index| (file.id_of(index), file.subtasks[index].draft.depends_on.clone())).collect()
}

fn expected(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pairs.iter().map(|(id, deps)| ((*id).to_owned(), deps.iter().map(|dep| (*dep).to_owned()).collect())).collect()
}

/// Problems as `line: message`, errors and warnings apart.
fn problems(text: &str, checked: &CheckedPlanFile, severity: Severity) -> Vec<String> {
    checked
        .problems
        .iter()
        .filter(|problem| problem.severity == severity)
        .map(|problem| format!("{}: {}", line_and_column(text, problem.span.start).0, problem.message))
        .collect()
}

fn step<'a>(checked: &'a CheckedPlanFile, id: &str) -> &'a codelab_planner::model::validate::SubtaskDraft {
    &checked.file.entry_with_id(id).unwrap_or_else(|| panic!("no step {id}")).1.draft
}

#[test]
fn spec_kits_own_template_reads_as_its_phases_say() {
    let (text, checked) = read("spec-kit-template.md", false);
    assert_eq!(problems(&text, &checked, Severity::Error), Vec::<String>::new());
    let warnings = problems(&text, &checked, Severity::Warning);
    assert_eq!(warnings.len(), 6, "one per TXXX placeholder: {warnings:#?}");
    assert!(warnings[0].starts_with("147: `TXXX` is a placeholder: this step is numbered T029"), "{warnings:?}");
    assert_eq!(checked.file.title.as_deref(), Some("Tasks: [FEATURE NAME]"));
    let stories = ["T010", "T011", "T017", "T023", "T028"];
    assert_eq!(
        graph(&checked),
        expected(&[
            ("T001", &[]),
            ("T002", &["T001"]),
            ("T003", &["T002"]),
            ("T004", &["T003"]),
            ("T005", &["T004"]),
            ("T006", &["T004"]),
            ("T007", &["T005", "T006"]),
            ("T008", &["T007"]),
            ("T009", &["T008"]),
            // Each user story starts once the foundation is done, side by side.
            ("T010", &["T009"]),
            ("T011", &["T009"]),
            ("T012", &["T009"]),
            ("T013", &["T009"]),
            ("T014", &["T012", "T013"]),
            ("T015", &["T014"]),
            ("T016", &["T015"]),
            ("T017", &["T016"]),
            ("T018", &["T009"]),
            ("T019", &["T009"]),
            ("T020", &["T009"]),
            ("T021", &["T018", "T019", "T020"]),
            ("T022", &["T021"]),
            ("T023", &["T022"]),
            ("T024", &["T009"]),
            ("T025", &["T009"]),
            ("T026", &["T009"]),
            ("T027", &["T024", "T025", "T026"]),
            ("T028", &["T027"]),
            // Polish waits for every loose end of every story.
            ("T029", &stories),
            ("T030", &["T029"]),
            ("T031", &["T030"]),
            ("T032", &["T031"]),
            ("T033", &["T032"]),
            ("T034", &["T033"]),
        ])
    );
    let contract = step(&checked, "T010");
    assert_eq!(contract.title, "Contract test for [endpoint] in tests/contract/test_[name].py");
    assert_eq!(
        contract.description.as_deref(),
        Some("Story: US1\nFiles: tests/contract/test_[name].py"),
        "the story and the file path are kept"
    );
    assert!(checked.file.subtasks.iter().all(|entry| entry.draft.agent == "manual"), "no model: steps for a person");
    assert!(checked.file.ticked().is_empty());
}

#[test]
fn a_filled_spec_kit_list_keeps_ticks_commands_and_written_dependencies() {
    let (text, checked) = read("spec-kit-filled.md", true);
    assert_eq!(checked.problems, vec![], "{text}");
    assert_eq!(checked.file.title.as_deref(), Some("Tasks: URL Shortener"));
    assert_eq!(
        graph(&checked),
        expected(&[
            ("T001", &[]),
            ("T002", &["T001"]),
            ("T003", &["T002"]),
            ("T004", &["T003"]),
            ("T005", &["T004"]),
            ("T006", &["T004"]),
            ("T007", &["T005", "T006"]),
            ("T008", &["T007"]),
            ("T009", &["T007"]),
            ("T010", &["T007"]),
            ("T011", &["T010"]),
            ("T012", &["T011"]),
            ("T013", &["T007"]),
            ("T014", &["T013"]),
            ("T015", &["T014"]),
            ("T016", &["T008", "T009", "T012", "T015"]),
            ("T017", &["T016"]),
        ])
    );
    assert_eq!(checked.file.ticked(), vec!["T001", "T002"], "[x] and [X] are both ticks");
    let check = step(&checked, "T007");
    assert_eq!((check.agent.as_str(), check.command.as_deref()), ("shell", Some("pytest -q tests/unit")));
    assert_eq!(step(&checked, "T017").command.as_deref(), Some("pytest -q"), "a backticked `$ command`");
    assert_eq!(step(&checked, "T011").agent, "coder", "with a model: an agent step");
    assert_eq!(step(&checked, "T004").description.as_deref(), Some("Files: src/db/migrations/"));
}

#[test]
fn a_kiro_list_nests_sub_tasks_under_their_task() {
    let (text, checked) = read("kiro-tasks.md", false);
    assert_eq!(checked.problems, vec![], "{text}");
    assert_eq!(
        graph(&checked),
        expected(&[
            ("1", &[]),
            ("2.1", &["1"]),
            ("2.2", &["2.1"]),
            ("2.3", &["2.2"]),
            ("3.1", &["2.3"]),
            ("3.2", &["3.1"]),
            ("4", &["3.2"]),
        ])
    );
    let groups: Vec<(Option<&str>, Vec<&str>)> = checked
        .file
        .groups
        .iter()
        .map(|group| (group.id.as_deref(), group.members.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(groups, vec![(Some("2"), vec!["2.1", "2.2", "2.3"]), (Some("3"), vec!["3.1", "3.2"])]);
    assert_eq!(checked.file.ticked(), vec!["1"]);
    let description = step(&checked, "2.1").description.clone().unwrap_or_default();
    assert!(description.contains("Requirements: 2.1, 3.3, 1.2"), "{description}");
    assert!(description.contains("Part of: 2. Implement data models and validation"), "{description}");
    assert!(step(&checked, "2.3").description.as_deref().unwrap_or("").contains("Optional"), "`[ ]*` is optional");
}

#[test]
fn a_taskmaster_file_keeps_numbers_dependencies_subtasks_and_statuses() {
    let (text, checked) = read("taskmaster-tasks.json", false);
    assert_eq!(checked.problems, vec![], "{text}");
    assert_eq!(
        graph(&checked),
        expected(&[
            ("1", &[]),
            ("2.1", &["1"]),
            ("2.2", &["2.1", "1"]),
            ("2.3", &["2.1", "1"]),
            ("3", &["2.1", "2.2", "2.3"]),
            ("4.1", &["3"]),
            ("4.2", &["4.1", "3"]),
            ("4.3", &["4.2", "3"]),
            ("5", &["1"]),
            ("6", &["4.1", "4.2", "4.3", "5"]),
            ("7.1", &["4.1", "4.2", "4.3"]),
            ("7.2", &["7.1", "4.1", "4.2", "4.3"]),
            ("8", &["6", "7.1", "7.2"]),
            ("9", &["7.1", "7.2"]),
            ("10", &["8"]),
            ("11", &["9", "10"]),
        ])
    );
    assert_eq!(checked.file.ticked(), vec!["1", "2.1"]);
    assert_eq!(checked.file.goal.as_deref(), Some("Tasks for the todo service"));
    assert_eq!(step(&checked, "8").command.as_deref(), Some("npm test"));
    let three = step(&checked, "3").description.clone().unwrap_or_default();
    assert!(three.contains("Test strategy: Unit tests for every field's validation."), "{three}");
}

#[test]
fn a_plain_checklist_is_a_sequence() {
    let (text, checked) = read("checklist.md", false);
    assert_eq!(checked.problems, vec![], "{text}");
    assert_eq!(
        graph(&checked),
        expected(&[("s1", &[]), ("s2", &["s1"]), ("s3", &["s2"]), ("s4", &["s3"]), ("s5", &["s4"])])
    );
    let kinds: Vec<(&str, Option<&str>)> = checked
        .file
        .subtasks
        .iter()
        .map(|entry| (entry.draft.agent.as_str(), entry.draft.command.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("manual", None),
            ("shell", Some("cargo test --locked")),
            ("manual", None),
            ("shell", Some("cargo publish --dry-run")),
            ("manual", None),
        ]
    );
    assert_eq!(
        (checked.file.title.as_deref(), checked.file.goal.as_deref()),
        (Some("Release 1.4"), Some("Get the 1.4 release out."))
    );
}

#[test]
fn what_a_list_cannot_say_is_an_error_at_its_line() {
    let text = "# Broken\n\n- [ ] T001 One (depends on T009)\n- [ ] T002 Two\n  - timeout: soon\n";
    let checked = check_as(text, Format::Markdown, &ReadOptions::default());
    assert_eq!(
        problems(text, &checked, Severity::Error),
        vec!["3: unknown subtask \"T009\"", "5: `soon` is not a duration (`600`, `90s`, `10m`, `1h`)"]
    );
    let empty = check_as("# Nothing\n\nJust words.\n", Format::Markdown, &ReadOptions::default());
    assert!(empty.has_errors(), "a list with no task is refused");
}

// ---- against real SQLite and real shell steps ----

async fn start(workspace: &Path, database: &str) -> Orchestrator {
    let config = OrchestratorConfig {
        workspace_root: workspace.to_path_buf(),
        database: Some(workspace.join(".codelab").join(database)),
        settings: Settings { max_parallel: 8, ..Settings::default() },
        editor: None,
    };
    Orchestrator::start(config).await.expect("orchestrator starts").0
}

/// Waits for the run's end; returns the status of each finished step.
async fn finish(mut events: EventReceiver) -> (PlanStatus, BTreeMap<String, SubtaskStatus>) {
    let mut steps = BTreeMap::new();
    loop {
        let event = tokio::time::timeout(RUN_TIMEOUT, events.recv()).await.expect("the run ends in time");
        match event.map(|event| event.kind) {
            Some(RunEventKind::SubtaskFinished { subtask_id, status, .. }) => {
                steps.insert(subtask_id.to_string(), status);
            }
            Some(RunEventKind::PlanFinished { status, .. }) => return (status, steps),
            Some(_) => {}
            None => panic!("the events ended without planFinished"),
        }
    }
}

const RUNNABLE: &str = "# Build and check\n\nEverything a release needs.\n\n## Phase 1: Setup\n\n- [X] T001 Run `mkdir -p out`\n- [ ] T002 [P] Run `echo a > out/a`\n- [ ] T003 [P] Run `echo b > out/b`\n\n## Phase 2: Check\n\n- [ ] T004 Compare the outputs\n  - agent: shell\n  - command: `cat out/a out/b`\n- [ ] 5. Wrap up\n  - [ ] 5.1 Run `true`\n  - [ ] 5.2 Run `true` (depends on T004)\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_run_and_export_keep_ids_titles_and_order_and_tick_the_file() {
    let workspace = tempfile::tempdir().unwrap();
    let file = workspace.path().join("tasks.md");
    std::fs::write(&file, RUNNABLE).unwrap();
    let orchestrator = start(workspace.path(), "planner.db").await;
    let request = ImportRequest { path: PathBuf::from("tasks.md"), ..ImportRequest::default() };
    let created = orchestrator.import(request).await.expect("imported");
    let plan = &created.plan;
    assert_eq!(plan.source_file.as_deref(), Some("tasks.md"), "the draft remembers its file");
    let ids: Vec<&str> = plan.subtasks.iter().map(|subtask| subtask.id.as_str()).collect();
    assert_eq!(ids, vec!["T001", "T002", "T003", "T004", "5.1", "5.2"]);

    let run = orchestrator.approve_and_execute(plan.id.clone(), StartOptions::default()).await.expect("started");
    let (status, steps) = finish(run.events).await;
    assert_eq!(status, PlanStatus::Completed, "{steps:?}");
    let ticked = std::fs::read_to_string(&file).unwrap();
    assert_eq!(ticked, RUNNABLE.replace("[ ]", "[X]"), "each step and the group ticked, in the file's own `[X]`");

    let stored = orchestrator.get(plan.id.clone()).await.unwrap();
    let exported = orchestrator.export(plan.id.clone(), PlanFormat::Markdown).await.expect("exported");
    let again = check_as(&exported, Format::Markdown, &ReadOptions::default());
    assert_eq!(again.problems, vec![], "{exported}");
    let shape = |subtasks: Vec<(String, String, Vec<String>, Option<String>)>| subtasks;
    let before = shape(
        stored
            .subtasks
            .iter()
            .map(|subtask| {
                let deps = subtask.depends_on.iter().map(ToString::to_string).collect();
                (subtask.id.to_string(), subtask.title.clone(), deps, subtask.command.clone())
            })
            .collect(),
    );
    let after = shape(
        again
            .file
            .subtasks
            .iter()
            .map(|entry| {
                let draft = &entry.draft;
                (
                    draft.id.clone().unwrap_or_default(),
                    draft.title.clone(),
                    draft.depends_on.clone(),
                    draft.command.clone(),
                )
            })
            .collect(),
    );
    assert_eq!(after, before, "ids, titles, order, dependencies and commands survive the round trip:\n{exported}");
    assert_eq!(again.file.ticked().len(), 6, "done steps export ticked:\n{exported}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_ticking_one_file_at_once_lose_and_double_nothing() {
    const STEPS: usize = 24;
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join("claims")).unwrap();
    let mut text = String::from("# Claim them all\n\n");
    for number in 1..=STEPS {
        // Every step waits until both runs are going; then `mkdir` succeeds for exactly one of the
        // two: each step is done by one run only, so the runs tick different lines at once. A step
        // that claimed its line holds its slot a moment: one run cannot claim every line before
        // the other's first steps have seen `go` (a step starts in well under the 20 ms poll).
        let command = format!("while [ ! -e go ]; do sleep 0.02; done; mkdir claims/{number} && sleep 0.05");
        text.push_str(&format!("- [ ] T{number:03} [P] Run `{command}`\n"));
    }
    let file = workspace.path().join("tasks.md");
    std::fs::write(&file, &text).unwrap();
    // Two orchestrators: two writers with nothing shared in memory, as two processes would be.
    let first = start(workspace.path(), "first.db").await;
    let second = start(workspace.path(), "second.db").await;
    let request = || ImportRequest { path: PathBuf::from("tasks.md"), ..ImportRequest::default() };
    let a = first.import(request()).await.expect("imported");
    let b = second.import(request()).await.expect("imported");
    let run_a = first.approve_and_execute(a.plan.id.clone(), StartOptions::default()).await.unwrap();
    let run_b = second.approve_and_execute(b.plan.id.clone(), StartOptions::default()).await.unwrap();
    std::fs::write(workspace.path().join("go"), "").unwrap();
    let ((_, steps_a), (_, steps_b)) = tokio::join!(finish(run_a.events), finish(run_b.events));
    let done_by = |steps: &BTreeMap<String, SubtaskStatus>| {
        steps.iter().filter(|(_, status)| **status == SubtaskStatus::Done).count()
    };
    assert_eq!(done_by(&steps_a) + done_by(&steps_b), STEPS, "each step done by exactly one run");
    assert!(done_by(&steps_a) > 0 && done_by(&steps_b) > 0, "both runs ticked: {steps_a:?} {steps_b:?}");
    let ticked = std::fs::read_to_string(&file).unwrap();
    assert_eq!(ticked, text.replace("[ ]", "[x]"), "every tick landed once, nothing else changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_finished_by_hand_ticks_its_line_and_its_group() {
    let workspace = tempfile::tempdir().unwrap();
    let text = "# Kiro\n\n- [ ] 1. Review\n  - [ ] 1.1 Read the spec\n  - [ ] 1.2 Sign it off\n";
    let file = workspace.path().join("tasks.md");
    std::fs::write(&file, text).unwrap();
    let orchestrator = start(workspace.path(), "planner.db").await;
    let request = ImportRequest { path: PathBuf::from("tasks.md"), ..ImportRequest::default() };
    let plan = orchestrator.import(request).await.expect("imported").plan;
    orchestrator.approve(plan.id.clone()).await.expect("approved");
    for (step, expected) in [
        ("1.1", "# Kiro\n\n- [ ] 1. Review\n  - [x] 1.1 Read the spec\n  - [ ] 1.2 Sign it off\n"),
        ("1.2", "# Kiro\n\n- [x] 1. Review\n  - [x] 1.1 Read the spec\n  - [x] 1.2 Sign it off\n"),
    ] {
        let completion = Completion { subtask_id: SubtaskId::from_raw(step), done: true, note: None };
        orchestrator.complete(CompleteRequest { plan_id: plan.id.clone(), completion }).await.expect("completed");
        // The tick is written in the background; there is no event to wait on.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&file).unwrap() != expected {
            assert!(
                std::time::Instant::now() < deadline,
                "{step} never ticked: {}",
                std::fs::read_to_string(&file).unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
