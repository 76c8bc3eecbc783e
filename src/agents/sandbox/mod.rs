//! The command sandbox: an agent's `execute_command` runs with its writes confined to the
//! workspace (minus `.git/` and `.codelab/`) and the system's temporary folder, where the kernel
//! offers Linux Landlock (ABI 1 or later).
//!
//! The server does not restrict itself: the command is spawned (through `engine::process`, as
//! every child) as the server binary's hidden [`launcher::SUBCOMMAND`], which applies the rules
//! in the child and then execs `sh -c COMMAND` (as codex-rs does), so no `unsafe` `pre_exec` is
//! needed. `.git/` and `.codelab/` are made read-only with a bind mount in a private user and
//! mount namespace first (Landlock cannot carve a folder out of a writable one); where user
//! namespaces are not allowed, the workspace's top-level entries other than those two are made
//! writable one by one instead (new files at the top level are then refused).
//!
//! This module decides whether a command is sandboxed and builds the launcher's arguments; the
//! launcher applies them. Plan `shell` steps are the person's own commands and are not sandboxed.

pub mod launcher;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use landlock::{ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr};

use crate::config::SandboxCommands;
use crate::confine::{PROTECTED_NAMES, Workspace};

/// What the kernel offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelSupport {
    /// Landlock with at least this ABI for file systems (1 = Linux 5.13, 2 = 5.19, 3 = 6.2, 5 = 6.10).
    Landlock {
        abi: u8,
    },
    Unavailable,
}

/// The kernel's Landlock, probed once per process (a ruleset is created and dropped; nothing
/// is restricted).
pub fn kernel_support() -> KernelSupport {
    static SUPPORT: LazyLock<KernelSupport> = LazyLock::new(|| {
        for (abi, number) in [(ABI::V5, 5), (ABI::V3, 3), (ABI::V2, 2), (ABI::V1, 1)] {
            let created = Ruleset::default()
                .set_compatibility(CompatLevel::HardRequirement)
                .handle_access(AccessFs::from_all(abi))
                .and_then(|ruleset| ruleset.create());
            if created.is_ok() {
                return KernelSupport::Landlock { abi: number };
            }
        }
        KernelSupport::Unavailable
    });
    *SUPPORT
}

/// Whether commands run sandboxed, and why not when they do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSandbox {
    pub setting: SandboxCommands,
    pub kernel: KernelSupport,
}

impl CommandSandbox {
    /// The setting on this kernel.
    pub fn new(setting: SandboxCommands) -> Self {
        Self { setting, kernel: kernel_support() }
    }

    pub fn active(&self) -> bool {
        self.setting == SandboxCommands::Workspace && matches!(self.kernel, KernelSupport::Landlock { .. })
    }

    /// Why commands are not sandboxed (for the approval question), `None` when they are.
    pub fn unsandboxed_reason(&self) -> Option<&'static str> {
        match (self.setting, self.kernel) {
            (SandboxCommands::Off, _) => Some("not sandboxed: sandbox.commands is \"off\""),
            (SandboxCommands::Workspace, KernelSupport::Unavailable) => {
                Some("not sandboxed: this kernel offers no Landlock, so the command can write wherever you can")
            }
            (SandboxCommands::Workspace, KernelSupport::Landlock { .. }) => None,
        }
    }

    /// The program and arguments that run a command in the sandbox (the command follows them),
    /// or `None` when commands are not sandboxed. Fails when the server binary cannot be found:
    /// a command the person was told is sandboxed never runs without it.
    pub fn launcher(&self, workspace: &Workspace) -> Result<Option<Vec<OsString>>, String> {
        if !self.active() {
            return Ok(None);
        }
        let binary =
            std::env::current_exe().map_err(|error| format!("the command sandbox needs the server binary: {error}"))?;
        let temporary = std::env::temp_dir();
        let temporary = temporary.canonicalize().unwrap_or(temporary);
        Ok(Some(launcher_arguments(&binary, workspace.root(), &temporary)))
    }
}

/// `BINARY __sandboxed-command --write ROOT --write TMP --protect ROOT/.git --protect
/// ROOT/.codelab --`: the launcher's command line before the program it runs.
fn launcher_arguments(binary: &Path, root: &Path, temporary: &Path) -> Vec<OsString> {
    let mut arguments = vec![binary.as_os_str().to_owned(), OsString::from(launcher::SUBCOMMAND)];
    for writable in [root, temporary] {
        arguments.push("--write".into());
        arguments.push(writable.as_os_str().to_owned());
    }
    for name in PROTECTED_NAMES {
        arguments.push("--protect".into());
        arguments.push(root.join(name).into_os_string());
    }
    arguments.push("--".into());
    arguments
}

/// The folders and files a command may write, given what it was asked for: each `--write`
/// folder, except that one holding a protected path is replaced by its other entries (for the
/// fallback without a mount namespace).
pub fn writable_without_mounts(writable: &[PathBuf], protected: &[PathBuf]) -> Vec<PathBuf> {
    let mut allowed = Vec::new();
    for folder in writable {
        if !protected.iter().any(|path| path.parent() == Some(folder.as_path())) {
            allowed.push(folder.clone());
            continue;
        }
        for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            if !protected.contains(&entry.path()) {
                allowed.push(entry.path());
            }
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_line_names_every_writable_and_protected_path() {
        let arguments = launcher_arguments(Path::new("/bin/planner"), Path::new("/w"), Path::new("/tmp"));
        let text: Vec<String> = arguments.iter().map(|argument| argument.to_string_lossy().into_owned()).collect();
        assert_eq!(
            text,
            [
                "/bin/planner",
                launcher::SUBCOMMAND,
                "--write",
                "/w",
                "--write",
                "/tmp",
                "--protect",
                "/w/.git",
                "--protect",
                "/w/.codelab",
                "--"
            ]
        );
    }

    #[test]
    fn without_mounts_the_top_level_entries_but_the_protected_ones_are_writable() {
        let root = tempfile::tempdir().unwrap();
        for name in ["src", ".git", ".codelab"] {
            std::fs::create_dir(root.path().join(name)).unwrap();
        }
        std::fs::write(root.path().join("README.md"), "x").unwrap();
        let protected = vec![root.path().join(".git"), root.path().join(".codelab")];
        let mut allowed = writable_without_mounts(&[root.path().to_path_buf(), PathBuf::from("/tmp")], &protected);
        allowed.sort();
        let mut expected = vec![root.path().join("README.md"), root.path().join("src"), PathBuf::from("/tmp")];
        expected.sort();
        assert_eq!(allowed, expected);
    }

    #[test]
    fn the_reason_names_the_setting_or_the_kernel() {
        let off = CommandSandbox { setting: SandboxCommands::Off, kernel: KernelSupport::Landlock { abi: 3 } };
        assert!(!off.active() && off.unsandboxed_reason().unwrap().contains("sandbox.commands"));
        let old = CommandSandbox { setting: SandboxCommands::Workspace, kernel: KernelSupport::Unavailable };
        assert!(!old.active() && old.unsandboxed_reason().unwrap().contains("Landlock"));
        let on = CommandSandbox { setting: SandboxCommands::Workspace, kernel: KernelSupport::Landlock { abi: 1 } };
        assert!(on.active() && on.unsandboxed_reason().is_none());
    }
}
