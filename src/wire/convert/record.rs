//! Agent work on the record, domain ⇄ wire: pending approvals and change summaries on subtasks,
//! transcripts, file diffs, rollback reports, and `planning/answer`'s params.

use super::{field_problem, optional_time, time};
use crate::model::record::{FileChangeKind, Transcript, TranscriptEntry, TranscriptKind};
use crate::model::validate::Problem;
use crate::model::{Answer, ChangeSummary, PendingApproval, PlanId, SubtaskId};
use crate::orchestrator::{AnswerRequest, FileDiff, RollbackReport};
use crate::wire as ext;

/// The options every question offers, in order (Allow, Allow for this plan, Deny).
const OPTIONS: [ext::PermissionOption; 3] =
    [ext::PermissionOption::AllowOnce, ext::PermissionOption::AllowAlways, ext::PermissionOption::RejectOnce];

pub fn pending_approval_to_wire(pending: &PendingApproval) -> ext::PendingApproval {
    ext::PendingApproval {
        request_id: pending.request_id.clone(),
        question: pending.question.clone(),
        tool_kind: pending.tool_kind.into(),
        target: pending.target.clone(),
        diff: pending.diff.clone(),
        options: OPTIONS.to_vec(),
        summary: pending.summary.clone(),
        scope: Some(pending.tool_kind.plan_scope().to_owned()),
        asked_at: optional_time(Some(pending.asked_at)),
    }
}

pub fn change_summary_to_wire(summary: ChangeSummary) -> ext::ChangeSummary {
    ext::ChangeSummary { files: summary.files, added: summary.added, removed: summary.removed }
}

pub fn answer_to_wire(answer: Answer) -> ext::PermissionOption {
    match answer {
        Answer::AllowOnce => ext::PermissionOption::AllowOnce,
        Answer::AllowForPlan => ext::PermissionOption::AllowAlways,
        Answer::Deny => ext::PermissionOption::RejectOnce,
    }
}

fn answer_from_wire(option: ext::PermissionOption) -> Answer {
    match option {
        ext::PermissionOption::AllowOnce => Answer::AllowOnce,
        ext::PermissionOption::AllowAlways => Answer::AllowForPlan,
        ext::PermissionOption::RejectOnce => Answer::Deny,
    }
}

fn transcript_kind_to_wire(kind: TranscriptKind) -> ext::TranscriptEntryKind {
    match kind {
        TranscriptKind::Message => ext::TranscriptEntryKind::Message,
        TranscriptKind::ToolCall => ext::TranscriptEntryKind::ToolCall,
        TranscriptKind::ToolResult => ext::TranscriptEntryKind::ToolResult,
        TranscriptKind::Approval => ext::TranscriptEntryKind::Approval,
        TranscriptKind::Note => ext::TranscriptEntryKind::Note,
    }
}

fn entry_to_wire(entry: &TranscriptEntry) -> ext::TranscriptEntry {
    ext::TranscriptEntry {
        at: time(entry.at),
        kind: transcript_kind_to_wire(entry.kind),
        role: entry.role.clone(),
        text: entry.text.clone(),
        tool: entry.tool.clone(),
        tool_kind: entry.tool_kind.map(Into::into),
        target: entry.target.clone(),
        arguments: entry.arguments.clone(),
        outcome: entry.outcome.clone(),
    }
}

pub fn transcript_to_wire(transcript: &Transcript) -> ext::TranscriptResult {
    ext::TranscriptResult {
        entries: transcript.entries.iter().map(entry_to_wire).collect(),
        dropped: transcript.dropped,
        attempt: transcript.attempt,
    }
}

fn change_kind_to_wire(kind: FileChangeKind) -> ext::FileChangeKind {
    match kind {
        FileChangeKind::Added => ext::FileChangeKind::Added,
        FileChangeKind::Modified => ext::FileChangeKind::Modified,
        FileChangeKind::Deleted => ext::FileChangeKind::Deleted,
        FileChangeKind::Moved => ext::FileChangeKind::Moved,
    }
}

pub fn file_diff_to_wire(diff: &FileDiff) -> ext::FileChange {
    ext::FileChange {
        subtask_id: diff.subtask_id.to_string(),
        attempt: diff.attempt,
        path: diff.path.clone(),
        change: change_kind_to_wire(diff.kind),
        from: diff.from.clone(),
        diff: diff.diff.clone(),
        added: diff.added,
        removed: diff.removed,
        rolled_back: diff.rolled_back,
    }
}

pub fn changes_to_wire(diffs: &[FileDiff]) -> ext::ChangesResult {
    ext::ChangesResult { changes: diffs.iter().map(file_diff_to_wire).collect() }
}

pub fn rollback_to_wire(report: &RollbackReport) -> ext::RollbackResult {
    ext::RollbackResult {
        restored: report.restored.clone(),
        conflicts: report
            .conflicts
            .iter()
            .map(|(path, reason)| ext::RollbackConflict { path: path.clone(), reason: reason.clone() })
            .collect(),
    }
}

/// `planning/transcript`'s attempt: 1 or more when given.
pub fn transcript_attempt(attempt: Option<i64>) -> Result<Option<u32>, Problem> {
    attempt
        .map(|attempt| {
            u32::try_from(attempt)
                .ok()
                .filter(|attempt| *attempt >= 1)
                .ok_or_else(|| field_problem("attempt", format!("must be 1 or more, got {attempt}")))
        })
        .transpose()
}

pub fn answer_params_to_request(params: ext::AnswerParams) -> Result<AnswerRequest, Problem> {
    if params.subtask_id.trim().is_empty() {
        return Err(field_problem("subtaskId", "must not be empty"));
    }
    if params.request_id.trim().is_empty() {
        return Err(field_problem("requestId", "must not be empty"));
    }
    Ok(AnswerRequest {
        plan_id: PlanId::from_raw(params.plan_id),
        subtask_id: SubtaskId::from_raw(params.subtask_id),
        request_id: params.request_id.into(),
        answer: answer_from_wire(params.option),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_the_acp_options_both_ways() {
        for option in OPTIONS {
            assert_eq!(answer_to_wire(answer_from_wire(option)), option);
            assert_eq!(answer_from_wire(option).acp_kind(), option.as_str());
        }
        assert!(transcript_attempt(Some(0)).is_err());
        assert_eq!(transcript_attempt(Some(2)).unwrap(), Some(2));
    }
}
