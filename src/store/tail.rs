//! Reading the event log as it grows, for following runs that another process owns: whether
//! anyone else committed (`PRAGMA data_version`, no disk read), the rows after a cursor, the plans
//! other live processes run, and the recovery of runs whose owner died.
//!
//! These are reads, except [`recover_dead_runs`], which is the open-time crash recovery applied
//! while this process keeps running. Nothing here decides what a row means to a client.

use std::path::Path;

use rusqlite::Connection;

use super::codec::sqlite_error;
use super::read::running_plans;
use super::{PlanEvent, StoreError};
use crate::model::{PlanId, RunId, SubtaskId, Timestamp};

/// One row of the event log and its place in it (`plan_events.seq`, increasing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub event: PlanEvent,
}

/// `PRAGMA data_version`: changes whenever another connection (another process) commits.
pub(crate) fn data_version(connection: &Connection, path: &Path) -> Result<i64, StoreError> {
    connection.query_row("PRAGMA data_version", [], |row| row.get(0)).map_err(|error| sqlite_error(path, error))
}

/// The newest row's `seq` (0 for an empty log).
pub(crate) fn last_event_seq(connection: &Connection, path: &Path) -> Result<i64, StoreError> {
    connection
        .query_row("SELECT COALESCE(MAX(seq), 0) FROM plan_events", [], |row| row.get(0))
        .map_err(|error| sqlite_error(path, error))
}

/// Rows after `after`, oldest first, at most `limit`.
pub(crate) fn events_after(
    connection: &Connection,
    path: &Path,
    after: i64,
    limit: usize,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let mut statement = connection
        .prepare_cached(
            "SELECT e.seq, p.id, e.at, e.run_id, e.subtask_id, e.kind, e.from_status, e.to_status, e.detail \
             FROM plan_events e JOIN plans p ON p.seq = e.plan_seq WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement
        .query_map([after, limit], |row| {
            Ok(LoggedEvent {
                seq: row.get(0)?,
                event: PlanEvent {
                    plan_id: PlanId::from_raw(row.get::<_, String>(1)?),
                    at: Timestamp::from_millis(row.get(2)?),
                    run_id: row.get::<_, Option<String>>(3)?.map(RunId::from_raw),
                    subtask_id: row.get::<_, Option<String>>(4)?.map(SubtaskId::from_raw),
                    kind: row.get(5)?,
                    from_status: row.get(6)?,
                    to_status: row.get(7)?,
                    detail: row.get(8)?,
                },
            })
        })
        .map_err(|error| sqlite_error(path, error))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|error| sqlite_error(path, error))
}

/// Plans `running` under another live process, oldest first.
pub(crate) fn plans_run_by_others(connection: &Connection, path: &Path) -> Result<Vec<PlanId>, StoreError> {
    Ok(running_plans(connection, path)?
        .into_iter()
        .filter(|(_, owner)| owner.as_deref().is_some_and(super::owner::is_other_live_process))
        .map(|(id, _)| id)
        .collect())
}

/// The crash recovery of [`super::Store::open`] for a process that keeps running: every plan
/// `running` under an owner that is no longer alive (neither this process nor another live one)
/// becomes `interrupted`, with an `interrupted` row, in one transaction. Returns their ids.
pub(crate) fn recover_dead_runs(
    connection: &mut Connection,
    path: &Path,
    now: Timestamp,
) -> Result<Vec<PlanId>, StoreError> {
    let dead = |owner: Option<&str>| {
        owner.is_none_or(|token| token != super::owner::current_token() && !super::owner::is_other_live_process(token))
    };
    super::write::interrupt_running_plans_where(connection, path, now, &dead, Some("the process that ran it is gone"))
}
