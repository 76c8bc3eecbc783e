//! `planning/progress`: one event of a run, tagged by `kind` ([`EventKind`] names every tag).
//! Every run sends exactly one `planFinished`, last.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    ActivityPhase, EventKind, PendingApproval, PermissionOption, PlanStatus, Progress, SubtaskStatus, ToolKind, Usage,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanningProgressParams {
    pub plan_id: String,
    pub run_id: String,
    pub event: RunEvent,
}

/// One event of a run, tagged by `kind`. Every run sends exactly one `planFinished`, last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    /// One line of output, without its line terminator (`\n` or `\r\n`); a client shows each
    /// event as its own line.
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
        /// Third wave: plain words for a person, with no method or setting names.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instructions: Option<String>,
    },
    SubtaskFinished {
        subtask_id: String,
        status: SubtaskStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        duration_ms: u64,
    },
    /// Addition: a rate-bounded sign of life of an LLM agent. `toolKind`: the contract's `kind?`,
    /// renamed because `kind` is already this enum's tag.
    AgentActivity {
        subtask_id: String,
        phase: ActivityPhase,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_kind: Option<ToolKind>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tokens: Option<u64>,
    },
    /// Addition: an agent asks the person and waits; its subtask carries the question as
    /// `pendingApproval` until it is answered (`planning/answer` from any client, or the
    /// editor's `window/showMessageRequest`).
    ApprovalRequested {
        subtask_id: String,
        approval: PendingApproval,
    },
    /// Addition: the question was answered — the first answer wins and every other way of
    /// answering it is withdrawn. `by`: `editor` or `planning/answer`.
    ApprovalAnswered {
        subtask_id: String,
        request_id: String,
        option: PermissionOption,
        by: String,
    },
    PlanFinished {
        status: PlanStatus,
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

impl RunEvent {
    /// The event's `kind` tag.
    pub fn kind(&self) -> EventKind {
        match self {
            Self::PlanStarted { .. } => EventKind::PlanStarted,
            Self::SubtaskStarted { .. } => EventKind::SubtaskStarted,
            Self::SubtaskOutput { .. } => EventKind::SubtaskOutput,
            Self::SubtaskRetrying { .. } => EventKind::SubtaskRetrying,
            Self::SubtaskWaiting { .. } => EventKind::SubtaskWaiting,
            Self::SubtaskFinished { .. } => EventKind::SubtaskFinished,
            Self::AgentActivity { .. } => EventKind::AgentActivity,
            Self::ApprovalRequested { .. } => EventKind::ApprovalRequested,
            Self::ApprovalAnswered { .. } => EventKind::ApprovalAnswered,
            Self::PlanFinished { .. } => EventKind::PlanFinished,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_by_kind_in_camel_case() {
        let event = RunEvent::SubtaskFinished {
            subtask_id: "build".into(),
            status: SubtaskStatus::Done,
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
    fn every_event_kind_is_the_tag_of_its_event() {
        let progress = Progress::default();
        let events = [
            RunEvent::PlanStarted { title: String::new(), total: 0 },
            RunEvent::SubtaskStarted { subtask_id: String::new(), attempt: 1, title: String::new() },
            RunEvent::SubtaskOutput { subtask_id: String::new(), text: String::new() },
            RunEvent::SubtaskRetrying { subtask_id: String::new(), attempt: 2, delay_ms: 0, error: String::new() },
            RunEvent::SubtaskWaiting { subtask_id: String::new(), message: String::new(), instructions: None },
            RunEvent::SubtaskFinished {
                subtask_id: String::new(),
                status: SubtaskStatus::Done,
                result: None,
                error: None,
                duration_ms: 0,
            },
            RunEvent::AgentActivity {
                subtask_id: String::new(),
                phase: ActivityPhase::Thinking,
                tool: None,
                tool_kind: None,
                target: None,
                tokens: None,
            },
            RunEvent::ApprovalRequested {
                subtask_id: String::new(),
                approval: PendingApproval {
                    request_id: String::new(),
                    question: String::new(),
                    tool_kind: ToolKind::Edit,
                    target: String::new(),
                    diff: None,
                    options: Vec::new(),
                    summary: None,
                    scope: None,
                    asked_at: None,
                },
            },
            RunEvent::ApprovalAnswered {
                subtask_id: String::new(),
                request_id: String::new(),
                option: PermissionOption::AllowOnce,
                by: String::new(),
            },
            RunEvent::PlanFinished {
                status: PlanStatus::Completed,
                progress,
                duration_ms: 0,
                usage: None,
                summary: None,
            },
        ];
        let kinds: Vec<EventKind> = events.iter().map(RunEvent::kind).collect();
        assert_eq!(kinds, EventKind::ALL);
        for event in &events {
            assert_eq!(serde_json::to_value(event).unwrap()["kind"], event.kind().as_str());
        }
    }
}
