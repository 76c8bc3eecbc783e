//! Agent work on the record: attempts' transcripts (`transcript_entries`, with what was dropped
//! to stay inside the bounds in `transcript_drops`), the files attempts changed
//! (`file_changes`: content before the attempt's first change and after its last), and the
//! question a subtask's agent waits on (`subtasks.pending_approval`). One migration
//! ([`MIGRATION_RECORD`], migration 9) adds them.
//!
//! Bounds are the caller's ([`TranscriptLimits`]); this module only applies them: the oldest
//! entries go first and every dropped entry is counted with its attempt. Nothing here decides
//! what is recorded.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Map, Value, json};

use super::StoreError;
use super::codec::{corrupt_value, from_u64, parse_name, sqlite_error, to_u32, to_u64};
use super::read::plan_seq;
use crate::model::record::{Content, FileChangeRecord, Transcript, TranscriptEntry, TranscriptKind};
use crate::model::{ChangeSummary, PendingApproval, Plan, PlanId, Subtask, SubtaskId, Timestamp, ToolKind};

/// Transcripts, file changes and pending approvals.
pub(crate) const MIGRATION_RECORD: &str = "
ALTER TABLE subtasks ADD COLUMN pending_approval TEXT;
CREATE TABLE transcript_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    role TEXT,
    text TEXT,
    tool TEXT,
    tool_kind TEXT,
    target TEXT,
    arguments TEXT,
    outcome TEXT,
    bytes INTEGER NOT NULL
);
CREATE INDEX transcript_by_attempt ON transcript_entries (plan_seq, subtask_id, attempt, seq);
CREATE INDEX transcript_by_plan ON transcript_entries (plan_seq, seq, bytes);
CREATE TABLE transcript_drops (
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    dropped INTEGER NOT NULL,
    PRIMARY KEY (plan_seq, subtask_id, attempt)
);
CREATE TABLE file_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    path TEXT NOT NULL,
    from_path TEXT,
    before_state TEXT NOT NULL,
    before_text TEXT,
    after_state TEXT NOT NULL,
    after_text TEXT,
    added INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    rolled_back_at INTEGER,
    UNIQUE (plan_seq, subtask_id, attempt, path)
);
";

/// How much transcript is kept: per attempt (entries and bytes) and per plan (bytes, over every
/// attempt of every subtask). The oldest entries are dropped first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TranscriptLimits {
    pub attempt_entries: u32,
    pub attempt_bytes: u64,
    pub plan_bytes: u64,
}

/// Appends entries to an attempt's transcript, then drops the oldest beyond the limits.
pub(crate) fn append_transcript(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_id: &PlanId,
    (subtask_id, attempt): (&SubtaskId, u32),
    entries: &[TranscriptEntry],
    limits: TranscriptLimits,
) -> Result<(), StoreError> {
    let seq = existing_seq(transaction, path, plan_id)?;
    let sql_error = |error| sqlite_error(path, error);
    {
        let mut insert = transaction
            .prepare_cached(
                "INSERT INTO transcript_entries (plan_seq, subtask_id, attempt, at, kind, role, text, tool, \
                 tool_kind, target, arguments, outcome, bytes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(sql_error)?;
        for entry in entries {
            insert
                .execute(params![
                    seq,
                    subtask_id.as_str(),
                    attempt,
                    entry.at.as_millis(),
                    entry.kind.as_str(),
                    entry.role,
                    entry.text,
                    entry.tool,
                    entry.tool_kind.map(ToolKind::as_str),
                    entry.target,
                    entry.arguments,
                    entry.outcome,
                    i64::try_from(entry.bytes()).unwrap_or(i64::MAX),
                ])
                .map_err(sql_error)?;
        }
    }
    let dropped = transaction
        .execute(
            "DELETE FROM transcript_entries WHERE seq IN (SELECT seq FROM (SELECT seq, \
             SUM(bytes) OVER (ORDER BY seq DESC) AS total, ROW_NUMBER() OVER (ORDER BY seq DESC) AS number \
             FROM transcript_entries WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3) \
             WHERE total > ?4 OR number > ?5)",
            params![
                seq,
                subtask_id.as_str(),
                attempt,
                from_u64(path, "attempt_bytes", limits.attempt_bytes)?,
                limits.attempt_entries
            ],
        )
        .map_err(sql_error)?;
    count_dropped(transaction, path, seq, (subtask_id.as_str(), attempt), dropped as u64)?;
    trim_plan_transcript(transaction, path, seq, limits.plan_bytes)
}

/// Drops the plan's oldest entries beyond `plan_bytes`, counting them per attempt.
fn trim_plan_transcript(
    transaction: &Transaction<'_>,
    path: &Path,
    seq: i64,
    plan_bytes: u64,
) -> Result<(), StoreError> {
    let sql_error = |error| sqlite_error(path, error);
    let limit = from_u64(path, "plan_bytes", plan_bytes)?;
    let total: i64 = transaction
        .query_row("SELECT COALESCE(SUM(bytes), 0) FROM transcript_entries WHERE plan_seq = ?1", [seq], |row| {
            row.get(0)
        })
        .map_err(sql_error)?;
    if total <= limit {
        return Ok(());
    }
    let doomed = "SELECT seq FROM (SELECT seq, SUM(bytes) OVER (ORDER BY seq DESC) AS total \
                  FROM transcript_entries WHERE plan_seq = ?1) WHERE total > ?2";
    let per_attempt: Vec<(String, u32, u64)> = {
        let sql = format!(
            "SELECT subtask_id, attempt, COUNT(*) FROM transcript_entries WHERE seq IN ({doomed}) \
             GROUP BY subtask_id, attempt"
        );
        let mut statement = transaction.prepare(&sql).map_err(sql_error)?;
        let rows = statement
            .query_map(params![seq, limit], |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)?)))
            .map_err(sql_error)?;
        rows.map(|row| row.map(|(subtask, attempt, count)| (subtask, attempt, u64::try_from(count).unwrap_or(0))))
            .collect::<Result<_, _>>()
            .map_err(sql_error)?
    };
    transaction
        .execute(&format!("DELETE FROM transcript_entries WHERE seq IN ({doomed})"), params![seq, limit])
        .map_err(sql_error)?;
    for (subtask, attempt, count) in per_attempt {
        count_dropped(transaction, path, seq, (&subtask, attempt), count)?;
    }
    Ok(())
}

fn count_dropped(
    transaction: &Transaction<'_>,
    path: &Path,
    seq: i64,
    (subtask_id, attempt): (&str, u32),
    dropped: u64,
) -> Result<(), StoreError> {
    if dropped == 0 {
        return Ok(());
    }
    transaction
        .execute(
            "INSERT INTO transcript_drops (plan_seq, subtask_id, attempt, dropped) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (plan_seq, subtask_id, attempt) DO UPDATE SET dropped = dropped + ?4",
            params![seq, subtask_id, attempt, from_u64(path, "dropped", dropped)?],
        )
        .map(|_| ())
        .map_err(|error| sqlite_error(path, error))
}

/// One attempt's transcript: `attempt`, or the last attempt that has one.
pub(crate) fn transcript(
    connection: &Connection,
    path: &Path,
    plan_id: &PlanId,
    subtask_id: &SubtaskId,
    attempt: Option<u32>,
) -> Result<Transcript, StoreError> {
    let seq = existing_seq(connection, path, plan_id)?;
    let sql_error = |error| sqlite_error(path, error);
    let attempt = match attempt {
        Some(attempt) => attempt,
        None => connection
            .query_row(
                "SELECT MAX(attempt) FROM (SELECT attempt FROM transcript_entries WHERE plan_seq = ?1 AND \
                 subtask_id = ?2 UNION SELECT attempt FROM transcript_drops WHERE plan_seq = ?1 AND subtask_id = ?2)",
                params![seq, subtask_id.as_str()],
                |row| row.get::<_, Option<i64>>(0),
            )
            .map_err(sql_error)?
            .map(|attempt| to_u32(path, "transcript_entries", "attempt", attempt))
            .transpose()?
            .unwrap_or(0),
    };
    let mut statement = connection
        .prepare_cached(
            "SELECT at, kind, role, text, tool, tool_kind, target, arguments, outcome FROM transcript_entries \
             WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3 ORDER BY seq",
        )
        .map_err(sql_error)?;
    let mut rows = statement.query(params![seq, subtask_id.as_str(), attempt]).map_err(sql_error)?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let kind: String = row.get(1).map_err(sql_error)?;
        let tool_kind: Option<String> = row.get(5).map_err(sql_error)?;
        entries.push(TranscriptEntry {
            at: Timestamp::from_millis(row.get(0).map_err(sql_error)?),
            kind: parse_name(path, "transcript_entries", "kind", &kind, TranscriptKind::parse)?,
            role: row.get(2).map_err(sql_error)?,
            text: row.get(3).map_err(sql_error)?,
            tool: row.get(4).map_err(sql_error)?,
            tool_kind: tool_kind
                .map(|kind| parse_name(path, "transcript_entries", "tool_kind", &kind, ToolKind::parse))
                .transpose()?,
            target: row.get(6).map_err(sql_error)?,
            arguments: row.get(7).map_err(sql_error)?,
            outcome: row.get(8).map_err(sql_error)?,
        });
    }
    let dropped: Option<i64> = connection
        .query_row(
            "SELECT dropped FROM transcript_drops WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3",
            params![seq, subtask_id.as_str(), attempt],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error)?;
    let dropped = to_u64(path, "transcript_drops", "dropped", dropped.unwrap_or(0))?;
    Ok(Transcript { attempt, entries, dropped })
}

/// Writes an attempt's record of one file (insert, or replace keeping `first_at`); removes the
/// attempt's record of `replaces` (the old path of a file the attempt moved). A record with
/// nothing on either side (a file the attempt created and removed again) is no record: removed.
pub(crate) fn record_file_change(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_id: &PlanId,
    record: &FileChangeRecord,
    replaces: Option<&str>,
) -> Result<(), StoreError> {
    let seq = existing_seq(transaction, path, plan_id)?;
    let sql_error = |error| sqlite_error(path, error);
    if let Some(old_path) = replaces {
        transaction
            .execute(
                "DELETE FROM file_changes WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3 AND path = ?4",
                params![seq, record.subtask_id.as_str(), record.attempt, old_path],
            )
            .map_err(sql_error)?;
    }
    if !record.before.exists() && !record.after.exists() && record.from.is_none() {
        transaction
            .execute(
                "DELETE FROM file_changes WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3 AND path = ?4",
                params![seq, record.subtask_id.as_str(), record.attempt, record.path],
            )
            .map_err(sql_error)?;
        return Ok(());
    }
    let (before_state, before_text) = content_columns(&record.before);
    let (after_state, after_text) = content_columns(&record.after);
    transaction
        .prepare_cached(
            "INSERT INTO file_changes (plan_seq, subtask_id, attempt, path, from_path, before_state, before_text, \
             after_state, after_text, added, removed, first_at, last_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT (plan_seq, subtask_id, attempt, path) DO UPDATE SET from_path = ?5, before_state = ?6, \
             before_text = ?7, after_state = ?8, after_text = ?9, added = ?10, removed = ?11, last_at = ?13, \
             rolled_back_at = NULL",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                seq,
                record.subtask_id.as_str(),
                record.attempt,
                record.path,
                record.from,
                before_state,
                before_text,
                after_state,
                after_text,
                i64::try_from(record.added).unwrap_or(i64::MAX),
                i64::try_from(record.removed).unwrap_or(i64::MAX),
                record.first_at.as_millis(),
                record.last_at.as_millis(),
            ])
        })
        .map(|_| ())
        .map_err(sql_error)
}

/// Marks these records (by subtask, attempt and path) rolled back at `at`.
pub(crate) fn mark_rolled_back(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_id: &PlanId,
    records: &[(SubtaskId, u32, String)],
    at: Timestamp,
) -> Result<(), StoreError> {
    let seq = existing_seq(transaction, path, plan_id)?;
    let mut statement = transaction
        .prepare_cached(
            "UPDATE file_changes SET rolled_back_at = ?5 WHERE plan_seq = ?1 AND subtask_id = ?2 AND attempt = ?3 \
             AND path = ?4",
        )
        .map_err(|error| sqlite_error(path, error))?;
    for (subtask_id, attempt, file) in records {
        statement
            .execute(params![seq, subtask_id.as_str(), attempt, file, at.as_millis()])
            .map_err(|error| sqlite_error(path, error))?;
    }
    Ok(())
}

fn content_columns(content: &Content) -> (&'static str, Option<&str>) {
    match content {
        Content::Absent => ("absent", None),
        Content::Text(text) => ("text", Some(text)),
        Content::NotKept(reason) => ("notKept", Some(reason)),
    }
}

fn content_from_columns(path: &Path, state: &str, text: Option<String>) -> Result<Content, StoreError> {
    match (state, text) {
        ("absent", _) => Ok(Content::Absent),
        ("text", text) => Ok(Content::Text(text.unwrap_or_default())),
        ("notKept", reason) => Ok(Content::NotKept(reason.unwrap_or_default())),
        (other, _) => Err(corrupt_value(path, "file_changes", "state", other, "an unknown name")),
    }
}

/// A plan's file changes (one subtask's when given), in the order they were first made.
pub(crate) fn file_changes(
    connection: &Connection,
    path: &Path,
    plan_id: &PlanId,
    subtask_id: Option<&SubtaskId>,
) -> Result<Vec<FileChangeRecord>, StoreError> {
    let seq = existing_seq(connection, path, plan_id)?;
    let sql_error = |error| sqlite_error(path, error);
    let mut statement = connection
        .prepare_cached(
            "SELECT subtask_id, attempt, path, from_path, before_state, before_text, after_state, after_text, added, \
             removed, first_at, last_at, rolled_back_at FROM file_changes \
             WHERE plan_seq = ?1 AND (?2 IS NULL OR subtask_id = ?2) ORDER BY first_at, seq",
        )
        .map_err(sql_error)?;
    let mut rows = statement.query(params![seq, subtask_id.map(SubtaskId::as_str)]).map_err(sql_error)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let before_state: String = row.get(4).map_err(sql_error)?;
        let after_state: String = row.get(6).map_err(sql_error)?;
        records.push(FileChangeRecord {
            subtask_id: SubtaskId::from_raw(row.get::<_, String>(0).map_err(sql_error)?),
            attempt: to_u32(path, "file_changes", "attempt", row.get(1).map_err(sql_error)?)?,
            path: row.get(2).map_err(sql_error)?,
            from: row.get(3).map_err(sql_error)?,
            before: content_from_columns(path, &before_state, row.get(5).map_err(sql_error)?)?,
            after: content_from_columns(path, &after_state, row.get(7).map_err(sql_error)?)?,
            added: to_u64(path, "file_changes", "added", row.get(8).map_err(sql_error)?)?,
            removed: to_u64(path, "file_changes", "removed", row.get(9).map_err(sql_error)?)?,
            first_at: Timestamp::from_millis(row.get(10).map_err(sql_error)?),
            last_at: Timestamp::from_millis(row.get(11).map_err(sql_error)?),
            rolled_back_at: row.get::<_, Option<i64>>(12).map_err(sql_error)?.map(Timestamp::from_millis),
        });
    }
    Ok(records)
}

/// Bytes of file content the plan's change records keep (what its budget counts).
pub(crate) fn recorded_change_bytes(connection: &Connection, path: &Path, plan_id: &PlanId) -> Result<u64, StoreError> {
    let Some(seq) = plan_seq(connection, path, plan_id)? else { return Ok(0) };
    let total: i64 = connection
        .query_row(
            "SELECT COALESCE(SUM(CASE WHEN before_state = 'text' THEN LENGTH(CAST(before_text AS BLOB)) ELSE 0 END \
             + CASE WHEN after_state = 'text' THEN LENGTH(CAST(after_text AS BLOB)) ELSE 0 END), 0) \
             FROM file_changes WHERE plan_seq = ?1",
            [seq],
            |row| row.get(0),
        )
        .map_err(|error| sqlite_error(path, error))?;
    to_u64(path, "file_changes", "bytes", total)
}

/// Writes the subtasks' pending approvals beside their run fields.
pub(crate) fn write_pending_approvals(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_seq: i64,
    subtasks: &[Subtask],
) -> Result<(), StoreError> {
    let mut statement = transaction
        .prepare_cached("UPDATE subtasks SET pending_approval = ?3 WHERE plan_seq = ?1 AND subtask_id = ?2")
        .map_err(|error| sqlite_error(path, error))?;
    for subtask in subtasks {
        let encoded = subtask.pending_approval.as_ref().map(|pending| pending_to_json(pending).to_string());
        statement
            .execute(params![plan_seq, subtask.id.as_str(), encoded])
            .map_err(|error| sqlite_error(path, error))?;
    }
    Ok(())
}

/// Fills what the record adds to a plan read from the store: each subtask's pending approval
/// and the summary of the changes its agents made (rolled-back records left out).
pub(crate) fn fill_plan(
    connection: &Connection,
    path: &Path,
    plan_seq: i64,
    plan: &mut Plan,
) -> Result<(), StoreError> {
    let sql_error = |error| sqlite_error(path, error);
    let mut pending = connection
        .prepare_cached(
            "SELECT subtask_id, pending_approval FROM subtasks WHERE plan_seq = ?1 AND pending_approval IS NOT NULL",
        )
        .map_err(sql_error)?;
    let mut rows = pending.query([plan_seq]).map_err(sql_error)?;
    while let Some(row) = rows.next().map_err(sql_error)? {
        let subtask_id: String = row.get(0).map_err(sql_error)?;
        let text: String = row.get(1).map_err(sql_error)?;
        let approval = pending_from_json(&text).ok_or_else(|| {
            corrupt_value(path, "subtasks", "pending_approval", &shorten(&text), "an unreadable question")
        })?;
        if let Some(subtask) = plan.subtasks.iter_mut().find(|subtask| subtask.id.as_str() == subtask_id) {
            subtask.pending_approval = Some(approval);
        }
    }
    let mut summaries = connection
        .prepare_cached(
            "SELECT subtask_id, COUNT(DISTINCT path), SUM(added), SUM(removed) FROM file_changes \
             WHERE plan_seq = ?1 AND rolled_back_at IS NULL GROUP BY subtask_id",
        )
        .map_err(sql_error)?;
    let mut rows = summaries.query([plan_seq]).map_err(sql_error)?;
    while let Some(row) = rows.next().map_err(sql_error)? {
        let subtask_id: String = row.get(0).map_err(sql_error)?;
        let summary = ChangeSummary {
            files: to_u32(path, "file_changes", "files", row.get(1).map_err(sql_error)?)?,
            added: to_u64(path, "file_changes", "added", row.get(2).map_err(sql_error)?)?,
            removed: to_u64(path, "file_changes", "removed", row.get(3).map_err(sql_error)?)?,
        };
        if let Some(subtask) = plan.subtasks.iter_mut().find(|subtask| subtask.id.as_str() == subtask_id) {
            subtask.changes = Some(summary);
        }
    }
    Ok(())
}

fn pending_to_json(pending: &PendingApproval) -> Value {
    json!({
        "requestId": pending.request_id,
        "question": pending.question,
        "toolKind": pending.tool_kind.as_str(),
        "target": pending.target,
        "summary": pending.summary,
        "diff": pending.diff,
        "askedAt": pending.asked_at.as_millis(),
    })
}

fn pending_from_json(text: &str) -> Option<PendingApproval> {
    let value: Value = serde_json::from_str(text).ok()?;
    let object: &Map<String, Value> = value.as_object()?;
    let text_of = |field: &str| object.get(field).and_then(Value::as_str).map(str::to_owned);
    Some(PendingApproval {
        request_id: text_of("requestId")?,
        question: text_of("question")?,
        tool_kind: ToolKind::parse(object.get("toolKind")?.as_str()?)?,
        target: text_of("target")?,
        summary: text_of("summary"),
        diff: text_of("diff"),
        asked_at: Timestamp::from_millis(object.get("askedAt")?.as_i64()?),
    })
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

fn existing_seq(connection: &Connection, path: &Path, plan_id: &PlanId) -> Result<i64, StoreError> {
    plan_seq(connection, path, plan_id)?.ok_or_else(|| StoreError::PlanNotFound(plan_id.clone()))
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
