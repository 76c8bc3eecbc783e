//! One ACP session's turns: a prompt is planned (`create`: classified, planned by the model or the
//! template), shown as plan entries, and run (`approve_and_execute`); the run's events become
//! `session/update`s as they come — entries going `pending` → `in_progress` → `completed`, agents'
//! tool calls, a step that waits for the person — and the turn ends with `end_turn` when the run
//! finishes, or when all that is left waits for the person (the run goes on; its updates keep
//! coming), or with `cancelled` after `session/cancel`.

use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{PromptResponse, SessionNotification, SessionUpdate, StopReason};
use agent_client_protocol::{Client, Responder, V1};

use super::present;
use crate::engine::{ActivityPhase, RunEventKind};
use crate::model::{Plan, PlanStatus, SubtaskId, SubtaskStatus};
use crate::orchestrator::RunStarted;

/// What a turn's run reports to.
pub struct Turn {
    pub connection: ConnectionTo<Client>,
    pub session: String,
    /// Answered when the turn ends; `None` for a run followed without a prompt (load, retry).
    pub responder: Option<Responder<PromptResponse, V1>>,
    /// Set by `session/cancel`: the turn ends `cancelled`.
    pub cancelled: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Turn {
    pub fn send(&self, update: SessionUpdate) {
        if let Err(error) = self.connection.send_notification(SessionNotification::new(self.session.clone(), update)) {
            tracing::debug!(%error, "a session update could not be sent");
        }
    }

    /// Answers the prompt (once; later calls do nothing).
    pub fn end(&mut self, reason: StopReason) {
        if let Some(responder) = self.responder.take()
            && let Err(error) = responder.respond(PromptResponse::new(reason))
        {
            tracing::debug!(%error, "the prompt's answer could not be sent");
        }
    }
}

/// Shows `run` until its one `planFinished` (see the module doc).
pub async fn show_run(plan: Plan, run: RunStarted, mut turn: Turn) {
    let RunStarted { mut events, .. } = run;
    let mut statuses: Vec<(SubtaskId, SubtaskStatus)> =
        plan.subtasks.iter().map(|subtask| (subtask.id.clone(), subtask.status)).collect();
    let mut calls = 0_u64;
    let mut call_id = String::new();
    while let Some(event) = events.recv().await {
        match event.kind {
            RunEventKind::SubtaskStarted { subtask_id, .. } => {
                set(&mut statuses, &subtask_id, SubtaskStatus::Running);
                turn.send(present::plan_update(&plan, &statuses));
            }
            RunEventKind::SubtaskWaiting { subtask_id, message, .. } => {
                set(&mut statuses, &subtask_id, SubtaskStatus::Waiting);
                turn.send(present::plan_update(&plan, &statuses));
                turn.send(present::message(format!(
                    "{message} (step {subtask_id}: finish it with _codelab/complete)\n"
                )));
            }
            RunEventKind::SubtaskFinished { subtask_id, status, error, title, .. } => {
                set(&mut statuses, &subtask_id, status);
                turn.send(present::plan_update(&plan, &statuses));
                if let (SubtaskStatus::Failed, Some(error)) = (status, error) {
                    turn.send(present::message(format!("{title} failed: {error}\n")));
                }
            }
            RunEventKind::AgentActivity { subtask_id, activity } => {
                if activity.phase == ActivityPhase::ToolStarted {
                    calls += 1;
                    call_id = format!("{}-{subtask_id}-{calls}", plan.id);
                }
                if let Some(update) = present::tool_update(&call_id, &activity) {
                    turn.send(update);
                }
            }
            RunEventKind::PlanFinished { status, .. } => {
                let progress = event.progress;
                turn.send(present::message(format!(
                    "{}: {} ({}/{} steps done)\n",
                    plan.title,
                    status.as_str(),
                    progress.done,
                    progress.total
                )));
                let cancelled = turn.cancelled.load(std::sync::atomic::Ordering::SeqCst);
                turn.end(if cancelled || status == PlanStatus::Cancelled {
                    StopReason::Cancelled
                } else {
                    StopReason::EndTurn
                });
                return;
            }
            // Questions reach the person through the bridge (`session/request_permission`).
            RunEventKind::ApprovalRequested { .. }
            | RunEventKind::ApprovalAnswered { .. }
            | RunEventKind::PlanStarted { .. }
            | RunEventKind::SubtaskOutput { .. }
            | RunEventKind::SubtaskRetrying { .. }
            | RunEventKind::StorageRetrying { .. } => {}
        }
        // All that is left waits for the person: the turn is theirs (the run goes on).
        if event.progress.running == 0 && event.progress.waiting > 0 && turn.responder.is_some() {
            turn.send(present::message(format!(
                "waiting for you; finish a step with _codelab/complete (plan {})\n",
                plan.id
            )));
            turn.end(StopReason::EndTurn);
        }
    }
    // The events ended without `planFinished` (the server is stopping).
    turn.end(StopReason::EndTurn);
}

fn set(statuses: &mut [(SubtaskId, SubtaskStatus)], id: &SubtaskId, status: SubtaskStatus) {
    if let Some(entry) = statuses.iter_mut().find(|(known, _)| known == id) {
        entry.1 = status;
    }
}
