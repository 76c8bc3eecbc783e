//! The workspace writer: the one place every agent change to the workspace passes through, and
//! the one place that sees each change once it is applied ([`ChangeObserver`]).
//!
//! The editor's buffer is the truth for a file the editor has open: reads return it, unsaved
//! changes included, and a change goes to it as minimal hunks against the version that was read
//! (`workspace/applyEdit` with that version, through the [`EditorBridge`]). When the person typed
//! in between, the editor refuses the stale version; the writer waits for their version, reads
//! again and applies the transform once more, else reports a conflict. A buffer without unsaved
//! changes is written to the disk too (so commands see the change); a buffer with unsaved
//! changes keeps the change to itself and the disk is not touched — an agent never saves or
//! discards a person's unsaved work. Files not open go to the disk only.
//!
//! Disk writes, deletes, moves and new folders go through `confine::beneath`, which checks the
//! path again at the moment of the write. Changes to one path are serialised (a per-path async
//! lock held across read-modify-write), so two subtasks editing one file both keep their edits.
//!
//! Paths arrive already resolved by the confinement; this module does not decide what is
//! allowed, only where a change goes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

use super::hunks::minimal_hunks;
use crate::confine::{InsidePath, MAX_FILE_BYTES, Workspace, beneath};
use crate::engine::{DocumentEdit, EditorBridge, OpenDocument};
use crate::model::{AgentKind, PlanId, SubtaskId};

/// How long the writer waits for the editor to report the version its edit made (or the
/// version the person's typing made, after a refusal).
const EDITOR_SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{0} changed in the editor while this edit was applied (the person is typing), twice; nothing was overwritten: read it again, then edit"
    )]
    Conflict(String),
    #[error("the editor refused the edit to {0}")]
    Refused(String),
    #[error("the editor could not apply the edit to {path}: {cause}")]
    Editor { path: String, cause: String },
    #[error(
        "{0} has unsaved changes in the editor, which does not take edits; ask the person to save or close it first"
    )]
    UnsavedInEditor(String),
    #[error("{path}: {cause}")]
    Io { path: String, cause: String },
    #[error("the new content of {path} is {bytes} bytes, over the 1 MB limit")]
    TooLarge { path: String, bytes: usize },
}

fn io_error(path: &InsidePath, error: &std::io::Error) -> WriteError {
    WriteError::Io { path: path.relative.clone(), cause: beneath::describe(error) }
}

/// Who is changing the workspace, for the label the editor shows and for observers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeOrigin {
    pub plan_id: PlanId,
    pub subtask_id: SubtaskId,
    pub attempt: u32,
    pub agent: AgentKind,
}

/// Where an applied change went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeTarget {
    Disk,
    /// The editor's buffer at `version` (the version the edit was made against); `saved_too`
    /// when the buffer had no unsaved changes and the disk was written as well.
    Buffer {
        version: i32,
        saved_too: bool,
    },
}

/// What kind of change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    Write,
    Delete,
    /// Moved here from `from` (workspace-relative).
    Move {
        from: String,
    },
    CreateDirectory,
}

/// One applied change, as every [`ChangeObserver`] sees it: the path, its text before and after
/// (`None`: did not exist / no longer exists / not text, such as a folder), where it went.
#[derive(Debug, Clone)]
pub struct AppliedChange<'a> {
    pub origin: &'a ChangeOrigin,
    pub path: &'a InsidePath,
    pub kind: ChangeKind,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub target: ChangeTarget,
}

/// Called after each change the writer applied, in order, with the path's lock still held (so
/// the next change to that path waits). Keep it quick: record, do not do I/O in place.
pub trait ChangeObserver: Send + Sync {
    fn change_applied(&self, change: &AppliedChange<'_>);
}

/// Everything a write needs besides the path: the confinement, the editor (if any) and who.
#[derive(Clone, Copy)]
pub struct WriteContext<'a> {
    pub workspace: &'a Workspace,
    pub editor: Option<&'a dyn EditorBridge>,
    pub origin: &'a ChangeOrigin,
    /// What the editor shows for the change (`coder: edit src/lib.rs`).
    pub label: &'a str,
}

/// A file's text as an agent sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadText {
    pub text: String,
    /// The editor's version when the text came from its buffer.
    pub buffer_version: Option<i32>,
    /// The buffer differs from the file on disk.
    pub unsaved: bool,
}

/// The current content handed to a transform.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    /// `None`: the file does not exist.
    pub text: Option<&'a str>,
    /// It is the editor's buffer, with changes not on disk.
    pub unsaved: bool,
    /// `true` on the second try, after the person's typing made the first one stale.
    pub after_conflict: bool,
}

/// What a modification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modified {
    pub before: Option<String>,
    pub after: String,
    /// `None`: the transform changed nothing, so nothing was written.
    pub target: Option<ChangeTarget>,
}

/// Per-path locks, the write paths and the observers. Shared by every agent of the server
/// (cheap to clone).
#[derive(Clone, Default)]
pub struct WorkspaceWriter {
    locks: Arc<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>>,
    observers: Arc<Mutex<Vec<Arc<dyn ChangeObserver>>>>,
}

/// Where the current content of a file comes from.
enum Source {
    Buffer { document: OpenDocument, disk: Option<String> },
    Disk(Option<String>),
}

impl Source {
    fn text(&self) -> Option<&str> {
        match self {
            Source::Buffer { document, .. } => Some(&document.text),
            Source::Disk(text) => text.as_deref(),
        }
    }

    fn unsaved(&self) -> bool {
        matches!(self, Source::Buffer { document, disk } if disk.as_deref() != Some(document.text.as_str()))
    }
}

impl WorkspaceWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an observer that sees every change applied from now on.
    pub fn observe(&self, observer: Arc<dyn ChangeObserver>) {
        self.observers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(observer);
    }

    fn notify(&self, change: &AppliedChange<'_>) {
        let observers = self.observers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for observer in observers {
            observer.change_applied(change);
        }
    }

    /// Waits for exclusive use of `path` (held until the guard drops).
    pub async fn lock(&self, path: &InsidePath) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(path.absolute.clone()).or_default().clone()
        };
        lock.lock_owned().await
    }

    /// Reads `path` as the agent should see it: the editor's buffer when it has the file open,
    /// else the disk (`None` when it does not exist).
    pub async fn read(&self, context: WriteContext<'_>, path: &InsidePath) -> Result<Option<ReadText>, WriteError> {
        let source = current(context, path).await?;
        let unsaved = source.unsaved();
        Ok(match source {
            Source::Buffer { document, .. } => {
                Some(ReadText { text: document.text, buffer_version: Some(document.version), unsaved })
            }
            Source::Disk(text) => text.map(|text| ReadText { text, buffer_version: None, unsaved: false }),
        })
    }

    /// Reads, transforms and writes `path` under its lock (see the module comment for where the
    /// change goes). The transform runs a second time, on the person's newer text, when the
    /// editor refused the first result as stale; its error leaves everything untouched.
    pub async fn modify<E>(
        &self,
        context: WriteContext<'_>,
        path: &InsidePath,
        transform: impl Fn(Current<'_>) -> Result<String, E>,
    ) -> Result<Result<Modified, E>, WriteError> {
        let _guard = self.lock(path).await;
        let mut after_conflict = false;
        loop {
            let source = current(context, path).await?;
            let before = source.text();
            let current = Current { text: before, unsaved: source.unsaved(), after_conflict };
            let after = match transform(current) {
                Ok(after) => after,
                Err(error) => return Ok(Err(error)),
            };
            if after.len() as u64 > MAX_FILE_BYTES {
                return Err(WriteError::TooLarge { path: path.relative.clone(), bytes: after.len() });
            }
            if before == Some(after.as_str()) {
                return Ok(Ok(Modified { before: before.map(str::to_owned), after, target: None }));
            }
            let target = match &source {
                Source::Disk(_) => {
                    write_disk(context.workspace, path, &after).await?;
                    ChangeTarget::Disk
                }
                Source::Buffer { document, disk } => match apply_to_buffer(context, path, document, &after).await? {
                    Applied::Yes => {
                        let saved_too = disk.as_deref() == Some(document.text.as_str());
                        if saved_too {
                            write_disk(context.workspace, path, &after).await?;
                        }
                        ChangeTarget::Buffer { version: document.version, saved_too }
                    }
                    Applied::NotTaken if !source.unsaved() => {
                        write_disk(context.workspace, path, &after).await?;
                        ChangeTarget::Disk
                    }
                    Applied::NotTaken => return Err(WriteError::UnsavedInEditor(path.relative.clone())),
                    Applied::Stale if !after_conflict => {
                        // The person's version, if that is why it was refused; else a plain refusal.
                        let relative = Path::new(&path.relative);
                        let newer = match context.editor {
                            Some(editor) => {
                                editor.newer_document(relative, document.version, EDITOR_SETTLE_TIMEOUT).await
                            }
                            None => None,
                        };
                        if newer.is_none() {
                            return Err(WriteError::Refused(path.relative.clone()));
                        }
                        after_conflict = true;
                        continue;
                    }
                    Applied::Stale => return Err(WriteError::Conflict(path.relative.clone())),
                },
            };
            self.notify(&AppliedChange {
                origin: context.origin,
                path,
                kind: ChangeKind::Write,
                before,
                after: Some(&after),
                target,
            });
            return Ok(Ok(Modified { before: before.map(str::to_owned), after, target: Some(target) }));
        }
    }

    pub async fn create_directory(&self, context: WriteContext<'_>, path: &InsidePath) -> Result<(), WriteError> {
        let _guard = self.lock(path).await;
        blocking(context.workspace, path, beneath::create_dir_all).await?;
        self.notify(&AppliedChange {
            origin: context.origin,
            path,
            kind: ChangeKind::CreateDirectory,
            before: None,
            after: None,
            target: ChangeTarget::Disk,
        });
        Ok(())
    }

    /// Deletes a file or an empty folder; refuses a file the editor holds unsaved changes of.
    pub async fn delete(&self, context: WriteContext<'_>, path: &InsidePath) -> Result<(), WriteError> {
        let _guard = self.lock(path).await;
        let source = current(context, path).await?;
        if source.unsaved() {
            return Err(WriteError::UnsavedInEditor(path.relative.clone()));
        }
        blocking(context.workspace, path, beneath::remove).await?;
        self.notify(&AppliedChange {
            origin: context.origin,
            path,
            kind: ChangeKind::Delete,
            before: source.text(),
            after: None,
            target: ChangeTarget::Disk,
        });
        Ok(())
    }

    /// Moves `from` to `to` (which must not exist), creating `to`'s folders; refuses a file the
    /// editor holds unsaved changes of.
    pub async fn rename(
        &self,
        context: WriteContext<'_>,
        from: &InsidePath,
        to: &InsidePath,
    ) -> Result<(), WriteError> {
        let (first, second) = if from.absolute <= to.absolute { (from, to) } else { (to, from) };
        let _first = self.lock(first).await;
        let _second = self.lock(second).await;
        let source = current(context, from).await?;
        if source.unsaved() {
            return Err(WriteError::UnsavedInEditor(from.relative.clone()));
        }
        let workspace = context.workspace.clone();
        let (from_relative, to_relative) = (from.relative.clone(), to.relative.clone());
        tokio::task::spawn_blocking(move || beneath::rename(&workspace, &from_relative, &to_relative))
            .await
            .map_err(|error| WriteError::Io { path: from.relative.clone(), cause: error.to_string() })?
            .map_err(|error| io_error(from, &error))?;
        self.notify(&AppliedChange {
            origin: context.origin,
            path: to,
            kind: ChangeKind::Move { from: from.relative.clone() },
            before: None,
            after: source.text(),
            target: ChangeTarget::Disk,
        });
        Ok(())
    }
}

/// The buffer when the editor has `path` open, else the disk.
async fn current(context: WriteContext<'_>, path: &InsidePath) -> Result<Source, WriteError> {
    let disk = read_disk(context.workspace, path).await?;
    let document = context.editor.and_then(|editor| editor.open_document(Path::new(&path.relative)));
    Ok(match document {
        Some(document) => Source::Buffer { document, disk },
        None => Source::Disk(disk),
    })
}

async fn read_disk(workspace: &Workspace, path: &InsidePath) -> Result<Option<String>, WriteError> {
    // A folder has no text (deleting or moving one reads it as nothing).
    let bytes = blocking(workspace, path, |workspace, relative| match beneath::read(workspace, relative) {
        Err(error) if error.kind() == std::io::ErrorKind::IsADirectory => Ok(None),
        other => other,
    })
    .await?;
    Ok(bytes.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

async fn write_disk(workspace: &Workspace, path: &InsidePath, text: &str) -> Result<(), WriteError> {
    let text = text.to_owned();
    blocking(workspace, path, move |workspace, relative| beneath::write(workspace, relative, text.as_bytes())).await
}

/// Runs a `beneath` operation on the blocking pool.
async fn blocking<T: Send + 'static>(
    workspace: &Workspace,
    path: &InsidePath,
    operation: impl FnOnce(&Workspace, &str) -> std::io::Result<T> + Send + 'static,
) -> Result<T, WriteError> {
    let (workspace, relative) = (workspace.clone(), path.relative.clone());
    tokio::task::spawn_blocking(move || operation(&workspace, &relative))
        .await
        .map_err(|error| WriteError::Io { path: path.relative.clone(), cause: error.to_string() })?
        .map_err(|error| io_error(path, &error))
}

enum Applied {
    Yes,
    /// The version moved on (the person typed): refused.
    Stale,
    /// The editor does not take edits at all.
    NotTaken,
}

/// Sends the minimal hunks from `document` to `after`, versioned; waits for the editor to report
/// the version the edit made, so the next read sees it.
async fn apply_to_buffer(
    context: WriteContext<'_>,
    path: &InsidePath,
    document: &OpenDocument,
    after: &str,
) -> Result<Applied, WriteError> {
    let Some(editor) = context.editor.filter(|editor| editor.takes_edits()) else { return Ok(Applied::NotTaken) };
    let relative = Path::new(&path.relative);
    let edit = DocumentEdit {
        path: relative.to_path_buf(),
        version: document.version,
        base_text: document.text.clone(),
        hunks: minimal_hunks(&document.text, after),
    };
    match editor.apply_edits(context.label.to_owned(), vec![edit]).await {
        Ok(true) => {
            editor.newer_document(relative, document.version, EDITOR_SETTLE_TIMEOUT).await;
            Ok(Applied::Yes)
        }
        Ok(false) => Ok(Applied::Stale),
        Err(cause) => Err(WriteError::Editor { path: path.relative.clone(), cause }),
    }
}

#[cfg(test)]
mod tests;
