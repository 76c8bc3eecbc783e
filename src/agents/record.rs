//! What an LLM agent puts on the record, as signals to its run's driver (agents never touch the
//! store): its transcript — the task, the model's messages, each tool call with its arguments,
//! each result (bounded, saying what was cut), questions and answers, notes — and every file
//! change the workspace writer applies for its attempt.
//!
//! - [`record`] and its helpers bound each text and replace the API key's value before anything
//!   leaves the agent.
//! - [`ChangeRouter`] is the writer's [`ChangeObserver`]: it sends each applied change to the
//!   attempt that made it (registered for the attempt's length), as the attempt's record of that
//!   file — content before the attempt's first change of it and after this one, with the lines
//!   added and removed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::context::truncate_for_model;
use super::tools::ToolEnv;
use super::writer::{AppliedChange, ChangeKind, ChangeObserver, ChangeOrigin};
use crate::engine::{AgentSignal, SignalSink};
use crate::model::record::{Content, FileChangeRecord, TranscriptEntry, TranscriptKind};
use crate::model::{PlanId, SubtaskId, Timestamp, ToolKind};

/// Bytes of one entry's text kept at most (head and tail, with what was cut in between).
pub const MAX_ENTRY_TEXT_BYTES: usize = 16 * 1024;
/// Bytes of a tool call's arguments kept at most.
pub const MAX_ARGUMENTS_BYTES: usize = 16 * 1024;

/// Sends one transcript entry of the agent's attempt, bounded and without secrets.
pub fn record(env: &ToolEnv, mut entry: TranscriptEntry) {
    let bound = |text: Option<String>, limit: usize| text.map(|text| truncate_for_model(&env.redact(text), limit));
    entry.text = bound(entry.text.take(), MAX_ENTRY_TEXT_BYTES);
    entry.arguments = bound(entry.arguments.take(), MAX_ARGUMENTS_BYTES);
    entry.target = bound(entry.target.take(), 1024);
    env.io.signals.send(AgentSignal::Transcript { attempt: env.origin.attempt, entry });
}

/// A message of the conversation: `user` (the task) or `assistant` (the model).
pub fn message(env: &ToolEnv, role: &str, text: &str) {
    let mut entry = TranscriptEntry::new(Timestamp::now(), TranscriptKind::Message);
    entry.role = Some(role.to_owned());
    entry.text = Some(text.to_owned());
    record(env, entry);
}

/// Something the loop did that the person should know: a retry, a truncation, the cap.
pub fn note(env: &ToolEnv, text: impl Into<String>) {
    let mut entry = TranscriptEntry::new(Timestamp::now(), TranscriptKind::Note);
    entry.text = Some(text.into());
    record(env, entry);
}

/// A tool call as the model asked for it.
pub fn tool_call(env: &ToolEnv, tool: &str, kind: ToolKind, target: Option<String>, arguments: &str) {
    let mut entry = TranscriptEntry::new(Timestamp::now(), TranscriptKind::ToolCall);
    entry.tool = Some(tool.to_owned());
    entry.tool_kind = Some(kind);
    entry.target = target;
    entry.arguments = Some(arguments.to_owned());
    record(env, entry);
}

/// A tool call's result, as the model got it, with how it ended ([`outcome_of`]).
pub fn tool_result(env: &ToolEnv, tool: &str, kind: ToolKind, target: Option<String>, text: &str, outcome: &str) {
    let mut entry = TranscriptEntry::new(Timestamp::now(), TranscriptKind::ToolResult);
    entry.tool = Some(tool.to_owned());
    entry.tool_kind = Some(kind);
    entry.target = target;
    entry.text = Some(text.to_owned());
    entry.outcome = Some(outcome.to_owned());
    record(env, entry);
}

/// How a tool's result text says it ended: `denied`, `error`, `failed` (a command that exited
/// with an error, was killed or timed out), or `ok`. Tool errors begin with `error: ` (see
/// `tools::dispatch`); a command's result begins with "`command`: exit code N".
pub fn outcome_of(tool: &str, text: &str) -> &'static str {
    if let Some(error) = text.strip_prefix("error: ") {
        return if error.starts_with("denied") { "denied" } else { "error" };
    }
    if tool == "execute_command" {
        let status = text.lines().next().and_then(|line| line.rsplit_once("`: ")).map(|(_, status)| status);
        return match status {
            Some("exit code 0") | None => "ok",
            Some(_) => "failed",
        };
    }
    "ok"
}

/// Routes each change the writer applies to the attempt that made it.
#[derive(Default)]
pub struct ChangeRouter {
    routes: Mutex<HashMap<RouteKey, Route>>,
}

type RouteKey = (PlanId, SubtaskId, u32);

/// One attempt's route: where its signals go and what it changed so far.
struct Route {
    signals: SignalSink,
    /// Values no recorded content may hold (the API key): such content is not kept.
    secrets: Vec<String>,
    /// Content of each path before the attempt's first change of it (`None`: absent).
    first: HashMap<String, Option<String>>,
    /// Where each file the attempt moved was before (its first location).
    moved_from: HashMap<String, String>,
}

impl ChangeRouter {
    fn lock(&self) -> MutexGuard<'_, HashMap<RouteKey, Route>> {
        self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the changes made under `origin` to `signals` until the guard is dropped; a file's
    /// content that holds one of `secrets` is recorded as not kept.
    pub fn route(self: &Arc<Self>, origin: &ChangeOrigin, signals: SignalSink, secrets: Vec<String>) -> RouteGuard {
        let key = (origin.plan_id.clone(), origin.subtask_id.clone(), origin.attempt);
        let secrets = secrets.into_iter().filter(|secret| !secret.is_empty()).collect();
        let route = Route { signals, secrets, first: HashMap::new(), moved_from: HashMap::new() };
        self.lock().insert(key.clone(), route);
        RouteGuard { router: self.clone(), key }
    }
}

/// Stops routing an attempt's changes when dropped.
pub struct RouteGuard {
    router: Arc<ChangeRouter>,
    key: RouteKey,
}

impl Drop for RouteGuard {
    fn drop(&mut self) {
        self.router.lock().remove(&self.key);
    }
}

impl ChangeObserver for ChangeRouter {
    fn change_applied(&self, change: &AppliedChange<'_>) {
        let origin = change.origin;
        let key = (origin.plan_id.clone(), origin.subtask_id.clone(), origin.attempt);
        let mut routes = self.lock();
        // Changes made outside an attempt (a rollback) are not an agent's.
        let Some(route) = routes.get_mut(&key) else { return };
        let path = change.path.relative.clone();
        let (before, from, replaces) = match &change.kind {
            ChangeKind::CreateDirectory => return,
            ChangeKind::Write | ChangeKind::Delete => {
                let first = route.first.entry(path.clone()).or_insert_with(|| change.before.map(str::to_owned));
                (first.clone(), route.moved_from.get(&path).cloned(), None)
            }
            ChangeKind::Move { from } => {
                // The content before is what the old path held before the attempt touched it.
                let first = route.first.remove(from).unwrap_or_else(|| change.after.map(str::to_owned));
                let original = route.moved_from.remove(from).unwrap_or_else(|| from.clone());
                route.first.insert(path.clone(), first.clone());
                let moved = (original != path).then_some(original);
                match &moved {
                    Some(original) => route.moved_from.insert(path.clone(), original.clone()),
                    None => route.moved_from.remove(&path),
                };
                (first, moved, Some(from.clone()))
            }
        };
        let (added, removed) = crate::diff::line_counts(before.as_deref(), change.after);
        let now = Timestamp::now();
        let kept = |text: &str| {
            if route.secrets.iter().any(|secret| text.contains(secret.as_str())) {
                Content::NotKept("not kept: it holds the API key".to_owned())
            } else {
                Content::Text(text.to_owned())
            }
        };
        let record = FileChangeRecord {
            subtask_id: origin.subtask_id.clone(),
            attempt: origin.attempt,
            path,
            from,
            before: before.as_deref().map_or(Content::Absent, kept),
            after: change.after.map_or(Content::Absent, kept),
            added,
            removed,
            first_at: now,
            last_at: now,
            rolled_back_at: None,
        };
        route.signals.send(AgentSignal::FileChanged { record: Box::new(record), replaces });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_come_from_the_result_text() {
        assert_eq!(outcome_of("write_file", "created a.txt (1 lines)"), "ok");
        assert_eq!(outcome_of("write_file", "error: denied by the person; do not try this again"), "denied");
        assert_eq!(
            outcome_of("execute_command", "error: denied: refused: `sudo x` needs elevated privileges"),
            "denied"
        );
        assert_eq!(outcome_of("edit_file", "error: no match for the search block"), "error");
        assert_eq!(outcome_of("execute_command", "`make`: exit code 2\nboom"), "failed");
        assert_eq!(outcome_of("execute_command", "`make`: exit code 0\nok"), "ok");
        assert_eq!(outcome_of("execute_command", "`sleep 9`: timed out after 1 s and was killed\n"), "failed");
    }
}
