//! Finished steps ticked in the task list their plan came from (`planfile::tick`), as each one
//! finishes, before the event that says so goes on to the faces.
//!
//! The change goes through the one workspace writer: into the editor's buffer with
//! `workspace/applyEdit` when the file is open there, else to the disk by an atomic replace.
//! Around each tick this process holds an exclusive `flock` on `.codelab/locks/ticks.lock`, so
//! two runs — in this process or in two — never write the file at once; each reads what is there
//! under the lock and ticks only its own step, so no tick is lost or made twice. A tick that
//! cannot be made (the file moved, the person holds unsaved edits an editor will not take) is
//! logged and the run goes on: the plan's status is the record, the checkbox its echo.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::agents::writer::{ChangeOrigin, WorkspaceWriter, WriteContext};
use crate::confine::{InsidePath, Workspace};
use crate::engine::EditorBridge;
use crate::model::{AgentKind, Plan, PlanId, SubtaskId};
use crate::planfile::{self, Format};

/// The lock every tick is made under, relative to the workspace root.
pub const TICK_LOCK: &str = ".codelab/locks/ticks.lock";

/// Ticks the steps of one plan in its source file.
pub(crate) struct Ticker {
    workspace: Workspace,
    path: InsidePath,
    format: Format,
    writer: WorkspaceWriter,
    editor: Option<Arc<dyn EditorBridge>>,
    plan_id: PlanId,
    agents: HashMap<SubtaskId, AgentKind>,
    lock_file: PathBuf,
}

impl Ticker {
    /// A ticker when the plan came from a task list inside the workspace.
    pub(crate) fn for_plan(
        plan: &Plan,
        workspace_root: &Path,
        writer: WorkspaceWriter,
        editor: Option<Arc<dyn EditorBridge>>,
    ) -> Option<Ticker> {
        let source = plan.source_file.as_deref()?;
        let format = Format::of_path(Path::new(source)).filter(|format| format.ticks())?;
        let workspace = Workspace::new(workspace_root).ok()?;
        let path = match workspace.resolve_for_write(source) {
            Ok(path) => path,
            Err(error) => {
                tracing::warn!(file = source, %error, "the task list is not ticked: it is not a workspace file");
                return None;
            }
        };
        let agents = plan.subtasks.iter().map(|subtask| (subtask.id.clone(), subtask.agent)).collect();
        let lock_file = workspace.root().join(TICK_LOCK);
        Some(Ticker { workspace, path, format, writer, editor, plan_id: plan.id.clone(), agents, lock_file })
    }

    /// Ticks `subtask` (and the group it completes) in the file; logs what goes wrong.
    pub(crate) async fn tick(&self, subtask: &SubtaskId) {
        if let Err(error) = self.try_tick(subtask).await {
            tracing::warn!(file = %self.path.relative, subtask = %subtask, %error, "could not tick the task list");
        }
    }

    async fn try_tick(&self, subtask: &SubtaskId) -> Result<(), String> {
        let _held = hold(self.lock_file.clone()).await?;
        let done = vec![subtask.as_str().to_owned()];
        let origin = ChangeOrigin {
            plan_id: self.plan_id.clone(),
            subtask_id: subtask.clone(),
            attempt: 0,
            agent: self.agents.get(subtask).copied().unwrap_or(AgentKind::Manual),
        };
        let label = format!("codelab-planner: {subtask} done");
        let context =
            WriteContext { workspace: &self.workspace, editor: self.editor.as_deref(), origin: &origin, label: &label };
        let format = self.format;
        let modified = self
            .writer
            .modify(context, &self.path, |current| match current.text {
                Some(text) => Ok(planfile::tick(text, format, &done).unwrap_or_else(|| text.to_owned())),
                None => Err("the file is gone".to_owned()),
            })
            .await
            .map_err(|error| error.to_string())?;
        modified.map(|_| ())
    }
}

/// Waits for the exclusive lock on `lock_file` (made with its folder when missing); the lock
/// lasts as long as the returned file is open.
async fn hold(lock_file: PathBuf) -> Result<File, String> {
    let locked = tokio::task::spawn_blocking(move || -> std::io::Result<File> {
        if let Some(folder) = lock_file.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_file)?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(file)
    })
    .await;
    match locked {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(error)) => Err(format!("cannot lock {TICK_LOCK}: {error}")),
        Err(error) => Err(format!("cannot lock {TICK_LOCK}: {error}")),
    }
}
