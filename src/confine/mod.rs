//! The one confinement: [`Workspace`] decides whether a path is inside the workspace, and
//! `beneath` does the file operations that re-check it at the moment of the write.
//!
//! Every caller that turns a string into a workspace path goes through here: the agents' tools
//! and their writer, a plan's `cwd` (lexically in `model::validate`, resolved in the shell
//! agent), the `database` setting, the planner's `context.files`, and (later) rollback.
//!
//! A path is inside when, after `..`, absolute paths, drives and symlinks are accounted for, it
//! lies below the canonical root. For writing it must also not be the root itself and not pass
//! through a protected directory (`.git`, `.codelab`, any case). Checking is not enough on its
//! own: between the check and the write a folder can become a symlink, so the writes themselves
//! (`beneath`) open every path relative to the root with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)` and replace files by rename, never writing through a link.

pub mod beneath;
pub mod lexical;

use std::path::{Component, Path, PathBuf};

pub use lexical::{LexicalError, PROTECTED_NAMES, is_protected, relative_parts};

/// The largest file a tool reads or writes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a path was refused. The message goes back to the model as a tool error, or to the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfineError {
    #[error("path is empty")]
    Empty,
    #[error("absolute paths outside the workspace are refused, give a path relative to the workspace root: {0}")]
    Absolute(String),
    #[error("paths with `..` are refused: {0}")]
    ParentComponent(String),
    #[error("paths with NUL are refused")]
    Nul,
    #[error("path leaves the workspace (through a symlink): {0}")]
    Escapes(String),
    #[error("{0} cannot be resolved (a symlink loop or a link to nothing)")]
    Unresolvable(String),
    #[error("{0} is protected: `.git/` and `.codelab/` are never written")]
    Protected(String),
    #[error("{path} is {bytes} bytes, over the 1 MB limit")]
    TooLarge { path: String, bytes: u64 },
    #[error("cannot resolve {path}: {cause}")]
    Io { path: String, cause: String },
}

impl ConfineError {
    fn lexical(error: LexicalError, shown: &str) -> Self {
        match error {
            LexicalError::Empty => ConfineError::Empty,
            LexicalError::Nul => ConfineError::Nul,
            LexicalError::Absolute => ConfineError::Absolute(shown.to_owned()),
            LexicalError::Parent => ConfineError::ParentComponent(shown.to_owned()),
        }
    }
}

/// A path that passed the confinement: absolute (under the canonical root) and its relative form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InsidePath {
    pub absolute: PathBuf,
    /// Relative to the workspace root, with `/` separators: what the model and the person see,
    /// and what `beneath` opens below the root. Empty for the root itself.
    pub relative: String,
}

/// The workspace root, canonicalised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    pub fn new(workspace_root: &Path) -> Result<Self, ConfineError> {
        let root = workspace_root.canonicalize().map_err(|error| ConfineError::Io {
            path: workspace_root.display().to_string(),
            cause: error.to_string(),
        })?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `requested` for reading: relative to the root (an absolute path is accepted when
    /// it names something below the root); it may not exist yet; its existing part is canonical.
    pub fn resolve(&self, requested: &str) -> Result<InsidePath, ConfineError> {
        let trimmed = requested.trim();
        let relative_text = match Path::new(trimmed).strip_prefix(&self.root) {
            Ok(below) if trimmed.starts_with('/') => format!("./{}", below.to_string_lossy()),
            _ => trimmed.to_owned(),
        };
        let parts = relative_parts(&relative_text).map_err(|error| ConfineError::lexical(error, trimmed))?;
        let mut joined = self.root.clone();
        joined.extend(&parts);
        let absolute = self.canonical_prefix(&joined, trimmed)?;
        let relative = self.relative_of(&absolute).ok_or_else(|| ConfineError::Escapes(trimmed.to_owned()))?;
        Ok(InsidePath { absolute, relative })
    }

    /// Resolves `requested` for writing: as [`Workspace::resolve`], and not the root itself, and
    /// not through a protected directory (after symlinks: `g -> .git` is `.git`).
    pub fn resolve_for_write(&self, requested: &str) -> Result<InsidePath, ConfineError> {
        let resolved = self.resolve(requested)?;
        if resolved.relative.is_empty() || is_protected(resolved.relative.split('/')) {
            let shown = if resolved.relative.is_empty() { ".".to_owned() } else { resolved.relative.clone() };
            return Err(ConfineError::Protected(shown));
        }
        Ok(resolved)
    }

    /// Resolves a path from a setting or a command-line face (`database`, `context.files`):
    /// relative to the root, or absolute; `..` is folded lexically first (`a/../b.db` is `b.db`),
    /// then the result must lie strictly below the root, symlinks included.
    pub fn resolve_setting(&self, requested: &Path) -> Result<InsidePath, ConfineError> {
        let shown = requested.display().to_string();
        let joined = if requested.is_relative() { self.root.join(requested) } else { requested.to_path_buf() };
        let mut folded = PathBuf::new();
        for component in joined.components() {
            match component {
                Component::ParentDir => {
                    folded.pop();
                }
                Component::CurDir => {}
                other => folded.push(other),
            }
        }
        // A setting may name the root through another spelling of it (a symlinked path).
        let canonical =
            self.canonical_prefix_anywhere(&folded).ok_or_else(|| ConfineError::Unresolvable(shown.clone()))?;
        let relative = self.relative_of(&canonical).ok_or_else(|| ConfineError::Escapes(shown.clone()))?;
        if relative.is_empty() {
            return Err(ConfineError::Escapes(shown));
        }
        Ok(InsidePath { absolute: canonical, relative })
    }

    /// An existing directory inside the workspace (a shell step's or a command's `cwd`).
    pub fn resolve_directory(&self, requested: &str) -> Result<InsidePath, ConfineError> {
        let resolved = self.resolve(requested)?;
        match std::fs::metadata(&resolved.absolute) {
            Ok(metadata) if metadata.is_dir() => Ok(resolved),
            Ok(_) => Err(ConfineError::Io { path: display(&resolved), cause: "not a directory".to_owned() }),
            Err(_) => Err(ConfineError::Io { path: display(&resolved), cause: "does not exist".to_owned() }),
        }
    }

    /// Refuses a file over [`MAX_FILE_BYTES`] (a missing file passes).
    pub fn check_size(&self, path: &InsidePath) -> Result<(), ConfineError> {
        match std::fs::metadata(&path.absolute) {
            Ok(metadata) if metadata.len() > MAX_FILE_BYTES => {
                Err(ConfineError::TooLarge { path: path.relative.clone(), bytes: metadata.len() })
            }
            _ => Ok(()),
        }
    }

    /// The `/`-separated path of `absolute` below the root; `None` outside it.
    pub fn relative_of(&self, absolute: &Path) -> Option<String> {
        let relative = absolute.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> =
            relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        Some(parts.join("/"))
    }

    /// Canonicalises the longest existing ancestor of `joined` (below the root) and appends the
    /// rest (which has no `..` and, not existing, no symlinks). Refuses a result outside the root.
    fn canonical_prefix(&self, joined: &Path, shown: &str) -> Result<PathBuf, ConfineError> {
        let mut existing = joined.to_path_buf();
        let mut missing = Vec::new();
        loop {
            match existing.canonicalize() {
                Ok(canonical) => {
                    let mut full = canonical;
                    full.extend(missing.iter().rev());
                    if !full.starts_with(&self.root) {
                        return Err(ConfineError::Escapes(shown.to_owned()));
                    }
                    return Ok(full);
                }
                // A link to nothing, or a loop: where it leads cannot be checked, so it is refused.
                Err(_) if existing.symlink_metadata().is_ok() => {
                    return Err(ConfineError::Unresolvable(shown.to_owned()));
                }
                Err(_) => {
                    let Some(name) = existing.file_name().map(ToOwned::to_owned) else {
                        return Err(ConfineError::Escapes(shown.to_owned()));
                    };
                    missing.push(name);
                    if !existing.pop() || !existing.starts_with(&self.root) {
                        return Err(ConfineError::Escapes(shown.to_owned()));
                    }
                }
            }
        }
    }

    /// Like `canonical_prefix` for a path that may start anywhere (settings), judged afterwards
    /// by `relative_of`; `None` for a link to nothing or a loop on the way.
    fn canonical_prefix_anywhere(&self, path: &Path) -> Option<PathBuf> {
        let mut existing = path.to_path_buf();
        let mut missing = Vec::new();
        loop {
            if let Ok(canonical) = existing.canonicalize() {
                let mut full = canonical;
                full.extend(missing.iter().rev());
                return Some(full);
            }
            if existing.symlink_metadata().is_ok() {
                return None;
            }
            match existing.file_name().map(ToOwned::to_owned) {
                Some(name) if existing.pop() => missing.push(name),
                _ => return Some(path.to_path_buf()),
            }
        }
    }
}

fn display(path: &InsidePath) -> String {
    if path.relative.is_empty() { ".".to_owned() } else { path.relative.clone() }
}

#[cfg(test)]
mod tests;
