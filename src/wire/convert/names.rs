//! The closed sets, domain ⇄ wire: one exhaustive `match` each way per pair, so a variant added on
//! either side fails to compile until it is mapped. The names are the same on both sides (a test
//! checks every one).

use crate::wire;

/// `From` both ways between a domain enum and its wire enum with the same variant names.
macro_rules! same_variants {
    ($domain:ty, $wire:ty, [$($variant:ident),+ $(,)?]) => {
        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => <$wire>::$variant),+ }
            }
        }

        impl From<$wire> for $domain {
            fn from(value: $wire) -> Self {
                match value { $(<$wire>::$variant => <$domain>::$variant),+ }
            }
        }
    };
}

same_variants!(
    crate::model::PlanStatus,
    wire::PlanStatus,
    [Draft, Approved, Running, Completed, Failed, Cancelled, Rejected, Interrupted]
);
same_variants!(
    crate::model::SubtaskStatus,
    wire::SubtaskStatus,
    [Pending, Running, Waiting, Done, Failed, Skipped, Cancelled]
);
same_variants!(crate::model::AgentKind, wire::SubtaskAgent, [Coder, Debug, Ask, Shell, Manual]);
same_variants!(crate::model::RouteAgent, wire::ClassificationAgent, [Code, Plan, Debug, Explain]);
same_variants!(crate::model::Confidence, wire::Confidence, [High, Medium, Low]);
same_variants!(crate::model::ClassifyMethod, wire::ClassificationMethod, [Keywords, Llm]);
same_variants!(crate::model::PlannerKind, wire::Planner, [Llm, Template, User]);
same_variants!(crate::model::FailurePolicy, wire::FailurePolicy, [Continue, FailFast]);
same_variants!(crate::orchestrator::CreateMode, wire::CreateMode, [Auto, Plan, Direct]);
same_variants!(
    crate::fsm::SessionState,
    wire::SessionState,
    [Idle, Classify, PlanRequired, ArchitectPlanning, PlanReview, PlanExecution, Execution, ErrorHandling, Completed]
);
same_variants!(
    crate::engine::ActivityPhase,
    wire::ActivityPhase,
    [Thinking, ToolStarted, ToolFinished, WaitingForApproval]
);
same_variants!(
    crate::engine::ToolKind,
    wire::ToolKind,
    [Read, Edit, Delete, Move, Search, Execute, Think, Fetch, Other]
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Domain enums that have names of their own (database columns, plan files) must use the
    /// wire's.
    #[test]
    fn domain_and_wire_names_agree() {
        for status in crate::model::PlanStatus::ALL {
            assert_eq!(wire::PlanStatus::from(*status).as_str(), status.as_str());
        }
        for status in crate::model::SubtaskStatus::ALL {
            assert_eq!(wire::SubtaskStatus::from(*status).as_str(), status.as_str());
        }
        for agent in crate::model::AgentKind::ALL {
            assert_eq!(wire::SubtaskAgent::from(*agent).as_str(), agent.as_str());
        }
        for agent in crate::model::RouteAgent::ALL {
            assert_eq!(wire::ClassificationAgent::from(*agent).as_str(), agent.as_str());
        }
        for confidence in crate::model::Confidence::ALL {
            assert_eq!(wire::Confidence::from(*confidence).as_str(), confidence.as_str());
        }
        for method in crate::model::ClassifyMethod::ALL {
            assert_eq!(wire::ClassificationMethod::from(*method).as_str(), method.as_str());
        }
        for planner in crate::model::PlannerKind::ALL {
            assert_eq!(wire::Planner::from(*planner).as_str(), planner.as_str());
        }
        for policy in crate::model::FailurePolicy::ALL {
            assert_eq!(wire::FailurePolicy::from(*policy).as_str(), policy.as_str());
        }
        for state in crate::fsm::SessionState::ALL {
            assert_eq!(wire::SessionState::from(state).as_str(), state.as_str());
        }
        let domain_count = crate::model::PlanStatus::ALL.len() + crate::model::SubtaskStatus::ALL.len();
        assert_eq!(domain_count, wire::PlanStatus::ALL.len() + wire::SubtaskStatus::ALL.len());
    }

    #[test]
    fn every_allowed_action_of_the_domain_is_a_wire_action() {
        for status in crate::model::PlanStatus::ALL {
            for action in status.allowed_actions() {
                assert!(wire::PlanAction::parse(action).is_some(), "{action}");
            }
        }
    }
}
