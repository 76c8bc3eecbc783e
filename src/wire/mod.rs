//! The wire: every object, params, result and event the planning protocol carries, named exactly as
//! `docs/protocol.md` names them, shared by every face (the language server, the command line's
//! `--json`, and the faces to come). It is not JSON-RPC: the methods that carry these types are in
//! `crate::lsp::ext`.
//!
//! Wire types are not domain types: they hold plain strings and numbers; [`convert`] maps them to
//! and from `crate::model`. Params structs ignore unknown fields (clients may send more); numbers a
//! user can get wrong are signed so that a negative value is reported with its field name instead of
//! a serde error.

pub mod convert;

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::ProgressToken;

// ---------------------------------------------------------------------------------------------
// Objects

/// `isAtomic == false` ⇒ `agent == "plan"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub is_atomic: bool,
    /// `code | plan | debug | explain`.
    pub agent: String,
    /// `high | medium | low`.
    pub confidence: String,
    pub reason: String,
    /// `keywords | llm`.
    pub method: String,
}

/// A subtask as the client writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubtaskInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `coder | debug | ask | shell | manual`.
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Extension: the directory a `shell` command runs in, relative to the workspace root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
    /// Extension: the planner's estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_secs: Option<u64>,
    /// Addition: `baseline` for a check run before the change (its failure never fails the
    /// plan); absent (or `step`) for any other step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subtask {
    pub id: String,
    pub title: String,
    pub description: String,
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub depends_on: Vec<String>,
    /// `pending | running | waiting | done | failed | skipped | cancelled`.
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Addition: language-model tokens spent on this subtask (absent when no model was called).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Addition: `baseline` for a check run before the change; absent for any other step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Addition: tokens spent, summed over calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub calls: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub total: u32,
    pub pending: u32,
    pub running: u32,
    pub done: u32,
    pub failed: u32,
    pub skipped: u32,
    pub cancelled: u32,
    pub waiting: u32,
    pub percentage: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: String,
    pub session_id: String,
    pub title: String,
    pub goal: String,
    /// `draft | approved | running | completed | failed | cancelled | rejected | interrupted`.
    pub status: String,
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    pub subtasks: Vec<Subtask>,
    pub progress: Progress,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Extension: the current or last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Extension: the feedback given with the last reject or revise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Extension: the plan file (`*.plan.toml`) it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<String>,
    /// `llm | template | user`: who wrote the subtasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<String>,
    /// Why the language model's plan was not used, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner_note: Option<String>,
    /// Tokens the language model spent on this plan: planning and every subtask, rolled up (absent when
    /// it made no call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Addition: how the baseline checks compare with the final checks ("before: 1 failing ·
    /// after: all passing"); absent for a plan without a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    pub id: String,
    pub session_id: String,
    pub title: String,
    pub status: String,
    pub progress: Progress,
    pub created_at: String,
    pub updated_at: String,
}

/// A session and its FSM state (`idle`, `classify`, ..., `plan_review`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub state: String,
}

// ---------------------------------------------------------------------------------------------
// Params and results

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyParams {
    pub task: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanParams {
    pub task: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `auto | plan | direct`, default `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<Vec<SubtaskInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<TaskContext>,
    /// A "Planning…" `$/progress` the client may cancel (cancelling aborts the model call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_done_token: Option<ProgressToken>,
    /// Subtasks are sent as they stream in from the model, as `$/progress` partial results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_result_token: Option<ProgressToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialResultParams {
    pub token: ProgressToken,
    pub value: PartialSubtasks,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialSubtasks {
    pub subtasks: Vec<SubtaskInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanResult {
    pub plan: Plan,
    pub session: Session,
}

/// Params of every method that takes only a plan id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanIdParams {
    pub plan_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPlansParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Default 50, 1..=500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPlansResult {
    pub plans: Vec<PlanSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePlanParams {
    pub plan_id: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<Vec<SubtaskInput>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePlanResult {
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectPlanParams {
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisePlanParams {
    pub plan_id: String,
    pub feedback: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutePlanParams {
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<i64>,
    /// `continue | failFast`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_done_token: Option<ProgressToken>,
}

/// Result of `planning/execute` and `planning/retry`; `status` is always `running`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStartedResult {
    pub plan_id: String,
    pub run_id: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPlanParams {
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPlanResult {
    pub plan_id: String,
    pub cancelled: bool,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPlanParams {
    pub plan_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_done_token: Option<ProgressToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanStatusResult {
    pub plan_id: String,
    pub status: String,
    pub progress: Progress,
    pub running: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

/// One stored version of a plan's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanVersion {
    pub version: u64,
    pub title: String,
    pub subtasks: Vec<Subtask>,
    pub created_at: String,
    /// `created`, `update`, `revise: <feedback>`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanHistoryResult {
    pub plan_id: String,
    pub versions: Vec<PlanVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteSubtaskParams {
    pub plan_id: String,
    pub subtask_id: String,
    /// `done | failed`, default `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportPlanResult {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionParams {
    pub session_id: String,
}

// ---------------------------------------------------------------------------------------------
// Notifications

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanningProgressParams {
    pub plan_id: String,
    pub run_id: String,
    pub event: RunEvent,
}

/// One event of a run, tagged by `kind`. Every run sends exactly one `planFinished`, last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RunEvent {
    PlanStarted {
        title: String,
        total: u32,
    },
    SubtaskStarted {
        subtask_id: String,
        attempt: u32,
        title: String,
    },
    SubtaskOutput {
        subtask_id: String,
        text: String,
    },
    SubtaskRetrying {
        subtask_id: String,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// The run reached a step a person does; `message` says what to do.
    SubtaskWaiting {
        subtask_id: String,
        message: String,
        /// Addition: what to do, in plain words, without how to mark it done (each client words
        /// its own action) and without method or setting names.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instructions: Option<String>,
    },
    SubtaskFinished {
        subtask_id: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        duration_ms: u64,
    },
    /// Addition: a rate-bounded sign of life of an LLM agent. `phase`: `thinking | toolStarted |
    /// toolFinished | waitingForApproval`; `toolKind`: the Agent Client Protocol's tool kind (the
    /// contract's `kind?`, renamed because `kind` is already this enum's tag).
    AgentActivity {
        subtask_id: String,
        phase: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_kind: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tokens: Option<u64>,
    },
    PlanFinished {
        status: String,
        progress: Progress,
        duration_ms: u64,
        /// Addition: the plan's usage, rolled up (absent when no model was called).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// Addition: the before/after comparison of the plan's baselines (see `Plan.summary`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_kind_in_camel_case() {
        let event = RunEvent::SubtaskFinished {
            subtask_id: "build".into(),
            status: "done".into(),
            result: None,
            error: None,
            duration_ms: 12,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "subtaskFinished", "subtaskId": "build", "status": "done", "durationMs": 12})
        );
    }

    #[test]
    fn the_waiting_event_and_complete_params_use_the_contract_names() {
        let event = RunEvent::SubtaskWaiting { subtask_id: "s1".into(), message: "do it".into(), instructions: None };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"kind": "subtaskWaiting", "subtaskId": "s1", "message": "do it"})
        );
        let params: CompleteSubtaskParams =
            serde_json::from_value(serde_json::json!({"planId": "p", "subtaskId": "s1"})).unwrap();
        assert_eq!((params.status, params.result), (None, None));
    }

    #[test]
    fn params_ignore_unknown_fields_and_default_optional_ones() {
        let params: CreatePlanParams =
            serde_json::from_value(serde_json::json!({"task": "x", "somethingNew": 1})).unwrap();
        assert_eq!(params.task, "x");
        assert!(params.subtasks.is_none());
        let input: SubtaskInput =
            serde_json::from_value(serde_json::json!({"title": "t", "agent": "shell", "command": "true"})).unwrap();
        assert!(input.depends_on.is_empty());
    }
}
