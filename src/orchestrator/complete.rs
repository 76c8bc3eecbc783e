//! `complete`: a step finished by hand (`planning/complete`, `codelab-planner complete`, an outside
//! agent's `step_complete`).
//!
//! - A `waiting` step of a live run of this process: the answer goes to the run's driver, which
//!   commits it and lets the step's dependents run.
//! - A `waiting` step of a stored plan that has no run any more (the server stopped while the step
//!   waited: the plan is `interrupted`): committed here; `planning/retry` resumes the plan.
//! - A ready step of an `approved` plan that no run drives (`model::hand`): committed here — done,
//!   its dependents become ready; failed, its dependents are skipped — and when every step is
//!   finished the plan ends `completed` or `failed`. An outside agent works through a plan so.
//!
//! A claimant completing a step another claimant holds is refused; a person (no claimant) may. The
//! step's claim ends with it. Stored plans change in one transaction that reads them first
//! (`Store::modify_plan`), so concurrent completions in two processes never lose a step or the
//! plan's end. This module does not start runs.

use super::OrchestratorError;
use super::actor::Actor;
use super::errors::{invalid_state, refused};
use super::invalid_param;
use super::next::live_claim;
use super::plans::event;
use super::ticks::Ticker;
use crate::engine::{CompleteError, Completion, RunControls};
use crate::model::{Claim, Plan, PlanId, PlanStatus, SubtaskStatus, Timestamp};
use crate::store::{PlanEvent, PlanHeader, WriteOp};

/// `planning/complete` in domain terms.
#[derive(Debug, Clone)]
pub struct CompleteRequest {
    pub plan_id: PlanId,
    pub completion: Completion,
}

/// Where the actor found the step.
pub(super) enum CompleteRoute {
    /// In a live run: the caller hands the completion to the run and waits for its commit.
    Live(RunControls),
    /// In a stored plan with no run: already committed.
    Stored(Box<Plan>),
}

impl super::Orchestrator {
    /// A person's or an agent's answer for a step (see the module doc); returns the plan once the
    /// answer is committed (in a live run, its dependents may already be starting).
    pub async fn complete(&self, request: CompleteRequest) -> Result<Plan, OrchestratorError> {
        self.complete_as(request, None).await
    }

    /// [`Self::complete`] by `claimant` (an outside agent): refused when another claimant holds
    /// the step.
    pub async fn complete_as(
        &self,
        request: CompleteRequest,
        claimant: Option<String>,
    ) -> Result<Plan, OrchestratorError> {
        let plan_id = request.plan_id.clone();
        let completion = request.completion.clone();
        let asked = claimant.clone();
        match self.ask(|reply| super::actor::Command::Complete(request, asked, reply)).await?? {
            CompleteRoute::Stored(plan) => Ok(*plan),
            CompleteRoute::Live(controls) => {
                let lookup = plan_id.clone();
                let claims = self.repository.call(move |store| store.claims_of(&lookup)).await?;
                let subtask = completion.subtask_id.clone();
                if let Some(claim) = live_claim(&claims, &subtask, Timestamp::now()) {
                    refuse_other_claimant(&self.get(plan_id.clone()).await?, claim, claimant.as_deref())?;
                }
                match controls.complete(completion).await {
                    Ok(()) => {
                        let release = WriteOp::ReleaseClaims { plan_id: plan_id.clone(), subtask_ids: vec![subtask] };
                        if let Err(error) = self.repository.commit(vec![release]).await {
                            tracing::warn!(plan = %plan_id, %error, "cannot release the finished step's claim");
                        }
                        self.get(plan_id).await
                    }
                    Err(error) => Err(complete_error(&self.get(plan_id).await?, error)),
                }
            }
        }
    }
}

impl Actor {
    pub(super) async fn complete(
        &mut self,
        request: CompleteRequest,
        claimant: Option<String>,
    ) -> Result<CompleteRoute, OrchestratorError> {
        if let Some(run) = self.runs.get(&request.plan_id) {
            return Ok(CompleteRoute::Live(run.controls.clone()));
        }
        let now = Timestamp::now();
        let plan_id = request.plan_id.clone();
        let completion = request.completion;
        let completed = completion.subtask_id.clone();
        let finished = self
            .repository
            .call(move |store| {
                store.modify_plan(&plan_id, |plan, claims| finish_stored(plan, claims, &completion, claimant, now))
            })
            .await??;
        self.tick_in_source(&finished, completed);
        Ok(CompleteRoute::Stored(Box::new(finished)))
    }

    /// A step finished by hand on a plan nobody runs ticks in its task list too (in the
    /// background: the actor does no file I/O).
    fn tick_in_source(&self, plan: &Plan, completed: crate::model::SubtaskId) {
        let done = plan.subtasks.iter().any(|subtask| subtask.id == completed && subtask.status == SubtaskStatus::Done);
        if !done {
            return;
        }
        let editor = self.editor.as_ref().map(|editor| editor.0.clone());
        if let Some(ticker) = Ticker::for_plan(plan, &self.workspace_root, self.agent_state.writer().clone(), editor) {
            tokio::spawn(async move { ticker.tick(&completed).await });
        }
    }
}

/// The completion of a step of a stored plan nobody runs, and what to write for it.
fn finish_stored(
    plan: &Plan,
    claims: &[Claim],
    completion: &Completion,
    claimant: Option<String>,
    now: Timestamp,
) -> Result<(Plan, Vec<WriteOp>), OrchestratorError> {
    let mut plan = plan.clone();
    if plan.status == PlanStatus::Running {
        return Err(invalid_state(
            &plan,
            format!("plan {} is running in another codelab-planner process; complete the step there", plan.id),
        ));
    }
    let subtask_id = &completion.subtask_id;
    let Some(from) = plan.subtask(subtask_id).map(|subtask| subtask.status) else {
        return Err(invalid_param("subtaskId", format!("unknown subtask \"{subtask_id}\"")));
    };
    if let Some(claim) = live_claim(claims, subtask_id, now) {
        refuse_other_claimant(&plan, claim, claimant.as_deref())?;
    }
    let previous = plan.status;
    let (changed, detail) = if previous == PlanStatus::Approved {
        let changed = plan
            .finish_step_by_hand(now, subtask_id, completion.done, completion.note.clone())
            .map_err(|error| refused(&plan, error))?;
        (changed, "completed by hand in a plan no run drives")
    } else {
        let outcome = match plan.subtask_mut(subtask_id) {
            Some(subtask) => subtask.finish_waiting(now, completion.done, completion.note.clone()),
            None => return Err(invalid_param("subtaskId", format!("unknown subtask \"{subtask_id}\""))),
        };
        outcome.map_err(|error| refused(&plan, error))?;
        plan.updated_at = now;
        (vec![subtask_id.clone()], "completed by hand while the plan had no run")
    };
    let ended = plan.end_if_finished_by_hand(now);
    let mut ops = vec![
        WriteOp::UpdateSubtasks {
            plan_id: plan.id.clone(),
            subtasks: plan.subtasks.iter().filter(|subtask| changed.contains(&subtask.id)).cloned().collect(),
        },
        WriteOp::ClaimHeader { header: PlanHeader::of(&plan), expected: vec![previous] },
    ];
    for (index, id) in changed.iter().enumerate() {
        let Some(subtask) = plan.subtask(id) else { continue };
        let (kind, from, detail) = if index == 0 {
            ("subtaskCompleted", from, Some(detail.to_owned()))
        } else {
            ("subtaskSkipped", SubtaskStatus::Pending, subtask.error.clone())
        };
        ops.push(WriteOp::AppendEvent(PlanEvent {
            subtask_id: Some(id.clone()),
            from_status: Some(from.as_str().to_owned()),
            to_status: Some(subtask.status.as_str().to_owned()),
            detail,
            ..event(&plan, now, kind, None, None)
        }));
    }
    if let Some(status) = ended {
        ops.push(WriteOp::AppendEvent(event(&plan, now, "finishedByHand", Some(previous), Some(status))));
    }
    ops.push(WriteOp::ReleaseClaims { plan_id: plan.id.clone(), subtask_ids: vec![subtask_id.clone()] });
    Ok((plan, ops))
}

/// Refuses a claimant other than the one that holds the step; a person (no claimant) may.
fn refuse_other_claimant(plan: &Plan, claim: &Claim, claimant: Option<&str>) -> Result<(), OrchestratorError> {
    match claimant {
        Some(claimant) if claimant != claim.claimant => Err(invalid_state(
            plan,
            format!(
                "subtask {} is claimed by {} until {}",
                claim.subtask_id,
                claim.claimant,
                claim.expires_at.to_rfc3339()
            ),
        )),
        _ => Ok(()),
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
