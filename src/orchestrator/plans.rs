//! Plan operations of the actor that do not run anything: create (classify → FSM → plan →
//! store), update, delete, approve, reject and revise. Each commits the plan change and the
//! session transitions it causes in one transaction.

use super::actor::Actor;
use super::errors::{invalid_state, refused};
use super::prepare::{PreparedCreate, PreparedRevise};
use super::session::SessionWalk;
use super::{Created, OrchestratorError, SessionView, TaskContext, UpdateRequest, invalid_param};
use crate::fsm::{SessionEvent, SessionState};
use crate::model::validate::{build_subtasks, validate_title};
use crate::model::{AgentKind, Classification, Plan, PlanId, PlanStatus, SessionId, Subtask, SubtaskId, Timestamp};
use crate::planner;
use crate::store::{PlanEvent, PlanHeader, WriteOp};

/// Longest client-chosen session id.
const SESSION_ID_MAX_CHARS: usize = 128;

impl Actor {
    /// Commits a prepared `create`: the plan, and the session's walk through the FSM (with
    /// `classify_error` / `planning_failed` → `requires_replanning` when the model failed), in
    /// one transaction. Short: the slow part ran in `prepare.rs`, off the actor.
    pub(super) async fn commit_create(&mut self, prepared: PreparedCreate) -> Result<Created, OrchestratorError> {
        let session_id = match prepared.session_id.clone() {
            Some(id) => checked_session_id(id)?,
            None => SessionId::generate(),
        };
        let now = Timestamp::now();
        let title = prepared.title.clone().unwrap_or_else(|| planner::plan_title(&prepared.goal));
        let classification = prepared.classification.clone();
        let mut plan = Plan::new_draft(session_id.clone(), title, prepared.goal, prepared.subtasks, now);
        plan.classification = Some(classification.clone());
        plan.source_file = prepared.source_file;
        plan.planner = prepared.planner;
        plan.planner_note = prepared.planner_note;
        plan.planning_usage = prepared.usage;

        let mut session = self.load_session(&session_id, now).await?;
        let mut ops = self.close_previous_interaction(&mut session, now).await?;
        session.about(&plan.id);
        ops.push(WriteOp::InsertPlan(plan.clone()));
        ops.push(WriteOp::AppendEvent(event(&plan, now, "created", None, Some(PlanStatus::Draft))));
        let mut fsm = |event: SessionEvent, detail: Option<String>| {
            session.fire(event, detail).map(|_| ()).map_err(|error| OrchestratorError::Internal(error.to_string()))
        };
        fsm(SessionEvent::ReceiveMessage, None)?;
        if let Some(why) = prepared.trouble.classify_error {
            fsm(SessionEvent::ClassifyError, Some(why))?;
            fsm(SessionEvent::ReceiveMessage, Some("classified by keywords".to_owned()))?;
        }
        if classification.is_atomic() {
            fsm(SessionEvent::IsAtomicTrue, None)?;
        } else {
            fsm(SessionEvent::IsAtomicFalse, None)?;
            fsm(SessionEvent::RouteToArchitect, None)?;
            if let Some(why) = prepared.trouble.planning_failed {
                fsm(SessionEvent::PlanningFailed, Some(why))?;
                fsm(SessionEvent::RequiresReplanning, Some("template planner".to_owned()))?;
            }
            fsm(SessionEvent::PlanCreated, None)?;
        }
        let view = SessionView { id: session.id.clone(), state: session.state };
        ops.extend(session.into_ops());
        self.repository.commit(ops).await?;
        Ok(Created { plan, session: view, warnings: Vec::new() })
    }

    /// The session's stored state, or a new `idle` session.
    async fn load_session(&self, session_id: &SessionId, now: Timestamp) -> Result<SessionWalk, OrchestratorError> {
        let lookup = session_id.clone();
        let record = self.repository.call(move |store| store.get_session(&lookup)).await?;
        let state = record.map(|record| record.state).unwrap_or(SessionState::Idle);
        Ok(SessionWalk::new(session_id.clone(), state, now))
    }

    /// A new task ends whatever the session was doing. A plan still in review is rejected
    /// explicitly (plan and FSM); any other state is reset to `idle` (a running plan keeps
    /// running). Returns the writes for the plan rejected, if any.
    async fn close_previous_interaction(
        &mut self,
        session: &mut SessionWalk,
        now: Timestamp,
    ) -> Result<Vec<WriteOp>, OrchestratorError> {
        let mut ops = Vec::new();
        if session.state == SessionState::PlanReview
            && let Some(mut draft) = self.plan_in_review(&session.id).await?
        {
            let previous = draft.status;
            let feedback = "superseded by a new task".to_owned();
            if draft.reject(now, Some(feedback.clone())).is_ok() {
                ops = status_change(&draft, previous, now, "rejected", Some(feedback));
            }
            session.about(&draft.id);
            session.fire_if_legal(SessionEvent::PlanRejected);
        }
        session.reset_unless_idle();
        Ok(ops)
    }

    /// `reset`, valid from every state: a plan in review is rejected, the session's runs in this
    /// process are cancelled, and the session returns to `idle` (logged).
    pub(super) async fn reset_session(
        &mut self,
        session_id: SessionId,
    ) -> Result<(SessionView, Vec<tokio::sync::oneshot::Receiver<PlanStatus>>), OrchestratorError> {
        let lookup = session_id.clone();
        let record = self.repository.call(move |store| store.get_session(&lookup)).await?;
        let Some(record) = record else { return Err(OrchestratorError::SessionNotFound(session_id)) };
        let now = Timestamp::now();
        let mut session = SessionWalk::new(session_id, record.state, now);
        let stopping = self.stop_runs_of_session(&session.id, "the session was reset");
        let mut ops = self.close_previous_interaction(&mut session, now).await?;
        let view = SessionView { id: session.id.clone(), state: session.state };
        ops.extend(session.into_ops());
        if !ops.is_empty() {
            self.repository.commit(ops).await?;
        }
        Ok((view, stopping))
    }

    /// The newest draft plan of the session (the one its `plan_review` state is about).
    async fn plan_in_review(&self, session_id: &SessionId) -> Result<Option<Plan>, OrchestratorError> {
        let query = crate::store::ListQuery {
            session_id: Some(session_id.clone()),
            status: Some(PlanStatus::Draft),
            limit: 1,
            cursor: None,
        };
        let page = self.repository.call(move |store| store.list_plans(&query)).await?;
        match page.plans.into_iter().next() {
            Some(summary) => Ok(self.repository.get_plan(summary.id).await?),
            None => Ok(None),
        }
    }

    pub(super) async fn load_plan(&self, plan_id: &PlanId) -> Result<Plan, OrchestratorError> {
        self.repository.get_plan(plan_id.clone()).await?.ok_or_else(|| OrchestratorError::PlanNotFound(plan_id.clone()))
    }

    pub(super) async fn update(&mut self, request: UpdateRequest) -> Result<Plan, OrchestratorError> {
        let plan_id = request.plan_id.clone().ok_or_else(|| invalid_param("planId", "missing field"))?;
        let mut plan = self.load_plan(&plan_id).await?;
        if request.version != plan.version {
            return Err(OrchestratorError::StaleVersion {
                plan: plan_id,
                expected: request.version,
                actual: plan.version,
            });
        }
        plan.ensure_editable().map_err(|error| refused(&plan, error))?;
        let title = match &request.title {
            Some(title) => Some(validate_title(title, "title").map_err(OrchestratorError::InvalidParams)?),
            None => None,
        };
        let subtasks = match request.subtasks {
            Some(mut drafts) => {
                super::keep::keep_omitted_fields(&mut drafts, &request.omitted, &plan.subtasks);
                Some(build_subtasks(&drafts, "subtasks")?)
            }
            None => None,
        };
        let now = Timestamp::now();
        let expected_version = plan.version;
        plan.edit(now, title, subtasks).map_err(|error| refused(&plan, error))?;
        let detail = format!("version {}", plan.version);
        let ops = vec![
            WriteOp::ReplaceContent { plan: plan.clone(), expected_version, reason: "update".to_owned() },
            WriteOp::AppendEvent(PlanEvent { detail: Some(detail), ..event(&plan, now, "edited", None, None) }),
        ];
        self.repository.commit(ops).await?;
        Ok(plan)
    }

    pub(super) async fn delete(&mut self, plan_id: PlanId) -> Result<bool, OrchestratorError> {
        let plan = self.load_plan(&plan_id).await?;
        if plan.status == PlanStatus::Running {
            return Err(invalid_state(
                &plan,
                format!("cannot delete plan {plan_id} while it is running; cancel it first"),
            ));
        }
        self.repository.commit(vec![WriteOp::DeletePlan(plan_id)]).await?;
        Ok(true)
    }

    pub(super) async fn approve(&mut self, plan_id: PlanId) -> Result<Plan, OrchestratorError> {
        let mut plan = self.load_plan(&plan_id).await?;
        let previous = plan.status;
        let now = Timestamp::now();
        plan.approve(now).map_err(|error| refused(&plan, error))?;
        let mut ops = status_change(&plan, previous, now, "approved", None);
        let mut session = self.load_session(&plan.session_id, now).await?;
        if session.state == SessionState::PlanReview {
            session.about(&plan.id).fire_if_legal(SessionEvent::PlanApproved);
        }
        ops.extend(session.into_ops());
        self.repository.commit(ops).await?;
        Ok(plan)
    }

    pub(super) async fn reject(
        &mut self,
        plan_id: PlanId,
        feedback: Option<String>,
    ) -> Result<Plan, OrchestratorError> {
        let mut plan = self.load_plan(&plan_id).await?;
        let previous = plan.status;
        let now = Timestamp::now();
        plan.reject(now, feedback.clone()).map_err(|error| refused(&plan, error))?;
        let mut ops = status_change(&plan, previous, now, "rejected", feedback);
        let mut session = self.load_session(&plan.session_id, now).await?;
        if session.state == SessionState::PlanReview {
            session.about(&plan.id).fire_if_legal(SessionEvent::PlanRejected);
        }
        ops.extend(session.into_ops());
        self.repository.commit(ops).await?;
        Ok(plan)
    }

    /// Commits a prepared revision: `version` + 1 (refused when the plan was edited since it was
    /// prepared), the old version kept in the history; the session goes plan_review →
    /// architect_planning (→ error_handling → architect_planning when the model failed) → plan_review.
    pub(super) async fn commit_revise(&mut self, prepared: PreparedRevise) -> Result<Plan, OrchestratorError> {
        let mut plan = self.load_plan(&prepared.plan_id).await?;
        if plan.version != prepared.expected_version {
            return Err(OrchestratorError::StaleVersion {
                plan: plan.id.clone(),
                expected: prepared.expected_version,
                actual: plan.version,
            });
        }
        plan.ensure_editable().map_err(|error| refused(&plan, error))?;
        let feedback = prepared.feedback;
        let now = Timestamp::now();
        let expected_version = plan.version;
        plan.edit(now, None, Some(prepared.subtasks)).map_err(|error| refused(&plan, error))?;
        plan.feedback = Some(if prepared.unapplied.is_empty() {
            feedback.clone()
        } else {
            format!("{feedback} — not applied: {}", prepared.unapplied.join("; "))
        });
        plan.planner = prepared.planner;
        plan.planner_note = prepared.planner_note;
        plan.planning_usage.add(prepared.usage);
        let mut ops = vec![
            WriteOp::ReplaceContent { plan: plan.clone(), expected_version, reason: format!("revise: {feedback}") },
            WriteOp::UpdateHeader(PlanHeader::of(&plan)),
            WriteOp::AppendEvent(PlanEvent {
                detail: Some(format!("version {}: {feedback}", plan.version)),
                ..event(&plan, now, "revised", None, None)
            }),
        ];
        let mut session = self.load_session(&plan.session_id, now).await?;
        if session.state == SessionState::PlanReview {
            session.about(&plan.id);
            session.fire_if_legal(SessionEvent::PlanModificationRequested);
            if let Some(why) = prepared.trouble.planning_failed {
                let _ = session.fire(SessionEvent::PlanningFailed, Some(why));
                session.fire_if_legal(SessionEvent::RequiresReplanning);
            }
            session.fire_if_legal(SessionEvent::PlanCreated);
        }
        ops.extend(session.into_ops());
        self.repository.commit(ops).await?;
        Ok(plan)
    }
}

/// A plan event row for `plan`.
pub(super) fn event(
    plan: &Plan,
    now: Timestamp,
    kind: &str,
    from: Option<PlanStatus>,
    to: Option<PlanStatus>,
) -> PlanEvent {
    PlanEvent {
        plan_id: plan.id.clone(),
        at: now,
        run_id: plan.run_id.clone(),
        subtask_id: None,
        kind: kind.to_owned(),
        from_status: from.map(|status| status.as_str().to_owned()),
        to_status: to.map(|status| status.as_str().to_owned()),
        detail: None,
    }
}

/// A conditional header write (the status must still be `previous`) and its event.
pub(super) fn status_change(
    plan: &Plan,
    previous: PlanStatus,
    now: Timestamp,
    kind: &str,
    detail: Option<String>,
) -> Vec<WriteOp> {
    vec![
        WriteOp::ClaimHeader { header: PlanHeader::of(plan), expected: vec![previous] },
        WriteOp::AppendEvent(PlanEvent { detail, ..event(plan, now, kind, Some(previous), Some(plan.status)) }),
    ]
}

pub(super) fn checked_session_id(id: SessionId) -> Result<SessionId, OrchestratorError> {
    let length = id.as_str().chars().count();
    if length == 0 || length > SESSION_ID_MAX_CHARS || id.as_str().chars().any(char::is_control) {
        return Err(invalid_param("sessionId", format!("must be 1 to {SESSION_ID_MAX_CHARS} printable characters")));
    }
    Ok(id)
}

/// The one subtask of an atomic task, for the routed agent.
pub(super) fn atomic_subtask(goal: &str, classification: &Classification) -> Subtask {
    let agent = AgentKind::for_route(classification.agent()).unwrap_or(AgentKind::Coder);
    let mut subtask = Subtask::new(SubtaskId::from_raw("s1"), planner::plan_title(goal), agent);
    subtask.description = goal.to_owned();
    subtask
}

/// The request's notes, with the files it names.
pub(super) fn notes_of(context: &TaskContext) -> Option<String> {
    let mut notes = context.notes.clone().unwrap_or_default();
    if !context.files.is_empty() {
        if !notes.is_empty() {
            notes.push('\n');
        }
        notes.push_str(&format!("Files: {}", context.files.join(", ")));
    }
    (!notes.trim().is_empty()).then_some(notes)
}
