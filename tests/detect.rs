//! Detection of a workspace's commands on real temporary directories: Make (`makefile` too),
//! just, pnpm / yarn by lock file, npm's placeholder test, Python runners (`.venv`, `venv`, uv,
//! poetry; pytest or unittest), Gradle / Maven wrappers, monorepos one and two levels down with
//! per-project `cwd`, and plans that use them (tools named in the task, no build before a test
//! command that builds).

use std::path::Path;

use codelab_planner::planner::{CommandPurpose, Tool, detect_workspace, plan_task};

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(path, text).expect("write file");
}

/// `(command, cwd)` of every detected command, in order.
fn commands(root: &Path) -> Vec<(String, Option<String>)> {
    detect_workspace(root).commands.into_iter().map(|command| (command.command, command.cwd)).collect()
}

fn at_root(list: &[&str]) -> Vec<(String, Option<String>)> {
    list.iter().map(|command| ((*command).to_owned(), None)).collect()
}

#[test]
fn make_and_just_targets_in_any_spelling() {
    let make = tempfile::tempdir().unwrap();
    write(make.path(), "makefile", "build:\n\tcc x.c\ncheck:\n\t./run-tests\nCC := gcc\n");
    assert_eq!(commands(make.path()), at_root(&["make build", "make check"]));
    let just = tempfile::tempdir().unwrap();
    write(
        just.path(),
        "justfile",
        "set shell := [\"bash\", \"-c\"]\n\nbuild:\n    cargo build\n\ntest filter='':\n    cargo test {{filter}}\n",
    );
    assert_eq!(commands(just.path()), at_root(&["just build", "just test"]));
}

#[test]
fn node_package_managers_by_lock_file_and_the_npm_placeholder_is_no_test() {
    let pnpm = tempfile::tempdir().unwrap();
    write(pnpm.path(), "package.json", r#"{"scripts": {"build": "tsc", "test": "vitest run"}}"#);
    write(pnpm.path(), "pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    assert_eq!(commands(pnpm.path()), at_root(&["pnpm run build", "pnpm test"]));
    let yarn = tempfile::tempdir().unwrap();
    write(yarn.path(), "package.json", r#"{"scripts": {"lint": "eslint .", "test": "jest"}}"#);
    write(yarn.path(), "yarn.lock", "# yarn lockfile v1\n");
    assert_eq!(commands(yarn.path()), at_root(&["yarn test", "yarn lint"]));
    let placeholder = tempfile::tempdir().unwrap();
    let npm_init = r#"{"scripts": {"test": "echo \"Error: no test specified\" && exit 1"}}"#;
    write(placeholder.path(), "package.json", npm_init);
    assert_eq!(commands(placeholder.path()), []);
}

#[test]
fn python_runs_through_its_venv_uv_or_poetry() {
    let venv = tempfile::tempdir().unwrap();
    write(venv.path(), "pyproject.toml", "[tool.pytest.ini_options]\n");
    write(venv.path(), ".venv/bin/python", "");
    assert_eq!(commands(venv.path()), at_root(&[".venv/bin/python -m pytest"]));
    let plain_venv = tempfile::tempdir().unwrap();
    write(plain_venv.path(), "tests/test_cli.py", "import unittest\n");
    write(plain_venv.path(), "venv/bin/python", "");
    assert_eq!(commands(plain_venv.path()), at_root(&["venv/bin/python -m unittest discover -s tests"]));
    let with_pytest_installed = tempfile::tempdir().unwrap();
    write(with_pytest_installed.path(), "tests/test_cli.py", "");
    write(with_pytest_installed.path(), ".venv/bin/python", "");
    write(with_pytest_installed.path(), ".venv/lib/python3.12/site-packages/pytest/__init__.py", "");
    assert_eq!(commands(with_pytest_installed.path()), at_root(&[".venv/bin/python -m pytest"]));
    let uv = tempfile::tempdir().unwrap();
    write(uv.path(), "pyproject.toml", "[dependency-groups]\ndev = [\"pytest\"]\n");
    write(uv.path(), "uv.lock", "version = 1\n");
    assert_eq!(commands(uv.path()), at_root(&["uv run pytest"]));
    let poetry = tempfile::tempdir().unwrap();
    write(
        poetry.path(),
        "pyproject.toml",
        "[tool.poetry]\nname = \"x\"\n[tool.poetry.group.dev.dependencies]\npytest = \"*\"\n",
    );
    assert_eq!(commands(poetry.path()), at_root(&["poetry run pytest"]));
    let facts = detect_workspace(poetry.path());
    let mypy: Vec<String> = facts.tool_commands(Tool::Mypy).into_iter().map(|command| command.command).collect();
    assert_eq!(mypy, ["poetry run mypy ."]);
}

#[test]
fn gradle_and_maven_wrappers_win_over_global_tools() {
    let gradle = tempfile::tempdir().unwrap();
    write(gradle.path(), "build.gradle.kts", "plugins { java }\n");
    write(gradle.path(), "gradlew", "#!/bin/sh\n");
    assert_eq!(commands(gradle.path()), at_root(&["./gradlew assemble", "./gradlew test"]));
    let maven = tempfile::tempdir().unwrap();
    write(maven.path(), "pom.xml", "<project/>\n");
    assert_eq!(commands(maven.path()), at_root(&["mvn -q compile", "mvn test"]));
    write(maven.path(), "mvnw", "#!/bin/sh\n");
    assert_eq!(commands(maven.path()), at_root(&["./mvnw -q compile", "./mvnw test"]));
}

#[test]
fn monorepo_projects_one_and_two_levels_down_run_in_their_own_directory() {
    let monorepo = tempfile::tempdir().unwrap();
    write(monorepo.path(), "backend/Cargo.toml", "[package]\nname = \"api\"\n");
    write(monorepo.path(), "apps/web/package.json", r#"{"scripts": {"test": "vitest"}}"#);
    write(monorepo.path(), "node_modules/dep/package.json", r#"{"scripts": {"test": "x"}}"#);
    write(monorepo.path(), ".hidden/go.mod", "module x\n");
    let at = |command: &str, cwd: &str| (command.to_owned(), Some(cwd.to_owned()));
    assert_eq!(
        commands(monorepo.path()),
        [at("npm test", "apps/web"), at("cargo build", "backend"), at("cargo test", "backend")]
    );
    let workspace = tempfile::tempdir().unwrap();
    write(workspace.path(), "Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    write(workspace.path(), "crates/core/Cargo.toml", "[package]\nname = \"core\"\n");
    assert_eq!(commands(workspace.path()), at_root(&["cargo build", "cargo test"]), "members are covered by the root");
}

#[test]
fn plans_run_tools_the_task_names_and_skip_a_build_the_tests_already_do() {
    let cargo = tempfile::tempdir().unwrap();
    write(cargo.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    let facts = detect_workspace(cargo.path());
    let plan = plan_task("Add CSV export to reports and make clippy happy", None, &facts);
    let shell: Vec<&str> = plan.subtasks.iter().filter_map(|draft| draft.command.as_deref()).collect();
    assert_eq!(shell, ["cargo test", "cargo clippy --all-targets -- -D warnings", "cargo test"]);
    let coders: Vec<String> =
        plan.subtasks.iter().filter(|draft| draft.agent == "coder").filter_map(|draft| draft.id.clone()).collect();
    let test = plan.subtasks.iter().find(|draft| draft.command.as_deref() == Some("cargo test")).unwrap();
    assert_eq!(test.depends_on, coders, "verification waits for every step that changes code");
    assert!(facts.command_for(CommandPurpose::Test).is_some_and(|command| command.builds));
    assert!(plan.subtasks.iter().any(|draft| draft.title.contains("CSV export to reports")), "{:?}", plan.subtasks);
}
