//! One directory's project: which ecosystems it has and its build / test / lint commands, each
//! run the way the project runs its tools (a `.venv` interpreter, `uv run`, `poetry run`, pnpm
//! or yarn by their lock files, the Gradle / Maven wrapper). And the command of a named tool.
//!
//! Reads files only; never runs anything.

use std::path::Path;

use super::{CommandPurpose, Ecosystem, Project, WorkspaceCommand, command_title};

/// What `npm init` writes as the test script: not a test.
const NPM_PLACEHOLDER_TEST: &str = "no test specified";

/// A tool a task or a reviewer may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Clippy,
    Rustfmt,
    Mypy,
    Ruff,
    Black,
    Eslint,
    Prettier,
    Tsc,
    GoVet,
}

impl Tool {
    /// The tool a word names: "clippy", "fmt", "rustfmt", "mypy", "ruff", "black", "eslint",
    /// "prettier", "tsc", "vet".
    pub fn named(word: &str) -> Option<Self> {
        match word {
            "clippy" => Some(Self::Clippy),
            "fmt" | "rustfmt" | "format" | "formatting" => Some(Self::Rustfmt),
            "mypy" => Some(Self::Mypy),
            "ruff" => Some(Self::Ruff),
            "black" => Some(Self::Black),
            "eslint" => Some(Self::Eslint),
            "prettier" => Some(Self::Prettier),
            "tsc" | "typecheck" | "typescript" => Some(Self::Tsc),
            "vet" | "govet" => Some(Self::GoVet),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Clippy => "clippy",
            Self::Rustfmt => "fmt",
            Self::Mypy => "mypy",
            Self::Ruff => "ruff",
            Self::Black => "black",
            Self::Eslint => "eslint",
            Self::Prettier => "prettier",
            Self::Tsc => "tsc",
            Self::GoVet => "go vet",
        }
    }
}

pub(super) fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The project in `directory` (`relative` to the workspace root), if any marker file is there.
pub(super) fn detect_project(directory: &Path, relative: Option<String>) -> Option<(Project, Vec<WorkspaceCommand>)> {
    let cwd = relative.as_deref();
    let mut project = Project {
        dir: relative.clone(),
        ecosystems: Vec::new(),
        python_runner: python_runner(directory),
        node_runner: node_runner(directory),
    };
    let mut commands: Vec<WorkspaceCommand> = Vec::new();
    let found: [(Ecosystem, Vec<WorkspaceCommand>); 8] = [
        (Ecosystem::Make, make_commands(directory, cwd)),
        (Ecosystem::Just, just_commands(directory, cwd)),
        (Ecosystem::Cargo, cargo_commands(directory, cwd)),
        (Ecosystem::Node, node_commands(directory, cwd)),
        (Ecosystem::Python, python_commands(directory, cwd, project.python_runner.as_deref())),
        (Ecosystem::Go, go_commands(directory, cwd)),
        (Ecosystem::Gradle, gradle_commands(directory, cwd)),
        (Ecosystem::Maven, maven_commands(directory, cwd)),
    ];
    let more = super::more::commands(directory, cwd);
    for (ecosystem, candidates) in found.into_iter().chain(more) {
        if is_present(directory, ecosystem) {
            project.ecosystems.push(ecosystem);
        }
        for command in candidates {
            if !commands.iter().any(|kept| kept.purpose == command.purpose) {
                commands.push(command);
            }
        }
    }
    if project.ecosystems.is_empty() {
        return None;
    }
    commands.sort_by_key(|command| command.purpose);
    Some((project, commands))
}

fn is_present(directory: &Path, ecosystem: Ecosystem) -> bool {
    let any = |names: &[&str]| names.iter().any(|name| directory.join(name).is_file());
    match ecosystem {
        Ecosystem::Make => any(&["Makefile", "makefile", "GNUmakefile"]),
        Ecosystem::Just => any(&["justfile", "Justfile", ".justfile"]),
        Ecosystem::Cargo => any(&["Cargo.toml"]),
        Ecosystem::Node => any(&["package.json"]),
        Ecosystem::Python => {
            any(&["pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini", "requirements.txt"])
                || PythonTests::find(directory).is_some()
        }
        Ecosystem::Go => any(&["go.mod"]),
        Ecosystem::Gradle => any(&["gradlew", "build.gradle", "build.gradle.kts"]),
        Ecosystem::Maven => any(&["mvnw", "pom.xml"]),
        other => super::more::is_present(directory, other),
    }
}

pub(super) fn command(
    purpose: CommandPurpose,
    tool: &str,
    text: &str,
    cwd: Option<&str>,
    builds: bool,
) -> WorkspaceCommand {
    WorkspaceCommand {
        title: command_title(purpose, tool, cwd),
        command: text.to_owned(),
        purpose,
        cwd: cwd.map(str::to_owned),
        builds,
    }
}

/// Targets `build`, `test` (or `check`) and `lint` of `Makefile` / `makefile` / `GNUmakefile`,
/// found as lines `name:` (not `name:=`, which assigns a variable).
fn make_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let Some(text) = ["GNUmakefile", "makefile", "Makefile"].iter().find_map(|name| read_text(&directory.join(name)))
    else {
        return Vec::new();
    };
    let has_target = |name: &str| {
        text.lines().any(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.trim_start_matches([' ', '\t']).strip_prefix(':'))
                .is_some_and(|after_colon| !after_colon.starts_with('='))
        })
    };
    targets(has_target, "make", "make", cwd)
}

/// Recipes `build`, `test` (or `check`) and `lint` of a justfile (`name:` or `name args:`).
fn just_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let Some(text) = ["justfile", "Justfile", ".justfile"].iter().find_map(|name| read_text(&directory.join(name)))
    else {
        return Vec::new();
    };
    let has_recipe = |name: &str| {
        text.lines().any(|line| {
            line.strip_prefix(name).is_some_and(|rest| {
                let rest = rest.trim_start();
                (rest.starts_with(':') && !rest.starts_with(":=")) || (rest.contains(':') && !rest.contains(":="))
            }) && !line.starts_with([' ', '\t'])
        })
    };
    targets(has_recipe, "just", "just", cwd)
}

fn targets(has: impl Fn(&str) -> bool, tool: &str, runner: &str, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let mut commands = Vec::new();
    if has("build") {
        commands.push(command(CommandPurpose::Build, tool, &format!("{runner} build"), cwd, false));
    }
    if has("test") {
        commands.push(command(CommandPurpose::Test, tool, &format!("{runner} test"), cwd, false));
    } else if has("check") {
        commands.push(command(CommandPurpose::Test, tool, &format!("{runner} check"), cwd, false));
    }
    if has("lint") {
        commands.push(command(CommandPurpose::Lint, tool, &format!("{runner} lint"), cwd, false));
    }
    commands
}

fn cargo_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    if !directory.join("Cargo.toml").is_file() {
        return Vec::new();
    }
    vec![
        command(CommandPurpose::Build, "cargo", "cargo build", cwd, false),
        command(CommandPurpose::Test, "cargo", "cargo test", cwd, true),
    ]
}

/// `npm`, `pnpm` or `yarn` by the lock file that is there.
fn node_package_manager(directory: &Path) -> &'static str {
    if directory.join("pnpm-lock.yaml").is_file() {
        "pnpm"
    } else if directory.join("yarn.lock").is_file() {
        "yarn"
    } else {
        "npm"
    }
}

fn node_runner(directory: &Path) -> Option<String> {
    if !directory.join("package.json").is_file() {
        return None;
    }
    Some(match node_package_manager(directory) {
        "pnpm" => "pnpm exec".to_owned(),
        "yarn" => "yarn".to_owned(),
        _ => "npx".to_owned(),
    })
}

/// Scripts `build`, `test` (unless it is `npm init`'s placeholder) and `lint` of package.json.
fn node_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let Some(text) = read_text(&directory.join("package.json")) else { return Vec::new() };
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(&text) else { return Vec::new() };
    let Some(scripts) = manifest.get("scripts").and_then(serde_json::Value::as_object) else { return Vec::new() };
    let manager = node_package_manager(directory);
    let run = |script: &str| match manager {
        "yarn" => format!("yarn {script}"),
        other => format!("{other} run {script}"),
    };
    let mut commands = Vec::new();
    if scripts.contains_key("build") {
        commands.push(command(CommandPurpose::Build, manager, &run("build"), cwd, false));
    }
    let test = scripts.get("test").and_then(serde_json::Value::as_str).unwrap_or("");
    if !test.trim().is_empty() && !test.contains(NPM_PLACEHOLDER_TEST) {
        commands.push(command(CommandPurpose::Test, manager, &format!("{manager} test"), cwd, false));
    }
    if scripts.contains_key("lint") {
        commands.push(command(CommandPurpose::Lint, manager, &run("lint"), cwd, false));
    }
    commands
}

/// How Python tools run here: `uv run` (uv.lock), `poetry run` (poetry.lock or [tool.poetry]),
/// the `.venv` / `venv` interpreter, else `python3`. `None` outside a Python project.
fn python_runner(directory: &Path) -> Option<String> {
    if !is_present(directory, Ecosystem::Python) {
        return None;
    }
    let pyproject = read_text(&directory.join("pyproject.toml")).unwrap_or_default();
    if directory.join("uv.lock").is_file() {
        return Some("uv run".to_owned());
    }
    if directory.join("poetry.lock").is_file() || pyproject.contains("[tool.poetry]") {
        return Some("poetry run".to_owned());
    }
    for venv in [".venv", "venv"] {
        if directory.join(venv).join("bin").join("python").exists() {
            return Some(format!("{venv}/bin/python -m"));
        }
    }
    Some("python3 -m".to_owned())
}

/// pytest when the project configures or depends on it, or its environment has it installed;
/// else, when it has test files (`test_*.py` or `*_test.py` at its root, in `tests/` or in
/// `test/`): unittest when its environment (a venv, uv, poetry) lacks pytest, and for a bare
/// `python3` — whose packages are not known without running it — pytest if it is importable at
/// run time, else unittest.
fn python_commands(directory: &Path, cwd: Option<&str>, runner: Option<&str>) -> Vec<WorkspaceCommand> {
    let Some(runner) = runner else { return Vec::new() };
    let configured = directory.join("pytest.ini").is_file()
        || ["pyproject.toml", "setup.cfg", "tox.ini", "requirements.txt", "requirements-dev.txt"]
            .iter()
            .filter_map(|name| read_text(&directory.join(name)))
            .any(|text| text.contains("pytest"));
    let venv_has_pytest = [".venv", "venv"].iter().any(|venv| venv_has_package(&directory.join(venv), "pytest"));
    let pytest = format!("{runner} pytest");
    let (tool, test) = if configured || venv_has_pytest {
        ("pytest", pytest)
    } else if let Some(tests) = PythonTests::find(directory) {
        // `uv run pytest` and `poetry run pytest` take the tool name; unittest needs `python -m`.
        let python_m = match runner {
            "uv run" | "poetry run" => format!("{runner} python -m"),
            other => other.to_owned(),
        };
        let unittest = format!("{python_m} unittest{}", tests.unittest_arguments());
        if runner == "python3 -m" {
            let either = format!("if python3 -c 'import pytest' 2>/dev/null; then {pytest}; else {unittest}; fi");
            ("pytest or unittest", either)
        } else {
            ("unittest", unittest)
        }
    } else {
        return Vec::new();
    };
    vec![command(CommandPurpose::Test, tool, &test, cwd, false)]
}

fn venv_has_package(venv: &Path, package: &str) -> bool {
    let Ok(versions) = std::fs::read_dir(venv.join("lib")) else { return false };
    versions.filter_map(Result::ok).any(|entry| entry.path().join("site-packages").join(package).is_dir())
}

/// Where a Python project keeps its test files and how they are named.
struct PythonTests {
    /// `tests` or `test` when the files are there and not at the project's root.
    folder: Option<&'static str>,
    /// Only `*_test.py` files (unittest's default pattern is `test*.py`).
    suffix_named: bool,
}

impl PythonTests {
    fn find(directory: &Path) -> Option<Self> {
        let at = |folder: Option<&'static str>| {
            let names = python_test_files(&folder.map_or_else(|| directory.to_path_buf(), |f| directory.join(f)));
            (!names.is_empty())
                .then(|| Self { folder, suffix_named: names.iter().all(|name| !name.starts_with("test_")) })
        };
        at(None).or_else(|| at(Some("tests"))).or_else(|| at(Some("test")))
    }

    /// `""` (discover from the root), ` discover -s tests`, ` discover -s test -p '*_test.py'`.
    fn unittest_arguments(&self) -> String {
        let mut arguments = String::new();
        if self.folder.is_some() || self.suffix_named {
            arguments.push_str(" discover");
        }
        if let Some(folder) = self.folder {
            arguments.push_str(&format!(" -s {folder}"));
        }
        if self.suffix_named {
            arguments.push_str(" -p '*_test.py'");
        }
        arguments
    }
}

/// The `test_*.py` and `*_test.py` files directly in `folder`.
fn python_test_files(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py")))
        .collect()
}

fn go_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    if !directory.join("go.mod").is_file() {
        return Vec::new();
    }
    vec![
        command(CommandPurpose::Build, "go", "go build ./...", cwd, false),
        command(CommandPurpose::Test, "go", "go test ./...", cwd, true),
    ]
}

fn gradle_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let gradle = if directory.join("gradlew").is_file() {
        "./gradlew"
    } else if is_present(directory, Ecosystem::Gradle) {
        "gradle"
    } else {
        return Vec::new();
    };
    vec![
        command(CommandPurpose::Build, "gradle", &format!("{gradle} assemble"), cwd, false),
        command(CommandPurpose::Test, "gradle", &format!("{gradle} test"), cwd, true),
    ]
}

fn maven_commands(directory: &Path, cwd: Option<&str>) -> Vec<WorkspaceCommand> {
    let maven = if directory.join("mvnw").is_file() {
        "./mvnw"
    } else if directory.join("pom.xml").is_file() {
        "mvn"
    } else {
        return Vec::new();
    };
    vec![
        command(CommandPurpose::Build, "maven", &format!("{maven} -q compile"), cwd, false),
        command(CommandPurpose::Test, "maven", &format!("{maven} test"), cwd, true),
    ]
}

/// The command that runs `tool` in `project`, when the tool belongs to one of its ecosystems.
pub(super) fn tool_command(tool: Tool, project: &Project) -> Option<WorkspaceCommand> {
    let has = |ecosystem: Ecosystem| project.ecosystems.contains(&ecosystem);
    let python = || project.python_runner.as_deref();
    let python_tool = |name: &str| project.python_runner.as_deref().map(|runner| format!("{runner} {name}"));
    let node = |arguments: &str| project.node_runner.as_deref().map(|runner| format!("{runner} {arguments}"));
    let text = match tool {
        Tool::Clippy if has(Ecosystem::Cargo) => Some("cargo clippy --all-targets -- -D warnings".to_owned()),
        Tool::Rustfmt if has(Ecosystem::Cargo) => Some("cargo fmt --check".to_owned()),
        Tool::Rustfmt if has(Ecosystem::Go) => Some("gofmt -l .".to_owned()),
        Tool::Mypy if python().is_some() => python_tool("mypy ."),
        Tool::Ruff if python().is_some() => python_tool("ruff check ."),
        Tool::Black if python().is_some() => python_tool("black --check ."),
        Tool::Eslint => node("eslint ."),
        Tool::Prettier => node("prettier --check ."),
        Tool::Tsc => node("tsc --noEmit"),
        Tool::GoVet if has(Ecosystem::Go) => Some("go vet ./...".to_owned()),
        _ => None,
    }?;
    Some(command(CommandPurpose::Lint, tool.name(), &text, project.dir.as_deref(), false))
}
