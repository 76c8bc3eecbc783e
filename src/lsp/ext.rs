//! The protocol extensions: every `planning/*` method as a type (an uninhabited enum implementing
//! `ls_types::request::Request` or `Notification`, with its `METHOD`), and the
//! `workspace/executeCommand` command names. The objects they carry are `crate::wire`'s (re-exported
//! here).
//!
//! This is the only place in Rust that spells a method name.

use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::request::Request;

pub use crate::wire::*;

/// Every method of the planning protocol (requests and the `planning/progress` notification).
pub const ALL_METHODS: &[&str] = &[
    <ClassifyTask as Request>::METHOD,
    <CreatePlan as Request>::METHOD,
    <GetPlan as Request>::METHOD,
    <ListPlans as Request>::METHOD,
    <UpdatePlan as Request>::METHOD,
    <DeletePlan as Request>::METHOD,
    <ApprovePlan as Request>::METHOD,
    <RejectPlan as Request>::METHOD,
    <RevisePlan as Request>::METHOD,
    <ExecutePlan as Request>::METHOD,
    <CancelPlan as Request>::METHOD,
    <RetryPlan as Request>::METHOD,
    <GetPlanStatus as Request>::METHOD,
    <PlanHistory as Request>::METHOD,
    <GetSession as Request>::METHOD,
    <ResetSession as Request>::METHOD,
    <CompleteSubtask as Request>::METHOD,
    <ExportPlan as Request>::METHOD,
    <NextSteps as Request>::METHOD,
    <PlanningProgress as Notification>::METHOD,
];

/// The `workspace/executeCommand` commands (advertised in `executeCommandProvider`), so that an
/// editor without a plugin (Helix, Kakoune, Zed, Sublime, eglot) can take every action. The
/// first argument, when given, is a plan id string or the params object of the matching
/// request; without it the command acts on the newest plan it applies to.
pub mod command {
    /// `[uri, subtaskId?]`: runs the plan file (from `subtaskId` and what depends on it).
    pub const RUN_FILE: &str = "codelab-planner.runFile";
    /// `[task]` or `[CreatePlanParams]`.
    pub const NEW_TASK: &str = "codelab-planner.newTask";
    pub const EXECUTE: &str = "codelab-planner.execute";
    pub const APPROVE: &str = "codelab-planner.approve";
    pub const REJECT: &str = "codelab-planner.reject";
    /// `[planId, feedback]` or `[RevisePlanParams]`.
    pub const REVISE: &str = "codelab-planner.revise";
    pub const CANCEL: &str = "codelab-planner.cancel";
    pub const RETRY: &str = "codelab-planner.retry";
    pub const STATUS: &str = "codelab-planner.status";
    pub const EXPORT: &str = "codelab-planner.export";
    /// `[planId, subtaskId, "done" | "failed"?, result?]` or `[CompleteSubtaskParams]`: ends a
    /// `waiting` step (`planning/complete`).
    pub const COMPLETE: &str = "codelab-planner.complete";
}

/// Every command, in the order they are advertised.
pub const ALL_COMMANDS: &[&str] = &[
    command::RUN_FILE,
    command::NEW_TASK,
    command::EXECUTE,
    command::APPROVE,
    command::REJECT,
    command::REVISE,
    command::CANCEL,
    command::RETRY,
    command::STATUS,
    command::EXPORT,
    command::COMPLETE,
];

/// The request methods only (what the server advertises in `experimental.planning.methods`).
pub fn request_methods() -> Vec<&'static str> {
    ALL_METHODS.iter().copied().filter(|method| *method != <PlanningProgress as Notification>::METHOD).collect()
}

macro_rules! planning_request {
    ($(#[$doc:meta])* $name:ident = $method:literal, $params:ty => $result:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $name {}

        impl Request for $name {
            type Params = $params;
            type Result = $result;
            const METHOD: &'static str = $method;
        }
    };
}

planning_request!(
    /// Classifies a task without creating anything.
    ClassifyTask = "planning/classify", ClassifyParams => Classification
);
planning_request!(
    /// Classifies, plans and stores a task; a complex plan waits for review.
    CreatePlan = "planning/create", CreatePlanParams => CreatePlanResult
);
planning_request!(GetPlan = "planning/get", PlanIdParams => Plan);
planning_request!(
    /// Plan summaries, newest first, one page at a time.
    ListPlans = "planning/list", ListPlansParams => ListPlansResult
);
planning_request!(
    /// Edits a draft (title and/or the whole subtask list) at a known version.
    UpdatePlan = "planning/update", UpdatePlanParams => Plan
);
planning_request!(DeletePlan = "planning/delete", PlanIdParams => DeletePlanResult);
planning_request!(ApprovePlan = "planning/approve", PlanIdParams => Plan);
planning_request!(RejectPlan = "planning/reject", RejectPlanParams => Plan);
planning_request!(RevisePlan = "planning/revise", RevisePlanParams => Plan);
planning_request!(
    /// Starts a run and returns at once; progress follows as notifications.
    ExecutePlan = "planning/execute", ExecutePlanParams => RunStartedResult
);
planning_request!(CancelPlan = "planning/cancel", CancelPlanParams => CancelPlanResult);
planning_request!(
    /// Runs the unfinished (or the named) subtasks of a failed, cancelled or interrupted plan.
    RetryPlan = "planning/retry", RetryPlanParams => RunStartedResult
);
planning_request!(GetPlanStatus = "planning/status", PlanIdParams => PlanStatusResult);
planning_request!(
    /// Extension: every stored version of a plan's content, oldest first.
    PlanHistory = "planning/history", PlanIdParams => PlanHistoryResult
);
planning_request!(
    /// Extension: a session's FSM state.
    GetSession = "planning/session", SessionParams => Session
);
planning_request!(
    /// Extension: `reset` — a plan in review is rejected, the session's runs are cancelled, and
    /// the session returns to `idle`.
    ResetSession = "planning/resetSession", SessionParams => Session
);

planning_request!(
    /// Ends a `waiting` subtask (a step a person does) as `done` (default) or `failed`.
    CompleteSubtask = "planning/complete", CompleteSubtaskParams => Plan
);
planning_request!(
    /// Extension: the plan as plan-file (`*.plan.toml`) text.
    ExportPlan = "planning/export", PlanIdParams => ExportPlanResult
);

planning_request!(
    /// The steps a person or an outside agent can take now (listed, with who holds each).
    NextSteps = "planning/next", NextStepsParams => NextStepsResult
);

/// Server → client: one event of a run.
#[derive(Debug)]
pub enum PlanningProgress {}

impl Notification for PlanningProgress {
    type Params = PlanningProgressParams;
    const METHOD: &'static str = "planning/progress";
}

/// Server → client `$/progress` with a `planning/create` partial result: the plan's subtasks
/// parsed so far (the whole list each time), sent before the reply.
#[derive(Debug)]
pub enum PartialResultProgress {}

impl Notification for PartialResultProgress {
    type Params = PartialResultParams;
    const METHOD: &'static str = "$/progress";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_unique_and_namespaced() {
        let mut seen = std::collections::HashSet::new();
        for method in ALL_METHODS {
            assert!(method.starts_with("planning/"), "{method}");
            assert!(seen.insert(*method), "duplicate {method}");
        }
        assert_eq!(request_methods().len(), ALL_METHODS.len() - 1);
    }
}
