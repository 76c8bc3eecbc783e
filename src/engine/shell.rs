//! The shell agent: runs a subtask's `command` through `sh -c` in the workspace root.

/// Runs `command` with `sh -c` (see `process`).
pub struct ShellAgent;
