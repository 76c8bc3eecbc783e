//! The session lifecycle FSM: the seed's 9 states and 18 events, plus the exits the seed lacked
//! (`reset` from anywhere, cancel edges from `plan_execution` and `execution`, a plan retry from
//! `error_handling`; see [`TRANSITIONS`]). A pure function `(state, event) -> Result<state,
//! TransitionError>`: no I/O, no clock. Persisting a transition (state + log row in one
//! transaction) is `crate::store`'s job.

/// Where a chat session is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Idle,
    Classify,
    PlanRequired,
    ArchitectPlanning,
    PlanReview,
    PlanExecution,
    Execution,
    ErrorHandling,
    Completed,
}

/// What happened to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEvent {
    ReceiveMessage,
    IsAtomicTrue,
    IsAtomicFalse,
    ClassifyError,
    RouteToArchitect,
    PlanCreated,
    PlanningFailed,
    PlanApproved,
    PlanRejected,
    PlanModificationRequested,
    PlanExecutionCompleted,
    PlanExecutionFailed,
    AllSubtasksDone,
    SubtaskFailed,
    RequiresReplanning,
    RetrySubtask,
    PlanCancelled,
    Reset,
}

/// A refused transition: the state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transition: {event} in state {state}; allowed events: {}", .allowed.iter().map(|event| event.as_str()).collect::<Vec<_>>().join(", "))]
pub struct TransitionError {
    pub state: SessionState,
    pub event: SessionEvent,
    pub allowed: Vec<SessionEvent>,
}

impl SessionState {
    pub const ALL: [SessionState; 9] = [
        Self::Idle,
        Self::Classify,
        Self::PlanRequired,
        Self::ArchitectPlanning,
        Self::PlanReview,
        Self::PlanExecution,
        Self::Execution,
        Self::ErrorHandling,
        Self::Completed,
    ];

    /// The seed's snake_case name (also the wire and database name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Classify => "classify",
            Self::PlanRequired => "plan_required",
            Self::ArchitectPlanning => "architect_planning",
            Self::PlanReview => "plan_review",
            Self::PlanExecution => "plan_execution",
            Self::Execution => "execution",
            Self::ErrorHandling => "error_handling",
            Self::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

impl SessionEvent {
    pub const ALL: [SessionEvent; 18] = [
        Self::ReceiveMessage,
        Self::IsAtomicTrue,
        Self::IsAtomicFalse,
        Self::ClassifyError,
        Self::RouteToArchitect,
        Self::PlanCreated,
        Self::PlanningFailed,
        Self::PlanApproved,
        Self::PlanRejected,
        Self::PlanModificationRequested,
        Self::PlanExecutionCompleted,
        Self::PlanExecutionFailed,
        Self::AllSubtasksDone,
        Self::SubtaskFailed,
        Self::RequiresReplanning,
        Self::RetrySubtask,
        Self::PlanCancelled,
        Self::Reset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReceiveMessage => "receive_message",
            Self::IsAtomicTrue => "is_atomic_true",
            Self::IsAtomicFalse => "is_atomic_false",
            Self::ClassifyError => "classify_error",
            Self::RouteToArchitect => "route_to_architect",
            Self::PlanCreated => "plan_created",
            Self::PlanningFailed => "planning_failed",
            Self::PlanApproved => "plan_approved",
            Self::PlanRejected => "plan_rejected",
            Self::PlanModificationRequested => "plan_modification_requested",
            Self::PlanExecutionCompleted => "plan_execution_completed",
            Self::PlanExecutionFailed => "plan_execution_failed",
            Self::AllSubtasksDone => "all_subtasks_done",
            Self::SubtaskFailed => "subtask_failed",
            Self::RequiresReplanning => "requires_replanning",
            Self::RetrySubtask => "retry_subtask",
            Self::PlanCancelled => "plan_cancelled",
            Self::Reset => "reset",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == text)
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::fmt::Display for SessionEvent {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The transition table, in the seed's order (§3 of the seed reference), with the rebuild's
/// additions marked. No guards; `Reset` is not listed here because it is legal from every state
/// (see [`transition`]).
///
/// Additions to the seed's table:
/// - `plan_execution --plan_cancelled--> completed`: a running plan can be cancelled.
/// - `execution --plan_cancelled--> completed`: an atomic run can be cancelled.
/// - `error_handling --plan_approved--> plan_execution`: retrying a failed complex plan re-runs it
///   (the seed's `retry_subtask` leads to `execution`, the atomic path).
/// - `* --reset--> idle` from every state, which also covers the seed design's
///   `error_handling --reset--> idle` and the seed's `completed --reset--> idle`.
pub const TRANSITIONS: &[(SessionState, SessionEvent, SessionState)] = {
    use SessionEvent as E;
    use SessionState as S;
    &[
        (S::Idle, E::ReceiveMessage, S::Classify),
        (S::Classify, E::IsAtomicTrue, S::Execution),
        (S::Classify, E::IsAtomicFalse, S::PlanRequired),
        (S::Classify, E::ClassifyError, S::Idle),
        (S::PlanRequired, E::RouteToArchitect, S::ArchitectPlanning),
        (S::ArchitectPlanning, E::PlanCreated, S::PlanReview),
        (S::ArchitectPlanning, E::PlanningFailed, S::ErrorHandling),
        (S::PlanReview, E::PlanApproved, S::PlanExecution),
        (S::PlanReview, E::PlanRejected, S::Idle),
        (S::PlanReview, E::PlanModificationRequested, S::ArchitectPlanning),
        (S::PlanExecution, E::PlanExecutionCompleted, S::Completed),
        (S::PlanExecution, E::PlanExecutionFailed, S::ErrorHandling),
        (S::PlanExecution, E::PlanCancelled, S::Completed),
        (S::Execution, E::AllSubtasksDone, S::Completed),
        (S::Execution, E::SubtaskFailed, S::ErrorHandling),
        (S::Execution, E::PlanCancelled, S::Completed),
        (S::ErrorHandling, E::RequiresReplanning, S::ArchitectPlanning),
        (S::ErrorHandling, E::RetrySubtask, S::Execution),
        (S::ErrorHandling, E::PlanApproved, S::PlanExecution),
        (S::ErrorHandling, E::PlanCancelled, S::Completed),
    ]
};

/// The transition table. `Reset` is legal from every state and lands in `Idle`.
pub fn transition(state: SessionState, event: SessionEvent) -> Result<SessionState, TransitionError> {
    if event == SessionEvent::Reset {
        return Ok(SessionState::Idle);
    }
    TRANSITIONS
        .iter()
        .find(|(from, on, _)| *from == state && *on == event)
        .map(|(_, _, to)| *to)
        .ok_or_else(|| TransitionError { state, event, allowed: allowed_events(state) })
}

/// The events legal in `state`, in table order (`Reset` last: it is legal everywhere).
pub fn allowed_events(state: SessionState) -> Vec<SessionEvent> {
    TRANSITIONS
        .iter()
        .filter(|(from, _, _)| *from == state)
        .map(|(_, event, _)| *event)
        .chain(std::iter::once(SessionEvent::Reset))
        .collect()
}
