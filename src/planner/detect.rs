//! Detection of a workspace's own build and test commands (Cargo, npm, Python/pytest, Go, Make).
//!
//! Reads a handful of files at the workspace root; never runs anything.

use std::path::Path;

/// A command the workspace defines, for a `shell` verification step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceCommand {
    /// Short title, e.g. "Build (cargo)".
    pub title: String,
    /// The shell command, e.g. `cargo build`.
    pub command: String,
    pub purpose: CommandPurpose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommandPurpose {
    Build,
    Test,
    Lint,
}

/// What the planner knows about the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceFacts {
    /// Build commands first, then tests, then lints; at most one per purpose.
    pub commands: Vec<WorkspaceCommand>,
}

/// Looks at `root` for Cargo.toml, package.json (scripts), pyproject.toml / pytest.ini / setup.cfg,
/// go.mod and Makefile (targets). Unreadable or malformed files are skipped, never an error.
///
/// Makefile targets come first, then the ecosystems in the order above; the first command found
/// for a purpose wins, so there is at most one build, one test and one lint command overall.
pub fn detect_workspace(root: &Path) -> WorkspaceFacts {
    let candidates =
        [makefile_commands(root), cargo_commands(root), npm_commands(root), pytest_commands(root), go_commands(root)];
    let mut commands: Vec<WorkspaceCommand> = Vec::new();
    for command in candidates.into_iter().flatten() {
        if !commands.iter().any(|kept| kept.purpose == command.purpose) {
            commands.push(command);
        }
    }
    commands.sort_by_key(|command| command.purpose);
    WorkspaceFacts { commands }
}

impl WorkspaceFacts {
    /// The command for `purpose`, if the workspace has one.
    pub fn command_for(&self, purpose: CommandPurpose) -> Option<&WorkspaceCommand> {
        self.commands.iter().find(|command| command.purpose == purpose)
    }
}

fn workspace_command(purpose: CommandPurpose, tool: &str, command: &str) -> WorkspaceCommand {
    let label = match purpose {
        CommandPurpose::Build => "Build",
        CommandPurpose::Test => "Test",
        CommandPurpose::Lint => "Lint",
    };
    WorkspaceCommand { title: format!("{label} ({tool})"), command: command.to_owned(), purpose }
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Targets `build`, `test`, `check` (a test target when there is no `test`) and `lint`, found
/// as lines `name:` (not `name:=`, which assigns a variable).
fn makefile_commands(root: &Path) -> Vec<WorkspaceCommand> {
    let Some(text) = read_text(&root.join("Makefile")) else { return Vec::new() };
    let has_target = |name: &str| {
        text.lines().any(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.trim_start_matches([' ', '\t']).strip_prefix(':'))
                .is_some_and(|after_colon| !after_colon.starts_with('='))
        })
    };
    let mut commands = Vec::new();
    if has_target("build") {
        commands.push(workspace_command(CommandPurpose::Build, "make", "make build"));
    }
    if has_target("test") {
        commands.push(workspace_command(CommandPurpose::Test, "make", "make test"));
    } else if has_target("check") {
        commands.push(workspace_command(CommandPurpose::Test, "make", "make check"));
    }
    if has_target("lint") {
        commands.push(workspace_command(CommandPurpose::Lint, "make", "make lint"));
    }
    commands
}

fn cargo_commands(root: &Path) -> Vec<WorkspaceCommand> {
    if read_text(&root.join("Cargo.toml")).is_none() {
        return Vec::new();
    }
    vec![
        workspace_command(CommandPurpose::Build, "cargo", "cargo build"),
        workspace_command(CommandPurpose::Test, "cargo", "cargo test"),
    ]
}

/// Scripts `build`, `test` and `lint` of package.json; a malformed file gives nothing.
fn npm_commands(root: &Path) -> Vec<WorkspaceCommand> {
    let Some(text) = read_text(&root.join("package.json")) else { return Vec::new() };
    let Ok(manifest) = serde_json::from_str::<serde_json::Value>(&text) else { return Vec::new() };
    let Some(scripts) = manifest.get("scripts").and_then(serde_json::Value::as_object) else { return Vec::new() };
    let mut commands = Vec::new();
    if scripts.contains_key("build") {
        commands.push(workspace_command(CommandPurpose::Build, "npm", "npm run build"));
    }
    if scripts.contains_key("test") {
        commands.push(workspace_command(CommandPurpose::Test, "npm", "npm test"));
    }
    if scripts.contains_key("lint") {
        commands.push(workspace_command(CommandPurpose::Lint, "npm", "npm run lint"));
    }
    commands
}

/// pytest when pytest.ini exists, when pyproject.toml / setup.cfg / tox.ini mention pytest, or
/// when `tests/` holds a `test_*.py` file.
fn pytest_commands(root: &Path) -> Vec<WorkspaceCommand> {
    let pytest_ini = root.join("pytest.ini").is_file();
    let config_mentions_pytest = ["pyproject.toml", "setup.cfg", "tox.ini"]
        .iter()
        .filter_map(|name| read_text(&root.join(name)))
        .any(|text| text.contains("pytest"));
    if pytest_ini || config_mentions_pytest || has_python_test_files(&root.join("tests")) {
        vec![workspace_command(CommandPurpose::Test, "pytest", "python -m pytest")]
    } else {
        Vec::new()
    }
}

fn has_python_test_files(tests_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(tests_dir) else { return false };
    entries.filter_map(Result::ok).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with("test_") && name.ends_with(".py")
    })
}

fn go_commands(root: &Path) -> Vec<WorkspaceCommand> {
    if read_text(&root.join("go.mod")).is_none() {
        return Vec::new();
    }
    vec![
        workspace_command(CommandPurpose::Build, "go", "go build ./..."),
        workspace_command(CommandPurpose::Test, "go", "go test ./..."),
    ]
}
