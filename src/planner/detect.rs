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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandPurpose {
    Build,
    Test,
    Lint,
}

/// What the planner knows about the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceFacts {
    /// Build commands first, then tests, then lints; at most one per purpose and ecosystem.
    pub commands: Vec<WorkspaceCommand>,
}

/// Looks at `root` for Cargo.toml, package.json (scripts), pyproject.toml / pytest.ini / setup.cfg,
/// go.mod and Makefile (targets). Unreadable or malformed files are skipped, never an error.
pub fn detect_workspace(root: &Path) -> WorkspaceFacts {
    todo!("planner helper {}", root.display())
}
