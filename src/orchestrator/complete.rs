//! `complete`: a person's answer to a `waiting` step (`planning/complete`).
//!
//! A step waits either in a live run of this process — then the answer goes to the run's driver,
//! which commits it and lets the step's dependents run — or in a stored plan that has no run any
//! more (the server stopped while the step waited: the plan is `interrupted`, the step still
//! `waiting`) — then the answer is committed here and `planning/retry` resumes the plan.
//! This module does not start runs.

use super::OrchestratorError;
use super::actor::Actor;
use super::errors::{invalid_state, refused};
use super::invalid_param;
use super::plans::event;
use crate::engine::{CompleteError, Completion, RunControls};
use crate::model::{Plan, PlanId, PlanStatus, SubtaskStatus, Timestamp};
use crate::store::{PlanEvent, PlanHeader, WriteOp};

/// `planning/complete` in domain terms.
#[derive(Debug, Clone)]
pub struct CompleteRequest {
    pub plan_id: PlanId,
    pub completion: Completion,
}

/// Where the actor found the waiting step.
pub(super) enum CompleteRoute {
    /// In a live run: the caller hands the completion to the run and waits for its commit.
    Live(RunControls),
    /// In a stored plan with no run: already committed.
    Stored(Box<Plan>),
}

impl Actor {
    pub(super) async fn complete(&mut self, request: &CompleteRequest) -> Result<CompleteRoute, OrchestratorError> {
        if let Some(run) = self.runs.get(&request.plan_id) {
            return Ok(CompleteRoute::Live(run.controls.clone()));
        }
        let mut plan = self.load_plan(&request.plan_id).await?;
        if plan.status == PlanStatus::Running {
            return Err(invalid_state(
                &plan,
                format!("plan {} is running in another codelab-planner process; complete the step there", plan.id),
            ));
        }
        let completion = &request.completion;
        let Some(subtask) = plan.subtask_mut(&completion.subtask_id) else {
            return Err(invalid_param("subtaskId", format!("unknown subtask \"{}\"", completion.subtask_id)));
        };
        let now = Timestamp::now();
        let outcome = subtask.finish_waiting(now, completion.done, completion.note.clone());
        let (finished, status) = (subtask.clone(), subtask.status);
        outcome.map_err(|error| refused(&plan, error))?;
        plan.updated_at = now;
        let ops = vec![
            WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: vec![finished] },
            WriteOp::ClaimHeader { header: PlanHeader::of(&plan), expected: vec![plan.status] },
            WriteOp::AppendEvent(PlanEvent {
                subtask_id: Some(completion.subtask_id.clone()),
                from_status: Some(SubtaskStatus::Waiting.as_str().to_owned()),
                to_status: Some(status.as_str().to_owned()),
                detail: Some("completed by hand while the plan had no run".to_owned()),
                ..event(&plan, now, "subtaskCompleted", None, None)
            }),
        ];
        self.repository.commit(ops).await?;
        Ok(CompleteRoute::Stored(Box::new(plan)))
    }
}

/// An answer to a question an agent asked (`planning/answer`): a tool call waiting for approval.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    pub plan_id: PlanId,
    pub subtask_id: crate::model::SubtaskId,
    /// Which question (a step's agent may ask several in turn).
    pub request_id: String,
    pub answer: crate::agents::approval::Answer,
}

impl super::Orchestrator {
    /// Answers an agent's pending approval from any face. The seam for questions recorded with the
    /// plan: today an agent asks only through the editor that runs it (`window/showMessageRequest`),
    /// so no question is ever pending here and the answer is refused, naming what was asked.
    pub async fn answer(&self, request: AnswerRequest) -> Result<(), OrchestratorError> {
        let plan = self.get(request.plan_id.clone()).await?;
        if plan.subtask(&request.subtask_id).is_none() {
            return Err(invalid_param("subtaskId", format!("unknown subtask \"{}\"", request.subtask_id)));
        }
        Err(invalid_state(
            &plan,
            format!(
                "subtask {} of plan {} has no question waiting for an answer (requestId {})",
                request.subtask_id, plan.id, request.request_id
            ),
        ))
    }
}

/// A live run's refusal as the orchestrator's error, for `plan` as it is stored now.
pub(super) fn complete_error(plan: &Plan, error: CompleteError) -> OrchestratorError {
    match error {
        CompleteError::UnknownSubtask(subtask) => invalid_param("subtaskId", format!("unknown subtask \"{subtask}\"")),
        CompleteError::NotWaiting { .. } | CompleteError::RunStopping => invalid_state(plan, error.to_string()),
        CompleteError::Storage(message) => OrchestratorError::Internal(message),
    }
}
