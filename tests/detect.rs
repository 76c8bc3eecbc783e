//! Detection of a workspace's commands on real temporary directories: Make (`makefile` too),
//! just, pnpm / yarn by lock file, npm's placeholder test, Python runners (`.venv`, `venv`, uv,
//! poetry; pytest or unittest; `test_*.py` / `*_test.py` at the root or in `tests/`, run for real),
//! Gradle / Maven wrappers, Dart / Flutter, Swift, .NET, CMake, Ruby, Elixir, PHP, Deno, Zig,
//! monorepos one and two levels down with per-project `cwd`, and plans that use them (tools named
//! in the task, the baseline first, no build before a test command that builds).

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
    assert_eq!(shell, ["cargo test", "cargo test", "cargo clippy --all-targets -- -D warnings"]);
    assert_eq!(plan.subtasks[0].role.as_deref(), Some("baseline"), "the baseline comes first");
    let coders: Vec<String> =
        plan.subtasks.iter().filter(|draft| draft.agent == "coder").filter_map(|draft| draft.id.clone()).collect();
    let test = plan
        .subtasks
        .iter()
        .find(|draft| draft.command.as_deref() == Some("cargo test") && draft.role.is_none())
        .unwrap();
    assert_eq!(test.depends_on, coders, "verification waits for every step that changes code");
    assert!(facts.command_for(CommandPurpose::Test).is_some_and(|command| command.builds));
    assert!(plan.subtasks.iter().any(|draft| draft.title.contains("CSV export to reports")), "{:?}", plan.subtasks);
}

/// The command that `detect_workspace` gives `root` for tests.
fn test_command(root: &Path) -> String {
    detect_workspace(root).command_for(CommandPurpose::Test).map(|command| command.command.clone()).unwrap_or_default()
}

// The test runs the detected command in a shell, as a person would: the one place it spawns.
#[allow(clippy::disallowed_methods)]
#[test]
fn python_test_files_anywhere_usual_are_found_and_run_with_pytest_if_importable_else_unittest() {
    let either = |unittest: &str| {
        format!("if python3 -c 'import pytest' 2>/dev/null; then python3 -m pytest; else python3 -m {unittest}; fi")
    };
    let at_root = tempfile::tempdir().unwrap();
    write(at_root.path(), "calc.py", "def add(a, b):\n    return a - b\n");
    write(
        at_root.path(),
        "test_calc.py",
        "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        \
         self.assertEqual(add(2, 3), 5)\n\n    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n",
    );
    assert_eq!(test_command(at_root.path()), either("unittest"));
    // The command runs for real: pytest when this machine has it, else unittest; one test fails.
    let output = std::process::Command::new("sh")
        .args(["-c", &test_command(at_root.path())])
        .current_dir(at_root.path())
        .output()
        .expect("sh runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!output.status.success(), "{text}");
    assert_eq!(codelab_planner::model::check::failed_tests(&text), Some(1), "{text}");

    let suffix_named = tempfile::tempdir().unwrap();
    write(suffix_named.path(), "test/parser_test.py", "import unittest\n");
    assert_eq!(test_command(suffix_named.path()), either("unittest discover -s test -p '*_test.py'"));
    let venv_without_pytest = tempfile::tempdir().unwrap();
    write(venv_without_pytest.path(), "test_cli.py", "import unittest\n");
    write(venv_without_pytest.path(), ".venv/bin/python", "");
    assert_eq!(test_command(venv_without_pytest.path()), ".venv/bin/python -m unittest");
    let uv_without_pytest = tempfile::tempdir().unwrap();
    write(uv_without_pytest.path(), "pyproject.toml", "[project]\nname = \"x\"\n");
    write(uv_without_pytest.path(), "uv.lock", "version = 1\n");
    write(uv_without_pytest.path(), "tests/test_cli.py", "");
    assert_eq!(test_command(uv_without_pytest.path()), "uv run python -m unittest discover -s tests");
    let helpers_only = tempfile::tempdir().unwrap();
    write(helpers_only.path(), "helpers.py", "");
    write(helpers_only.path(), "tests/conftest.py", "");
    assert_eq!(test_command(helpers_only.path()), "");
}

#[test]
fn the_less_common_layouts_have_their_conventional_commands() {
    let cases: [(&str, &str, &[&str]); 11] = [
        (
            "pubspec.yaml",
            "name: app\ndependencies:\n  flutter:\n    sdk: flutter\n",
            &["flutter test", "flutter analyze"],
        ),
        ("pubspec.yaml", "name: tool\n", &["dart test", "dart analyze"]),
        ("Package.swift", "// swift-tools-version:5.9\n", &["swift build", "swift test"]),
        ("App.sln", "\n", &["dotnet build", "dotnet test"]),
        (
            "CMakeLists.txt",
            "project(x)\n",
            &[
                "cmake -S . -B build && cmake --build build",
                "cmake -S . -B build && cmake --build build && ctest --test-dir build --output-on-failure",
            ],
        ),
        ("mix.exs", "defmodule X.MixProject do\nend\n", &["mix compile", "mix test"]),
        ("composer.json", r#"{"scripts": {"test": "phpunit"}}"#, &["composer test"]),
        ("phpunit.xml", "<phpunit/>\n", &["vendor/bin/phpunit"]),
        ("deno.json", "{}\n", &["deno test", "deno lint"]),
        ("build.zig", "const std = @import(\"std\");\n", &["zig build", "zig build test"]),
        ("Rakefile", "require 'rake/testtask'\nRake::TestTask.new\n", &["rake test"]),
    ];
    for (marker, text, expected) in cases {
        let project = tempfile::tempdir().unwrap();
        write(project.path(), marker, text);
        assert_eq!(commands(project.path()), at_root(expected), "{marker}: {text}");
    }
    let rspec = tempfile::tempdir().unwrap();
    write(rspec.path(), "Gemfile", "source 'https://rubygems.org'\n");
    write(rspec.path(), "spec/thing_spec.rb", "");
    assert_eq!(commands(rspec.path()), at_root(&["bundle exec rspec"]));
}
