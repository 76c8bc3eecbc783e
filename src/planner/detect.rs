//! Detection of a workspace's own build, test and lint commands: Make (`Makefile` / `makefile`),
//! `just`, Cargo, npm / pnpm / yarn (by their lock files), Python (a `.venv` / `venv`
//! interpreter, `uv run`, `poetry run`, pytest or unittest, test files at the root or in
//! `tests/` / `test/`), Go, the Gradle and Maven wrappers, and (`more.rs`) Dart / Flutter,
//! Swift, .NET, CMake, Ruby, Elixir, PHP, Deno and Zig — at the root and in projects one and two directories down (a monorepo), each
//! project's commands with its own `cwd`. Also the command of a named tool (clippy, mypy, ruff,
//! eslint, ...) for the project it belongs to.
//!
//! Reads a handful of files; never runs anything. Unreadable or malformed files are skipped.

use std::path::Path;

mod ecosystems;
mod more;

pub use ecosystems::Tool;

/// A command the workspace defines, for a `shell` verification step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceCommand {
    /// Short title, e.g. "Test (cargo)" or "Test backend (cargo)".
    pub title: String,
    /// The shell command, e.g. `cargo test`.
    pub command: String,
    pub purpose: CommandPurpose,
    /// The project's directory relative to the workspace root; `None` = the root.
    pub cwd: Option<String>,
    /// A test command that builds what it tests (`cargo test`, `go test`): no separate build
    /// step is needed before it.
    pub builds: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommandPurpose {
    Build,
    Test,
    Lint,
}

/// The kind of project found in a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    Make,
    Just,
    Cargo,
    Node,
    Python,
    Go,
    Gradle,
    Maven,
    Dart,
    Swift,
    DotNet,
    CMake,
    Ruby,
    Elixir,
    Php,
    Deno,
    Zig,
}

/// One project of the workspace: its directory and how its tools are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Relative to the workspace root; `None` = the root.
    pub dir: Option<String>,
    pub ecosystems: Vec<Ecosystem>,
    /// How this project's Python tools run: `.venv/bin/python -m`, `uv run`, `poetry run`, ...
    pub python_runner: Option<String>,
    /// How this project's Node tools run: `npx`, `pnpm exec`, `yarn`.
    pub node_runner: Option<String>,
}

/// What the planner knows about the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceFacts {
    /// Per project (root first, then subdirectories in name order): build, then test, then lint;
    /// at most one per purpose and project.
    pub commands: Vec<WorkspaceCommand>,
    pub projects: Vec<Project>,
}

/// Directories never searched for projects.
const SKIPPED_DIRECTORIES: &[&str] =
    &["node_modules", "target", "vendor", "dist", "build", "venv", "env", "__pycache__", "out", "bin", "obj"];
/// Most projects detected in one workspace.
const MAX_PROJECTS: usize = 12;

/// Detects the root project and the projects one and two directories down. A subdirectory
/// project of an ecosystem the root already has (a Cargo workspace member, an npm workspace
/// package) is covered by the root's commands and not listed again.
pub fn detect_workspace(root: &Path) -> WorkspaceFacts {
    let mut facts = WorkspaceFacts::default();
    let root_project = ecosystems::detect_project(root, None);
    let root_ecosystems = root_project.as_ref().map(|(project, _)| project.ecosystems.clone()).unwrap_or_default();
    if let Some((project, commands)) = root_project {
        facts.projects.push(project);
        facts.commands.extend(commands);
    }
    for relative in project_directories(root) {
        if facts.projects.len() >= MAX_PROJECTS {
            break;
        }
        let Some((project, commands)) = ecosystems::detect_project(&root.join(&relative), Some(relative.clone()))
        else {
            continue;
        };
        if project.ecosystems.iter().all(|ecosystem| root_ecosystems.contains(ecosystem)) {
            continue;
        }
        let nested_in_listed = facts.projects.iter().any(|listed| {
            listed.dir.as_ref().is_some_and(|dir| relative.starts_with(&format!("{dir}/")))
                && project.ecosystems.iter().all(|ecosystem| listed.ecosystems.contains(ecosystem))
        });
        if !nested_in_listed {
            facts.projects.push(project);
            facts.commands.extend(commands);
        }
    }
    facts
}

/// Subdirectories one and two levels down, in name order, skipping hidden and build folders.
fn project_directories(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for first in sorted_subdirectories(root) {
        found.push(first.clone());
        for second in sorted_subdirectories(&root.join(&first)) {
            found.push(format!("{first}/{second}"));
        }
    }
    found
}

fn sorted_subdirectories(directory: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(directory) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.') && !SKIPPED_DIRECTORIES.contains(&name.as_str()))
        .collect();
    names.sort();
    names
}

impl WorkspaceFacts {
    /// The first command for `purpose` (the root project's when it has one).
    pub fn command_for(&self, purpose: CommandPurpose) -> Option<&WorkspaceCommand> {
        self.commands.iter().find(|command| command.purpose == purpose)
    }

    /// The command that runs `tool` in each project it applies to (clippy in Cargo projects,
    /// mypy in Python projects with the project's runner, ...).
    pub fn tool_commands(&self, tool: Tool) -> Vec<WorkspaceCommand> {
        self.projects.iter().filter_map(|project| ecosystems::tool_command(tool, project)).collect()
    }
}

/// Title of a command: "Test (cargo)" at the root, "Test backend (cargo)" in a subdirectory.
pub(crate) fn command_title(purpose: CommandPurpose, tool: &str, cwd: Option<&str>) -> String {
    let label = match purpose {
        CommandPurpose::Build => "Build",
        CommandPurpose::Test => "Test",
        CommandPurpose::Lint => "Lint",
    };
    match cwd {
        Some(cwd) => format!("{label} {cwd} ({tool})"),
        None => format!("{label} ({tool})"),
    }
}
