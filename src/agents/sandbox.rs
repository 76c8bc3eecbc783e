//! The workspace sandbox: every path a tool touches is resolved here first — canonical, inside
//! the workspace root, no `..`, no absolute paths, no symlink that leads out — and only then do
//! the tools decide what to do with it. Writes are further refused under `.git/` and
//! `.codelab/`, and files over [`MAX_FILE_BYTES`] are refused for reading and writing.
//!
//! This module does not read or write file contents; it only answers "where, and may I".

use std::path::{Component, Path, PathBuf};

/// The largest file a tool reads or writes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Top-level directories no tool ever writes into.
const PROTECTED_DIRECTORIES: &[&str] = &[".git", ".codelab"];

/// Why a path was refused. The message goes back to the model as a tool error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error("path is empty")]
    Empty,
    #[error("absolute paths are refused, give a path relative to the workspace root: {0}")]
    Absolute(String),
    #[error("paths with `..` are refused: {0}")]
    ParentComponent(String),
    #[error("path leaves the workspace (through a symlink): {0}")]
    Escapes(String),
    #[error("{0} is protected: `.git/` and `.codelab/` are never written")]
    Protected(String),
    #[error("{path} is {bytes} bytes, over the 1 MB limit")]
    TooLarge { path: String, bytes: u64 },
    #[error("cannot resolve {path}: {cause}")]
    Io { path: String, cause: String },
}

/// A path that passed the sandbox: absolute (under the canonical root) and its relative form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPath {
    pub absolute: PathBuf,
    /// Relative to the workspace root, with `/` separators: what the model and the user see.
    pub relative: String,
}

/// The workspace root, canonicalised once.
#[derive(Debug, Clone)]
pub struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    pub fn new(workspace_root: &Path) -> Result<Self, SandboxError> {
        let root = workspace_root.canonicalize().map_err(|error| SandboxError::Io {
            path: workspace_root.display().to_string(),
            cause: error.to_string(),
        })?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `requested` for reading (it may not exist yet; its existing part is canonical).
    pub fn resolve(&self, requested: &str) -> Result<SandboxPath, SandboxError> {
        let trimmed = requested.trim();
        if trimmed.is_empty() {
            return Err(SandboxError::Empty);
        }
        let path = Path::new(trimmed);
        let mut relative = PathBuf::new();
        for component in path.components() {
            match component {
                Component::Normal(part) => relative.push(part),
                Component::CurDir => {}
                Component::ParentDir => return Err(SandboxError::ParentComponent(trimmed.to_owned())),
                Component::RootDir | Component::Prefix(_) => return Err(SandboxError::Absolute(trimmed.to_owned())),
            }
        }
        let absolute = self.canonical_prefix(&self.root.join(&relative), trimmed)?;
        let relative = self.relative_of(&absolute).ok_or_else(|| SandboxError::Escapes(trimmed.to_owned()))?;
        Ok(SandboxPath { absolute, relative })
    }

    /// Resolves `requested` for writing: as [`Sandbox::resolve`], and not under `.git/` or
    /// `.codelab/`, and not the workspace root itself.
    pub fn resolve_for_write(&self, requested: &str) -> Result<SandboxPath, SandboxError> {
        let resolved = self.resolve(requested)?;
        let first = resolved.relative.split('/').next().unwrap_or_default();
        if resolved.relative.is_empty() || PROTECTED_DIRECTORIES.contains(&first) {
            let shown = if resolved.relative.is_empty() { ".".to_owned() } else { resolved.relative.clone() };
            return Err(SandboxError::Protected(shown));
        }
        Ok(resolved)
    }

    /// Refuses a file over [`MAX_FILE_BYTES`] (a missing file passes).
    pub fn check_size(&self, path: &SandboxPath) -> Result<(), SandboxError> {
        match std::fs::metadata(&path.absolute) {
            Ok(metadata) if metadata.len() > MAX_FILE_BYTES => {
                Err(SandboxError::TooLarge { path: path.relative.clone(), bytes: metadata.len() })
            }
            _ => Ok(()),
        }
    }

    /// Canonicalises the longest existing ancestor of `joined` and appends the rest (which has
    /// no `..` and, not existing, no symlinks). Refuses a result outside the root.
    fn canonical_prefix(&self, joined: &Path, shown: &str) -> Result<PathBuf, SandboxError> {
        let mut existing = joined.to_path_buf();
        let mut missing = Vec::new();
        loop {
            match existing.canonicalize() {
                Ok(canonical) => {
                    let mut full = canonical;
                    full.extend(missing.iter().rev());
                    if !full.starts_with(&self.root) {
                        return Err(SandboxError::Escapes(shown.to_owned()));
                    }
                    return Ok(full);
                }
                Err(_) if existing.symlink_metadata().is_ok() => {
                    // A dangling symlink: where it points cannot be checked, so it is refused.
                    return Err(SandboxError::Escapes(shown.to_owned()));
                }
                Err(_) => {
                    let Some(name) = existing.file_name().map(ToOwned::to_owned) else {
                        return Err(SandboxError::Escapes(shown.to_owned()));
                    };
                    missing.push(name);
                    if !existing.pop() {
                        return Err(SandboxError::Escapes(shown.to_owned()));
                    }
                }
            }
        }
    }

    /// The `/`-separated path of `absolute` below the root; `None` outside it.
    pub fn relative_of(&self, absolute: &Path) -> Option<String> {
        let relative = absolute.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> =
            relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        Some(parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Sandbox) {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(directory.path().join("src")).unwrap();
        std::fs::write(directory.path().join("src/lib.rs"), "fn main() {}\n").unwrap();
        let sandbox = Sandbox::new(directory.path()).unwrap();
        (directory, sandbox)
    }

    #[test]
    fn relative_paths_resolve_inside_the_root() {
        let (_directory, sandbox) = workspace();
        let resolved = sandbox.resolve("./src/lib.rs").unwrap();
        assert_eq!(resolved.relative, "src/lib.rs");
        assert!(resolved.absolute.starts_with(sandbox.root()));
        assert_eq!(sandbox.resolve("src/new/deep.rs").unwrap().relative, "src/new/deep.rs");
    }

    #[test]
    fn parent_components_and_absolute_paths_are_refused() {
        let (_directory, sandbox) = workspace();
        assert!(matches!(sandbox.resolve("../etc/passwd"), Err(SandboxError::ParentComponent(_))));
        assert!(matches!(sandbox.resolve("src/../../x"), Err(SandboxError::ParentComponent(_))));
        assert!(matches!(sandbox.resolve("/etc/passwd"), Err(SandboxError::Absolute(_))));
        assert!(matches!(sandbox.resolve("  "), Err(SandboxError::Empty)));
    }

    #[test]
    fn symlinks_that_leave_the_workspace_are_refused() {
        let (directory, sandbox) = workspace();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), directory.path().join("link")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/target", directory.path().join("dangling")).unwrap();
        assert!(matches!(sandbox.resolve("link/secret"), Err(SandboxError::Escapes(_))));
        assert!(matches!(sandbox.resolve("link/new-file"), Err(SandboxError::Escapes(_))));
        assert!(matches!(sandbox.resolve("dangling"), Err(SandboxError::Escapes(_))));
        std::os::unix::fs::symlink(directory.path().join("src"), directory.path().join("inside")).unwrap();
        assert_eq!(sandbox.resolve("inside/lib.rs").unwrap().relative, "src/lib.rs");
    }

    #[test]
    fn git_and_codelab_are_never_written() {
        let (directory, sandbox) = workspace();
        std::fs::create_dir_all(directory.path().join(".git")).unwrap();
        std::os::unix::fs::symlink(directory.path().join(".git"), directory.path().join("g")).unwrap();
        for path in [".git/config", ".codelab/planner.db", "g/HEAD", "."] {
            assert!(matches!(sandbox.resolve_for_write(path), Err(SandboxError::Protected(_))), "{path}");
        }
        assert!(sandbox.resolve(".git/config").is_ok());
        assert!(sandbox.resolve_for_write(".github/workflows/ci.yml").is_ok());
    }

    #[test]
    fn files_over_one_megabyte_are_refused() {
        let (directory, sandbox) = workspace();
        std::fs::write(directory.path().join("big.bin"), vec![b'x'; (MAX_FILE_BYTES + 1) as usize]).unwrap();
        let big = sandbox.resolve("big.bin").unwrap();
        assert!(matches!(sandbox.check_size(&big), Err(SandboxError::TooLarge { .. })));
        assert!(sandbox.check_size(&sandbox.resolve("src/lib.rs").unwrap()).is_ok());
    }
}
