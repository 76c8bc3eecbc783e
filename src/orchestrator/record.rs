//! Use cases over agent work on the record: an attempt's transcript, a plan's file changes as
//! unified diffs, and the answer to a question an agent waits on (`planning/answer`).
//!
//! Reads go straight to the store; an answer goes to the live run's driver, which takes it
//! through the run's question desk (the first answer wins) and commits it before replying.
//! Rollback is `rollback.rs`.

use super::actor::{Actor, Command};
use super::errors::invalid_state;
use super::{Orchestrator, OrchestratorError, invalid_param};
use crate::diff::{DiffSides, unified_diff};
use crate::engine::{AnswerRefused, ApprovalReply, RunControls};
use crate::model::record::{Content, FileChangeKind, FileChangeRecord, Transcript};
use crate::model::{Answer, Plan, PlanId, PlanStatus, SubtaskId};

/// Lines of one file's diff shown at most.
pub const MAX_DIFF_LINES: usize = 2_000;

/// One file an attempt changed, as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub subtask_id: SubtaskId,
    pub attempt: u32,
    pub path: String,
    pub from: Option<String>,
    pub kind: FileChangeKind,
    /// A unified diff, or why there is none.
    pub diff: String,
    pub added: u64,
    pub removed: u64,
    pub rolled_back: bool,
}

/// An answer to a question an agent waits on.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    pub plan_id: PlanId,
    pub subtask_id: SubtaskId,
    /// Which question (a step's agent may ask several in turn).
    pub request_id: String,
    pub answer: Answer,
}

impl Orchestrator {
    /// One attempt's transcript (the last one that has a transcript when `attempt` is `None`).
    pub async fn transcript(
        &self,
        plan_id: PlanId,
        subtask_id: SubtaskId,
        attempt: Option<u32>,
    ) -> Result<Transcript, OrchestratorError> {
        let plan = self.get(plan_id.clone()).await?;
        known_subtask(&plan, &subtask_id)?;
        Ok(self.repository.call(move |store| store.transcript(&plan_id, &subtask_id, attempt)).await?)
    }

    /// The plan's file changes (one subtask's when given), oldest first, as unified diffs.
    pub async fn changes(
        &self,
        plan_id: PlanId,
        subtask_id: Option<SubtaskId>,
    ) -> Result<Vec<FileDiff>, OrchestratorError> {
        let plan = self.get(plan_id.clone()).await?;
        if let Some(subtask_id) = &subtask_id {
            known_subtask(&plan, subtask_id)?;
        }
        let records = self.repository.call(move |store| store.file_changes(&plan_id, subtask_id.as_ref())).await?;
        let diffs = tokio::task::spawn_blocking(move || records.iter().map(file_diff).collect())
            .await
            .map_err(|error| OrchestratorError::Internal(format!("diffing failed: {error}")))?;
        Ok(diffs)
    }

    /// Answers the question a subtask's agent waits on, from any face. The first answer wins:
    /// the question is then withdrawn everywhere else (the editor's message is no longer waited
    /// for), and a later answer is refused.
    pub async fn answer(&self, request: AnswerRequest) -> Result<(), OrchestratorError> {
        let plan_id = request.plan_id.clone();
        let live = self.ask(|reply| Command::LiveRun(plan_id.clone(), reply)).await??;
        let plan = self.get(plan_id).await?;
        known_subtask(&plan, &request.subtask_id)?;
        let Some(controls) = live else {
            return Err(not_waiting_here(&plan, &request));
        };
        let reply = ApprovalReply {
            subtask_id: request.subtask_id.clone(),
            request_id: request.request_id.clone(),
            answer: request.answer,
        };
        controls.answer(reply).await.map_err(|refused| match refused {
            AnswerRefused::UnknownSubtask(subtask) => {
                invalid_param("subtaskId", format!("unknown subtask \"{subtask}\""))
            }
            AnswerRefused::OtherSubtask { .. } => invalid_param("requestId", refused.to_string()),
            AnswerRefused::Storage(message) => OrchestratorError::Internal(message),
            AnswerRefused::NotOpen(_) | AnswerRefused::RunStopping => invalid_state(
                &plan,
                format!(
                    "subtask {} of plan {} has no question {} waiting for an answer (it was answered already, or the step moved on)",
                    request.subtask_id, plan.id, request.request_id
                ),
            ),
        })
    }
}

impl Actor {
    /// The controls of the plan's run in this process, if it runs here.
    pub(super) fn live_run(&self, plan_id: &PlanId) -> Option<RunControls> {
        self.runs.get(plan_id).map(|run| run.controls.clone())
    }
}

fn known_subtask(plan: &Plan, subtask_id: &SubtaskId) -> Result<(), OrchestratorError> {
    match plan.subtask(subtask_id) {
        Some(_) => Ok(()),
        None => Err(invalid_param("subtaskId", format!("unknown subtask \"{subtask_id}\""))),
    }
}

/// Why an answer cannot be taken when the plan has no run in this process.
fn not_waiting_here(plan: &Plan, request: &AnswerRequest) -> OrchestratorError {
    let asked = plan
        .subtask(&request.subtask_id)
        .and_then(|subtask| subtask.pending_approval.as_ref())
        .is_some_and(|pending| pending.request_id == request.request_id);
    let message = if asked && plan.status == PlanStatus::Running {
        format!(
            "plan {} runs in another codelab-planner process; answer its question there (in the editor that runs it)",
            plan.id
        )
    } else {
        format!(
            "subtask {} of plan {} has no question {} waiting for an answer",
            request.subtask_id, plan.id, request.request_id
        )
    };
    invalid_state(plan, message)
}

/// A record as a person reads it: its unified diff, or why it has none.
pub fn file_diff(record: &FileChangeRecord) -> FileDiff {
    let kind = record.kind();
    let missing = [&record.before, &record.after].into_iter().find_map(|side| match side {
        Content::NotKept(reason) => Some(reason.clone()),
        _ => None,
    });
    let diff = match missing {
        Some(reason) => format!("(no diff: the content was {reason})\n"),
        None => unified_diff(
            DiffSides {
                before_path: record.from.as_deref().unwrap_or(&record.path),
                after_path: &record.path,
                before: record.before.text(),
                after: record.after.text(),
            },
            MAX_DIFF_LINES,
        ),
    };
    FileDiff {
        subtask_id: record.subtask_id.clone(),
        attempt: record.attempt,
        path: record.path.clone(),
        from: record.from.clone(),
        kind,
        diff,
        added: record.added,
        removed: record.removed,
        rolled_back: record.rolled_back_at.is_some(),
    }
}
