//! The workspace writer: the one place every agent change to the workspace passes through.
//!
//! File contents go to the editor first (`workspace/applyEdit` through the [`EditorBridge`]:
//! visible and undoable) and then to the disk, so that later reads and commands see them even
//! when the editor keeps the change in an unsaved buffer; with no editor they go to the disk
//! only. Deletes, moves and new directories go to the disk. Changes to one path are serialised
//! (a per-path async lock held across read-modify-write), so two subtasks editing the same file
//! both keep their edits. Checkpoints (undo of a subtask's edits) can record prior content here.
//!
//! Paths arrive already resolved by the sandbox; this module does not decide what is allowed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use super::sandbox::{MAX_FILE_BYTES, SandboxPath};
use crate::engine::{EditorBridge, FileEdit};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the editor refused the edit to {0}")]
    Refused(String),
    #[error("the editor could not apply the edit to {path}: {cause}")]
    Editor { path: String, cause: String },
    #[error("{path}: {cause}")]
    Io { path: String, cause: String },
    #[error("the new content of {path} is {bytes} bytes, over the 1 MB limit")]
    TooLarge { path: String, bytes: usize },
}

fn io_error(path: &SandboxPath, error: std::io::Error) -> WriteError {
    WriteError::Io { path: path.relative.clone(), cause: error.to_string() }
}

/// Per-path locks and the write paths. Shared by every agent of the server (cheap to clone).
#[derive(Clone, Default)]
pub struct WorkspaceWriter {
    locks: Arc<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>>,
}

impl WorkspaceWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for exclusive use of `path` (held until the guard drops).
    pub async fn lock(&self, path: &SandboxPath) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(path.absolute.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Reads `path` as text (`None` when it does not exist). Call with the path's lock held when
    /// the result feeds a write.
    pub async fn read(&self, path: &SandboxPath) -> Result<Option<String>, WriteError> {
        match tokio::fs::read(&path.absolute).await {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(io_error(path, error)),
        }
    }

    /// Replaces the whole content of `path` (creating it and its parents). The caller holds the
    /// path's lock.
    pub async fn write_locked(
        &self,
        editor: Option<&dyn EditorBridge>,
        path: &SandboxPath,
        label: &str,
        new_text: String,
    ) -> Result<(), WriteError> {
        if new_text.len() as u64 > MAX_FILE_BYTES {
            return Err(WriteError::TooLarge { path: path.relative.clone(), bytes: new_text.len() });
        }
        if let Some(editor) = editor {
            let edit = FileEdit { path: PathBuf::from(&path.relative), new_text: new_text.clone() };
            match editor.apply_edits(label.to_owned(), vec![edit]).await {
                Ok(true) => {}
                Ok(false) => return Err(WriteError::Refused(path.relative.clone())),
                Err(cause) => return Err(WriteError::Editor { path: path.relative.clone(), cause }),
            }
        }
        if let Some(parent) = path.absolute.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|error| io_error(path, error))?;
        }
        tokio::fs::write(&path.absolute, new_text).await.map_err(|error| io_error(path, error))
    }

    /// Reads, transforms and writes `path` under its lock; the transform's error leaves the file
    /// untouched. Returns the old and new content.
    pub async fn modify<E>(
        &self,
        editor: Option<&dyn EditorBridge>,
        path: &SandboxPath,
        label: &str,
        transform: impl FnOnce(Option<String>) -> Result<String, E>,
    ) -> Result<Result<(Option<String>, String), E>, WriteError> {
        let _guard = self.lock(path).await;
        let old = self.read(path).await?;
        let new_text = match transform(old.clone()) {
            Ok(new_text) => new_text,
            Err(error) => return Ok(Err(error)),
        };
        self.write_locked(editor, path, label, new_text.clone()).await?;
        Ok(Ok((old, new_text)))
    }

    pub async fn create_directory(&self, path: &SandboxPath) -> Result<(), WriteError> {
        let _guard = self.lock(path).await;
        tokio::fs::create_dir_all(&path.absolute).await.map_err(|error| io_error(path, error))
    }

    /// Deletes a file or an empty directory.
    pub async fn delete(&self, path: &SandboxPath) -> Result<(), WriteError> {
        let _guard = self.lock(path).await;
        let metadata = tokio::fs::symlink_metadata(&path.absolute).await.map_err(|error| io_error(path, error))?;
        if metadata.is_dir() {
            tokio::fs::remove_dir(&path.absolute).await.map_err(|error| io_error(path, error))
        } else {
            tokio::fs::remove_file(&path.absolute).await.map_err(|error| io_error(path, error))
        }
    }

    /// Moves `from` to `to` (which must not exist), creating `to`'s parents.
    pub async fn rename(&self, from: &SandboxPath, to: &SandboxPath) -> Result<(), WriteError> {
        let (first, second) = if from.absolute <= to.absolute { (from, to) } else { (to, from) };
        let _first = self.lock(first).await;
        let _second = self.lock(second).await;
        if tokio::fs::symlink_metadata(&to.absolute).await.is_ok() {
            return Err(WriteError::Io { path: to.relative.clone(), cause: "already exists".to_owned() });
        }
        if let Some(parent) = to.absolute.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|error| io_error(to, error))?;
        }
        tokio::fs::rename(&from.absolute, &to.absolute).await.map_err(|error| io_error(from, error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::sandbox::Sandbox;

    #[tokio::test]
    async fn concurrent_modifications_of_one_file_keep_every_edit() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("list.txt"), "").unwrap();
        let sandbox = Sandbox::new(directory.path()).unwrap();
        let path = sandbox.resolve_for_write("list.txt").unwrap();
        let writer = WorkspaceWriter::new();
        let tasks: Vec<_> = (0..16)
            .map(|number| {
                let (writer, path) = (writer.clone(), path.clone());
                tokio::spawn(async move {
                    writer
                        .modify(None, &path, "append", |old| {
                            Ok::<_, ()>(format!("{}{number}\n", old.unwrap_or_default()))
                        })
                        .await
                        .unwrap()
                        .unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let text = std::fs::read_to_string(directory.path().join("list.txt")).unwrap();
        assert_eq!(text.lines().count(), 16);
    }

    #[tokio::test]
    async fn a_failed_transform_leaves_the_file_alone_and_moves_refuse_to_overwrite() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("a.txt"), "a").unwrap();
        std::fs::write(directory.path().join("b.txt"), "b").unwrap();
        let sandbox = Sandbox::new(directory.path()).unwrap();
        let writer = WorkspaceWriter::new();
        let a = sandbox.resolve_for_write("a.txt").unwrap();
        let outcome = writer.modify(None, &a, "x", |_| Err::<String, _>("no match")).await.unwrap();
        assert_eq!(outcome, Err("no match"));
        assert_eq!(std::fs::read_to_string(&a.absolute).unwrap(), "a");
        let b = sandbox.resolve_for_write("b.txt").unwrap();
        assert!(writer.rename(&a, &b).await.is_err());
        let c = sandbox.resolve_for_write("sub/c.txt").unwrap();
        writer.rename(&a, &c).await.unwrap();
        assert_eq!(std::fs::read_to_string(&c.absolute).unwrap(), "a");
    }
}
