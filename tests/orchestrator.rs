//! The orchestrator end to end against a real SQLite file and real shell subtasks: create
//! (atomic and complex), review (revise, approve, reject), edits with versions, execute, cancel,
//! retry, delete, and a restart on the same file.

use std::path::Path;
use std::time::Duration;

use codelab_planner::config::{PlanApproval, Settings, WithoutModel};
use codelab_planner::engine::{EventReceiver, RunEventKind};
use codelab_planner::fsm::SessionState;
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{AgentKind, PlanId, PlanStatus, SessionId, SubtaskId, SubtaskStatus};
use codelab_planner::orchestrator::{
    CreateMode, CreateRequest, ExecuteRequest, ListRequest, OmittedFields, Orchestrator, OrchestratorConfig,
    OrchestratorError, RetryRequest, UpdateRequest,
};

const RUN_TIMEOUT: Duration = Duration::from_secs(30);

async fn start(workspace: &Path) -> Orchestrator {
    start_with(workspace, Settings::default()).await
}

async fn start_with(workspace: &Path, settings: Settings) -> Orchestrator {
    let config = OrchestratorConfig { workspace_root: workspace.to_path_buf(), database: None, settings, editor: None };
    let (orchestrator, _report) = Orchestrator::start(config).await.expect("orchestrator starts");
    orchestrator
}

fn shell(id: &str, command: &str, depends_on: &[&str]) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(id.to_owned()),
        title: format!("step {id}"),
        agent: "shell".to_owned(),
        command: Some(command.to_owned()),
        depends_on: depends_on.iter().map(|dependency| (*dependency).to_owned()).collect(),
        ..SubtaskDraft::default()
    }
}

fn plan_request(task: &str, subtasks: Vec<SubtaskDraft>) -> CreateRequest {
    CreateRequest {
        task: task.to_owned(),
        mode: CreateMode::Plan,
        subtasks: Some(subtasks),
        ..CreateRequest::default()
    }
}

/// Drains a run's events until `planFinished`; returns every kind seen, in order.
async fn drain(mut events: EventReceiver) -> Vec<RunEventKind> {
    let mut kinds = Vec::new();
    loop {
        let next = tokio::time::timeout(RUN_TIMEOUT, events.recv()).await.expect("the run ends in time");
        match next {
            Some(event) => {
                let last = event.kind.is_final();
                kinds.push(event.kind);
                if last {
                    break;
                }
            }
            None => break,
        }
    }
    kinds
}

/// Consumes events until the first `subtaskStarted`.
async fn wait_until_a_subtask_started(events: &mut EventReceiver) {
    loop {
        let event = tokio::time::timeout(RUN_TIMEOUT, events.recv()).await.expect("a subtask starts in time");
        match event {
            Some(event) if matches!(event.kind, RunEventKind::SubtaskStarted { .. }) => return,
            Some(_) => {}
            None => panic!("the run ended before any subtask started"),
        }
    }
}

async fn execute(orchestrator: &Orchestrator, plan_id: &PlanId) -> Vec<RunEventKind> {
    let request = ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None };
    let started = orchestrator.execute(request).await.expect("execute starts");
    drain(started.events).await
}

/// The session state once the orchestrator has booked the run's end (the end is booked by the
/// actor right after the engine's final event, so poll briefly with a hard limit).
async fn session_state_eventually(
    orchestrator: &Orchestrator,
    session: &SessionId,
    wanted: SessionState,
) -> SessionState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = orchestrator.session(session.clone()).await.expect("session exists").state;
        if state == wanted || tokio::time::Instant::now() > deadline {
            return state;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn atomic_task_runs_its_one_subtask_and_completes_the_session() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let request = CreateRequest {
        task: "run the smoke check".to_owned(),
        mode: CreateMode::Direct,
        subtasks: Some(vec![shell("check", "echo smoke-ok", &[])]),
        ..CreateRequest::default()
    };
    let created = orchestrator.create(request).await.unwrap();
    assert_eq!(created.plan.subtasks.len(), 1);
    assert_eq!(created.session.state, SessionState::Execution);
    assert_eq!(created.plan.status, PlanStatus::Draft);

    // Atomic plans are auto-approved by `execute` under the default policy.
    let kinds = execute(&orchestrator, &created.plan.id).await;
    assert!(matches!(kinds.last(), Some(RunEventKind::PlanFinished { status: PlanStatus::Completed, .. })));
    let plan = orchestrator.get(created.plan.id.clone()).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Completed);
    assert_eq!(plan.subtasks[0].result.as_deref().map(str::trim), Some("smoke-ok"));
    let state = session_state_eventually(&orchestrator, &created.session.id, SessionState::Completed).await;
    assert_eq!(state, SessionState::Completed);
}

#[tokio::test]
async fn atomic_code_task_without_a_language_model_fails_at_once_with_a_clear_error() {
    let workspace = tempfile::tempdir().unwrap();
    // `agents.withoutModel = "fail"`; the default ("manual") makes the step wait (tests/manual_steps.rs).
    let settings = Settings { without_model: WithoutModel::Fail, ..Settings::default() };
    let orchestrator = start_with(workspace.path(), settings).await;
    let created = orchestrator
        .create(CreateRequest { task: "Update function in login.py".to_owned(), ..CreateRequest::default() })
        .await
        .unwrap();
    let classification = created.plan.classification.clone().unwrap();
    assert!(classification.is_atomic());
    assert_eq!(created.plan.subtasks[0].agent, AgentKind::Coder);
    let kinds = execute(&orchestrator, &created.plan.id).await;
    assert!(matches!(kinds.last(), Some(RunEventKind::PlanFinished { status: PlanStatus::Failed, .. })));
    let plan = orchestrator.get(created.plan.id).await.unwrap();
    let error = plan.subtasks[0].error.clone().unwrap_or_default();
    assert!(error.contains("no language model is configured"), "{error}");
    let state = session_state_eventually(&orchestrator, &created.session.id, SessionState::ErrorHandling).await;
    assert_eq!(state, SessionState::ErrorHandling);
}

#[tokio::test]
async fn complex_task_is_reviewed_revised_approved_and_executed() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let subtasks = vec![
        shell("prepare", "echo prepared", &[]),
        shell("docs", "echo docs", &["prepare"]),
        shell("build", "echo built", &["prepare"]),
        shell("verify", "echo verified", &["build"]),
    ];
    let created =
        orchestrator.create(plan_request("Implement feature export with several components", subtasks)).await.unwrap();
    assert_eq!(created.session.state, SessionState::PlanReview);
    assert!(!created.plan.classification.clone().unwrap().is_atomic());

    // A draft complex plan does not run without approval.
    let refused = orchestrator
        .execute(ExecuteRequest { plan_id: created.plan.id.clone(), max_parallel: None, failure_policy: None })
        .await
        .err()
        .expect("a draft complex plan is refused");
    match refused {
        OrchestratorError::InvalidState { status, allowed, .. } => {
            assert_eq!(status, PlanStatus::Draft);
            assert!(allowed.contains(&"approve"));
        }
        other => panic!("unexpected error {other:?}"),
    }

    let revised = orchestrator.revise(created.plan.id.clone(), "remove the docs step".to_owned()).await.unwrap();
    assert_eq!(revised.version, created.plan.version + 1);
    assert!(revised.subtask(&SubtaskId::from_raw("docs")).is_none(), "docs removed: {:?}", revised.subtasks);
    assert_eq!(orchestrator.session(created.session.id.clone()).await.unwrap().state, SessionState::PlanReview);
    let history = orchestrator.history(created.plan.id.clone()).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].subtasks.len(), 4);
    assert_eq!(history[1].subtasks.len(), 3);

    let approved = orchestrator.approve(created.plan.id.clone()).await.unwrap();
    assert_eq!(approved.status, PlanStatus::Approved);
    assert_eq!(orchestrator.session(created.session.id.clone()).await.unwrap().state, SessionState::PlanExecution);

    let kinds = execute(&orchestrator, &created.plan.id).await;
    let finished = kinds.iter().filter(|kind| kind.is_final()).count();
    assert_eq!(finished, 1);
    assert!(matches!(kinds.first(), Some(RunEventKind::PlanStarted { .. })));
    assert!(matches!(kinds.last(), Some(RunEventKind::PlanFinished { status: PlanStatus::Completed, .. })));
    let plan = orchestrator.get(created.plan.id.clone()).await.unwrap();
    assert!(plan.subtasks.iter().all(|subtask| subtask.status == SubtaskStatus::Done));
    let state = session_state_eventually(&orchestrator, &created.session.id, SessionState::Completed).await;
    assert_eq!(state, SessionState::Completed);
}

#[tokio::test]
async fn template_plan_for_a_complex_task_is_a_reviewable_draft() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("Makefile"), "build:\n\ttrue\ntest:\n\ttrue\n").unwrap();
    let orchestrator = start(workspace.path()).await;
    let task = "Create a mobile application with login and registration from scratch";
    let created =
        orchestrator.create(CreateRequest { task: task.to_owned(), ..CreateRequest::default() }).await.unwrap();
    assert_eq!(created.session.state, SessionState::PlanReview);
    assert!(created.plan.subtasks.len() >= 3);
    assert!(created.plan.subtasks.iter().any(|subtask| subtask.command.as_deref() == Some("make test")));
    // Issue 21: the task is the plan's goal; descriptions say what each step does, never the task.
    assert_eq!(created.plan.goal, task);
    assert!(created.plan.subtasks.iter().all(|subtask| !subtask.description.contains(task)));
    assert!(created.plan.subtasks[0].is_baseline(), "the baseline test run comes first");
}

#[tokio::test]
async fn reject_ends_the_review_and_a_new_task_rejects_the_old_draft() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let first = orchestrator.create(plan_request("first plan", vec![shell("a", "true", &[])])).await.unwrap();
    let rejected = orchestrator.reject(first.plan.id.clone(), Some("not now".to_owned())).await.unwrap();
    assert_eq!(rejected.status, PlanStatus::Rejected);
    assert_eq!(rejected.feedback.as_deref(), Some("not now"));
    assert_eq!(orchestrator.session(first.session.id.clone()).await.unwrap().state, SessionState::Idle);

    let session = Some(first.session.id.clone());
    let second = orchestrator
        .create(CreateRequest {
            session_id: session.clone(),
            ..plan_request("second plan", vec![shell("a", "true", &[])])
        })
        .await
        .unwrap();
    let third = orchestrator
        .create(CreateRequest { session_id: session, ..plan_request("third plan", vec![shell("a", "true", &[])]) })
        .await
        .unwrap();
    assert_eq!(orchestrator.get(second.plan.id).await.unwrap().status, PlanStatus::Rejected);
    assert_eq!(third.session.state, SessionState::PlanReview);
}

#[tokio::test]
async fn update_checks_the_version_and_validates_every_subtask() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let created = orchestrator.create(plan_request("edit me", vec![shell("a", "true", &[])])).await.unwrap();
    let plan_id = created.plan.id.clone();
    let update = |version, subtasks| UpdateRequest {
        plan_id: Some(plan_id.clone()),
        version,
        title: Some("Edited".to_owned()),
        subtasks,
        ..UpdateRequest::default()
    };

    let edited =
        orchestrator.update(update(1, Some(vec![shell("a", "true", &[]), shell("b", "true", &["a"])]))).await.unwrap();
    assert_eq!(edited.version, 2);
    assert_eq!(edited.title, "Edited");

    match orchestrator.update(update(1, None)).await {
        Err(OrchestratorError::StaleVersion { expected: 1, actual: 2, .. }) => {}
        other => panic!("stale version must be refused, got {other:?}"),
    }
    match orchestrator.update(update(2, Some(vec![shell("a", "true", &["b"]), shell("b", "true", &["a"])]))).await {
        Err(OrchestratorError::Validation(errors)) => {
            assert!(errors.messages().iter().any(|message| message.contains("a -> b -> a")), "{errors:?}");
        }
        other => panic!("a cycle must be refused, got {other:?}"),
    }
    assert_eq!(orchestrator.get(plan_id.clone()).await.unwrap().version, 2, "a refused edit changes nothing");
}

/// `planning/update` keeps what a client omits: the plan's `sourceFile` and a kept subtask's
/// folder survive an edit of titles only (the wire side is `tests/e2e/update.rs`).
#[tokio::test]
async fn an_update_that_omits_fields_keeps_them_and_the_source_file() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let mut build = shell("build", "make", &[]);
    build.cwd = Some("backend".to_owned());
    build.timeout_secs = Some(90);
    let request = CreateRequest { source_file: Some("ci.plan.toml".to_owned()), ..plan_request("ci", vec![build]) };
    let created = orchestrator.create(request).await.unwrap();
    let renamed = SubtaskDraft {
        id: Some("build".to_owned()),
        title: "Build it".to_owned(),
        agent: "shell".to_owned(),
        ..SubtaskDraft::default()
    };
    let all_omitted = OmittedFields {
        description: true,
        command: true,
        cwd: true,
        depends_on: true,
        timeout_secs: true,
        max_attempts: true,
        estimate_secs: true,
        role: true,
    };
    let update = UpdateRequest {
        plan_id: Some(created.plan.id.clone()),
        version: 1,
        subtasks: Some(vec![renamed]),
        omitted: vec![all_omitted],
        ..UpdateRequest::default()
    };
    let edited = orchestrator.update(update).await.unwrap();
    assert_eq!(edited.source_file.as_deref(), Some("ci.plan.toml"));
    let build = &edited.subtasks[0];
    assert_eq!(
        (build.title.as_str(), build.command.as_deref(), build.cwd.as_deref()),
        ("Build it", Some("make"), Some("backend"))
    );
    assert_eq!(build.timeout_secs, Some(90));
    let stored = orchestrator.get(created.plan.id).await.unwrap();
    assert_eq!(stored.source_file.as_deref(), Some("ci.plan.toml"));
    assert_eq!(stored.subtasks[0].cwd.as_deref(), Some("backend"));
}

#[tokio::test]
async fn running_plan_cannot_be_deleted_and_cancel_stops_it() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator =
        start_with(workspace.path(), Settings { plan_approval: PlanApproval::Never, ..Settings::default() }).await;
    let created = orchestrator.create(plan_request("long", vec![shell("slow", "sleep 30", &[])])).await.unwrap();
    let mut started = orchestrator
        .execute(ExecuteRequest { plan_id: created.plan.id.clone(), max_parallel: None, failure_policy: None })
        .await
        .unwrap();
    wait_until_a_subtask_started(&mut started.events).await;
    assert!(matches!(
        orchestrator.delete(created.plan.id.clone()).await,
        Err(OrchestratorError::InvalidState { status: PlanStatus::Running, .. })
    ));
    let status = orchestrator.status(created.plan.id.clone()).await.unwrap();
    assert_eq!(status.running, vec![SubtaskId::from_raw("slow")]);

    // Answered at once; the end of the run arrives as events, committed before they are sent.
    let outcome = orchestrator.cancel(created.plan.id.clone(), Some("changed my mind".to_owned())).await.unwrap();
    assert!(outcome.cancelled);
    drain(started.events).await;
    let again = orchestrator.cancel(created.plan.id.clone(), None).await.unwrap();
    assert_eq!(again.status, PlanStatus::Cancelled);

    // A cancelled plan can be retried; then deleted.
    let retried =
        orchestrator.retry(RetryRequest { plan_id: created.plan.id.clone(), subtask_ids: None }).await.unwrap();
    orchestrator.cancel(created.plan.id.clone(), None).await.unwrap();
    drain(retried.events).await;
    assert!(orchestrator.delete(created.plan.id.clone()).await.unwrap());
    assert!(matches!(orchestrator.get(created.plan.id).await, Err(OrchestratorError::PlanNotFound(_))));
}

#[tokio::test]
async fn retry_reruns_only_what_failed_and_keeps_earlier_results() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator =
        start_with(workspace.path(), Settings { plan_approval: PlanApproval::Never, ..Settings::default() }).await;
    let marker = workspace.path().join("fixed");
    let subtasks = vec![
        shell("first", "echo first-$$", &[]),
        shell("flaky", &format!("test -f {}", marker.display()), &["first"]),
        shell("last", "echo last", &["flaky"]),
    ];
    let created = orchestrator.create(plan_request("flaky plan", subtasks)).await.unwrap();
    let kinds = execute(&orchestrator, &created.plan.id).await;
    assert!(matches!(kinds.last(), Some(RunEventKind::PlanFinished { status: PlanStatus::Failed, .. })));
    let failed = orchestrator.get(created.plan.id.clone()).await.unwrap();
    assert_eq!(failed.subtasks[2].status, SubtaskStatus::Skipped);
    let first_result = failed.subtasks[0].result.clone();

    std::fs::write(&marker, "").unwrap();
    let retried =
        orchestrator.retry(RetryRequest { plan_id: created.plan.id.clone(), subtask_ids: None }).await.unwrap();
    let kinds = drain(retried.events).await;
    let started: Vec<_> = kinds
        .iter()
        .filter_map(|kind| match kind {
            RunEventKind::SubtaskStarted { subtask_id, .. } => Some(subtask_id.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(started, vec!["flaky", "last"], "done subtasks are not run again");
    let plan = orchestrator.get(created.plan.id).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Completed);
    assert_eq!(plan.subtasks[0].result, first_result);
}

/// The client can see `planFinished` before the orchestrator has booked the run's end; a retry or
/// an execute sent at that moment is judged on the plan as it ended, never refused as "already
/// running".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_the_moment_a_run_ends_finds_it_ended() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator =
        start_with(workspace.path(), Settings { plan_approval: PlanApproval::Never, ..Settings::default() }).await;
    let failing = orchestrator.create(plan_request("fails", vec![shell("check", "false", &[])])).await.unwrap().plan.id;
    let mut run = orchestrator
        .execute(ExecuteRequest { plan_id: failing.clone(), max_parallel: None, failure_policy: None })
        .await
        .unwrap();
    for round in 0..30 {
        let last = drain(run.events).await.pop();
        assert!(matches!(last, Some(RunEventKind::PlanFinished { status: PlanStatus::Failed, .. })), "round {round}");
        run = orchestrator
            .retry(RetryRequest { plan_id: failing.clone(), subtask_ids: None })
            .await
            .unwrap_or_else(|error| panic!("round {round}: a retry right after planFinished: {error}"));
    }
    drain(run.events).await;

    for round in 0..30 {
        let passing =
            orchestrator.create(plan_request("passes", vec![shell("ok", "true", &[])])).await.unwrap().plan.id;
        let request = ExecuteRequest { plan_id: passing, max_parallel: None, failure_policy: None };
        let started = orchestrator.execute(request.clone()).await.unwrap();
        let last = drain(started.events).await.pop();
        assert!(
            matches!(last, Some(RunEventKind::PlanFinished { status: PlanStatus::Completed, .. })),
            "round {round}"
        );
        let Err(refused) = orchestrator.execute(request).await else { panic!("a completed plan does not run again") };
        assert!(!refused.to_string().contains("already running"), "round {round}: {refused}");
    }
}

#[tokio::test]
async fn everything_survives_a_restart_on_the_same_file() {
    let workspace = tempfile::tempdir().unwrap();
    let (plan_id, session_id) = {
        let orchestrator = start(workspace.path()).await;
        let created =
            orchestrator.create(plan_request("persist me", vec![shell("a", "echo kept", &[])])).await.unwrap();
        orchestrator.revise(created.plan.id.clone(), "also add a step to run the checks".to_owned()).await.unwrap();
        orchestrator.shutdown().await;
        (created.plan.id, created.session.id)
    };
    let orchestrator = start(workspace.path()).await;
    let plan = orchestrator.get(plan_id.clone()).await.unwrap();
    assert_eq!(plan.version, 2);
    assert_eq!(plan.title, "persist me");
    assert_eq!(orchestrator.history(plan_id.clone()).await.unwrap().len(), 2);
    assert_eq!(orchestrator.session(session_id.clone()).await.unwrap().state, SessionState::PlanReview);
    let page = orchestrator.list(ListRequest { session_id: Some(session_id), ..ListRequest::default() }).await.unwrap();
    assert_eq!(page.plans.len(), 1);
    assert_eq!(page.plans[0].id, plan_id);
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;
    let empty = orchestrator.create(CreateRequest { task: "   ".to_owned(), ..CreateRequest::default() }).await;
    assert!(matches!(empty, Err(OrchestratorError::InvalidParams(ref problem)) if problem.path == "task"), "{empty:?}");
    let unknown = orchestrator.create(plan_request("x", vec![shell("a", "true", &["build"])])).await;
    match unknown {
        Err(OrchestratorError::Validation(errors)) => {
            assert_eq!(errors.messages(), vec!["subtasks[0].dependsOn[0]: unknown subtask \"build\"".to_owned()]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let limit = orchestrator.list(ListRequest { limit: Some(0), ..ListRequest::default() }).await;
    assert!(matches!(limit, Err(OrchestratorError::InvalidParams(ref problem)) if problem.path == "limit"));
    let cursor = orchestrator.list(ListRequest { cursor: Some("garbage".to_owned()), ..ListRequest::default() }).await;
    assert!(matches!(cursor, Err(OrchestratorError::InvalidParams(ref problem)) if problem.path == "cursor"));
    let missing = orchestrator.get(PlanId::from_raw("01NOPE")).await;
    assert!(matches!(missing, Err(OrchestratorError::PlanNotFound(_))));
}

#[tokio::test]
async fn reset_returns_any_session_to_idle_cancelling_its_run_or_rejecting_its_draft() {
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = start(workspace.path()).await;

    let reviewed = orchestrator.create(plan_request("in review", vec![shell("a", "true", &[])])).await.unwrap();
    let view = orchestrator.reset_session(reviewed.session.id.clone()).await.unwrap();
    assert_eq!(view.state, SessionState::Idle);
    assert_eq!(orchestrator.get(reviewed.plan.id.clone()).await.unwrap().status, PlanStatus::Rejected);

    let running = orchestrator.create(plan_request("long run", vec![shell("slow", "sleep 30", &[])])).await.unwrap();
    orchestrator.approve(running.plan.id.clone()).await.unwrap();
    let mut started = orchestrator
        .execute(ExecuteRequest { plan_id: running.plan.id.clone(), max_parallel: None, failure_policy: None })
        .await
        .unwrap();
    wait_until_a_subtask_started(&mut started.events).await;
    assert_eq!(orchestrator.session(running.session.id.clone()).await.unwrap().state, SessionState::PlanExecution);
    let view = orchestrator.reset_session(running.session.id.clone()).await.unwrap();
    assert_eq!(view.state, SessionState::Idle);
    assert_eq!(
        orchestrator.get(running.plan.id.clone()).await.unwrap().status,
        PlanStatus::Cancelled,
        "the run was cancelled first"
    );
    let kinds = drain(started.events).await;
    assert!(matches!(kinds.last(), Some(RunEventKind::PlanFinished { status: PlanStatus::Cancelled, .. })));
    assert_eq!(orchestrator.session(running.session.id.clone()).await.unwrap().state, SessionState::Idle);

    let unknown = orchestrator.reset_session(SessionId::from_raw("no-such-session")).await;
    assert!(matches!(unknown, Err(OrchestratorError::SessionNotFound(_))), "{unknown:?}");
}
