//! The closed vocabularies of the domain: plan and subtask statuses, agents, classification.
//!
//! Names match `docs/protocol.md`; `as_str`/`parse` are the only string conversions, shared by the
//! store (columns) and the LSP layer (wire). Domain types here do not derive `Serialize`.

macro_rules! closed_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire/database name; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted names, for error messages: `"a", "b", "c"`.
            pub fn expected() -> String {
                [$(concat!("\"", $text, "\"")),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

closed_enum!(
    /// Lifecycle of a plan.
    PlanStatus {
        Draft => "draft",
        Approved => "approved",
        Running => "running",
        Completed => "completed",
        Failed => "failed",
        Cancelled => "cancelled",
        Rejected => "rejected",
        Interrupted => "interrupted",
    }
);

closed_enum!(
    /// Lifecycle of a subtask within a run. `waiting`: the run reached it and waits for a person.
    SubtaskStatus {
        Pending => "pending",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Skipped => "skipped",
        Cancelled => "cancelled",
        Waiting => "waiting",
    }
);

closed_enum!(
    /// Who executes a subtask. `manual`: a person; the run waits for `planning/complete`.
    AgentKind {
        Coder => "coder",
        Debug => "debug",
        Ask => "ask",
        Shell => "shell",
        Manual => "manual",
    }
);

closed_enum!(
    /// What a subtask is for. `baseline`: a check run before the change, to compare against — its
    /// failure is recorded in its result and never fails the plan nor skips its dependents.
    SubtaskRole {
        Step => "step",
        Baseline => "baseline",
    }
);

closed_enum!(
    /// Where the classifier routes a task (`plan` = needs decomposition).
    RouteAgent {
        Code => "code",
        Plan => "plan",
        Debug => "debug",
        Explain => "explain",
    }
);

closed_enum!(
    /// How sure the classifier is.
    Confidence {
        High => "high",
        Medium => "medium",
        Low => "low",
    }
);

closed_enum!(
    /// Which classifier produced a result.
    ClassifyMethod {
        Keywords => "keywords",
        Llm => "llm",
    }
);

closed_enum!(
    /// Who wrote a plan's subtasks: the language model, the template planner (no model, or the
    /// model's plan was not usable), or the user (explicit subtasks or a plan file).
    PlannerKind {
        Llm => "llm",
        Template => "template",
        User => "user",
    }
);

closed_enum!(
    /// What the engine does when a subtask fails for good.
    FailurePolicy {
        Continue => "continue",
        FailFast => "failFast",
    }
);

impl PlanStatus {
    /// The user actions that make sense in this status (for `invalidState.allowed`).
    pub fn allowed_actions(self) -> Vec<&'static str> {
        match self {
            Self::Draft => vec!["approve", "reject", "revise", "update", "delete"],
            Self::Approved => vec!["execute", "delete"],
            Self::Running => vec!["cancel", "status"],
            Self::Completed | Self::Rejected => vec!["delete"],
            Self::Failed | Self::Cancelled | Self::Interrupted => vec!["retry", "delete"],
        }
    }

    /// A plan in one of these states has no run and will not get one without a user action.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled | Self::Rejected)
    }
}

impl SubtaskStatus {
    /// `done`, `skipped` and `cancelled` cannot change again within a run.
    pub fn is_terminal_for_run(self) -> bool {
        matches!(self, Self::Done | Self::Skipped | Self::Cancelled)
    }

    /// Counted as finished by the progress percentage.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Skipped | Self::Cancelled)
    }
}

impl AgentKind {
    /// The agent that runs an atomic task routed to `route`; `None` for `plan`.
    pub fn for_route(route: RouteAgent) -> Option<Self> {
        match route {
            RouteAgent::Code => Some(Self::Coder),
            RouteAgent::Debug => Some(Self::Debug),
            RouteAgent::Explain => Some(Self::Ask),
            RouteAgent::Plan => None,
        }
    }

    /// Attempts allowed when the subtask does not say: 1 for shell, 3 for LLM agents.
    pub fn default_max_attempts(self) -> u32 {
        match self {
            Self::Shell | Self::Manual => 1,
            Self::Coder | Self::Debug | Self::Ask => 3,
        }
    }

    /// True for the agents that need a language model to run (coder, debug, ask).
    pub fn needs_model(self) -> bool {
        matches!(self, Self::Coder | Self::Debug | Self::Ask)
    }

    /// Per-attempt timeout when the subtask does not say: none for shell, 600 s for LLM agents.
    pub fn default_timeout_secs(self) -> Option<u64> {
        match self {
            Self::Shell | Self::Manual => None,
            Self::Coder | Self::Debug | Self::Ask => Some(600),
        }
    }
}

/// The classifier's verdict. Invariant: `!is_atomic ⇒ agent == Plan` (see [`Classification::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    is_atomic: bool,
    agent: RouteAgent,
    pub confidence: Confidence,
    pub reason: String,
    pub method: ClassifyMethod,
}

impl Classification {
    /// A complex task: always routed to `plan`.
    pub fn complex(confidence: Confidence, reason: String, method: ClassifyMethod) -> Self {
        Self { is_atomic: false, agent: RouteAgent::Plan, confidence, reason, method }
    }

    /// An atomic task for one agent. `plan` is not an agent for atomic work and becomes `code`.
    pub fn atomic(agent: RouteAgent, confidence: Confidence, reason: String, method: ClassifyMethod) -> Self {
        let agent = if agent == RouteAgent::Plan { RouteAgent::Code } else { agent };
        Self { is_atomic: true, agent, confidence, reason, method }
    }

    pub fn is_atomic(&self) -> bool {
        self.is_atomic
    }

    pub fn agent(&self) -> RouteAgent {
        self.agent
    }

    /// The verdict for a plan of `steps` steps: "atomic" means one step, so a multi-step result
    /// is complex (same confidence and method, the reason says why).
    pub fn for_plan_of(self, steps: usize) -> Self {
        if !self.is_atomic || steps <= 1 {
            return self;
        }
        let reason = format!("{}; planned as {steps} steps", self.reason);
        Self::complex(self.confidence, reason, self.method)
    }

    /// Sure enough to run without review: atomic, and not of low confidence.
    pub fn is_sure_atomic(&self) -> bool {
        self.is_atomic && self.confidence != Confidence::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in PlanStatus::ALL {
            assert_eq!(PlanStatus::parse(status.as_str()), Some(*status));
        }
        for status in SubtaskStatus::ALL {
            assert_eq!(SubtaskStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(FailurePolicy::parse("failFast"), Some(FailurePolicy::FailFast));
        assert_eq!(AgentKind::parse("architect"), None);
        assert_eq!(SubtaskStatus::expected().matches(',').count(), 6);
    }

    #[test]
    fn classification_invariant_holds_by_construction() {
        let complex = Classification::complex(Confidence::High, "x".into(), ClassifyMethod::Keywords);
        assert!(!complex.is_atomic());
        assert_eq!(complex.agent(), RouteAgent::Plan);
        let atomic = Classification::atomic(RouteAgent::Plan, Confidence::Low, "x".into(), ClassifyMethod::Llm);
        assert!(atomic.is_atomic());
        assert_eq!(atomic.agent(), RouteAgent::Code);
    }

    #[test]
    fn atomic_means_one_step_and_low_confidence_is_never_sure() {
        let unsure =
            Classification::atomic(RouteAgent::Code, Confidence::Low, "default code".into(), ClassifyMethod::Keywords);
        assert!(!unsure.is_sure_atomic());
        let planned = unsure.clone().for_plan_of(5);
        assert!(!planned.is_atomic());
        assert_eq!(planned.confidence, Confidence::Low);
        assert_eq!(planned.reason, "default code; planned as 5 steps");
        assert_eq!(unsure.clone().for_plan_of(1), unsure);
        let sure =
            Classification::atomic(RouteAgent::Debug, Confidence::Medium, "fix".into(), ClassifyMethod::Keywords);
        assert!(sure.is_sure_atomic());
        assert_eq!(SubtaskRole::parse("baseline"), Some(SubtaskRole::Baseline));
        assert_eq!(SubtaskRole::parse("check"), None);
    }
}
