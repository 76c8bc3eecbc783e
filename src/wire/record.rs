//! The third wave's objects: agent work on the record (transcripts, file changes, rollback,
//! questions answered from any client) and more faces on the same orchestrator (`planning/next`,
//! `planning/import`). Defined here so the schema is complete; the methods that carry them are
//! marked not served in `crate::lsp::ext` until their behaviour lands.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bounds::{IdText, PathText, SubtaskIdText};
use super::{FileChangeKind, PermissionOption, Subtask, ToolKind, TranscriptEntryKind};

/// `planning/transcript`: what an agent did in one attempt of a subtask (the last when
/// `attempt` is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptParams {
    pub plan_id: IdText,
    pub subtask_id: SubtaskIdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i64>,
}

/// A bounded transcript: `dropped` entries were left out (the oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptResult {
    pub entries: Vec<TranscriptEntry>,
    pub dropped: u64,
    /// Extension: the attempt these entries are of (0: the subtask has no transcript).
    #[serde(default)]
    pub attempt: u32,
}

/// One entry of an agent's transcript (never the API key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptEntry {
    pub at: String,
    pub kind: TranscriptEntryKind,
    /// Extension: `user` (the task given to the agent) or `assistant` (the model), for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_kind: Option<ToolKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The tool call's arguments, as the model wrote them (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    /// How a tool call or a question ended: `ok`, `error`, `failed` (a command that exited with
    /// an error), `denied`, `cancelled`, `notRun`; for a question: `asked`, or the answer
    /// (`allow_once`, `allow_always`, `reject_once`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// `planning/changes` and `planning/rollback`: a plan's file changes, or one subtask's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubtaskScopeParams {
    pub plan_id: IdText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtask_id: Option<SubtaskIdText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangesResult {
    pub changes: Vec<FileChange>,
}

/// One file an agent changed in one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileChange {
    pub subtask_id: String,
    pub attempt: u32,
    pub path: String,
    pub change: FileChangeKind,
    /// The old path of a moved file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A unified diff (or why there is none: the content was not kept).
    pub diff: String,
    /// Extension: lines added and removed.
    #[serde(default)]
    pub added: u64,
    #[serde(default)]
    pub removed: u64,
    /// Extension: `planning/rollback` restored the content before this change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rolled_back: bool,
}

/// `Subtask.changes`: the files a subtask's agent changed, summed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSummary {
    pub files: u32,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackResult {
    pub restored: Vec<String>,
    pub conflicts: Vec<RollbackConflict>,
}

/// A file rollback left alone, and why (it changed since the agent wrote it, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RollbackConflict {
    pub path: String,
    pub reason: String,
}

/// `Subtask.pendingApproval`: the question an agent waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    pub request_id: String,
    pub question: String,
    pub tool_kind: ToolKind,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    pub options: Vec<PermissionOption>,
    /// Extension: the change in one line, `+3 −1 README.md` (file changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Extension: what `allow_always` ("Allow for this plan") covers, in words: "every file edit
    /// of this plan".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Extension: when the agent asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_at: Option<String>,
}

/// `planning/answer`: answers a pending approval from any client (the first answer wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnswerParams {
    pub plan_id: IdText,
    pub subtask_id: SubtaskIdText,
    pub request_id: IdText,
    pub option: PermissionOption,
}

/// `{}`: the answer was taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnswerResult {}

/// `planning/next`: the steps that can be taken now (a plan's waiting steps while it runs, the
/// pending steps of an approved plan whose dependencies are done), in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextResult {
    /// Extension: the plan looked at (the command line's `next` with no id picks one; absent when
    /// no plan has a ready step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    pub ready: Vec<Subtask>,
    /// Extension: the claims that hold on ready steps (an outside agent is doing them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<StepClaim>,
}

/// A step handed to a claimant (an MCP client) until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepClaim {
    pub subtask_id: String,
    pub claimant: String,
    pub claimed_at: String,
    pub expires_at: String,
}

/// `planning/import`: a markdown task list (spec-kit, Kiro, a plain checklist) or Taskmaster
/// `tasks.json` (or a `*.plan.toml`) becomes a draft with `sourceFile`. The format comes from
/// the file's name (`*.json`: Taskmaster; `*.md`: a task list); the editor's buffer is read when
/// the file is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportParams {
    pub path: PathText,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_uses_the_acp_option_names_and_the_result_is_an_empty_object() {
        let params: AnswerParams = serde_json::from_value(serde_json::json!({
            "planId": "p", "subtaskId": "s1", "requestId": "q1", "option": "allow_always"
        }))
        .unwrap();
        assert_eq!(params.option, PermissionOption::AllowAlways);
        assert_eq!(serde_json::to_value(AnswerResult::default()).unwrap(), serde_json::json!({}));
    }
}
