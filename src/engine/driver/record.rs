//! The driver's part in keeping agent work on the record: it commits what the agents signal —
//! transcript entries, file changes, questions and their answers — with the run's other
//! transitions (same single owner, same commit-then-emit rule), answers questions from
//! `planning/answer` through the run's [`QuestionDesk`], and makes an attempt's result say what
//! was and was not applied, from this record rather than from the model's words.
//!
//! The bounds are decided here: how much transcript is kept per attempt and per plan, how large a
//! recorded file may be, and the plan's budget for recorded file contents.

use std::collections::{BTreeMap, HashMap};

use tokio::sync::oneshot;

use super::Driver;
use crate::engine::agent::AgentSignal;
use crate::engine::events::RunEventKind;
use crate::engine::manual::ApprovalReply;
use crate::engine::questions::{AnswerRefused, QuestionDesk};
use crate::model::record::{Content, FileChangeRecord, TranscriptEntry, TranscriptKind, change_line};
use crate::model::{PlanId, ToolKind};
use crate::store::{PlanRepository, TranscriptLimits, WriteOp};

/// How much transcript is kept: the oldest entries go first, and their number is kept.
pub const TRANSCRIPT_LIMITS: TranscriptLimits =
    TranscriptLimits { attempt_entries: 2_000, attempt_bytes: 2 * 1024 * 1024, plan_bytes: 16 * 1024 * 1024 };
/// The largest file content a change record keeps (each side).
pub const MAX_RECORDED_FILE_BYTES: usize = 1024 * 1024;
/// File contents a plan's change records keep at most, over every attempt; beyond it a change is
/// recorded without its content (no diff, not restorable).
pub const PLAN_CHANGE_BUDGET_BYTES: u64 = 32 * 1024 * 1024;

/// What the driver keeps of the run's record besides what it commits.
pub(super) struct RunRecord {
    pub questions: QuestionDesk,
    /// Bytes of file content the plan's change records keep (loaded when the run starts).
    kept_bytes: u64,
    /// Per node: what its current attempt did.
    ledgers: Vec<AttemptLedger>,
}

/// What one attempt did, from its signals.
#[derive(Default)]
struct AttemptLedger {
    /// Files changed: path → (added, removed).
    files: BTreeMap<String, (u64, u64)>,
    /// Bytes of content kept per recorded path (for the budget).
    kept: HashMap<String, u64>,
    /// Tool calls refused (by the person or the policy), as "target" per kind.
    denied: Vec<(ToolKind, String)>,
    /// Tool calls that failed, with what failed; a later success on the same target clears it.
    failed: Vec<(ToolKind, String, String)>,
}

impl RunRecord {
    pub fn new(size: usize) -> Self {
        Self {
            questions: QuestionDesk::new(),
            kept_bytes: 0,
            ledgers: (0..size).map(|_| AttemptLedger::default()).collect(),
        }
    }

    /// Reads how much the plan's earlier runs already keep (a failure counts as nothing kept).
    pub async fn load(&mut self, repository: &PlanRepository, plan_id: &PlanId) {
        let plan_id = plan_id.clone();
        match repository.call(move |store| store.recorded_change_bytes(&plan_id)).await {
            Ok(bytes) => self.kept_bytes = bytes,
            Err(error) => tracing::warn!(%error, "cannot read the plan's recorded change bytes"),
        }
    }

    /// A new attempt of `node` starts with an empty ledger.
    pub fn begin_attempt(&mut self, node: usize) {
        self.ledgers[node] = AttemptLedger::default();
    }
}

impl Driver {
    /// The record's signals: everything but activity and usage.
    pub(super) fn on_record_signal(&mut self, node: usize, signal: AgentSignal) {
        match signal {
            AgentSignal::Transcript { attempt, entry } => self.on_transcript(node, attempt, entry),
            AgentSignal::FileChanged { record, replaces } => self.on_file_changed(node, *record, replaces),
            AgentSignal::ApprovalAsked(approval) => {
                let subtask = &mut self.plan.subtasks[node];
                subtask.pending_approval = Some(approval.clone());
                let subtask_id = subtask.id.clone();
                self.mark_dirty(node);
                self.push_run_event(RunEventKind::ApprovalRequested { subtask_id, approval });
            }
            AgentSignal::ApprovalAnswered { request_id, question, answer, answer_text, by } => {
                let subtask = &mut self.plan.subtasks[node];
                if subtask.pending_approval.as_ref().is_some_and(|pending| pending.request_id == request_id) {
                    subtask.pending_approval = None;
                }
                let subtask_id = subtask.id.clone();
                self.mark_dirty(node);
                let detail = format!("{question} -> {answer_text}");
                self.push_plan_event("toolApproval", Some(node), None, None, Some(detail));
                self.push_run_event(RunEventKind::ApprovalAnswered { subtask_id, request_id, answer, by });
            }
            AgentSignal::Activity(_) | AgentSignal::Usage(_) => {}
        }
    }

    fn on_transcript(&mut self, node: usize, attempt: u32, entry: TranscriptEntry) {
        if entry.kind == TranscriptKind::ToolResult {
            self.note_tool_result(node, &entry);
        }
        let subtask_id = self.plan.subtasks[node].id.clone();
        // Entries of one attempt that arrive together go in one op.
        if let Some(WriteOp::AppendTranscript { subtask_id: last_subtask, attempt: last_attempt, entries, .. }) =
            self.batch.record_ops.last_mut()
            && *last_subtask == subtask_id
            && *last_attempt == attempt
        {
            entries.push(entry);
            return;
        }
        self.batch.record_ops.push(WriteOp::AppendTranscript {
            plan_id: self.plan.id.clone(),
            subtask_id,
            attempt,
            entries: vec![entry],
            limits: TRANSCRIPT_LIMITS,
        });
    }

    /// Keeps what an honest result needs: refusals and failures, by tool kind and target.
    fn note_tool_result(&mut self, node: usize, entry: &TranscriptEntry) {
        let ledger = &mut self.record.ledgers[node];
        let kind = entry.tool_kind.unwrap_or(ToolKind::Other);
        let target = entry.target.clone().unwrap_or_else(|| entry.tool.clone().unwrap_or_default());
        match entry.outcome.as_deref() {
            Some("denied") => ledger.denied.push((kind, target)),
            Some("error" | "failed") => {
                let what = entry.text.as_deref().map(first_line).unwrap_or_default();
                let tool = entry.tool.clone().unwrap_or_default();
                ledger.failed.push((kind, target, format!("{tool}: {what}")));
            }
            Some("ok") => ledger.failed.retain(|(failed_kind, failed_target, _)| {
                !(*failed_kind == kind && *failed_target == target && kind != ToolKind::Execute)
            }),
            _ => {}
        }
    }

    fn on_file_changed(&mut self, node: usize, mut record: FileChangeRecord, replaces: Option<String>) {
        if crate::confine::relative_parts(&record.path).is_ok_and(crate::confine::is_protected) {
            return;
        }
        let ledger = &mut self.record.ledgers[node];
        let previous = ledger.kept.remove(&record.path).unwrap_or(0)
            + replaces.as_ref().and_then(|old| ledger.kept.remove(old)).unwrap_or(0);
        if let Some(old) = &replaces {
            ledger.files.remove(old);
        }
        let others = self.record.kept_bytes.saturating_sub(previous);
        keep_within_limits(&mut record, others);
        let kept = record.kept_bytes() as u64;
        self.record.kept_bytes = others + kept;
        ledger.kept.insert(record.path.clone(), kept);
        ledger.files.insert(record.path.clone(), (record.added, record.removed));
        self.batch.record_ops.push(WriteOp::RecordFileChange {
            plan_id: self.plan.id.clone(),
            record: Box::new(record),
            replaces,
        });
    }

    /// `planning/answer`: answers the question through the desk (the first answer wins); the
    /// subtask stops carrying it at once, and the reply waits for the commit.
    pub(super) fn on_answer(&mut self, reply: ApprovalReply, done: oneshot::Sender<Result<(), AnswerRefused>>) {
        let Some(node) = self.plan.subtasks.iter().position(|subtask| subtask.id == reply.subtask_id) else {
            let _ = done.send(Err(AnswerRefused::UnknownSubtask(reply.subtask_id)));
            return;
        };
        if let Err(refused) = self.record.questions.answer(&reply.subtask_id, &reply.request_id, reply.answer) {
            let _ = done.send(Err(refused));
            return;
        }
        let subtask = &mut self.plan.subtasks[node];
        if subtask.pending_approval.as_ref().is_some_and(|pending| pending.request_id == reply.request_id) {
            subtask.pending_approval = None;
            self.mark_dirty(node);
        }
        self.batch.answer_replies.push(done);
    }

    /// An attempt of `node` ended: nobody waits for an answer any more.
    pub(super) fn forget_question(&mut self, node: usize) {
        if self.plan.subtasks[node].pending_approval.take().is_some() {
            self.mark_dirty(node);
        }
    }

    /// The attempt's result as it should be reported: the model's words alone when everything it
    /// tried was applied, else first what was refused and what failed, from the record.
    pub(super) fn honest_result(&self, node: usize, model_result: String) -> String {
        let ledger = &self.record.ledgers[node];
        let mut facts = Vec::new();
        let changes: Vec<&str> = ledger
            .denied
            .iter()
            .filter(|(kind, _)| *kind != ToolKind::Execute)
            .map(|(_, target)| target.as_str())
            .collect();
        let commands: Vec<String> = ledger
            .denied
            .iter()
            .filter(|(kind, _)| *kind == ToolKind::Execute)
            .map(|(_, target)| format!("`{target}`"))
            .collect();
        if !changes.is_empty() {
            facts.push(format!("{} denied: {}", counted(changes.len(), "change"), changes.join(", ")));
        }
        if !commands.is_empty() {
            facts.push(format!("{} denied: {}", counted(commands.len(), "command"), commands.join(", ")));
        }
        if !ledger.failed.is_empty() {
            let failures: Vec<&str> = ledger.failed.iter().map(|(_, _, what)| what.as_str()).collect();
            facts.push(format!("{} failed: {}", counted(failures.len(), "tool call"), failures.join("; ")));
        }
        if facts.is_empty() {
            return model_result;
        }
        if !ledger.files.is_empty() {
            let applied: Vec<String> =
                ledger.files.iter().map(|(path, (added, removed))| change_line(path, *added, *removed)).collect();
            facts.push(format!("applied: {}", applied.join(", ")));
        } else {
            facts.push("no file was changed".to_owned());
        }
        format!("{}.\nThe agent said: {model_result}", facts.join(". "))
    }
}

/// Keeps the record's contents only within the per-file limit and the plan's budget (`others`:
/// bytes the plan's other records keep); what is over is recorded as not kept, and why.
fn keep_within_limits(record: &mut FileChangeRecord, others: u64) {
    for side in [&mut record.before, &mut record.after] {
        keep_within_file_limit(side);
    }
    if others + record.kept_bytes() as u64 > PLAN_CHANGE_BUDGET_BYTES {
        let reason =
            format!("not kept: over the plan's budget of {} MB for recorded changes", PLAN_CHANGE_BUDGET_BYTES >> 20);
        for side in [&mut record.before, &mut record.after] {
            if let Content::Text(_) = side {
                *side = Content::NotKept(reason.clone());
            }
        }
    }
}

/// Content over the per-file limit, or not text, is recorded as not kept.
fn keep_within_file_limit(side: &mut Content) {
    let reason = match side {
        Content::Text(text) if text.len() > MAX_RECORDED_FILE_BYTES => {
            format!("not kept: {} bytes, over the {} MB limit per file", text.len(), MAX_RECORDED_FILE_BYTES >> 20)
        }
        // Read as text with replacement characters: not text, and not restorable byte for byte.
        Content::Text(text) if text.contains('\u{FFFD}') => "not kept: not a text file".to_owned(),
        _ => return,
    };
    *side = Content::NotKept(reason);
}

fn counted(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}

fn first_line(text: &str) -> &str {
    let line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.char_indices().nth(160) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_binary_contents_are_not_kept() {
        let mut large = Content::Text("x".repeat(MAX_RECORDED_FILE_BYTES + 1));
        keep_within_file_limit(&mut large);
        assert!(matches!(&large, Content::NotKept(reason) if reason.contains("over the 1 MB limit")), "{large:?}");
        let mut binary = Content::Text("a\u{FFFD}b".into());
        keep_within_file_limit(&mut binary);
        assert_eq!(binary, Content::NotKept("not kept: not a text file".into()));
        let mut small = Content::Text("fine".into());
        keep_within_file_limit(&mut small);
        assert_eq!(small, Content::Text("fine".into()));
    }

    #[test]
    fn a_change_over_the_plans_budget_is_recorded_without_its_content() {
        let mut record = FileChangeRecord {
            subtask_id: crate::model::SubtaskId::from_raw("s1"),
            attempt: 1,
            path: "a.txt".into(),
            from: None,
            before: Content::Absent,
            after: Content::Text("new text".into()),
            added: 1,
            removed: 0,
            first_at: crate::model::Timestamp::from_millis(0),
            last_at: crate::model::Timestamp::from_millis(0),
            rolled_back_at: None,
        };
        let fits = record.clone();
        keep_within_limits(&mut record, PLAN_CHANGE_BUDGET_BYTES - 8);
        assert_eq!(record, fits, "exactly at the budget");
        keep_within_limits(&mut record, PLAN_CHANGE_BUDGET_BYTES - 7);
        assert_eq!(
            record.after,
            Content::NotKept("not kept: over the plan's budget of 32 MB for recorded changes".into())
        );
        assert_eq!(record.before, Content::Absent, "an absent side stays absent");
    }

    #[test]
    fn a_failure_is_named_by_its_first_line() {
        assert_eq!(first_line("error: no match for the search block\nmore"), "no match for the search block");
        assert_eq!(counted(2, "change"), "2 changes");
    }
}
