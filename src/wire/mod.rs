//! The wire: every object, params, result and event the planning protocol carries, named exactly as
//! `docs/protocol.md` names them, shared by every face (the language server, the command line's
//! `--json`, and the faces to come). It is not JSON-RPC: the methods that carry these types are in
//! `crate::lsp::ext`, which also builds `docs/protocol.schema.json` from these types ([`schema`]).
//!
//! - Closed sets are enums ([`enums`]), with their wire names written once.
//! - Every text, list and token a client sends is bounded by its type ([`bounds`]); the bound is
//!   checked while the params deserialise and is part of the schema.
//! - Objects here; params and results in [`params`]; `planning/progress` events in [`events`];
//!   the third wave's objects (agent work on the record, more faces) in [`record`]; error `data`
//!   in [`errors`].
//!
//! Wire types are not domain types: [`convert`] maps them to and from `crate::model` (the only
//! place that does). Params structs ignore unknown fields (clients may send more); numbers a user
//! can get wrong are signed so that a negative value is reported with its field name instead of a
//! serde error.

pub mod bounds;
pub mod convert;
pub mod enums;
pub mod errors;
pub mod events;
pub mod params;
pub mod record;
pub mod schema;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use bounds::{List, Text};
pub use enums::*;
pub use errors::ErrorData;
pub use events::{PlanningProgressParams, RunEvent};
pub use params::*;
pub use record::*;

use bounds::{CommandText, CwdText, DescriptionText, SubtaskIdText, TitleText, max};

/// `isAtomic == false` ⇒ `agent == "plan"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Classification {
    pub is_atomic: bool,
    pub agent: ClassificationAgent,
    pub confidence: Confidence,
    pub reason: String,
    pub method: ClassificationMethod,
}

/// A subtask as the client writes it (`planning/create`, `planning/update`, partial results).
///
/// In `planning/update`, a subtask that keeps its `id` keeps every stored field it leaves out;
/// `null` clears an optional field (an absent field and `null` are the same elsewhere). When the
/// agent changes, `command`, `cwd`, `timeoutSecs` and `maxAttempts` are not kept (they belong to
/// the old agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubtaskInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SubtaskIdText>,
    pub title: TitleText,
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<DescriptionText>>,
    pub agent: SubtaskAgent,
    /// Required for `shell`, forbidden for the others.
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub command: Option<Option<CommandText>>,
    /// Extension: the directory a `shell` command runs in, relative to the workspace root.
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub cwd: Option<Option<CwdText>>,
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Option<List<SubtaskIdText, { max::SUBTASKS }>>>,
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<Option<i64>>,
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<Option<i64>>,
    /// Extension: the planner's estimate.
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub estimate_secs: Option<Option<u64>>,
    /// Third wave: `baseline` = a check run before the change (not served yet: refused).
    #[serde(default, deserialize_with = "bounds::present", skip_serializing_if = "Option::is_none")]
    pub role: Option<Option<SubtaskRole>>,
}

impl SubtaskInput {
    /// A subtask with only its title and agent.
    pub fn new(title: impl Into<TitleText>, agent: SubtaskAgent) -> Self {
        Self {
            id: None,
            title: title.into(),
            description: None,
            agent,
            command: None,
            cwd: None,
            depends_on: None,
            timeout_secs: None,
            max_attempts: None,
            estimate_secs: None,
            role: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subtask {
    pub id: String,
    pub title: String,
    pub description: String,
    pub agent: SubtaskAgent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub depends_on: Vec<String>,
    pub status: SubtaskStatus,
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
    /// Third wave: `baseline` for a check run before the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<SubtaskRole>,
    /// Third wave: the files the subtask's agent changed, summed up (`planning/changes` has them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<ChangeSummary>,
    /// Third wave: the question an agent waits on (`planning/answer` answers it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_approval: Option<PendingApproval>,
}

/// Addition: tokens spent, summed over calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub calls: u32,
}

/// Subtasks by status; `percentage` = finished (done + failed + skipped + cancelled) / total × 100,
/// rounded down (0 for an empty plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: String,
    pub session_id: String,
    pub title: String,
    pub goal: String,
    pub status: PlanStatus,
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
    /// Extension: the plan file (`*.plan.toml`) or task list it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<String>,
    /// Who wrote the subtasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<Planner>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    pub id: String,
    pub session_id: String,
    pub title: String,
    pub status: PlanStatus,
    pub progress: Progress,
    pub created_at: String,
    pub updated_at: String,
}

/// A session and its FSM state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub state: SessionState,
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(input.depends_on.is_none());
    }

    #[test]
    fn a_subtask_input_tells_absent_from_null_and_writes_back_what_it_read() {
        let read = serde_json::json!({"id": "a", "title": "t", "agent": "shell", "command": "make", "cwd": null});
        let input: SubtaskInput = serde_json::from_value(read.clone()).unwrap();
        assert_eq!(input.cwd, Some(None), "null clears");
        assert_eq!(input.timeout_secs, None, "absent keeps");
        assert_eq!(serde_json::to_value(&input).unwrap(), read);
    }
}
