//! Unit tests for the domain model's guards: every allowed and refused status change of
//! [`Plan`] and [`Subtask`], [`Progress`] counting, and how a run ends or is interrupted.
//!
//! Not here: input validation (tested in `validate.rs`) and the graph (in `crate::graph`).

use super::*;

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn subtask(id: &str, status: SubtaskStatus) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("Task {id}"), AgentKind::Coder);
    subtask.status = status;
    subtask
}

fn draft_plan(subtasks: Vec<Subtask>) -> Plan {
    Plan::new_draft(SessionId::from_raw("session"), "Title".to_owned(), "Goal".to_owned(), subtasks, at(1_000))
}

fn plan_in(status: PlanStatus, subtasks: Vec<Subtask>) -> Plan {
    let mut plan = draft_plan(subtasks);
    plan.status = status;
    plan
}

fn running_plan(statuses: &[SubtaskStatus]) -> Plan {
    let subtasks =
        statuses.iter().enumerate().map(|(index, status)| subtask(&format!("s{}", index + 1), *status)).collect();
    plan_in(PlanStatus::Running, subtasks)
}

fn refused_plan_state(error: GuardError) -> (&'static str, PlanStatus) {
    match error {
        GuardError::PlanState { action, status, allowed } => {
            assert!(!allowed.contains(&action), "{action} must not be offered while {status}");
            (action, status)
        }
        other => panic!("expected a plan state error, got {other:?}"),
    }
}

fn every_status_except(allowed: &[SubtaskStatus]) -> impl Iterator<Item = SubtaskStatus> + '_ {
    SubtaskStatus::ALL.iter().copied().filter(move |status| !allowed.contains(status))
}

// ---- Plan: approve, reject, edit ----

#[test]
fn approve_moves_a_non_empty_draft_to_approved() {
    let mut plan = draft_plan(vec![subtask("a", SubtaskStatus::Pending)]);
    plan.approve(at(2_000)).unwrap();
    assert_eq!(plan.status, PlanStatus::Approved);
    assert_eq!(plan.approved_at, Some(at(2_000)));
    assert_eq!(plan.updated_at, at(2_000));
}

#[test]
fn approve_refuses_an_empty_draft_and_leaves_it_a_draft() {
    let mut plan = draft_plan(Vec::new());
    assert_eq!(plan.approve(at(2_000)), Err(GuardError::EmptyPlan));
    assert_eq!(plan.status, PlanStatus::Draft);
    assert_eq!(plan.approved_at, None);
    assert_eq!(GuardError::EmptyPlan.to_string(), "cannot approve a plan without subtasks");
}

#[test]
fn approve_refuses_every_status_but_draft() {
    for status in PlanStatus::ALL.iter().copied().filter(|status| *status != PlanStatus::Draft) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Pending)]);
        let error = plan.approve(at(2_000)).unwrap_err();
        assert_eq!(error.to_string(), format!("cannot approve a plan that is {status}"));
        assert_eq!(refused_plan_state(error), ("approve", status));
        assert_eq!(plan.status, status, "a refused approve changes nothing");
    }
}

#[test]
fn reject_only_from_draft_and_keeps_feedback() {
    let mut plan = draft_plan(vec![subtask("a", SubtaskStatus::Pending)]);
    plan.reject(at(3_000), Some("too big".to_owned())).unwrap();
    assert_eq!((plan.status, plan.feedback.as_deref()), (PlanStatus::Rejected, Some("too big")));
    let error = plan.reject(at(4_000), None).unwrap_err();
    assert_eq!(refused_plan_state(error), ("reject", PlanStatus::Rejected));
    assert_eq!(plan.feedback.as_deref(), Some("too big"));
}

#[test]
fn edit_changes_a_draft_and_bumps_its_version() {
    let mut plan = draft_plan(vec![subtask("a", SubtaskStatus::Pending)]);
    plan.edit(at(5_000), Some("New title".to_owned()), None).unwrap();
    assert_eq!((plan.title.as_str(), plan.version, plan.subtasks.len()), ("New title", 2, 1));
    plan.edit(at(6_000), None, Some(vec![subtask("x", SubtaskStatus::Pending), subtask("y", SubtaskStatus::Pending)]))
        .unwrap();
    assert_eq!((plan.title.as_str(), plan.version, plan.subtasks.len()), ("New title", 3, 2));
    assert_eq!(plan.updated_at, at(6_000));
}

#[test]
fn edit_is_refused_outside_draft() {
    for status in PlanStatus::ALL.iter().copied().filter(|status| *status != PlanStatus::Draft) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Pending)]);
        assert_eq!(refused_plan_state(plan.ensure_editable().unwrap_err()), ("edit", status));
        let error = plan.edit(at(5_000), Some("New".to_owned()), Some(Vec::new())).unwrap_err();
        assert_eq!(refused_plan_state(error), ("edit", status));
        assert_eq!((plan.title.as_str(), plan.version, plan.subtasks.len()), ("Title", 1, 1));
    }
}

// ---- Plan: runs ----

#[test]
fn start_run_only_from_approved() {
    let mut plan = plan_in(PlanStatus::Approved, vec![subtask("a", SubtaskStatus::Pending)]);
    plan.start_run(at(7_000), RunId::from_raw("run1")).unwrap();
    assert_eq!(plan.status, PlanStatus::Running);
    assert_eq!((plan.started_at, plan.run_id.as_ref().map(RunId::as_str)), (Some(at(7_000)), Some("run1")));
    for status in PlanStatus::ALL.iter().copied().filter(|status| *status != PlanStatus::Approved) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Pending)]);
        let error = plan.start_run(at(7_000), RunId::from_raw("run2")).unwrap_err();
        assert_eq!(refused_plan_state(error), ("execute", status));
        assert_eq!(plan.run_id, None);
    }
}

#[test]
fn start_retry_resets_only_the_listed_subtasks() {
    for status in [PlanStatus::Failed, PlanStatus::Cancelled, PlanStatus::Interrupted] {
        let mut failed = subtask("a", SubtaskStatus::Failed);
        failed.attempts = 3;
        failed.error = Some("boom".to_owned());
        let mut plan =
            plan_in(status, vec![subtask("done", SubtaskStatus::Done), failed, subtask("b", SubtaskStatus::Skipped)]);
        plan.error = Some("1 of 3 subtasks failed, 1 skipped".to_owned());
        let rerun = [SubtaskId::from_raw("a"), SubtaskId::from_raw("b")];
        plan.start_retry(at(8_000), RunId::from_raw("run2"), &rerun, false).unwrap();
        assert_eq!(plan.status, PlanStatus::Running);
        assert_eq!(plan.error, None);
        let statuses: Vec<SubtaskStatus> = plan.subtasks.iter().map(|subtask| subtask.status).collect();
        assert_eq!(statuses, vec![SubtaskStatus::Done, SubtaskStatus::Pending, SubtaskStatus::Pending]);
        assert_eq!((plan.subtasks[1].attempts, plan.subtasks[1].error.as_ref()), (3, None), "attempts kept");
    }
}

#[test]
fn start_retry_named_by_user_resets_attempts() {
    let mut failed = subtask("a", SubtaskStatus::Failed);
    failed.attempts = 3;
    let mut plan = plan_in(PlanStatus::Failed, vec![failed]);
    plan.start_retry(at(8_000), RunId::from_raw("run2"), &[SubtaskId::from_raw("a")], true).unwrap();
    assert_eq!(plan.subtasks[0].attempts, 0);
}

#[test]
fn start_retry_never_runs_a_baseline_again_after_the_change() {
    let baseline = |status| {
        let mut baseline = subtask("base", status);
        baseline.role = SubtaskRole::Baseline;
        baseline.attempts = 1;
        baseline.result = Some("failing before the change: 1 test".to_owned());
        baseline
    };
    let mut fix = subtask("fix", SubtaskStatus::Failed);
    fix.attempts = 1;
    let rerun = [SubtaskId::from_raw("base"), SubtaskId::from_raw("fix")];

    let mut plan = plan_in(PlanStatus::Failed, vec![baseline(SubtaskStatus::Done), fix.clone()]);
    plan.start_retry(at(8_000), RunId::from_raw("run2"), &rerun, true).unwrap();
    assert_eq!(plan.subtasks[0].status, SubtaskStatus::Done, "a done baseline is kept even when named");
    assert_eq!(plan.subtasks[0].result.as_deref(), Some("failing before the change: 1 test"));
    assert_eq!(plan.subtasks[1].status, SubtaskStatus::Pending);

    let mut plan = plan_in(PlanStatus::Cancelled, vec![baseline(SubtaskStatus::Cancelled), fix]);
    plan.start_retry(at(8_000), RunId::from_raw("run2"), &rerun, false).unwrap();
    assert_eq!(plan.subtasks[0].status, SubtaskStatus::Done);
    assert_eq!(plan.subtasks[0].result.as_deref(), Some("not run before the change"));

    // Before the change started, a baseline that did not finish runs again.
    let mut plan = plan_in(
        PlanStatus::Interrupted,
        vec![baseline(SubtaskStatus::Pending), subtask("fix", SubtaskStatus::Pending)],
    );
    plan.start_retry(at(8_000), RunId::from_raw("run2"), &rerun, false).unwrap();
    assert_eq!(plan.subtasks[0].status, SubtaskStatus::Pending);
}

#[test]
fn start_retry_is_refused_unless_failed_cancelled_or_interrupted() {
    let retryable = [PlanStatus::Failed, PlanStatus::Cancelled, PlanStatus::Interrupted];
    for status in PlanStatus::ALL.iter().copied().filter(|status| !retryable.contains(status)) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Failed)]);
        let error =
            plan.start_retry(at(8_000), RunId::from_raw("run2"), &[SubtaskId::from_raw("a")], true).unwrap_err();
        assert_eq!(refused_plan_state(error), ("retry", status));
        assert_eq!(plan.subtasks[0].status, SubtaskStatus::Failed);
    }
}

#[test]
fn finish_run_is_completed_only_when_every_subtask_is_done() {
    let mut plan = running_plan(&[SubtaskStatus::Done, SubtaskStatus::Done]);
    assert_eq!(plan.finish_run(at(9_000), false), Ok(PlanStatus::Completed));
    assert_eq!((plan.status, plan.error.as_ref(), plan.finished_at), (PlanStatus::Completed, None, Some(at(9_000))));
}

#[test]
fn finish_run_is_failed_with_counts_when_anything_is_not_done() {
    let mut plan =
        running_plan(&[SubtaskStatus::Done, SubtaskStatus::Failed, SubtaskStatus::Skipped, SubtaskStatus::Skipped]);
    assert_eq!(plan.finish_run(at(9_000), false), Ok(PlanStatus::Failed));
    assert_eq!(plan.error.as_deref(), Some("1 of 4 subtasks failed, 2 skipped"));
    let mut plan = running_plan(&[SubtaskStatus::Done, SubtaskStatus::Cancelled]);
    assert_eq!(plan.finish_run(at(9_000), false), Ok(PlanStatus::Failed), "a cancelled subtask is not done");
}

#[test]
fn finish_run_is_cancelled_when_the_run_was_cancelled() {
    let mut plan = running_plan(&[SubtaskStatus::Done, SubtaskStatus::Cancelled]);
    assert_eq!(plan.finish_run(at(9_000), true), Ok(PlanStatus::Cancelled));
    assert_eq!((plan.status, plan.error.as_deref()), (PlanStatus::Cancelled, Some("cancelled")));
}

#[test]
fn finish_run_is_refused_unless_running() {
    for status in PlanStatus::ALL.iter().copied().filter(|status| *status != PlanStatus::Running) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Done)]);
        assert_eq!(refused_plan_state(plan.finish_run(at(9_000), false).unwrap_err()), ("finish", status));
        assert_eq!((plan.status, plan.finished_at), (status, None));
    }
}

#[test]
fn interrupt_resets_running_subtasks_to_pending() {
    let mut plan =
        running_plan(&[SubtaskStatus::Done, SubtaskStatus::Running, SubtaskStatus::Pending, SubtaskStatus::Running]);
    plan.subtasks[1].started_at = Some(at(500));
    let reset = plan.interrupt(at(10_000));
    assert_eq!(reset, vec![SubtaskId::from_raw("s2"), SubtaskId::from_raw("s4")]);
    assert_eq!(plan.status, PlanStatus::Interrupted);
    assert!(plan.error.is_some());
    let statuses: Vec<SubtaskStatus> = plan.subtasks.iter().map(|subtask| subtask.status).collect();
    assert_eq!(
        statuses,
        vec![SubtaskStatus::Done, SubtaskStatus::Pending, SubtaskStatus::Pending, SubtaskStatus::Pending]
    );
    assert_eq!(plan.subtasks[1].started_at, None);
}

#[test]
fn interrupt_leaves_a_plan_that_is_not_running_alone() {
    for status in PlanStatus::ALL.iter().copied().filter(|status| *status != PlanStatus::Running) {
        let mut plan = plan_in(status, vec![subtask("a", SubtaskStatus::Running)]);
        assert!(plan.interrupt(at(10_000)).is_empty());
        assert_eq!((plan.status, plan.subtasks[0].status), (status, SubtaskStatus::Running));
    }
}

#[test]
fn allowed_actions_never_offer_what_the_guards_refuse() {
    let draft = draft_plan(vec![subtask("a", SubtaskStatus::Pending)]);
    assert!(draft.allowed_actions().contains(&"approve"));
    assert_eq!(plan_in(PlanStatus::Approved, Vec::new()).allowed_actions(), vec!["execute", "delete"]);
    assert!(plan_in(PlanStatus::Interrupted, Vec::new()).allowed_actions().contains(&"retry"));
}

// ---- Subtask guards ----

#[test]
fn start_from_pending_or_failed_counts_an_attempt() {
    for from in [SubtaskStatus::Pending, SubtaskStatus::Failed] {
        let mut task = subtask("a", from);
        task.attempts = 1;
        task.error = Some("old".to_owned());
        task.finished_at = Some(at(1));
        task.start(at(2_000)).unwrap();
        assert_eq!(task.status, SubtaskStatus::Running);
        assert_eq!((task.attempts, task.error.as_ref()), (2, None));
        assert_eq!((task.started_at, task.finished_at), (Some(at(2_000)), None));
    }
}

#[test]
fn start_is_refused_from_any_other_status() {
    for from in every_status_except(&[SubtaskStatus::Pending, SubtaskStatus::Failed]) {
        let mut task = subtask("a", from);
        let error = task.start(at(2_000)).unwrap_err();
        assert_eq!(error.to_string(), format!("cannot start subtask \"a\" while it is {from}"));
        assert_eq!((task.status, task.attempts), (from, 0));
    }
}

#[test]
fn complete_and_fail_only_from_running() {
    let mut task = subtask("a", SubtaskStatus::Running);
    task.complete(at(3_000), "ok".to_owned()).unwrap();
    assert_eq!(
        (task.status, task.result.as_deref(), task.finished_at),
        (SubtaskStatus::Done, Some("ok"), Some(at(3_000)))
    );
    let mut task = subtask("b", SubtaskStatus::Running);
    task.fail(at(3_000), "exit 1".to_owned(), Some("partial".to_owned())).unwrap();
    assert_eq!(
        (task.status, task.error.as_deref(), task.result.as_deref()),
        (SubtaskStatus::Failed, Some("exit 1"), Some("partial"))
    );
    for from in every_status_except(&[SubtaskStatus::Running]) {
        let mut task = subtask("c", from);
        assert!(matches!(
            task.complete(at(3_000), "x".to_owned()),
            Err(GuardError::SubtaskState { action: "complete", .. })
        ));
        assert!(matches!(
            task.fail(at(3_000), "x".to_owned(), None),
            Err(GuardError::SubtaskState { action: "fail", .. })
        ));
        assert!(task.note_attempt_failed("x".to_owned()).is_err());
        assert!(task.begin_next_attempt().is_err());
        assert_eq!((task.status, task.result.as_ref(), task.error.as_ref()), (from, None, None));
    }
}

#[test]
fn a_retryable_failure_keeps_the_subtask_running() {
    let mut task = subtask("a", SubtaskStatus::Pending);
    task.start(at(1_000)).unwrap();
    task.note_attempt_failed("timeout".to_owned()).unwrap();
    task.begin_next_attempt().unwrap();
    assert_eq!((task.status, task.attempts, task.error.as_deref()), (SubtaskStatus::Running, 2, Some("timeout")));
    task.complete(at(2_000), "ok".to_owned()).unwrap();
    assert_eq!(task.error, None);
}

#[test]
fn skip_only_from_pending() {
    let mut task = subtask("a", SubtaskStatus::Pending);
    task.skip(at(4_000), "dependency failed".to_owned()).unwrap();
    assert_eq!((task.status, task.error.as_deref()), (SubtaskStatus::Skipped, Some("dependency failed")));
    for from in every_status_except(&[SubtaskStatus::Pending]) {
        let mut task = subtask("b", from);
        assert!(matches!(task.skip(at(4_000), "x".to_owned()), Err(GuardError::SubtaskState { action: "skip", .. })));
        assert_eq!(task.status, from);
    }
}

#[test]
fn cancel_from_pending_running_or_waiting() {
    for from in [SubtaskStatus::Pending, SubtaskStatus::Running, SubtaskStatus::Waiting] {
        let mut task = subtask("a", from);
        task.cancel(at(5_000), "user".to_owned()).unwrap();
        assert_eq!((task.status, task.finished_at), (SubtaskStatus::Cancelled, Some(at(5_000))));
    }
    for from in every_status_except(&[SubtaskStatus::Pending, SubtaskStatus::Running, SubtaskStatus::Waiting]) {
        let mut task = subtask("b", from);
        assert!(matches!(
            task.cancel(at(5_000), "x".to_owned()),
            Err(GuardError::SubtaskState { action: "cancel", .. })
        ));
        assert_eq!(task.status, from);
    }
}

#[test]
fn done_skipped_and_cancelled_are_terminal_within_a_run() {
    for terminal in [SubtaskStatus::Done, SubtaskStatus::Skipped, SubtaskStatus::Cancelled] {
        assert!(terminal.is_terminal_for_run());
        let mut task = subtask("a", terminal);
        assert!(task.start(at(1)).is_err());
        assert!(task.complete(at(1), "x".to_owned()).is_err());
        assert!(task.fail(at(1), "x".to_owned(), None).is_err());
        assert!(task.skip(at(1), "x".to_owned()).is_err());
        assert!(task.cancel(at(1), "x".to_owned()).is_err());
        assert_eq!(task.status, terminal);
    }
    assert!(!SubtaskStatus::Failed.is_terminal_for_run(), "failed can be retried");
}

#[test]
fn reset_for_rerun_clears_outputs_and_optionally_attempts() {
    let mut task = subtask("a", SubtaskStatus::Running);
    task.attempts = 2;
    task.fail(at(1), "boom".to_owned(), Some("half".to_owned())).unwrap();
    task.reset_for_rerun(false);
    assert_eq!((task.status, task.attempts), (SubtaskStatus::Pending, 2));
    assert_eq!((task.result.as_ref(), task.error.as_ref(), task.finished_at), (None, None, None));
    task.reset_for_rerun(true);
    assert_eq!(task.attempts, 0);
}

#[test]
fn new_subtasks_take_their_agents_defaults() {
    let shell = Subtask::new(SubtaskId::from_raw("a"), "t".to_owned(), AgentKind::Shell);
    assert_eq!((shell.status, shell.max_attempts, shell.timeout_secs), (SubtaskStatus::Pending, 1, None));
    let coder = Subtask::new(SubtaskId::from_raw("b"), "t".to_owned(), AgentKind::Coder);
    assert_eq!((coder.max_attempts, coder.timeout_secs), (3, Some(600)));
}

// ---- Progress ----

#[test]
fn progress_of_an_empty_plan_is_zero_percent() {
    let progress = draft_plan(Vec::new()).progress();
    assert_eq!(progress, Progress::default());
    assert_eq!(progress.percentage(), 0);
}

#[test]
fn progress_counts_every_finished_status_and_rounds_down() {
    use SubtaskStatus::{Cancelled, Done, Failed, Pending, Running, Skipped};
    let progress = Progress::of([Pending, Running, Done, Failed, Skipped, Cancelled]);
    assert_eq!(
        (
            progress.total,
            progress.pending,
            progress.running,
            progress.done,
            progress.failed,
            progress.skipped,
            progress.cancelled
        ),
        (6, 1, 1, 1, 1, 1, 1)
    );
    assert_eq!((progress.finished(), progress.percentage()), (4, 66));
    assert_eq!(Progress::of([Done, Pending, Pending]).percentage(), 33);
    assert_eq!(Progress::of([Failed, Skipped]).percentage(), 100, "finished counts failures too");
    assert_eq!(Progress::of([Running, Pending]).percentage(), 0);
    assert_eq!(running_plan(&[Done, Done, Done, Pending]).progress().percentage(), 75);
}

#[test]
fn a_person_step_waits_from_pending_and_is_finished_only_from_waiting() {
    let mut task = subtask("a", SubtaskStatus::Pending);
    task.wait_for_person(at(1_000)).unwrap();
    assert_eq!((task.status, task.attempts, task.started_at), (SubtaskStatus::Waiting, 1, Some(at(1_000))));
    task.finish_waiting(at(2_000), true, None).unwrap();
    assert_eq!((task.status, task.result.as_deref()), (SubtaskStatus::Done, Some("done by hand")));
    let mut failed = subtask("b", SubtaskStatus::Waiting);
    failed.finish_waiting(at(2_000), false, Some("could not reproduce".into())).unwrap();
    assert_eq!((failed.status, failed.error.as_deref()), (SubtaskStatus::Failed, Some("could not reproduce")));
    for from in every_status_except(&[SubtaskStatus::Waiting]) {
        let mut task = subtask("c", from);
        assert!(task.finish_waiting(at(3_000), true, None).is_err());
        assert_eq!(task.status, from);
    }
    for from in every_status_except(&[SubtaskStatus::Pending]) {
        assert!(subtask("d", from).wait_for_person(at(3_000)).is_err());
    }
}

#[test]
fn waiting_counts_in_progress_but_not_as_finished() {
    let progress = Progress::of([SubtaskStatus::Waiting, SubtaskStatus::Done]);
    assert_eq!((progress.waiting, progress.finished(), progress.percentage()), (1, 1, 50));
}
