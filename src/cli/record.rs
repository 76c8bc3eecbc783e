//! Agent work on the record from the terminal: `changes ID [STEP]` (the files agents changed, as
//! unified diffs), `rollback ID [STEP]` (restore them; a file changed since is left and named),
//! `transcript ID STEP [--attempt N]` (what the agent did, readable). Each is one orchestrator
//! call and a printout (or the wire object as JSON with `--json`).

use super::commands::print_json;
use super::{Cli, CliError, EXIT_FAILED, EXIT_OK};
use crate::model::record::{TranscriptEntry, TranscriptKind};
use crate::model::{PlanId, SubtaskId};
use crate::orchestrator::FileDiff;
use crate::wire::convert::{changes_to_wire, rollback_to_wire, transcript_to_wire};

pub(crate) async fn changes(cli: &Cli, plan_id: String, step: Option<String>) -> Result<i32, CliError> {
    let diffs = cli.orchestrator.changes(PlanId::from_raw(plan_id.clone()), step.map(SubtaskId::from_raw)).await?;
    if cli.json {
        print_json(&changes_to_wire(&diffs))?;
        return Ok(EXIT_OK);
    }
    if diffs.is_empty() {
        super::print_line(&format!("no file changes are recorded for {plan_id}"));
    }
    for diff in &diffs {
        super::print_line(&diff_header(diff));
        super::print_text(&diff.diff);
    }
    Ok(EXIT_OK)
}

/// `── s1 (attempt 1) · modified README.md · +2 −1`
fn diff_header(diff: &FileDiff) -> String {
    let from = diff.from.as_deref().map(|from| format!(" (from {from})")).unwrap_or_default();
    let undone = if diff.rolled_back { " · rolled back" } else { "" };
    format!(
        "── {} (attempt {}) · {} {}{from} · +{} \u{2212}{}{undone}",
        diff.subtask_id,
        diff.attempt,
        diff.kind.as_str(),
        diff.path,
        diff.added,
        diff.removed
    )
}

pub(crate) async fn rollback(cli: &Cli, plan_id: String, step: Option<String>) -> Result<i32, CliError> {
    let report = cli.orchestrator.rollback(PlanId::from_raw(plan_id.clone()), step.map(SubtaskId::from_raw)).await?;
    if cli.json {
        print_json(&rollback_to_wire(&report))?;
    } else {
        if report.restored.is_empty() && report.conflicts.is_empty() {
            super::print_line(&format!("nothing to revert in {plan_id}"));
        }
        for path in &report.restored {
            super::print_line(&format!("restored {path}"));
        }
        for (path, reason) in &report.conflicts {
            super::print_line(&format!("left {path}: {reason}"));
        }
    }
    Ok(if report.conflicts.is_empty() { EXIT_OK } else { EXIT_FAILED })
}

pub(crate) async fn transcript(
    cli: &Cli,
    plan_id: String,
    step: String,
    attempt: Option<u32>,
) -> Result<i32, CliError> {
    let transcript =
        cli.orchestrator.transcript(PlanId::from_raw(plan_id), SubtaskId::from_raw(step.clone()), attempt).await?;
    if cli.json {
        print_json(&transcript_to_wire(&transcript))?;
        return Ok(EXIT_OK);
    }
    if transcript.attempt == 0 {
        super::print_line(&format!("{step} has no transcript (no language model worked on it)"));
        return Ok(EXIT_OK);
    }
    super::print_line(&format!("Transcript of {step}, attempt {}", transcript.attempt));
    if transcript.dropped > 0 {
        super::print_line(&format!("({} earlier entries were dropped to keep the record bounded)", transcript.dropped));
    }
    for entry in &transcript.entries {
        super::print_text(&readable_entry(entry));
    }
    Ok(EXIT_OK)
}

/// One entry as a person reads it: a head line with the time, the text indented below.
pub fn readable_entry(entry: &TranscriptEntry) -> String {
    let time = entry.at.to_rfc3339().get(11..19).unwrap_or_default().to_owned();
    let target = entry.target.as_deref().map(|target| format!(" {target}")).unwrap_or_default();
    let tool = entry.tool.as_deref().unwrap_or("tool");
    let outcome = entry.outcome.as_deref().unwrap_or_default();
    let (head, body) = match entry.kind {
        TranscriptKind::Message if entry.role.as_deref() == Some("user") => ("▸ the task".to_owned(), &entry.text),
        TranscriptKind::Message => ("▸ the model".to_owned(), &entry.text),
        TranscriptKind::ToolCall => (format!("→ {tool}{target}"), &entry.arguments),
        TranscriptKind::ToolResult => (format!("← {tool}{target}: {outcome}"), &entry.text),
        TranscriptKind::Approval if outcome == "asked" => ("? asked the person".to_owned(), &entry.text),
        TranscriptKind::Approval => (format!("! answered: {outcome}"), &entry.text),
        TranscriptKind::Note => ("· note".to_owned(), &entry.text),
    };
    let mut text = format!("[{time}] {head}\n");
    for line in body.as_deref().unwrap_or_default().lines() {
        text.push_str("    ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    #[test]
    fn an_entry_reads_as_a_head_line_and_an_indented_body() {
        let mut entry = TranscriptEntry::new(Timestamp::from_millis(1_795_000_000_123), TranscriptKind::ToolResult);
        entry.tool = Some("read_file".into());
        entry.target = Some("README.md".into());
        entry.outcome = Some("ok".into());
        entry.text = Some("# Demo\nRun it.".into());
        assert_eq!(readable_entry(&entry), "[11:06:40] ← read_file README.md: ok\n    # Demo\n    Run it.\n");
    }
}
