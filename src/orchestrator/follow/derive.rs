//! What a row of the event log means to a client following a run it does not own: the same
//! [`RunEventKind`] the run's own process emitted live, rebuilt from the row and the plan as it is
//! stored. Output and agents' activity are never stored, so they never come this way.
//!
//! Pure: no I/O, no clock.

use crate::engine::RunEventKind;
use crate::engine::manual::{waiting_instructions, waiting_message};
use crate::model::{Plan, PlanStatus, Progress, SubtaskStatus};
use crate::store::PlanEvent;

/// The row that ends a run: the run's own `runFinished`, or `interrupted` written by whoever found
/// its process gone.
pub fn ends_run(row: &PlanEvent) -> bool {
    matches!(row.kind.as_str(), "runFinished" | "interrupted")
}

/// The rows that start a run: the claim (`runClaimed`) and the engine's `runStarted`.
pub fn starts_run(row: &PlanEvent) -> bool {
    matches!(row.kind.as_str(), "runClaimed" | "runStarted")
}

/// The subtask's move a row records, for the run's progress.
pub fn shift_of(row: &PlanEvent) -> Option<(SubtaskStatus, SubtaskStatus)> {
    row.subtask_id.as_ref()?;
    let from = SubtaskStatus::parse(row.from_status.as_deref()?)?;
    let to = SubtaskStatus::parse(row.to_status.as_deref()?)?;
    Some((from, to))
}

/// `planFinished` for `plan` ending `status`, timed from its start to its end as stored.
pub fn finished(plan: &Plan, status: PlanStatus) -> RunEventKind {
    let duration_ms = match (plan.started_at, plan.finished_at.or(Some(plan.updated_at))) {
        (Some(started), Some(ended)) => ended.millis_since(started),
        _ => 0,
    };
    RunEventKind::PlanFinished { status, duration_ms, usage: plan.usage(), summary: plan.check_summary() }
}

/// The event a subtask row stands for; `None` for rows a client does not see (the run's start and
/// end, which the caller handles, approvals, cancel requests) or that name an unknown subtask.
pub fn subtask_event(row: &PlanEvent, plan: &Plan) -> Option<RunEventKind> {
    let subtask = plan.subtask(row.subtask_id.as_ref()?)?;
    let subtask_id = subtask.id.clone();
    let detail = row.detail.clone();
    Some(match row.kind.as_str() {
        "subtaskStarted" => RunEventKind::SubtaskStarted {
            subtask_id,
            title: subtask.title.clone(),
            attempt: detail.as_deref().and_then(attempt_of).unwrap_or(subtask.attempts.max(1)),
        },
        "subtaskRetrying" => {
            let (failed_attempt, delay_ms, error) = detail
                .as_deref()
                .and_then(retry_of)
                .unwrap_or_else(|| (subtask.attempts, 0, subtask.error.clone().or(detail.clone()).unwrap_or_default()));
            RunEventKind::SubtaskRetrying { subtask_id, attempt: failed_attempt + 1, delay_ms, error }
        }
        "subtaskWaiting" => RunEventKind::SubtaskWaiting {
            subtask_id,
            title: subtask.title.clone(),
            agent: subtask.agent,
            message: detail.unwrap_or_else(|| waiting_message(subtask)),
            instructions: waiting_instructions(subtask),
        },
        "subtaskFinished" | "subtaskCompleted" => {
            let status = row.to_status.as_deref().and_then(SubtaskStatus::parse).unwrap_or(subtask.status);
            let duration_ms = match (subtask.started_at, subtask.finished_at) {
                (Some(started), Some(finished)) if subtask.status == status => finished.millis_since(started),
                _ => 0,
            };
            RunEventKind::SubtaskFinished {
                subtask_id,
                title: subtask.title.clone(),
                status,
                result: (subtask.status == status).then(|| subtask.result.clone()).flatten(),
                error: detail.or_else(|| subtask.error.clone()).filter(|_| status != SubtaskStatus::Done),
                duration_ms,
            }
        }
        _ => return None,
    })
}

/// The progress before a run's rows: `now` (the plan as stored after them) with their subtask
/// moves taken back, newest first.
pub fn progress_before<'a>(now: Progress, rows: impl DoubleEndedIterator<Item = &'a PlanEvent>) -> Progress {
    let mut progress = now;
    for row in rows.rev() {
        if let Some((from, to)) = shift_of(row) {
            progress.shift(to, from);
        }
    }
    progress
}

/// `attempt 3` → 3.
fn attempt_of(detail: &str) -> Option<u32> {
    detail.strip_prefix("attempt ")?.split_whitespace().next()?.parse().ok()
}

/// `attempt 1 failed, retrying in 512 ms: exit 4` → (1, 512, "exit 4").
fn retry_of(detail: &str) -> Option<(u32, u64, String)> {
    let rest = detail.strip_prefix("attempt ")?;
    let (attempt, rest) = rest.split_once(" failed, retrying in ")?;
    let (delay, error) = rest.split_once(" ms: ")?;
    Some((attempt.parse().ok()?, delay.parse().ok()?, error.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentKind, PlanId, SessionId, Subtask, SubtaskId, Timestamp};

    fn plan() -> Plan {
        let mut build = Subtask::new(SubtaskId::from_raw("build"), "Build it".into(), AgentKind::Shell);
        build.status = SubtaskStatus::Done;
        build.result = Some("built".into());
        build.started_at = Some(Timestamp::from_millis(1_000));
        build.finished_at = Some(Timestamp::from_millis(1_250));
        build.attempts = 2;
        let review = Subtask::new(SubtaskId::from_raw("review"), "Review it".into(), AgentKind::Manual);
        let session = SessionId::from_raw("s");
        Plan::new_draft(session, "Ship".into(), "ship it".into(), vec![build, review], Timestamp::from_millis(0))
    }

    fn row(kind: &str, subtask: Option<&str>, from: Option<&str>, to: Option<&str>, detail: Option<&str>) -> PlanEvent {
        PlanEvent {
            plan_id: PlanId::from_raw("p"),
            at: Timestamp::from_millis(5),
            run_id: None,
            subtask_id: subtask.map(SubtaskId::from_raw),
            kind: kind.into(),
            from_status: from.map(Into::into),
            to_status: to.map(Into::into),
            detail: detail.map(Into::into),
        }
    }

    #[test]
    fn subtask_rows_become_the_events_the_run_emitted() {
        let plan = plan();
        let started = row("subtaskStarted", Some("build"), Some("pending"), Some("running"), Some("attempt 2"));
        assert_eq!(
            subtask_event(&started, &plan),
            Some(RunEventKind::SubtaskStarted {
                subtask_id: SubtaskId::from_raw("build"),
                title: "Build it".into(),
                attempt: 2
            })
        );
        let retrying = row(
            "subtaskRetrying",
            Some("build"),
            Some("running"),
            None,
            Some("attempt 1 failed, retrying in 512 ms: exit 4"),
        );
        assert_eq!(
            subtask_event(&retrying, &plan),
            Some(RunEventKind::SubtaskRetrying {
                subtask_id: SubtaskId::from_raw("build"),
                attempt: 2,
                delay_ms: 512,
                error: "exit 4".into()
            })
        );
        let finished = row("subtaskFinished", Some("build"), Some("running"), Some("done"), None);
        assert_eq!(
            subtask_event(&finished, &plan),
            Some(RunEventKind::SubtaskFinished {
                subtask_id: SubtaskId::from_raw("build"),
                title: "Build it".into(),
                status: SubtaskStatus::Done,
                result: Some("built".into()),
                error: None,
                duration_ms: 250,
            })
        );
        let waiting = row("subtaskWaiting", Some("review"), Some("pending"), Some("waiting"), Some("Do it yourself"));
        assert!(matches!(
            subtask_event(&waiting, &plan),
            Some(RunEventKind::SubtaskWaiting { agent: AgentKind::Manual, ref message, .. }) if message == "Do it yourself"
        ));
        assert_eq!(subtask_event(&row("toolApproval", Some("build"), None, None, Some("x")), &plan), None);
        assert_eq!(subtask_event(&row("subtaskStarted", Some("ghost"), None, None, None), &plan), None);
    }

    #[test]
    fn a_failed_step_carries_its_error_and_an_outdated_row_no_stale_result() {
        let plan = plan();
        let failed = row("subtaskFinished", Some("build"), Some("running"), Some("failed"), Some("exit 4"));
        let Some(RunEventKind::SubtaskFinished { status, result, error, duration_ms, .. }) =
            subtask_event(&failed, &plan)
        else {
            panic!("not a finished event")
        };
        assert_eq!((status, result, error, duration_ms), (SubtaskStatus::Failed, None, Some("exit 4".into()), 0));
    }

    #[test]
    fn progress_is_taken_back_over_the_rows_then_replayed() {
        let now = Progress { total: 2, done: 1, waiting: 1, ..Default::default() };
        let rows = [
            row("runStarted", None, None, Some("running"), None),
            row("subtaskStarted", Some("build"), Some("pending"), Some("running"), None),
            row("subtaskFinished", Some("build"), Some("running"), Some("done"), None),
            row("subtaskWaiting", Some("review"), Some("pending"), Some("waiting"), None),
        ];
        assert_eq!(progress_before(now, rows.iter()), Progress { total: 2, pending: 2, ..Default::default() });
        assert!(starts_run(&rows[0]) && !ends_run(&rows[0]));
        assert!(ends_run(&row("interrupted", None, Some("running"), Some("interrupted"), None)));
    }

    #[test]
    fn the_run_ends_with_its_stored_duration_and_usage() {
        let mut plan = plan();
        plan.started_at = Some(Timestamp::from_millis(1_000));
        plan.finished_at = Some(Timestamp::from_millis(4_500));
        let RunEventKind::PlanFinished { status, duration_ms, .. } = finished(&plan, PlanStatus::Completed) else {
            panic!("not planFinished")
        };
        assert_eq!((status, duration_ms), (PlanStatus::Completed, 3_500));
    }
}
