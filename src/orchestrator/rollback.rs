//! `planning/rollback`: restores the files a subtask's agents changed — and everything later in
//! the plan that touched the same files — to their content before, or every file of the plan.
//!
//! A file is restored only when it still holds what the plan's agents last wrote there; a file
//! the person (or anything else) changed since is a conflict, reported with its path and left
//! as it is. Writes go through the agents' workspace writer: a file the editor has open is
//! restored in its buffer (`workspace/applyEdit`, undoable there), any other on the disk through
//! `confine::beneath` (checked at the moment of the write); the content is compared again under
//! the writer's per-path lock, right before the write. Refused while the plan runs, and no run
//! of the plan starts while a rollback goes on.

use std::collections::{BTreeMap, BTreeSet};

use super::actor::{Actor, Command};
use super::errors::invalid_state;
use super::plans::event;
use super::{Orchestrator, OrchestratorError, invalid_param};
use crate::agents::writer::{ChangeOrigin, Current, WorkspaceWriter, WriteContext};
use crate::confine::{InsidePath, Workspace};
use crate::engine::SharedEditor;
use crate::model::record::{Content, FileChangeRecord};
use crate::model::{AgentKind, Plan, PlanId, PlanStatus, SubtaskId, Timestamp};
use crate::store::WriteOp;

/// What a rollback did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackReport {
    /// Paths restored to their content before (or removed, when an agent had created them).
    pub restored: Vec<String>,
    /// Paths left as they are, and why.
    pub conflicts: Vec<(String, String)>,
}

/// What the actor hands out for a rollback: the writer every agent writes through and the
/// editor, if there is one.
pub(super) struct RollbackTools {
    writer: WorkspaceWriter,
    editor: Option<SharedEditor>,
    workspace_root: std::path::PathBuf,
    plan: Plan,
}

impl Orchestrator {
    /// Restores what the plan's agents changed: the subtask's files and every later change to
    /// them when `subtask_id` is given, else every file of the plan. Refused while the plan runs.
    pub async fn rollback(
        &self,
        plan_id: PlanId,
        subtask_id: Option<SubtaskId>,
    ) -> Result<RollbackReport, OrchestratorError> {
        let tools = self.ask(|reply| Command::BeginRollback(plan_id.clone(), reply)).await??;
        let _release = Release { commands: self.commands.clone(), plan_id: plan_id.clone() };
        if let Some(subtask_id) = &subtask_id
            && tools.plan.subtask(subtask_id).is_none()
        {
            return Err(invalid_param("subtaskId", format!("unknown subtask \"{subtask_id}\"")));
        }
        let lookup = plan_id.clone();
        let records = self.repository.call(move |store| store.file_changes(&lookup, None)).await?;
        let records: Vec<FileChangeRecord> =
            records.into_iter().filter(|record| record.rolled_back_at.is_none()).collect();
        let chosen = choose(&records, subtask_id.as_ref());
        let mut report = RollbackReport::default();
        let workspace = Workspace::new(&tools.workspace_root)
            .map_err(|error| OrchestratorError::Internal(format!("the workspace cannot be opened: {error}")))?;
        let editor = tools.editor.as_ref().map(|editor| editor.0.clone());
        let origin = ChangeOrigin {
            plan_id: plan_id.clone(),
            subtask_id: subtask_id.clone().unwrap_or_else(|| SubtaskId::from_raw("")),
            attempt: 0,
            agent: AgentKind::Manual,
        };
        let label = match &subtask_id {
            Some(subtask) => format!("codelab-planner: revert step {subtask}"),
            None => format!("codelab-planner: revert plan {plan_id}"),
        };
        let context = WriteContext { workspace: &workspace, editor: editor.as_deref(), origin: &origin, label: &label };
        for (path, restore) in plan_paths(&records, &chosen) {
            match restore_path(&tools.writer, context, &path, &restore).await {
                Ok(()) => report.restored.push(path),
                Err(reason) => report.conflicts.push((path, reason)),
            }
        }
        self.record_rollback(&tools.plan, &records, &chosen, &report).await?;
        Ok(report)
    }

    async fn record_rollback(
        &self,
        plan: &Plan,
        records: &[FileChangeRecord],
        chosen: &BTreeSet<usize>,
        report: &RollbackReport,
    ) -> Result<(), OrchestratorError> {
        let conflicted: BTreeSet<&str> = report.conflicts.iter().map(|(path, _)| path.as_str()).collect();
        let done: Vec<(SubtaskId, u32, String)> = chosen
            .iter()
            .map(|&index| &records[index])
            .filter(|record| touched(record).iter().all(|path| !conflicted.contains(path.as_str())))
            .map(|record| (record.subtask_id.clone(), record.attempt, record.path.clone()))
            .collect();
        if done.is_empty() && report.conflicts.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        let mut detail = format!("restored {}", report.restored.join(", "));
        for (path, reason) in &report.conflicts {
            detail.push_str(&format!("; left {path}: {reason}"));
        }
        let rolled_back =
            crate::store::PlanEvent { detail: Some(detail), ..event(plan, now, "rolledBack", None, None) };
        let ops = vec![
            WriteOp::MarkRolledBack { plan_id: plan.id.clone(), records: done, at: now },
            WriteOp::AppendEvent(rolled_back),
        ];
        Ok(self.repository.commit(ops).await?)
    }
}

/// Ends the rollback on the actor when dropped (also when the caller stopped waiting).
struct Release {
    commands: tokio::sync::mpsc::Sender<Command>,
    plan_id: PlanId,
}

impl Drop for Release {
    fn drop(&mut self) {
        let (commands, plan_id) = (self.commands.clone(), self.plan_id.clone());
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(command)) =
            commands.try_send(Command::EndRollback(plan_id))
        {
            tokio::spawn(async move { commands.send(command).await });
        }
    }
}

impl Actor {
    /// Refuses while the plan runs (here or in another process); otherwise marks it as being
    /// rolled back (no run starts until [`Actor::end_rollback`]) and hands out the writer.
    pub(super) async fn begin_rollback(&mut self, plan_id: PlanId) -> Result<RollbackTools, OrchestratorError> {
        let plan = self.load_plan(&plan_id).await?;
        self.book_committed_end(&plan).await;
        if self.runs.contains_key(&plan_id) || plan.status == PlanStatus::Running {
            return Err(invalid_state(
                &plan,
                format!("plan {plan_id} is running; cancel it or let it finish before reverting its changes"),
            ));
        }
        if !self.rolling_back.insert(plan_id.clone()) {
            return Err(invalid_state(&plan, format!("plan {plan_id} is already being reverted")));
        }
        Ok(RollbackTools {
            writer: self.agent_state.writer().clone(),
            editor: self.editor.clone(),
            workspace_root: self.workspace_root.clone(),
            plan,
        })
    }

    pub(super) fn end_rollback(&mut self, plan_id: &PlanId) {
        self.rolling_back.remove(plan_id);
    }
}

/// The records a rollback undoes: every record of the plan, or the subtask's and every later
/// record touching one of the same paths (a move brings in its other path), until nothing new
/// joins.
fn choose(records: &[FileChangeRecord], subtask_id: Option<&SubtaskId>) -> BTreeSet<usize> {
    let Some(subtask_id) = subtask_id else { return (0..records.len()).collect() };
    let mut chosen: BTreeSet<usize> =
        records.iter().enumerate().filter(|(_, record)| &record.subtask_id == subtask_id).map(|(i, _)| i).collect();
    let Some(start) = chosen.iter().map(|&index| records[index].first_at).min() else { return chosen };
    let mut paths: BTreeSet<String> = chosen.iter().flat_map(|&index| touched(&records[index])).collect();
    loop {
        let joining: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(index, record)| {
                !chosen.contains(index)
                    && record.last_at >= start
                    && touched(record).iter().any(|path| paths.contains(path))
            })
            .map(|(index, _)| index)
            .collect();
        if joining.is_empty() {
            return chosen;
        }
        for index in joining {
            paths.extend(touched(&records[index]));
            chosen.insert(index);
        }
    }
}

/// The paths a record changed: its path, and the one a move took the file from.
fn touched(record: &FileChangeRecord) -> Vec<String> {
    let mut paths = vec![record.path.clone()];
    paths.extend(record.from.clone());
    paths
}

/// One path's side of a record: a move is the old path going from the content to nothing and
/// the new path from nothing to the content.
fn sides(record: &FileChangeRecord) -> Vec<(String, Content, Content)> {
    match &record.from {
        Some(from) => vec![
            (from.clone(), record.before.clone(), Content::Absent),
            (record.path.clone(), Content::Absent, record.after.clone()),
        ],
        None => vec![(record.path.clone(), record.before.clone(), record.after.clone())],
    }
}

/// What restoring one path means: the content to put back (before the earliest chosen change)
/// and the content it must hold now (after the plan's latest change of it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Restore {
    target: Content,
    expected: Content,
}

fn plan_paths(records: &[FileChangeRecord], chosen: &BTreeSet<usize>) -> BTreeMap<String, Restore> {
    // Records are oldest first: the first chosen side of a path has its target.
    let mut restores: BTreeMap<String, (Restore, Timestamp)> = BTreeMap::new();
    for &index in chosen {
        for (path, before, after) in sides(&records[index]) {
            restores.entry(path).or_insert((Restore { target: before, expected: after }, records[index].last_at));
        }
    }
    // What a path must hold now: what the plan's last write of it left (by when it was made).
    for record in records {
        for (path, _, after) in sides(record) {
            if let Some((restore, latest)) = restores.get_mut(&path)
                && record.last_at >= *latest
            {
                restore.expected = after;
                *latest = record.last_at;
            }
        }
    }
    restores.into_iter().map(|(path, (restore, _))| (path, restore)).collect()
}

/// Puts `restore.target` back at `path` if it still holds `restore.expected`; `Err` is why not.
async fn restore_path(
    writer: &WorkspaceWriter,
    context: WriteContext<'_>,
    path: &str,
    restore: &Restore,
) -> Result<(), String> {
    let (target, expected) = match (&restore.target, &restore.expected) {
        (Content::NotKept(reason), _) | (_, Content::NotKept(reason)) => {
            return Err(format!("cannot be restored: its content was {reason}"));
        }
        (target, expected) => (target.text(), expected.text()),
    };
    let inside = context.workspace.resolve_for_write(path).map_err(|error| error.to_string())?;
    let now = writer.read(context, &inside).await.map_err(|error| error.to_string())?;
    let now = now.as_ref().map(|read| read.text.as_str());
    if now == target {
        return Ok(());
    }
    if now != expected {
        return Err(changed_since(expected, now));
    }
    match target {
        None => delete(writer, context, &inside, expected).await,
        Some(target) => {
            let transform = |current: Current<'_>| {
                if current.text == expected {
                    Ok(target.to_owned())
                } else {
                    Err(changed_since(expected, current.text))
                }
            };
            match writer.modify(context, &inside, transform).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(conflict)) => Err(conflict),
                Err(error) => Err(error.to_string()),
            }
        }
    }
}

async fn delete(
    writer: &WorkspaceWriter,
    context: WriteContext<'_>,
    inside: &InsidePath,
    expected: Option<&str>,
) -> Result<(), String> {
    // Checked again right before the delete: the person may have typed meanwhile.
    let now = writer.read(context, inside).await.map_err(|error| error.to_string())?;
    let now = now.as_ref().map(|read| read.text.as_str());
    if now != expected {
        return Err(changed_since(expected, now));
    }
    writer.delete(context, inside).await.map_err(|error| error.to_string())
}

fn changed_since(expected: Option<&str>, now: Option<&str>) -> String {
    match (expected, now) {
        (Some(_), None) => "deleted since the agent wrote it".to_owned(),
        (None, Some(_)) => "exists again since the agent removed it".to_owned(),
        _ => "changed since the agent wrote it".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(subtask: &str, path: &str, before: Option<&str>, after: Option<&str>, at: i64) -> FileChangeRecord {
        let content = |text: Option<&str>| text.map_or(Content::Absent, |text| Content::Text(text.to_owned()));
        FileChangeRecord {
            subtask_id: SubtaskId::from_raw(subtask),
            attempt: 1,
            path: path.to_owned(),
            from: None,
            before: content(before),
            after: content(after),
            added: 0,
            removed: 0,
            first_at: Timestamp::from_millis(at),
            last_at: Timestamp::from_millis(at),
            rolled_back_at: None,
        }
    }

    #[test]
    fn a_step_takes_every_later_change_of_its_files_and_nothing_else() {
        let records = vec![
            record("s1", "a.txt", Some("a0"), Some("a1"), 1),
            record("s2", "a.txt", Some("a1"), Some("a2"), 2),
            record("s2", "b.txt", Some("b0"), Some("b1"), 3),
            record("s3", "c.txt", None, Some("c1"), 4),
        ];
        let step = |id: &str| choose(&records, Some(&SubtaskId::from_raw(id)));
        assert_eq!(step("s1"), BTreeSet::from([0, 1]), "s2's later change of a.txt comes along, b.txt does not");
        assert_eq!(step("s2"), BTreeSet::from([1, 2]));
        assert_eq!(choose(&records, None).len(), 4);
        let restores = plan_paths(&records, &step("s1"));
        assert_eq!(
            restores,
            BTreeMap::from([(
                "a.txt".to_owned(),
                Restore { target: Content::Text("a0".into()), expected: Content::Text("a2".into()) }
            )])
        );
        let second = plan_paths(&records, &step("s2"));
        assert_eq!(second["a.txt"].target, Content::Text("a1".into()));
        assert_eq!(second["b.txt"].expected, Content::Text("b1".into()));
    }

    #[test]
    fn a_move_restores_the_old_path_and_removes_the_new_one() {
        let mut moved = record("s1", "new.txt", Some("text"), Some("text"), 1);
        moved.from = Some("old.txt".into());
        let restores = plan_paths(std::slice::from_ref(&moved), &BTreeSet::from([0]));
        assert_eq!(restores["old.txt"], Restore { target: Content::Text("text".into()), expected: Content::Absent });
        assert_eq!(restores["new.txt"], Restore { target: Content::Absent, expected: Content::Text("text".into()) });
    }
}
