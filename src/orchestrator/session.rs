//! Session FSM bookkeeping for the orchestrator: walks the pure FSM (`crate::fsm`) and turns each
//! transition into a `WriteOp::Session` so the new state and its log row commit together with the
//! plan change that caused them.

use crate::fsm::{SessionEvent, SessionState, TransitionError, transition};
use crate::model::{PlanId, SessionId, Timestamp};
use crate::store::{SessionTransition, WriteOp};

/// A session being moved through the FSM within one operation.
pub(super) struct SessionWalk {
    pub id: SessionId,
    pub state: SessionState,
    now: Timestamp,
    plan_id: Option<PlanId>,
    transitions: Vec<SessionTransition>,
}

impl SessionWalk {
    pub fn new(id: SessionId, state: SessionState, now: Timestamp) -> Self {
        Self { id, state, now, plan_id: None, transitions: Vec::new() }
    }

    /// The plan recorded with the following transitions.
    pub fn about(&mut self, plan_id: &PlanId) -> &mut Self {
        self.plan_id = Some(plan_id.clone());
        self
    }

    /// Fires `event`; the state is unchanged when the table refuses it.
    pub fn fire(&mut self, event: SessionEvent, detail: Option<String>) -> Result<SessionState, TransitionError> {
        let to = transition(self.state, event)?;
        self.transitions.push(SessionTransition {
            session_id: self.id.clone(),
            from: self.state,
            event,
            to,
            at: self.now,
            plan_id: self.plan_id.clone(),
            detail,
        });
        self.state = to;
        Ok(to)
    }

    /// Fires `event` when legal; otherwise leaves the session where it is (the user has moved it
    /// on, e.g. with a new task while a run goes on) and says so in the log.
    pub fn fire_if_legal(&mut self, event: SessionEvent) {
        if let Err(error) = self.fire(event, None) {
            tracing::debug!(session = %self.id, %error, "session transition skipped");
        }
    }

    /// Makes the session ready for something new: from any state but `idle`, the old
    /// interaction ends (`reset`, logged).
    pub fn reset_unless_idle(&mut self) {
        if self.state != SessionState::Idle {
            self.fire_if_legal(SessionEvent::Reset);
        }
    }

    /// The write operations for every transition fired, in order.
    pub fn into_ops(self) -> Vec<WriteOp> {
        self.transitions.into_iter().map(WriteOp::Session).collect()
    }
}
