//! The queries of [`super::Store`]: plans, pages of summaries, versions, events, sessions.
//!
//! Every row is decoded strictly (see `codec`): an unknown name or bad JSON is `Corrupt`, never a
//! default. These functions take a `&Connection`, so they also run inside a write transaction.
//! Nothing here writes.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::types::FromSql;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use super::codec::{corrupt_value, depends_on_from_json, parse_name, sqlite_error, subtasks_from_json, to_u32, to_u64};
use super::{ListQuery, PlanEvent, PlanPage, PlanSummary, PlanVersion, SessionRecord, SessionTransition, StoreError};
use crate::fsm::{SessionEvent, SessionState};
use crate::model::{
    AgentKind, Classification, ClassifyMethod, Confidence, Plan, PlanId, PlanStatus, PlannerKind, Progress, RouteAgent,
    RunId, SessionId, Subtask, SubtaskId, SubtaskRole, SubtaskStatus, Timestamp, Usage,
};

const PLAN_COLUMNS: &str = "seq, id, session_id, title, goal, status, version, class_is_atomic, class_agent, \
     class_confidence, class_reason, class_method, created_at, updated_at, approved_at, started_at, finished_at, \
     error, run_id, feedback, source_file";

const SUBTASK_COLUMNS: &str = "subtask_id, title, description, agent, command, depends_on, status, attempts, \
     max_attempts, timeout_secs, estimate_secs, result, error, started_at, finished_at, cwd, prompt_tokens, \
     completion_tokens, llm_calls, role";

/// The prefix of page cursors; the rest is the `seq` of the last plan of the previous page.
const CURSOR_PREFIX: &str = "seq:";

fn column<T: FromSql>(row: &Row<'_>, index: usize, path: &Path) -> Result<T, StoreError> {
    row.get(index).map_err(|error| sqlite_error(path, error))
}

fn optional_timestamp(row: &Row<'_>, index: usize, path: &Path) -> Result<Option<Timestamp>, StoreError> {
    Ok(column::<Option<i64>>(row, index, path)?.map(Timestamp::from_millis))
}

/// The row id (`seq`) of a plan, used as the key of its child rows.
pub(crate) fn plan_seq(connection: &Connection, path: &Path, id: &PlanId) -> Result<Option<i64>, StoreError> {
    let mut statement =
        connection.prepare_cached("SELECT seq FROM plans WHERE id = ?1").map_err(|error| sqlite_error(path, error))?;
    statement.query_row([id.as_str()], |row| row.get(0)).optional().map_err(|error| sqlite_error(path, error))
}

fn existing_plan_seq(connection: &Connection, path: &Path, id: &PlanId) -> Result<i64, StoreError> {
    plan_seq(connection, path, id)?.ok_or_else(|| StoreError::PlanNotFound(id.clone()))
}

/// The stored status of a plan, `None` when absent.
pub(crate) fn plan_status(connection: &Connection, path: &Path, id: &PlanId) -> Result<Option<PlanStatus>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT status FROM plans WHERE id = ?1")
        .map_err(|error| sqlite_error(path, error))?;
    let status: Option<String> =
        statement.query_row([id.as_str()], |row| row.get(0)).optional().map_err(|error| sqlite_error(path, error))?;
    status.map(|status| parse_name(path, "plans", "status", &status, PlanStatus::parse)).transpose()
}

pub(crate) fn get_plan(connection: &Connection, path: &Path, id: &PlanId) -> Result<Option<Plan>, StoreError> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = ?1");
    let mut statement = connection.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query([id.as_str()]).map_err(|error| sqlite_error(path, error))?;
    let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? else {
        return Ok(None);
    };
    let (seq, mut plan) = plan_from_row(row, path)?;
    plan.subtasks = subtasks_of(connection, path, seq)?;
    super::planning::read_planning(connection, path, &mut plan)?;
    super::record::fill_plan(connection, path, seq, &mut plan)?;
    Ok(Some(plan))
}

/// The newest plan whose `source_file` is `source_file`.
pub(crate) fn latest_plan_of_file(
    connection: &Connection,
    path: &Path,
    source_file: &str,
) -> Result<Option<Plan>, StoreError> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE source_file = ?1 ORDER BY seq DESC LIMIT 1");
    let mut statement = connection.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query([source_file]).map_err(|error| sqlite_error(path, error))?;
    let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? else {
        return Ok(None);
    };
    let (seq, mut plan) = plan_from_row(row, path)?;
    plan.subtasks = subtasks_of(connection, path, seq)?;
    super::record::fill_plan(connection, path, seq, &mut plan)?;
    Ok(Some(plan))
}

/// A plan row without its subtasks, and its `seq`.
fn plan_from_row(row: &Row<'_>, path: &Path) -> Result<(i64, Plan), StoreError> {
    let status: String = column(row, 5, path)?;
    let version: i64 = column(row, 6, path)?;
    let plan = Plan {
        id: PlanId::from_raw(column::<String>(row, 1, path)?),
        session_id: SessionId::from_raw(column::<String>(row, 2, path)?),
        title: column(row, 3, path)?,
        goal: column(row, 4, path)?,
        status: parse_name(path, "plans", "status", &status, PlanStatus::parse)?,
        version: to_u64(path, "plans", "version", version)?,
        classification: classification_from_row(row, path)?,
        subtasks: Vec::new(),
        created_at: Timestamp::from_millis(column(row, 12, path)?),
        updated_at: Timestamp::from_millis(column(row, 13, path)?),
        approved_at: optional_timestamp(row, 14, path)?,
        started_at: optional_timestamp(row, 15, path)?,
        finished_at: optional_timestamp(row, 16, path)?,
        error: column(row, 17, path)?,
        run_id: column::<Option<String>>(row, 18, path)?.map(RunId::from_raw),
        feedback: column(row, 19, path)?,
        source_file: column(row, 20, path)?,
        planner: PlannerKind::Template,
        planner_note: None,
        planning_usage: Default::default(),
    };
    Ok((column(row, 0, path)?, plan))
}

/// Columns 7..=11: all null (no classification) or all set, with the `!atomic ⇒ plan` invariant.
fn classification_from_row(row: &Row<'_>, path: &Path) -> Result<Option<Classification>, StoreError> {
    let Some(is_atomic) = column::<Option<bool>>(row, 7, path)? else {
        return Ok(None);
    };
    let missing = |column: &str| corrupt_value(path, "plans", column, "null", "a missing classification field");
    let agent: String = column::<Option<String>>(row, 8, path)?.ok_or_else(|| missing("class_agent"))?;
    let confidence: String = column::<Option<String>>(row, 9, path)?.ok_or_else(|| missing("class_confidence"))?;
    let reason: String = column::<Option<String>>(row, 10, path)?.ok_or_else(|| missing("class_reason"))?;
    let method: String = column::<Option<String>>(row, 11, path)?.ok_or_else(|| missing("class_method"))?;
    let agent = parse_name(path, "plans", "class_agent", &agent, RouteAgent::parse)?;
    let confidence = parse_name(path, "plans", "class_confidence", &confidence, Confidence::parse)?;
    let method = parse_name(path, "plans", "class_method", &method, ClassifyMethod::parse)?;
    if is_atomic == (agent == RouteAgent::Plan) {
        let why = if is_atomic { "an atomic task routed to" } else { "a complex task routed to" };
        return Err(corrupt_value(path, "plans", "class_agent", agent.as_str(), why));
    }
    Ok(Some(if is_atomic {
        Classification::atomic(agent, confidence, reason, method)
    } else {
        Classification::complex(confidence, reason, method)
    }))
}

fn subtasks_of(connection: &Connection, path: &Path, plan_seq: i64) -> Result<Vec<Subtask>, StoreError> {
    let sql = format!("SELECT {SUBTASK_COLUMNS} FROM subtasks WHERE plan_seq = ?1 ORDER BY position");
    let mut statement = connection.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query([plan_seq]).map_err(|error| sqlite_error(path, error))?;
    let mut subtasks = Vec::new();
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        subtasks.push(subtask_from_row(row, path)?);
    }
    Ok(subtasks)
}

fn subtask_from_row(row: &Row<'_>, path: &Path) -> Result<Subtask, StoreError> {
    let agent: String = column(row, 3, path)?;
    let depends_on: String = column(row, 5, path)?;
    let status: String = column(row, 6, path)?;
    let role = match column::<Option<String>>(row, 19, path)? {
        Some(role) => parse_name(path, "subtasks", "role", &role, SubtaskRole::parse)?,
        None => SubtaskRole::Step,
    };
    let optional_u64 = |index: usize, name: &str| -> Result<Option<u64>, StoreError> {
        column::<Option<i64>>(row, index, path)?.map(|value| to_u64(path, "subtasks", name, value)).transpose()
    };
    Ok(Subtask {
        id: SubtaskId::from_raw(column::<String>(row, 0, path)?),
        title: column(row, 1, path)?,
        description: column(row, 2, path)?,
        agent: parse_name(path, "subtasks", "agent", &agent, AgentKind::parse)?,
        role,
        command: column(row, 4, path)?,
        cwd: column(row, 15, path)?,
        depends_on: depends_on_from_json(path, "subtasks", &depends_on)?,
        status: parse_name(path, "subtasks", "status", &status, SubtaskStatus::parse)?,
        attempts: to_u32(path, "subtasks", "attempts", column(row, 7, path)?)?,
        max_attempts: to_u32(path, "subtasks", "max_attempts", column(row, 8, path)?)?,
        timeout_secs: optional_u64(9, "timeout_secs")?,
        estimate_secs: optional_u64(10, "estimate_secs")?,
        result: column(row, 11, path)?,
        error: column(row, 12, path)?,
        started_at: optional_timestamp(row, 13, path)?,
        finished_at: optional_timestamp(row, 14, path)?,
        usage: Usage {
            prompt_tokens: optional_u64(16, "prompt_tokens")?.unwrap_or(0),
            completion_tokens: optional_u64(17, "completion_tokens")?.unwrap_or(0),
            calls: to_u32(path, "subtasks", "llm_calls", column(row, 18, path)?)?,
        },
        pending_approval: None,
        changes: None,
    })
}

/// A page of summaries, newest first. The cursor is the `seq` of the last plan returned, so
/// plans inserted later (higher `seq`) never shift the next page.
pub(crate) fn list_plans(connection: &Connection, path: &Path, query: &ListQuery) -> Result<PlanPage, StoreError> {
    let before_seq = query.cursor.as_deref().map(parse_cursor).transpose()?.unwrap_or(i64::MAX);
    if query.limit == 0 {
        return Ok(PlanPage { plans: Vec::new(), next_cursor: None });
    }
    let mut sql =
        String::from("SELECT seq, id, session_id, title, status, created_at, updated_at FROM plans WHERE seq < ?");
    let mut arguments: Vec<&dyn ToSql> = vec![&before_seq];
    let session_id = query.session_id.as_ref().map(SessionId::as_str);
    if let Some(session_id) = &session_id {
        sql.push_str(" AND session_id = ?");
        arguments.push(session_id);
    }
    let status = query.status.map(PlanStatus::as_str);
    if let Some(status) = &status {
        sql.push_str(" AND status = ?");
        arguments.push(status);
    }
    let fetch = i64::try_from(query.limit).unwrap_or(i64::MAX).saturating_add(1);
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    arguments.push(&fetch);

    let mut statement = connection.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query(arguments.as_slice()).map_err(|error| sqlite_error(path, error))?;
    let mut page: Vec<(i64, PlanSummary)> = Vec::new();
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        page.push(summary_from_row(row, path)?);
    }
    let has_more = page.len() > query.limit;
    page.truncate(query.limit);
    fill_progress(connection, path, &mut page)?;
    let next_cursor = if has_more { page.last().map(|(seq, _)| format!("{CURSOR_PREFIX}{seq}")) } else { None };
    Ok(PlanPage { plans: page.into_iter().map(|(_, summary)| summary).collect(), next_cursor })
}

fn parse_cursor(cursor: &str) -> Result<i64, StoreError> {
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|digits| digits.parse::<i64>().ok())
        .filter(|seq| *seq > 0)
        .ok_or(StoreError::InvalidCursor)
}

fn summary_from_row(row: &Row<'_>, path: &Path) -> Result<(i64, PlanSummary), StoreError> {
    let status: String = column(row, 4, path)?;
    let summary = PlanSummary {
        id: PlanId::from_raw(column::<String>(row, 1, path)?),
        session_id: SessionId::from_raw(column::<String>(row, 2, path)?),
        title: column(row, 3, path)?,
        status: parse_name(path, "plans", "status", &status, PlanStatus::parse)?,
        progress: Progress::default(),
        created_at: Timestamp::from_millis(column(row, 5, path)?),
        updated_at: Timestamp::from_millis(column(row, 6, path)?),
    };
    Ok((column(row, 0, path)?, summary))
}

/// Subtask counts by status for a whole page, in one grouped query.
fn fill_progress(connection: &Connection, path: &Path, page: &mut [(i64, PlanSummary)]) -> Result<(), StoreError> {
    if page.is_empty() {
        return Ok(());
    }
    let placeholders = vec!["?"; page.len()].join(", ");
    let sql = format!(
        "SELECT plan_seq, status, COUNT(*) FROM subtasks WHERE plan_seq IN ({placeholders}) GROUP BY plan_seq, status"
    );
    let seqs: Vec<i64> = page.iter().map(|(seq, _)| *seq).collect();
    let index_by_seq: HashMap<i64, usize> = seqs.iter().enumerate().map(|(index, seq)| (*seq, index)).collect();
    let mut statement = connection.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let mut rows =
        statement.query(rusqlite::params_from_iter(seqs.iter())).map_err(|error| sqlite_error(path, error))?;
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        let seq: i64 = column(row, 0, path)?;
        let status: String = column(row, 1, path)?;
        let status = parse_name(path, "subtasks", "status", &status, SubtaskStatus::parse)?;
        let count = to_u32(path, "subtasks", "count", column(row, 2, path)?)?;
        if let Some(index) = index_by_seq.get(&seq) {
            page[*index].1.progress.add(status, count);
        }
    }
    Ok(())
}

pub(crate) fn active_plan(
    connection: &Connection,
    path: &Path,
    session: &SessionId,
) -> Result<Option<PlanId>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT id FROM plans WHERE session_id = ?1 AND status IN ('approved', 'running') ORDER BY seq DESC LIMIT 1",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let id: Option<String> = statement
        .query_row([session.as_str()], |row| row.get(0))
        .optional()
        .map_err(|error| sqlite_error(path, error))?;
    Ok(id.map(PlanId::from_raw))
}

pub(crate) fn plan_versions(connection: &Connection, path: &Path, id: &PlanId) -> Result<Vec<PlanVersion>, StoreError> {
    let seq = existing_plan_seq(connection, path, id)?;
    let mut statement = connection
        .prepare_cached(
            "SELECT version, title, subtasks, created_at, reason FROM plan_versions WHERE plan_seq = ?1 ORDER BY version",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query([seq]).map_err(|error| sqlite_error(path, error))?;
    let mut versions = Vec::new();
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        let subtasks: String = column(row, 2, path)?;
        versions.push(PlanVersion {
            version: to_u64(path, "plan_versions", "version", column(row, 0, path)?)?,
            title: column(row, 1, path)?,
            subtasks: subtasks_from_json(path, &subtasks)?,
            created_at: Timestamp::from_millis(column(row, 3, path)?),
            reason: column(row, 4, path)?,
        });
    }
    Ok(versions)
}

pub(crate) fn plan_events(connection: &Connection, path: &Path, id: &PlanId) -> Result<Vec<PlanEvent>, StoreError> {
    let seq = existing_plan_seq(connection, path, id)?;
    let mut statement = connection
        .prepare_cached(
            "SELECT at, run_id, subtask_id, kind, from_status, to_status, detail FROM plan_events \
             WHERE plan_seq = ?1 ORDER BY seq",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query([seq]).map_err(|error| sqlite_error(path, error))?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        events.push(PlanEvent {
            plan_id: id.clone(),
            at: Timestamp::from_millis(column(row, 0, path)?),
            run_id: column::<Option<String>>(row, 1, path)?.map(RunId::from_raw),
            subtask_id: column::<Option<String>>(row, 2, path)?.map(SubtaskId::from_raw),
            kind: column(row, 3, path)?,
            from_status: column(row, 4, path)?,
            to_status: column(row, 5, path)?,
            detail: column(row, 6, path)?,
        });
    }
    Ok(events)
}

pub(crate) fn get_session(
    connection: &Connection,
    path: &Path,
    id: &SessionId,
) -> Result<Option<SessionRecord>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT state, updated_at FROM sessions WHERE id = ?1")
        .map_err(|error| sqlite_error(path, error))?;
    let found: Option<(String, i64)> = statement
        .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(|error| sqlite_error(path, error))?;
    let Some((state, updated_at)) = found else {
        return Ok(None);
    };
    Ok(Some(SessionRecord {
        id: id.clone(),
        state: parse_name(path, "sessions", "state", &state, SessionState::parse)?,
        updated_at: Timestamp::from_millis(updated_at),
    }))
}

pub(crate) fn session_transitions(
    connection: &Connection,
    path: &Path,
    id: &SessionId,
) -> Result<Vec<SessionTransition>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT at, from_state, event, to_state, plan_id, detail FROM session_transitions \
             WHERE session_id = ?1 ORDER BY seq",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let mut rows = statement.query(params![id.as_str()]).map_err(|error| sqlite_error(path, error))?;
    let mut transitions = Vec::new();
    while let Some(row) = rows.next().map_err(|error| sqlite_error(path, error))? {
        let state = |index: usize, name: &str| -> Result<SessionState, StoreError> {
            let text: String = column(row, index, path)?;
            parse_name(path, "session_transitions", name, &text, SessionState::parse)
        };
        let event: String = column(row, 2, path)?;
        transitions.push(SessionTransition {
            session_id: id.clone(),
            from: state(1, "from_state")?,
            event: parse_name(path, "session_transitions", "event", &event, SessionEvent::parse)?,
            to: state(3, "to_state")?,
            at: Timestamp::from_millis(column(row, 0, path)?),
            plan_id: column::<Option<String>>(row, 4, path)?.map(PlanId::from_raw),
            detail: column(row, 5, path)?,
        });
    }
    Ok(transitions)
}

pub(crate) fn count_plans(connection: &Connection, path: &Path) -> Result<u64, StoreError> {
    let count: i64 = connection
        .query_row("SELECT COUNT(*) FROM plans", [], |row| row.get(0))
        .map_err(|error| sqlite_error(path, error))?;
    to_u64(path, "plans", "count", count)
}

/// The process id of another live process that owns the plan's run, if any.
pub(crate) fn live_run_owner(connection: &Connection, path: &Path, id: &PlanId) -> Result<Option<u32>, StoreError> {
    let owner: Option<Option<String>> = connection
        .prepare_cached("SELECT run_owner FROM plans WHERE id = ?1 AND status = 'running'")
        .and_then(|mut statement| {
            let mut rows = statement.query([id.as_str()])?;
            rows.next()?.map(|row| row.get::<_, Option<String>>(0)).transpose()
        })
        .map_err(|error| sqlite_error(path, error))?;
    Ok(owner
        .flatten()
        .filter(|token| super::owner::is_other_live_process(token))
        .and_then(|token| token.split_once(':').and_then(|(pid, _)| pid.parse().ok())))
}

/// Every plan whose stored status is `running` and the token of the process that claimed it,
/// oldest first.
pub(crate) fn running_plans(connection: &Connection, path: &Path) -> Result<Vec<(PlanId, Option<String>)>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT id, run_owner FROM plans WHERE status = 'running' ORDER BY seq")
        .map_err(|error| sqlite_error(path, error))?;
    let rows = statement
        .query_map([], |row| Ok((PlanId::from_raw(row.get::<_, String>(0)?), row.get::<_, Option<String>>(1)?)))
        .map_err(|error| sqlite_error(path, error))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|error| sqlite_error(path, error))
}
