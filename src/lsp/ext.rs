//! The protocol extensions: every `planning/*` method as a type (an uninhabited enum implementing
//! `ls_types::request::Request` or `Notification`, with its `METHOD`), the table of them all
//! ([`METHODS`]: kind, whether it is served, and the schemas of what it carries), and the
//! `workspace/executeCommand` command names. The objects they carry are `crate::wire`'s
//! (re-exported here).
//!
//! This is the only place in Rust that spells a method name. A method defined here but not yet
//! served (its behaviour has not landed) is in [`METHODS`] with `served: false`: the schema lists
//! it, the server does not advertise it and answers `-32601 "<method> is not served yet"`. To serve
//! one, register its handler in `handlers::register` and flip its row to [`SERVED`].

use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::request::Request;

pub use crate::wire::*;

use crate::wire::schema::{MethodKind, MethodSchema, schema_of};

/// `served` of a method whose handler is registered.
pub const SERVED: bool = true;
/// `served` of a method defined on the wire whose behaviour has not landed yet.
pub const NOT_YET: bool = false;

const fn request<R>(served: bool) -> MethodSchema
where
    R: Request,
    R::Params: schemars::JsonSchema,
    R::Result: schemars::JsonSchema,
{
    MethodSchema {
        name: R::METHOD,
        kind: MethodKind::Request,
        served,
        params: schema_of::<R::Params>,
        result: Some(schema_of::<R::Result>),
        partial_result: None,
    }
}

const fn notification<N>() -> MethodSchema
where
    N: Notification,
    N::Params: schemars::JsonSchema,
{
    MethodSchema {
        name: N::METHOD,
        kind: MethodKind::Notification,
        served: SERVED,
        params: schema_of::<N::Params>,
        result: None,
        partial_result: None,
    }
}

/// Every method of the planning protocol, in the order they are documented.
pub const METHODS: &[MethodSchema] = &[
    request::<ClassifyTask>(SERVED),
    MethodSchema { partial_result: Some(schema_of::<PartialResultParams>), ..request::<CreatePlan>(SERVED) },
    request::<GetPlan>(SERVED),
    request::<ListPlans>(SERVED),
    request::<UpdatePlan>(SERVED),
    request::<DeletePlan>(SERVED),
    request::<ApprovePlan>(SERVED),
    request::<RejectPlan>(SERVED),
    request::<RevisePlan>(SERVED),
    request::<ExecutePlan>(SERVED),
    request::<CancelPlan>(SERVED),
    request::<RetryPlan>(SERVED),
    request::<GetPlanStatus>(SERVED),
    request::<PlanHistory>(SERVED),
    request::<GetSession>(SERVED),
    request::<ResetSession>(SERVED),
    request::<CompleteSubtask>(SERVED),
    request::<ExportPlan>(SERVED),
    request::<PlanTranscript>(SERVED),
    request::<PlanChanges>(SERVED),
    request::<PlanRollback>(SERVED),
    request::<AnswerApproval>(SERVED),
    request::<NextSubtasks>(SERVED),
    request::<ImportPlan>(SERVED),
    notification::<PlanningProgress>(),
];

const fn method_names<const N: usize>() -> [&'static str; N] {
    let mut names = [""; N];
    let mut index = 0;
    while index < N {
        names[index] = METHODS[index].name;
        index += 1;
    }
    names
}

/// The name of every method in [`METHODS`] (served or not, requests and `planning/progress`).
pub const ALL_METHODS: &[&str] = &method_names::<{ METHODS.len() }>();

/// The requests the server serves (what it advertises in `experimental.planning.methods`).
pub fn request_methods() -> Vec<&'static str> {
    METHODS
        .iter()
        .filter(|method| method.kind == MethodKind::Request && method.served)
        .map(|method| method.name)
        .collect()
}

/// The requests defined on the wire but not served yet.
pub fn unserved_methods() -> Vec<&'static str> {
    METHODS
        .iter()
        .filter(|method| method.kind == MethodKind::Request && !method.served)
        .map(|method| method.name)
        .collect()
}

/// The protocol's JSON Schema document (`docs/protocol.schema.json`).
pub fn protocol_schema() -> serde_json::Value {
    crate::wire::schema::protocol_document(METHODS, ALL_COMMANDS)
}

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
    /// Edits a draft (title and/or the subtask list) at a known version; a subtask that keeps
    /// its id keeps what the client leaves out.
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
    /// Extension: the plan as plan-file text (`*.plan.toml`, or a markdown task list with `format: "md"`).
    ExportPlan = "planning/export", ExportPlanParams => ExportPlanResult
);
planning_request!(
    /// Third wave: what an agent did in one attempt of a subtask.
    PlanTranscript = "planning/transcript", TranscriptParams => TranscriptResult
);
planning_request!(
    /// Third wave: the files agents changed, as unified diffs.
    PlanChanges = "planning/changes", SubtaskScopeParams => ChangesResult
);
planning_request!(
    /// Third wave: undoes agents' file changes (refused while the plan runs).
    PlanRollback = "planning/rollback", SubtaskScopeParams => RollbackResult
);
planning_request!(
    /// Third wave: answers a subtask's `pendingApproval` from any client.
    AnswerApproval = "planning/answer", AnswerParams => AnswerResult
);
planning_request!(
    /// The steps a person or an outside agent can take now, with who holds each.
    NextSubtasks = "planning/next", PlanIdParams => NextResult
);
planning_request!(
    /// Third wave: a markdown task list or Taskmaster `tasks.json` as a draft plan.
    ImportPlan = "planning/import", ImportParams => Plan
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
        assert_eq!(ALL_METHODS.len(), METHODS.len());
        assert_eq!(request_methods().len() + unserved_methods().len(), ALL_METHODS.len() - 1);
        assert!(request_methods().contains(&"planning/import"));
    }
}
