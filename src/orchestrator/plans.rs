//! Plan operations of the actor that do not run anything: create (classify → FSM → plan →
//! store), update, delete, approve, reject and revise. Each commits the plan change and the
//! session transitions it causes in one transaction.

use super::actor::Actor;
use super::errors::{invalid_state, refused};
use super::session::SessionWalk;
use super::{CreateMode, CreateRequest, Created, OrchestratorError, SessionView, UpdateRequest, invalid_param};
use crate::classify::classify_keywords;
use crate::fsm::{SessionEvent, SessionState};
use crate::model::validate::{build_subtasks, validate_goal, validate_title};
use crate::model::{
    AgentKind, Classification, ClassifyMethod, Confidence, Plan, PlanId, PlanStatus, SessionId, Subtask, SubtaskId,
    Timestamp,
};
use crate::planner::{self, detect::detect_workspace};
use crate::store::{PlanEvent, PlanHeader, WriteOp};

/// Longest client-chosen session id.
const SESSION_ID_MAX_CHARS: usize = 128;

impl Actor {
    pub(super) async fn create(&mut self, request: CreateRequest) -> Result<Created, OrchestratorError> {
        let goal = validate_goal(&request.task, "task").map_err(OrchestratorError::InvalidParams)?;
        let title = match &request.title {
            Some(title) => Some(validate_title(title, "title").map_err(OrchestratorError::InvalidParams)?),
            None => None,
        };
        let session_id = match request.session_id.clone() {
            Some(id) => checked_session_id(id)?,
            None => SessionId::generate(),
        };
        let classification = classify_for_mode(&goal, request.mode, request.subtasks.is_some());
        let explicit = match &request.subtasks {
            Some(drafts) => Some(build_subtasks(drafts, "subtasks")?),
            None => None,
        };
        let now = Timestamp::now();
        let (subtasks, planned_title) = match explicit {
            Some(subtasks) => (subtasks, None),
            None if classification.is_atomic() => (vec![atomic_subtask(&goal, &classification)], None),
            None => {
                let notes = notes_of(&request);
                let facts = detect_workspace(&self.workspace_root);
                let draft = planner::plan_task(&goal, notes.as_deref(), &facts);
                (build_subtasks(&draft.subtasks, "subtasks")?, Some(draft.title))
            }
        };
        let title = title.or(planned_title).unwrap_or_else(|| planner::plan_title(&goal));
        let mut plan = Plan::new_draft(session_id.clone(), title, goal, subtasks, now);
        plan.classification = Some(classification.clone());
        plan.source_file = request.source_file.clone();

        let mut session = self.load_session(&session_id, now).await?;
        let mut ops = self.close_previous_interaction(&mut session, now).await?;
        session.about(&plan.id);
        ops.push(WriteOp::InsertPlan(plan.clone()));
        ops.push(WriteOp::AppendEvent(event(&plan, now, "created", None, Some(PlanStatus::Draft))));
        let mut fsm = |event: SessionEvent| {
            session.fire(event, None).map(|_| ()).map_err(|error| OrchestratorError::Internal(error.to_string()))
        };
        fsm(SessionEvent::ReceiveMessage)?;
        if classification.is_atomic() {
            fsm(SessionEvent::IsAtomicTrue)?;
        } else {
            fsm(SessionEvent::IsAtomicFalse)?;
            fsm(SessionEvent::RouteToArchitect)?;
            fsm(SessionEvent::PlanCreated)?;
        }
        let view = SessionView { id: session.id.clone(), state: session.state };
        ops.extend(session.into_ops());
        self.repository.commit(ops).await?;
        Ok(Created { plan, session: view })
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
        if session.state == SessionState::PlanReview {
            if let Some(mut draft) = self.plan_in_review(&session.id).await? {
                let previous = draft.status;
                let feedback = "superseded by a new task".to_owned();
                if draft.reject(now, Some(feedback.clone())).is_ok() {
                    ops = status_change(&draft, previous, now, "rejected", Some(feedback));
                }
                session.about(&draft.id);
                session.fire_if_legal(SessionEvent::PlanRejected);
            }
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
        let subtasks = match &request.subtasks {
            Some(drafts) => Some(build_subtasks(drafts, "subtasks")?),
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

    /// Re-plans a draft with the feedback (template mode): `version` + 1, the old version kept in
    /// the history; the session goes plan_review → architect_planning → plan_review.
    pub(super) async fn revise(&mut self, plan_id: PlanId, feedback: String) -> Result<Plan, OrchestratorError> {
        let feedback = feedback.trim().to_owned();
        if feedback.is_empty() {
            return Err(invalid_param("feedback", "must not be empty"));
        }
        let mut plan = self.load_plan(&plan_id).await?;
        plan.ensure_editable().map_err(|error| refused(&plan, error))?;
        let facts = detect_workspace(&self.workspace_root);
        let draft = planner::revise_plan(&plan.goal, &plan.subtasks, &feedback, &facts)
            .map_err(|error| invalid_param("feedback", error.to_string()))?;
        let recorded_feedback = if draft.unapplied.is_empty() {
            feedback.clone()
        } else {
            format!("{feedback} — not applied: {}", draft.unapplied.join("; "))
        };
        let subtasks = build_subtasks(&draft.subtasks, "subtasks")?;
        let now = Timestamp::now();
        let expected_version = plan.version;
        plan.edit(now, None, Some(subtasks)).map_err(|error| refused(&plan, error))?;
        plan.feedback = Some(recorded_feedback);
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

fn checked_session_id(id: SessionId) -> Result<SessionId, OrchestratorError> {
    let length = id.as_str().chars().count();
    if length == 0 || length > SESSION_ID_MAX_CHARS || id.as_str().chars().any(char::is_control) {
        return Err(invalid_param("sessionId", format!("must be 1 to {SESSION_ID_MAX_CHARS} printable characters")));
    }
    Ok(id)
}

/// `auto` asks the keyword classifier; `plan` and `direct` force the verdict; explicit subtasks
/// make a plan that is reviewed like a complex one unless the mode is `direct`.
fn classify_for_mode(goal: &str, mode: CreateMode, explicit_subtasks: bool) -> Classification {
    let keywords = classify_keywords(goal);
    match mode {
        CreateMode::Direct if keywords.is_atomic() => keywords,
        CreateMode::Direct => Classification::atomic(
            crate::model::RouteAgent::Code,
            Confidence::High,
            "mode \"direct\": treated as atomic".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Plan => Classification::complex(
            Confidence::High,
            "mode \"plan\": treated as complex".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Auto if explicit_subtasks => Classification::complex(
            Confidence::High,
            "explicit subtasks given: reviewed as a plan".to_owned(),
            ClassifyMethod::Keywords,
        ),
        CreateMode::Auto => keywords,
    }
}

/// The one subtask of an atomic task, for the routed agent.
fn atomic_subtask(goal: &str, classification: &Classification) -> Subtask {
    let agent = AgentKind::for_route(classification.agent()).unwrap_or(AgentKind::Coder);
    let mut subtask = Subtask::new(SubtaskId::from_raw("s1"), planner::plan_title(goal), agent);
    subtask.description = goal.to_owned();
    subtask
}

fn notes_of(request: &CreateRequest) -> Option<String> {
    let mut notes = request.context.notes.clone().unwrap_or_default();
    if !request.context.files.is_empty() {
        if !notes.is_empty() {
            notes.push('\n');
        }
        notes.push_str(&format!("Files: {}", request.context.files.join(", ")));
    }
    (!notes.trim().is_empty()).then_some(notes)
}
