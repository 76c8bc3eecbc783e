//! Claims on steps (`claims`, migration 7): which claimant holds a step of a plan, since when and
//! until when, so that two processes on one database never hand out the same step. Writes happen
//! inside [`super::Store::modify_plan`]'s transaction, after the caller decided what to hand out
//! from the claims it read there.
//!
//! A claim is kept until it is released or overwritten; whether it still holds is the caller's
//! question (`Claim::holds_at`). Nothing here decides who gets a step.

use std::path::Path;

use rusqlite::{Connection, params};

use super::StoreError;
use super::codec::sqlite_error;
use crate::model::{Claim, PlanId, SubtaskId, Timestamp};

/// Who holds which step of which plan.
pub(crate) const MIGRATION_7_CLAIMS: &str = "
CREATE TABLE IF NOT EXISTS claims (
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL,
    claimant TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (plan_seq, subtask_id)
);
";

fn plan_seq(connection: &Connection, path: &Path, plan_id: &PlanId) -> Result<i64, StoreError> {
    super::read::plan_seq(connection, path, plan_id)?.ok_or_else(|| StoreError::PlanNotFound(plan_id.clone()))
}

/// Every stored claim on the plan's steps, lapsed ones included, by step id.
pub(crate) fn claims_of(connection: &Connection, path: &Path, plan_id: &PlanId) -> Result<Vec<Claim>, StoreError> {
    let seq = plan_seq(connection, path, plan_id)?;
    let mut statement = connection
        .prepare_cached(
            "SELECT subtask_id, claimant, claimed_at, expires_at FROM claims WHERE plan_seq = ?1 ORDER BY subtask_id",
        )
        .map_err(|error| sqlite_error(path, error))?;
    let rows = statement
        .query_map([seq], |row| {
            Ok(Claim {
                subtask_id: SubtaskId::from_raw(row.get::<_, String>(0)?),
                claimant: row.get(1)?,
                claimed_at: Timestamp::from_millis(row.get(2)?),
                expires_at: Timestamp::from_millis(row.get(3)?),
            })
        })
        .map_err(|error| sqlite_error(path, error))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(|error| sqlite_error(path, error))
}

/// Writes `claim` over whatever claim the step had.
pub(crate) fn put_claim(
    connection: &Connection,
    path: &Path,
    plan_id: &PlanId,
    claim: &Claim,
) -> Result<(), StoreError> {
    let seq = plan_seq(connection, path, plan_id)?;
    connection
        .prepare_cached(
            "INSERT INTO claims (plan_seq, subtask_id, claimant, claimed_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (plan_seq, subtask_id) DO UPDATE SET claimant = ?3, claimed_at = ?4, expires_at = ?5",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                seq,
                claim.subtask_id.as_str(),
                claim.claimant,
                claim.claimed_at.as_millis(),
                claim.expires_at.as_millis()
            ])
        })
        .map_err(|error| sqlite_error(path, error))?;
    Ok(())
}

/// Removes the claims on these steps (finished, or lapsed).
pub(crate) fn release_claims(
    connection: &Connection,
    path: &Path,
    plan_id: &PlanId,
    subtask_ids: &[SubtaskId],
) -> Result<(), StoreError> {
    let seq = plan_seq(connection, path, plan_id)?;
    let mut statement = connection
        .prepare_cached("DELETE FROM claims WHERE plan_seq = ?1 AND subtask_id = ?2")
        .map_err(|error| sqlite_error(path, error))?;
    for subtask_id in subtask_ids {
        statement.execute(params![seq, subtask_id.as_str()]).map_err(|error| sqlite_error(path, error))?;
    }
    Ok(())
}
