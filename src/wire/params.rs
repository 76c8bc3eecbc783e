//! Params and results of the planning requests (the first and second waves; the third wave's
//! are in `record`). Every text, list and token a client sends has a bounded type.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::ProgressToken;

use super::bounds::{
    self, CursorText, FeedbackText, IdText, List, NotesText, PathText, ReasonText, ResultText, SubtaskIdText, TaskText,
    TitleText, max,
};
use super::{
    CompletionStatus, CreateMode, FailurePolicy, Plan, PlanStatus, PlanSummary, Progress, Session, Subtask,
    SubtaskInput,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClassifyParams {
    pub task: TaskText,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<NotesText>,
    /// Workspace files the planner should read (the first few, each cut short).
    #[serde(default, skip_serializing_if = "List::is_empty")]
    pub files: List<PathText, { max::CONTEXT_FILES }>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanParams {
    pub task: TaskText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<TitleText>,
    /// Default `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<CreateMode>,
    /// Given: the planner is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<List<SubtaskInput, { max::SUBTASKS }>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<TaskContext>,
    /// A "Planning…" `$/progress` the client may cancel (cancelling aborts the model call).
    #[serde(default, deserialize_with = "bounds::bounded_token", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<bounds::Token>")]
    pub work_done_token: Option<ProgressToken>,
    /// Subtasks are sent as they stream in from the model, as `$/progress` partial results.
    #[serde(default, deserialize_with = "bounds::bounded_token", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<bounds::Token>")]
    pub partial_result_token: Option<ProgressToken>,
}

/// `$/progress` with a `planning/create` partial result (`token` is the request's
/// `partialResultToken`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartialResultParams {
    #[schemars(with = "bounds::Token")]
    pub token: ProgressToken,
    pub value: PartialSubtasks,
}

/// A `planning/create` partial result: the subtasks parsed so far (the whole list each time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartialSubtasks {
    pub subtasks: Vec<SubtaskInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePlanResult {
    pub plan: Plan,
    pub session: Session,
}

/// Params of every method that takes only a plan id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanIdParams {
    pub plan_id: IdText,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPlansParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<IdText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PlanStatus>,
    /// Default 50, 1..=500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<CursorText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPlansResult {
    pub plans: Vec<PlanSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Edits a draft at a known version. `subtasks` replaces the list; a subtask that keeps its id
/// keeps every stored field it leaves out (see [`SubtaskInput`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePlanParams {
    pub plan_id: IdText,
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<TitleText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<List<SubtaskInput, { max::SUBTASKS }>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletePlanResult {
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectPlanParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisePlanParams {
    pub plan_id: IdText,
    pub feedback: FeedbackText,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutePlanParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<FailurePolicy>,
    #[serde(default, deserialize_with = "bounds::bounded_token", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<bounds::Token>")]
    pub work_done_token: Option<ProgressToken>,
}

/// Result of `planning/execute` and `planning/retry`; `status` is always `running`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunStartedResult {
    pub plan_id: String,
    pub run_id: String,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelPlanParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelPlanResult {
    pub plan_id: String,
    pub cancelled: bool,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryPlanParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask_ids: Option<List<SubtaskIdText, { max::SUBTASKS }>>,
    #[serde(default, deserialize_with = "bounds::bounded_token", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<bounds::Token>")]
    pub work_done_token: Option<ProgressToken>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanStatusResult {
    pub plan_id: String,
    pub status: PlanStatus,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanVersion {
    pub version: u64,
    pub title: String,
    pub subtasks: Vec<Subtask>,
    pub created_at: String,
    /// `created`, `update`, `revise: <feedback>`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanHistoryResult {
    pub plan_id: String,
    pub versions: Vec<PlanVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteSubtaskParams {
    pub plan_id: IdText,
    pub subtask_id: SubtaskIdText,
    /// Default `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CompletionStatus>,
    /// What the person did (a failed step's error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultText>,
}

/// `planning/export`: the plan, and the text to write (`toml` unless said).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportPlanParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<super::enums::PlanFileFormat>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportPlanResult {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionParams {
    pub session_id: IdText,
}
