//! Task lists read into plan files: spec-kit, Kiro and plain checklists, their steps, dependencies and problems.

use super::*;

fn read(text: &str, with_model: bool) -> (PlanFile, Vec<FileProblem>) {
    parse(text, &ReadOptions { with_model, file_name: Some("tasks.md".into()) })
}

fn placed(text: &str, problems: &[FileProblem]) -> Vec<(String, String)> {
    problems.iter().map(|problem| (text[problem.span.clone()].to_owned(), problem.message.clone())).collect()
}

#[test]
fn notes_set_fields_and_commands_make_shell_steps() {
    let text = "# Ship\n\nShip it.\n\n- [ ] build\n  - id: build\n  - command: `cargo build`\n  - cwd: crates/core\n  - timeout: 10m\n- [ ] check it\n  ```sh\n  make a\n  make b\n  ```\n- [ ] Explain why the build is slow\n  - after: build\n";
    let (file, problems) = read(text, true);
    assert_eq!(problems, vec![]);
    assert_eq!((file.title.as_deref(), file.goal.as_deref()), (Some("Ship"), Some("Ship it.")));
    let build = &file.subtasks[0].draft;
    assert_eq!(
        (build.id.as_deref(), build.agent.as_str(), build.command.as_deref(), build.cwd.as_deref(), build.timeout_secs),
        (Some("build"), "shell", Some("cargo build"), Some("crates/core"), Some(600))
    );
    assert_eq!(file.subtasks[1].draft.command.as_deref(), Some("make a\nmake b"));
    assert_eq!(file.subtasks[1].draft.depends_on, vec!["build"]);
    assert_eq!(file.subtasks[2].draft.agent, "ask");
    assert_eq!(file.subtasks[2].draft.depends_on, vec!["build"]);
}

#[test]
fn without_a_model_a_step_is_for_a_person() {
    let (file, _) = read("- [ ] Write the release notes\n", false);
    assert_eq!(file.subtasks[0].draft.agent, "manual");
    assert_eq!(file.title.as_deref(), Some("tasks.md"), "no heading: the file's name");
}

#[test]
fn what_is_not_understood_is_reported_at_its_line() {
    let text = "- [] empty\n- T009 no checkbox\n> - [ ] quoted\n- [ ] bad\n  - timeout: soon\n- [ ] \n";
    let (_, problems) = read(text, false);
    let found = placed(text, &problems);
    let places: Vec<&str> = found.iter().map(|(place, _)| place.as_str()).collect();
    assert_eq!(places, vec!["", "T009 no checkbox", "> - [ ] quoted", "soon", "- [ ] "], "{found:?}");
    assert!(found[0].1.contains("empty checkbox"));
    assert!(found[3].1.contains("not a duration"));
}

#[test]
fn paths_named_by_a_task_are_kept_in_its_description() {
    assert_eq!(
        paths_in("Create [Entity1] model in src/models/[entity1].py and tests/ (see `pyproject.toml`), e.g. now"),
        vec!["src/models/[entity1].py", "tests/", "pyproject.toml"]
    );
    assert!(paths_in("Implement authentication/authorization with GET /{code} in 3.12").is_empty());
}
