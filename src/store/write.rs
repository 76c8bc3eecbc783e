//! The write side of [`super::Store`]: a list of [`WriteOp`]s applied in one `BEGIN IMMEDIATE`
//! transaction (all or nothing), and the crash recovery run at open.
//!
//! Subtasks are updated in place by id, never deleted and re-inserted wholesale. Conditional
//! writes (`ClaimHeader`, `ReplaceContent`, `DeletePlan`) fail the whole commit with a typed
//! conflict. This module checks no domain rule beyond those conditions.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};

use super::codec::{depends_on_to_json, from_u64, millis, optional_u64, sqlite_error, subtasks_to_json, to_u64};
use super::read::{get_plan, plan_seq, plan_status, running_plans};
use super::{PlanEvent, PlanHeader, SessionTransition, StoreError, WriteOp};
use crate::model::{Claim, Plan, PlanId, PlanStatus, Subtask, Timestamp};

/// Applies `ops` in order inside one immediate transaction; the first error rolls back all.
pub(crate) fn commit(connection: &mut Connection, path: &Path, ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|error| sqlite_error(path, error))?;
    for op in ops {
        apply(&transaction, path, op)?;
    }
    transaction.commit().map_err(|error| sqlite_error(path, error))
}

fn apply(transaction: &Transaction<'_>, path: &Path, op: &WriteOp) -> Result<(), StoreError> {
    match op {
        WriteOp::InsertPlan(plan) => {
            insert_plan(transaction, path, plan)?;
            super::planning::upsert_planning(transaction, path, plan)
        }
        WriteOp::UpdateHeader(header) => update_header(transaction, path, header, None),
        WriteOp::ClaimHeader { header, expected } => update_header(transaction, path, header, Some(expected)),
        WriteOp::UpdateSubtasks { plan_id, subtasks } => {
            update_subtask_run_fields(transaction, path, plan_id, subtasks)
        }
        WriteOp::ReplaceContent { plan, expected_version, reason } => {
            replace_content(transaction, path, plan, *expected_version, reason)?;
            super::planning::upsert_planning(transaction, path, plan)
        }
        WriteOp::CacheClassification(entry) => super::planning::cache_classification(transaction, path, entry),
        WriteOp::AppendEvent(event) => append_event(transaction, path, event),
        WriteOp::Session(transition) => record_session_transition(transaction, path, transition),
        WriteOp::DeletePlan(id) => delete_plan(transaction, path, id),
        WriteOp::AppendTranscript { plan_id, subtask_id, attempt, entries, limits } => {
            super::record::append_transcript(transaction, path, plan_id, (subtask_id, *attempt), entries, *limits)
        }
        WriteOp::RecordFileChange { plan_id, record, replaces } => {
            super::record::record_file_change(transaction, path, plan_id, record, replaces.as_deref())
        }
        WriteOp::MarkRolledBack { plan_id, records, at } => {
            super::record::mark_rolled_back(transaction, path, plan_id, records, *at)
        }
        WriteOp::PutClaim { plan_id, claim } => super::claims::put_claim(transaction, path, plan_id, claim),
        WriteOp::ReleaseClaims { plan_id, subtask_ids } => {
            super::claims::release_claims(transaction, path, plan_id, subtask_ids)
        }
    }
}

/// See [`super::Store::modify_plan`].
pub(crate) fn modify_plan<T, E>(
    connection: &mut Connection,
    path: &Path,
    plan_id: &PlanId,
    decide: impl FnOnce(&Plan, &[Claim]) -> Result<(T, Vec<WriteOp>), E>,
) -> Result<Result<T, E>, StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|error| sqlite_error(path, error))?;
    let plan = get_plan(&transaction, path, plan_id)?.ok_or_else(|| StoreError::PlanNotFound(plan_id.clone()))?;
    let claims = super::claims::claims_of(&transaction, path, plan_id)?;
    let (value, ops) = match decide(&plan, &claims) {
        Ok(decided) => decided,
        Err(refusal) => return Ok(Err(refusal)),
    };
    for op in &ops {
        apply(&transaction, path, op)?;
    }
    transaction.commit().map_err(|error| sqlite_error(path, error))?;
    Ok(Ok(value))
}

fn existing_plan_seq(connection: &Connection, path: &Path, id: &PlanId) -> Result<i64, StoreError> {
    plan_seq(connection, path, id)?.ok_or_else(|| StoreError::PlanNotFound(id.clone()))
}

/// The plan's columns after `id`, as `?2..=?19` in the order of the INSERT below.
fn write_plan_row(connection: &Connection, path: &Path, sql: &str, plan: &Plan) -> Result<usize, StoreError> {
    let classification = plan.classification.as_ref();
    let mut statement = connection.prepare_cached(sql).map_err(|error| sqlite_error(path, error))?;
    statement
        .execute(params![
            plan.id.as_str(),
            plan.session_id.as_str(),
            plan.title,
            plan.goal,
            plan.status.as_str(),
            from_u64(path, "version", plan.version)?,
            classification.map(|class| class.is_atomic()),
            classification.map(|class| class.agent().as_str()),
            classification.map(|class| class.confidence.as_str()),
            classification.map(|class| class.reason.as_str()),
            classification.map(|class| class.method.as_str()),
            plan.created_at.as_millis(),
            plan.updated_at.as_millis(),
            millis(plan.approved_at),
            millis(plan.started_at),
            millis(plan.finished_at),
            plan.error,
            plan.run_id.as_ref().map(|run| run.as_str()),
            plan.feedback,
            plan.source_file,
        ])
        .map_err(|error| sqlite_error(path, error))
}

const INSERT_PLAN: &str = "INSERT INTO plans (id, session_id, title, goal, status, version, class_is_atomic, \
     class_agent, class_confidence, class_reason, class_method, created_at, updated_at, approved_at, started_at, \
     finished_at, error, run_id, feedback, source_file) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

/// Everything but `id`, `session_id` and `created_at` (?2 and ?12 are bound but not used).
const UPDATE_PLAN: &str = "UPDATE plans SET title = ?3, goal = ?4, status = ?5, version = ?6, \
     class_is_atomic = ?7, class_agent = ?8, class_confidence = ?9, class_reason = ?10, class_method = ?11, \
     updated_at = ?13, approved_at = ?14, started_at = ?15, finished_at = ?16, error = ?17, run_id = ?18, \
     feedback = ?19, source_file = ?20 WHERE id = ?1";

const INSERT_SUBTASK: &str = "INSERT INTO subtasks (plan_seq, subtask_id, position, title, description, agent, \
     command, depends_on, status, attempts, max_attempts, timeout_secs, estimate_secs, result, error, started_at, \
     finished_at, cwd, role) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
     ?19)";

const UPDATE_SUBTASK: &str = "UPDATE subtasks SET position = ?3, title = ?4, description = ?5, agent = ?6, \
     command = ?7, depends_on = ?8, status = ?9, attempts = ?10, max_attempts = ?11, timeout_secs = ?12, \
     estimate_secs = ?13, result = ?14, error = ?15, started_at = ?16, finished_at = ?17, cwd = ?18, role = ?19 \
     WHERE plan_seq = ?1 AND subtask_id = ?2";

/// Runs [`INSERT_SUBTASK`] or [`UPDATE_SUBTASK`]: both bind the same numbered parameters.
fn write_subtask_row(
    connection: &Connection,
    path: &Path,
    sql: &str,
    plan_seq: i64,
    position: usize,
    subtask: &Subtask,
) -> Result<usize, StoreError> {
    let position = i64::try_from(position).map_err(|_| StoreError::Sqlite {
        path: path.to_path_buf(),
        cause: format!("subtask position {position} is too large to store"),
    })?;
    let mut statement = connection.prepare_cached(sql).map_err(|error| sqlite_error(path, error))?;
    statement
        .execute(params![
            plan_seq,
            subtask.id.as_str(),
            position,
            subtask.title,
            subtask.description,
            subtask.agent.as_str(),
            subtask.command,
            depends_on_to_json(&subtask.depends_on),
            subtask.status.as_str(),
            subtask.attempts,
            subtask.max_attempts,
            optional_u64(path, "timeout_secs", subtask.timeout_secs)?,
            optional_u64(path, "estimate_secs", subtask.estimate_secs)?,
            subtask.result,
            subtask.error,
            millis(subtask.started_at),
            millis(subtask.finished_at),
            subtask.cwd,
            subtask.is_baseline().then_some(subtask.role.as_str()),
        ])
        .map_err(|error| sqlite_error(path, error))
        .and_then(|changed| write_subtask_usage(connection, path, plan_seq, subtask).map(|()| changed))
}

/// The usage columns (migration 3), written beside the row's other fields.
fn write_subtask_usage(
    connection: &Connection,
    path: &Path,
    plan_seq: i64,
    subtask: &Subtask,
) -> Result<(), StoreError> {
    let mut statement = connection
        .prepare_cached(
            "UPDATE subtasks SET prompt_tokens = ?3, completion_tokens = ?4, llm_calls = ?5 \
             WHERE plan_seq = ?1 AND subtask_id = ?2",
        )
        .map_err(|error| sqlite_error(path, error))?;
    statement
        .execute(params![
            plan_seq,
            subtask.id.as_str(),
            from_u64(path, "prompt_tokens", subtask.usage.prompt_tokens)?,
            from_u64(path, "completion_tokens", subtask.usage.completion_tokens)?,
            subtask.usage.calls,
        ])
        .map_err(|error| sqlite_error(path, error))?;
    Ok(())
}

fn insert_plan(transaction: &Transaction<'_>, path: &Path, plan: &Plan) -> Result<(), StoreError> {
    write_plan_row(transaction, path, INSERT_PLAN, plan)?;
    let seq = transaction.last_insert_rowid();
    for (position, subtask) in plan.subtasks.iter().enumerate() {
        write_subtask_row(transaction, path, INSERT_SUBTASK, seq, position, subtask)?;
    }
    insert_version(transaction, path, seq, plan, plan.created_at, "created")
}

fn insert_version(
    connection: &Connection,
    path: &Path,
    plan_seq: i64,
    plan: &Plan,
    at: Timestamp,
    reason: &str,
) -> Result<(), StoreError> {
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO plan_versions (plan_seq, version, title, subtasks, created_at, reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(|error| sqlite_error(path, error))?;
    statement
        .execute(params![
            plan_seq,
            from_u64(path, "version", plan.version)?,
            plan.title,
            subtasks_to_json(&plan.subtasks),
            at.as_millis(),
            reason,
        ])
        .map_err(|error| sqlite_error(path, error))?;
    Ok(())
}

/// Writes the header; with `expected`, only when the stored status is one of them.
fn update_header(
    transaction: &Transaction<'_>,
    path: &Path,
    header: &PlanHeader,
    expected: Option<&Vec<PlanStatus>>,
) -> Result<(), StoreError> {
    let mut sql = String::from(
        "UPDATE plans SET status = ?, updated_at = ?, approved_at = ?, started_at = ?, finished_at = ?, error = ?, \
         run_id = ?, feedback = ?, run_owner = ? WHERE id = ?",
    );
    let expected_names: Vec<&str> = expected.into_iter().flatten().map(|status| status.as_str()).collect();
    if expected.is_some() {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; expected_names.len()].join(", ")));
    }
    let mut statement = transaction.prepare_cached(&sql).map_err(|error| sqlite_error(path, error))?;
    let fixed = params![
        header.status.as_str(),
        header.updated_at.as_millis(),
        millis(header.approved_at),
        millis(header.started_at),
        millis(header.finished_at),
        header.error,
        header.run_id.as_ref().map(|run| run.as_str()),
        header.feedback,
        (header.status == PlanStatus::Running).then(super::owner::current_token),
        header.id.as_str(),
    ];
    let arguments = fixed.iter().copied().chain(expected_names.iter().map(|name| name as &dyn rusqlite::ToSql));
    let changed = statement.execute(params_from_iter(arguments)).map_err(|error| sqlite_error(path, error))?;
    if changed == 1 {
        return Ok(());
    }
    match plan_status(transaction, path, &header.id)? {
        Some(actual) if expected.is_some() => Err(StoreError::StatusConflict { plan: header.id.clone(), actual }),
        _ => Err(StoreError::PlanNotFound(header.id.clone())),
    }
}

/// The run fields of each subtask, by id; an unknown subtask id fails the commit.
fn update_subtask_run_fields(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_id: &PlanId,
    subtasks: &[Subtask],
) -> Result<(), StoreError> {
    let seq = existing_plan_seq(transaction, path, plan_id)?;
    let mut statement = transaction
        .prepare_cached(
            "UPDATE subtasks SET status = ?3, attempts = ?4, result = ?5, error = ?6, started_at = ?7, \
             finished_at = ?8 WHERE plan_seq = ?1 AND subtask_id = ?2",
        )
        .map_err(|error| sqlite_error(path, error))?;
    for subtask in subtasks {
        let changed = statement
            .execute(params![
                seq,
                subtask.id.as_str(),
                subtask.status.as_str(),
                subtask.attempts,
                subtask.result,
                subtask.error,
                millis(subtask.started_at),
                millis(subtask.finished_at),
            ])
            .map_err(|error| sqlite_error(path, error))?;
        if changed != 1 {
            return Err(StoreError::Sqlite {
                path: path.to_path_buf(),
                cause: format!("subtask {} not found in plan {plan_id}", subtask.id),
            });
        }
        if subtask.usage.calls > 0 {
            write_subtask_usage(transaction, path, seq, subtask)?;
        }
    }
    super::record::write_pending_approvals(transaction, path, seq, subtasks)
}

/// A versioned edit: the plan row and its subtasks updated in place by id.
fn replace_content(
    transaction: &Transaction<'_>,
    path: &Path,
    plan: &Plan,
    expected_version: u64,
    reason: &str,
) -> Result<(), StoreError> {
    let found: Option<(i64, i64)> = transaction
        .prepare_cached("SELECT seq, version FROM plans WHERE id = ?1")
        .and_then(|mut statement| {
            statement.query_row([plan.id.as_str()], |row| Ok((row.get(0)?, row.get(1)?))).optional()
        })
        .map_err(|error| sqlite_error(path, error))?;
    let (seq, stored_version) = found.ok_or_else(|| StoreError::PlanNotFound(plan.id.clone()))?;
    let actual = to_u64(path, "plans", "version", stored_version)?;
    if actual != expected_version {
        return Err(StoreError::VersionConflict { plan: plan.id.clone(), expected: expected_version, actual });
    }
    write_plan_row(transaction, path, UPDATE_PLAN, plan)?;
    replace_subtasks_in_place(transaction, path, seq, &plan.subtasks)?;
    insert_version(transaction, path, seq, plan, plan.updated_at, reason)
}

/// Deletes rows whose id is gone, updates the kept ones, inserts the new ones; positions follow
/// the new order.
fn replace_subtasks_in_place(
    transaction: &Transaction<'_>,
    path: &Path,
    plan_seq: i64,
    subtasks: &[Subtask],
) -> Result<(), StoreError> {
    let stored_ids: HashSet<String> = {
        let mut statement = transaction
            .prepare_cached("SELECT subtask_id FROM subtasks WHERE plan_seq = ?1")
            .map_err(|error| sqlite_error(path, error))?;
        statement
            .query_map([plan_seq], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<HashSet<String>, _>>())
            .map_err(|error| sqlite_error(path, error))?
    };
    let kept_ids: HashSet<&str> = subtasks.iter().map(|subtask| subtask.id.as_str()).collect();
    let mut delete = transaction
        .prepare_cached("DELETE FROM subtasks WHERE plan_seq = ?1 AND subtask_id = ?2")
        .map_err(|error| sqlite_error(path, error))?;
    for removed in stored_ids.iter().filter(|id| !kept_ids.contains(id.as_str())) {
        delete.execute(params![plan_seq, removed]).map_err(|error| sqlite_error(path, error))?;
    }
    for (position, subtask) in subtasks.iter().enumerate() {
        let sql = if stored_ids.contains(subtask.id.as_str()) { UPDATE_SUBTASK } else { INSERT_SUBTASK };
        write_subtask_row(transaction, path, sql, plan_seq, position, subtask)?;
    }
    Ok(())
}

fn append_event(transaction: &Transaction<'_>, path: &Path, event: &PlanEvent) -> Result<(), StoreError> {
    let seq = existing_plan_seq(transaction, path, &event.plan_id)?;
    let mut statement = transaction
        .prepare_cached(
            "INSERT INTO plan_events (plan_seq, at, run_id, subtask_id, kind, from_status, to_status, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(|error| sqlite_error(path, error))?;
    statement
        .execute(params![
            seq,
            event.at.as_millis(),
            event.run_id.as_ref().map(|run| run.as_str()),
            event.subtask_id.as_ref().map(|subtask| subtask.as_str()),
            event.kind,
            event.from_status,
            event.to_status,
            event.detail,
        ])
        .map_err(|error| sqlite_error(path, error))?;
    Ok(())
}

fn record_session_transition(
    transaction: &Transaction<'_>,
    path: &Path,
    transition: &SessionTransition,
) -> Result<(), StoreError> {
    transaction
        .prepare_cached(
            "INSERT INTO sessions (id, state, created_at, updated_at) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                transition.session_id.as_str(),
                transition.to.as_str(),
                transition.at.as_millis()
            ])
        })
        .map_err(|error| sqlite_error(path, error))?;
    transaction
        .prepare_cached(
            "INSERT INTO session_transitions (session_id, at, from_state, event, to_state, plan_id, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                transition.session_id.as_str(),
                transition.at.as_millis(),
                transition.from.as_str(),
                transition.event.as_str(),
                transition.to.as_str(),
                transition.plan_id.as_ref().map(|plan| plan.as_str()),
                transition.detail,
            ])
        })
        .map_err(|error| sqlite_error(path, error))?;
    Ok(())
}

fn delete_plan(transaction: &Transaction<'_>, path: &Path, id: &PlanId) -> Result<(), StoreError> {
    match plan_status(transaction, path, id)? {
        None => Err(StoreError::PlanNotFound(id.clone())),
        Some(PlanStatus::Running) => Err(StoreError::StatusConflict { plan: id.clone(), actual: PlanStatus::Running }),
        Some(_) => {
            transaction
                .execute("DELETE FROM plans WHERE id = ?1", [id.as_str()])
                .map_err(|error| sqlite_error(path, error))?;
            Ok(())
        }
    }
}

/// Every `running` plan whose owner process is gone becomes `interrupted` ([`Plan::interrupt`]):
/// header, reset subtasks and an `interrupted` event, all in one transaction. Returns the ids,
/// oldest first. At open, a plan claimed by no other live process was left by a crash.
pub(crate) fn interrupt_running_plans(
    connection: &mut Connection,
    path: &Path,
    now: Timestamp,
) -> Result<Vec<PlanId>, StoreError> {
    let orphaned = |owner: Option<&str>| !owner.is_some_and(super::owner::is_other_live_process);
    interrupt_running_plans_where(connection, path, now, &orphaned, None)
}

/// [`interrupt_running_plans`] for the running plans whose owner token `gone` says is gone; the
/// event's detail is `detail`, else the plan's error.
pub(crate) fn interrupt_running_plans_where(
    connection: &mut Connection,
    path: &Path,
    now: Timestamp,
    gone: &dyn Fn(Option<&str>) -> bool,
    detail: Option<&str>,
) -> Result<Vec<PlanId>, StoreError> {
    let chosen = |connection: &Connection| -> Result<Vec<PlanId>, StoreError> {
        let running = running_plans(connection, path)?.into_iter();
        Ok(running.filter(|(_, owner)| gone(owner.as_deref())).map(|(id, _)| id).collect())
    };
    if chosen(connection)?.is_empty() {
        return Ok(Vec::new());
    }
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|error| sqlite_error(path, error))?;
    let running = chosen(&transaction)?;
    for id in &running {
        let Some(mut plan) = get_plan(&transaction, path, id)? else {
            return Err(StoreError::PlanNotFound(id.clone()));
        };
        let reset_ids = plan.interrupt(now);
        let reset: Vec<Subtask> =
            plan.subtasks.iter().filter(|subtask| reset_ids.contains(&subtask.id)).cloned().collect();
        let event = PlanEvent {
            plan_id: plan.id.clone(),
            at: now,
            run_id: plan.run_id.clone(),
            subtask_id: None,
            kind: "interrupted".to_owned(),
            from_status: Some(PlanStatus::Running.as_str().to_owned()),
            to_status: Some(plan.status.as_str().to_owned()),
            detail: detail.map(str::to_owned).or_else(|| plan.error.clone()),
        };
        update_header(&transaction, path, &PlanHeader::of(&plan), None)?;
        update_subtask_run_fields(&transaction, path, &plan.id, &reset)?;
        append_event(&transaction, path, &event)?;
    }
    transaction.commit().map_err(|error| sqlite_error(path, error))?;
    Ok(running)
}
