//! Baselines that inform, not fail: a tiny Python project with one failing test (real
//! `python3 -m unittest` processes, a real SQLite file). The baseline runs the tests before the
//! change and fails, as it must for a bug fix; a later step fixes the bug and the final check
//! passes. The plan ends `completed` with "before: 1 failing · after: all passing", the baseline
//! is never retried, and a retry after the change never runs it again.

use std::path::Path;
use std::time::Duration;

use codelab_planner::engine::{AgentSet, Backoff, EventReceiver, RunConfig, RunEventKind, spawn_run};
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, SubtaskRole, SubtaskStatus,
    Timestamp,
};
use codelab_planner::orchestrator::{
    CreateMode, CreateRequest, ExecuteRequest, Orchestrator, OrchestratorConfig, RetryRequest,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};

const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const TESTS: &str = "python3 -m unittest";

/// `calc.py` adds with a minus; `test_calc.py` has one failing test and one passing.
fn write_buggy_project(root: &Path) {
    std::fs::write(root.join("calc.py"), "def add(a, b):\n    return a - b\n\n\ndef neg(a):\n    return -a\n").unwrap();
    std::fs::write(
        root.join("test_calc.py"),
        "import unittest\n\nfrom calc import add, neg\n\n\nclass CalcTest(unittest.TestCase):\n    \
         def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_neg(self):\n        \
         self.assertEqual(neg(2), -2)\n\n\nif __name__ == \"__main__\":\n    unittest.main()\n",
    )
    .unwrap();
}

const FIX: &str = "sed -i 's/a - b/a + b/' calc.py";

fn shell(id: &str, command: &str, depends_on: &[&str]) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), AgentKind::Shell);
    subtask.command = Some(command.to_owned());
    subtask.depends_on = depends_on.iter().map(|id| SubtaskId::from_raw(*id)).collect();
    subtask
}

fn subtask<'a>(plan: &'a Plan, id: &str) -> &'a Subtask {
    plan.subtask(&SubtaskId::from_raw(id)).expect("subtask exists")
}

#[tokio::test]
async fn a_bug_fix_with_a_failing_baseline_completes_with_the_before_and_after_summary() {
    let workspace = tempfile::tempdir().unwrap();
    write_buggy_project(workspace.path());
    let (repository, _) = PlanRepository::open(workspace.path().join(".codelab/planner.db")).await.unwrap();
    let mut baseline = shell("baseline", TESTS, &[]);
    baseline.role = SubtaskRole::Baseline;
    baseline.max_attempts = 3;
    let subtasks = vec![baseline, shell("fix", FIX, &["baseline"]), shell("check", TESTS, &["fix"])];
    let now = Timestamp::now();
    let mut plan =
        Plan::new_draft(SessionId::generate(), "Fix add".into(), "fix add, with tests".into(), subtasks, now);
    plan.approve(now).unwrap();
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.unwrap();
    plan.start_run(Timestamp::now(), RunId::generate()).unwrap();
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.unwrap();
    let config = RunConfig {
        max_parallel: 2,
        failure_policy: FailurePolicy::Continue,
        workspace_root: workspace.path().to_path_buf(),
        backoff: Backoff { base: Duration::from_millis(10), cap: Duration::from_millis(50) },
        kill_grace: Duration::from_millis(500),
        agents: AgentSet::without_llm(),
        editor: None,
    };
    let (handle, events) = spawn_run(repository.clone(), plan.clone(), config);
    let kinds = drain(events).await;
    let summary = tokio::time::timeout(RUN_TIMEOUT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Completed);

    let started_baseline = kinds.iter().filter(|kind| started(kind, "baseline")).count();
    assert_eq!(started_baseline, 1, "a failing baseline is not retried: {kinds:#?}");
    match kinds.last() {
        Some(RunEventKind::PlanFinished { status, summary, .. }) => {
            assert_eq!(*status, PlanStatus::Completed);
            assert_eq!(summary.as_deref(), Some("before: 1 failing · after: all passing"));
        }
        other => panic!("the last event is planFinished, got {other:?}"),
    }
    let stored = repository.get_plan(plan.id.clone()).await.unwrap().unwrap();
    assert_eq!(stored.status, PlanStatus::Completed);
    assert_eq!(stored.error, None);
    let baseline = subtask(&stored, "baseline");
    assert_eq!((baseline.status, baseline.attempts, baseline.role), (SubtaskStatus::Done, 1, SubtaskRole::Baseline));
    let result = baseline.result.as_deref().unwrap_or_default();
    assert!(result.starts_with("failing before the change: 1 test\n\n"), "{result}");
    assert!(result.contains("FAILED (failures=1)"), "the output follows for the dependents: {result}");
    assert_eq!(baseline.error, None);
    assert_eq!(stored.check_summary().as_deref(), Some("before: 1 failing · after: all passing"));
}

fn started(kind: &RunEventKind, id: &str) -> bool {
    matches!(kind, RunEventKind::SubtaskStarted { subtask_id, .. } if subtask_id.as_str() == id)
}

async fn drain(mut events: EventReceiver) -> Vec<RunEventKind> {
    let mut kinds = Vec::new();
    while let Some(event) = tokio::time::timeout(RUN_TIMEOUT, events.recv()).await.expect("the run ends in time") {
        kinds.push(event.kind);
    }
    kinds
}

fn draft(id: &str, command: &str, depends_on: &[&str], role: Option<&str>) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(id.to_owned()),
        title: format!("step {id}"),
        agent: "shell".to_owned(),
        command: Some(command.to_owned()),
        depends_on: depends_on.iter().map(|id| (*id).to_owned()).collect(),
        role: role.map(str::to_owned),
        ..SubtaskDraft::default()
    }
}

/// The first fix fails, so the plan fails; "retry" after a better
/// fix re-runs the fix and the check, never the baseline — it stays as it was before the change.
#[tokio::test]
async fn retry_after_the_change_leaves_the_baseline_alone() {
    let workspace = tempfile::tempdir().unwrap();
    write_buggy_project(workspace.path());
    let config = OrchestratorConfig {
        workspace_root: workspace.path().to_path_buf(),
        database: None,
        settings: Default::default(),
        editor: None,
    };
    let (orchestrator, _) = Orchestrator::start(config).await.unwrap();
    // The fix fails until `better` exists.
    let fix = format!("if [ -f better ]; then {FIX}; else echo 'not sure how' >&2; exit 1; fi");
    let request = CreateRequest {
        task: "Fix add in calc.py".to_owned(),
        mode: CreateMode::Plan,
        subtasks: Some(vec![
            draft("baseline", TESTS, &[], Some("baseline")),
            draft("fix", &fix, &["baseline"], None),
            draft("check", TESTS, &["fix"], None),
        ]),
        ..CreateRequest::default()
    };
    let plan_id = orchestrator.create(request).await.unwrap().plan.id;
    orchestrator.approve(plan_id.clone()).await.unwrap();
    let execute = ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None };
    drain(orchestrator.execute(execute).await.unwrap().events).await;
    let failed = orchestrator.get(plan_id.clone()).await.unwrap();
    assert_eq!(failed.status, PlanStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("1 of 3 subtasks failed, 1 skipped"), "the baseline is not a failure");
    assert_eq!(failed.check_summary().as_deref(), Some("before: 1 failing · after: not run"));
    let baseline_before = subtask(&failed, "baseline").clone();

    // Named by the person, the baseline still is not run again: only what depends on it is.
    let retry = RetryRequest { plan_id: plan_id.clone(), subtask_ids: Some(vec![SubtaskId::from_raw("baseline")]) };
    let kinds = drain(orchestrator.retry(retry).await.unwrap().events).await;
    assert!(!kinds.iter().any(|kind| started(kind, "baseline")), "the baseline ran again: {kinds:#?}");
    assert!(kinds.iter().any(|kind| started(kind, "fix")), "its dependents ran: {kinds:#?}");
    let still_failing = orchestrator.get(plan_id.clone()).await.unwrap();
    assert_eq!(still_failing.status, PlanStatus::Failed);
    assert_eq!(subtask(&still_failing, "baseline"), &baseline_before);

    std::fs::write(workspace.path().join("better"), "").unwrap();
    let retry = RetryRequest { plan_id: plan_id.clone(), subtask_ids: None };
    let kinds = drain(orchestrator.retry(retry).await.unwrap().events).await;
    assert!(!kinds.iter().any(|kind| started(kind, "baseline")), "the baseline ran again: {kinds:#?}");
    let retried = orchestrator.get(plan_id.clone()).await.unwrap();
    assert_eq!(retried.status, PlanStatus::Completed);
    assert_eq!(subtask(&retried, "baseline"), &baseline_before);
    assert_eq!(retried.check_summary().as_deref(), Some("before: 1 failing · after: all passing"));
}
