//! What an ACP client is shown: a plan as `session/update` plan entries (the subtasks' statuses
//! mapped onto ACP's three), an agent's tool use as tool calls with ACP's tool kinds, an edit as a
//! diff. Pure conversions; sending is `session.rs`'s.

use agent_client_protocol::v1::schema::{
    ContentBlock, ContentChunk, Diff, Plan as AcpPlan, PlanEntry, PlanEntryPriority, PlanEntryStatus, SessionUpdate,
    TextContent, ToolCall, ToolCallContent, ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};

use crate::engine::{ActivityPhase, AgentActivity};
use crate::model::{Plan, SubtaskId, SubtaskStatus};

/// A subtask's status as a plan entry's: not started, running (or waiting for someone), finished
/// in any way (how it ended is in the entry's text).
pub fn entry_status(status: SubtaskStatus) -> PlanEntryStatus {
    match status {
        SubtaskStatus::Pending => PlanEntryStatus::Pending,
        SubtaskStatus::Running | SubtaskStatus::Waiting => PlanEntryStatus::InProgress,
        SubtaskStatus::Done | SubtaskStatus::Failed | SubtaskStatus::Skipped | SubtaskStatus::Cancelled => {
            PlanEntryStatus::Completed
        }
    }
}

/// The whole plan as entries (ACP replaces the plan with each update), in plan order.
pub fn plan_update(plan: &Plan, statuses: &[(SubtaskId, SubtaskStatus)]) -> SessionUpdate {
    let entries = plan
        .subtasks
        .iter()
        .map(|subtask| {
            let status =
                statuses.iter().find(|(id, _)| id == &subtask.id).map_or(subtask.status, |(_, status)| *status);
            let content = match status {
                SubtaskStatus::Failed | SubtaskStatus::Skipped | SubtaskStatus::Cancelled => {
                    format!("{} ({})", subtask.title, status.as_str())
                }
                SubtaskStatus::Waiting => format!("{} (waiting for you)", subtask.title),
                _ => subtask.title.clone(),
            };
            PlanEntry::new(content, PlanEntryPriority::Medium, entry_status(status))
        })
        .collect();
    SessionUpdate::Plan(AcpPlan::new(entries))
}

/// A line of text from the agent.
pub fn message(text: impl Into<String>) -> SessionUpdate {
    SessionUpdate::AgentMessageChunk(ContentChunk::new(ContentBlock::Text(TextContent::new(text.into()))))
}

/// An agent's tool use: a new tool call when it starts, its end as an update. `None` for what is
/// not a tool call (thinking, waiting for an approval, which the permission request shows).
pub fn tool_update(call_id: &str, activity: &AgentActivity) -> Option<SessionUpdate> {
    let title = match (&activity.tool, &activity.target) {
        (Some(tool), Some(target)) => format!("{tool} {target}"),
        (Some(tool), None) => tool.clone(),
        _ => return None,
    };
    match activity.phase {
        ActivityPhase::ToolStarted => Some(SessionUpdate::ToolCall(
            ToolCall::new(call_id.to_owned(), title)
                .kind(activity.kind.map_or(ToolKind::Other, tool_kind))
                .status(ToolCallStatus::InProgress),
        )),
        ActivityPhase::ToolFinished => Some(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
            call_id.to_owned(),
            ToolCallUpdateFields::new().status(ToolCallStatus::Completed),
        ))),
        ActivityPhase::Thinking | ActivityPhase::WaitingForApproval => None,
    }
}

/// An edit an agent made: a finished tool call of kind `edit` carrying the diff.
pub fn edit_call(
    call_id: &str,
    label: &str,
    path: &std::path::Path,
    old_text: Option<String>,
    new_text: &str,
) -> SessionUpdate {
    let diff = Diff::new(path.to_path_buf(), new_text.to_owned()).old_text(old_text);
    SessionUpdate::ToolCall(
        ToolCall::new(call_id.to_owned(), label.to_owned())
            .kind(ToolKind::Edit)
            .status(ToolCallStatus::Completed)
            .content(vec![ToolCallContent::Diff(diff)]),
    )
}

/// The engine's tool kinds are ACP's (the agents were written to them).
pub fn tool_kind(kind: crate::engine::ToolKind) -> ToolKind {
    use crate::engine::ToolKind as Engine;
    match kind {
        Engine::Read => ToolKind::Read,
        Engine::Edit => ToolKind::Edit,
        Engine::Delete => ToolKind::Delete,
        Engine::Move => ToolKind::Move,
        Engine::Search => ToolKind::Search,
        Engine::Execute => ToolKind::Execute,
        Engine::Think => ToolKind::Think,
        Engine::Fetch => ToolKind::Fetch,
        Engine::Other => ToolKind::Other,
    }
}
