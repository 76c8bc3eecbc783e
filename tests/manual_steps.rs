//! Steps a person does (`manual`, and coder / debug / ask with no language model) against the real
//! engine and orchestrator, a real SQLite file and real shell steps: the step parks in `waiting`
//! without holding a slot, independent work goes on, its dependents run once it is completed,
//! cancel ends it, a failed answer skips its dependents, and a waiting step survives a shutdown
//! and a restart (the plan is `interrupted`, the step completable, `retry` resumes the plan). Also
//! the `cwd` of shell steps: validated at input, resolved and kept inside the workspace at run time.
//!
//! No sleeps: every wait is on a run event with a bound.

use std::path::Path;
use std::time::{Duration, Instant};

use codelab_planner::config::{Settings, WithoutModel};
use codelab_planner::engine::{
    AgentSet, Backoff, CompleteError, Completion, EventReceiver, RunConfig, RunEvent, RunEventKind, spawn_run,
};
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanId, PlanStatus, RunId, SessionId, Subtask, SubtaskId, SubtaskStatus, Timestamp,
};
use codelab_planner::orchestrator::{
    CompleteRequest, CreateMode, CreateRequest, ExecuteRequest, Orchestrator, OrchestratorConfig, OrchestratorError,
    RetryRequest,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};

const EVENT_WAIT: Duration = Duration::from_secs(60);

fn step(id: &str, agent: AgentKind, command: Option<&str>, depends_on: &[&str]) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), agent);
    subtask.description = format!("do {id} by hand");
    subtask.command = command.map(str::to_owned);
    subtask.depends_on = depends_on.iter().map(|dependency| SubtaskId::from_raw(*dependency)).collect();
    subtask
}

fn config(root: &Path, max_parallel: usize, agents: AgentSet) -> RunConfig {
    RunConfig {
        max_parallel,
        failure_policy: FailurePolicy::Continue,
        workspace_root: root.to_path_buf(),
        backoff: Backoff { base: Duration::from_millis(10), cap: Duration::from_millis(50) },
        kill_grace: Duration::from_millis(500),
        agents,
        editor: None,
    }
}

async fn open(root: &Path) -> PlanRepository {
    PlanRepository::open(root.join(".codelab/planner.db")).await.expect("open store").0
}

async fn claimed(repository: &PlanRepository, subtasks: Vec<Subtask>) -> Plan {
    let now = Timestamp::now();
    let mut plan = Plan::new_draft(SessionId::generate(), "manual".into(), "manual steps".into(), subtasks, now);
    plan.approve(now).expect("approve");
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.expect("insert plan");
    plan.start_run(Timestamp::now(), RunId::generate()).expect("start run");
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.expect("claim plan");
    plan
}

/// Receives events until one matches `predicate`; returns every event received, that one last.
async fn events_until(receiver: &mut EventReceiver, predicate: impl Fn(&RunEventKind) -> bool) -> Vec<RunEvent> {
    let deadline = Instant::now() + EVENT_WAIT;
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline.into(), receiver.recv())
            .await
            .expect("the event comes in time")
            .expect("the run has not ended");
        let matched = predicate(&event.kind);
        seen.push(event);
        if matched {
            return seen;
        }
    }
}

fn is_waiting(id: &'static str) -> impl Fn(&RunEventKind) -> bool {
    move |kind| matches!(kind, RunEventKind::SubtaskWaiting { subtask_id, .. } if subtask_id.as_str() == id)
}

fn is_finished(id: &'static str) -> impl Fn(&RunEventKind) -> bool {
    move |kind| matches!(kind, RunEventKind::SubtaskFinished { subtask_id, .. } if subtask_id.as_str() == id)
}

fn is_final(kind: &RunEventKind) -> bool {
    kind.is_final()
}

fn status_of(plan: &Plan, id: &str) -> SubtaskStatus {
    plan.subtask(&SubtaskId::from_raw(id)).expect("subtask exists").status
}

async fn stored(repository: &PlanRepository, plan_id: &PlanId) -> Plan {
    repository.get_plan(plan_id.clone()).await.expect("read plan").expect("plan exists")
}

fn done(id: &str, note: &str) -> Completion {
    Completion { subtask_id: SubtaskId::from_raw(id), done: true, note: Some(note.to_owned()) }
}

#[tokio::test]
async fn a_waiting_step_holds_only_its_dependents_and_completing_it_runs_them() {
    let directory = tempfile::tempdir().unwrap();
    let repository = open(directory.path()).await;
    let plan = claimed(
        &repository,
        vec![
            step("edit", AgentKind::Manual, None, &[]),
            step("baseline", AgentKind::Shell, Some("echo baseline-ok"), &[]),
            step("verify", AgentKind::Shell, Some("echo verified > verified.txt"), &["edit"]),
        ],
    )
    .await;
    // One slot: the baseline can only run because the waiting step does not hold it.
    let (handle, mut events) =
        spawn_run(repository.clone(), plan.clone(), config(directory.path(), 1, AgentSet::without_llm()));
    let seen = events_until(&mut events, is_finished("baseline")).await;
    let waiting = seen.iter().find(|event| is_waiting("edit")(&event.kind)).expect("edit waits first");
    let RunEventKind::SubtaskWaiting { message, instructions, agent, .. } = &waiting.kind else { unreachable!() };
    assert_eq!(*agent, AgentKind::Manual);
    assert_eq!(instructions, "This step is yours: step edit. do edit by hand.");
    assert!(message.starts_with(instructions.as_str()) && !message.contains("planning/"), "{message}");
    assert_eq!(waiting.progress.waiting, 1);
    let now = stored(&repository, &plan.id).await;
    assert_eq!(status_of(&now, "edit"), SubtaskStatus::Waiting);
    assert_eq!(status_of(&now, "baseline"), SubtaskStatus::Done);
    assert_eq!(status_of(&now, "verify"), SubtaskStatus::Pending, "the dependent waits");

    let refused = handle.controls.complete(done("baseline", "x")).await.expect_err("baseline is not waiting");
    assert!(matches!(refused, CompleteError::NotWaiting { status: SubtaskStatus::Done, .. }), "{refused:?}");
    let unknown = handle.controls.complete(done("nope", "x")).await.expect_err("unknown subtask");
    assert!(matches!(unknown, CompleteError::UnknownSubtask(_)), "{unknown:?}");

    handle.controls.complete(done("edit", "edited by hand")).await.expect("completion is applied");
    events_until(&mut events, is_final).await;
    let summary = handle.finished.await.expect("driver does not panic");
    assert_eq!(summary.status, PlanStatus::Completed);
    let end = stored(&repository, &plan.id).await;
    let edit = end.subtask(&SubtaskId::from_raw("edit")).unwrap();
    assert_eq!((edit.status, edit.result.as_deref()), (SubtaskStatus::Done, Some("edited by hand")));
    assert!(directory.path().join("verified.txt").exists(), "the dependent really ran");
}

#[tokio::test]
async fn coder_steps_wait_for_a_person_when_no_model_is_configured() {
    let directory = tempfile::tempdir().unwrap();
    let repository = open(directory.path()).await;
    let plan = claimed(
        &repository,
        vec![step("write", AgentKind::Coder, None, &[]), step("ask", AgentKind::Ask, None, &["write"])],
    )
    .await;
    let agents = AgentSet::for_person_without_llm();
    let (handle, mut events) = spawn_run(repository.clone(), plan.clone(), config(directory.path(), 2, agents));
    let seen = events_until(&mut events, is_waiting("write")).await;
    let Some(RunEventKind::SubtaskWaiting { message, .. }) = seen.last().map(|event| &event.kind) else {
        unreachable!()
    };
    assert!(message.starts_with("No language model is configured"), "{message}");
    handle.controls.complete(done("write", "written")).await.unwrap();
    events_until(&mut events, is_waiting("ask")).await;
    handle
        .controls
        .complete(Completion { subtask_id: SubtaskId::from_raw("ask"), done: false, note: Some("no answer".into()) })
        .await
        .unwrap();
    events_until(&mut events, is_final).await;
    assert_eq!(handle.finished.await.unwrap().status, PlanStatus::Failed);
    let end = stored(&repository, &plan.id).await;
    let ask = end.subtask(&SubtaskId::from_raw("ask")).unwrap();
    assert_eq!((ask.status, ask.error.as_deref()), (SubtaskStatus::Failed, Some("no answer")));
}

#[tokio::test]
async fn a_step_marked_failed_skips_its_dependents_and_cancel_ends_a_waiting_step() {
    let directory = tempfile::tempdir().unwrap();
    let repository = open(directory.path()).await;
    let subtasks = vec![
        step("a", AgentKind::Manual, None, &[]),
        step("b", AgentKind::Manual, None, &[]),
        step("after-a", AgentKind::Shell, Some("echo ran > after-a.txt"), &["a"]),
        step("after-b", AgentKind::Shell, Some("echo ran > after-b.txt"), &["b"]),
    ];
    let plan = claimed(&repository, subtasks).await;
    let (handle, mut events) =
        spawn_run(repository.clone(), plan.clone(), config(directory.path(), 2, AgentSet::without_llm()));
    events_until(&mut events, is_waiting("b")).await;
    handle
        .controls
        .complete(Completion { subtask_id: SubtaskId::from_raw("a"), done: false, note: None })
        .await
        .unwrap();
    events_until(&mut events, is_finished("after-a")).await;
    handle.cancel();
    events_until(&mut events, is_final).await;
    assert_eq!(handle.finished.await.unwrap().status, PlanStatus::Cancelled);
    let end = stored(&repository, &plan.id).await;
    assert_eq!(status_of(&end, "a"), SubtaskStatus::Failed);
    assert_eq!(status_of(&end, "after-a"), SubtaskStatus::Skipped);
    assert_eq!(status_of(&end, "b"), SubtaskStatus::Cancelled, "cancel ends a waiting step");
    assert_eq!(status_of(&end, "after-b"), SubtaskStatus::Cancelled);
    assert!(!directory.path().join("after-a.txt").exists() && !directory.path().join("after-b.txt").exists());
}

// ---------------------------------------------------------------------------------------------
// Through the orchestrator: settings, shutdown, restart, complete on a stored plan, retry.

async fn orchestrator(root: &Path, settings: Settings) -> Orchestrator {
    let config = OrchestratorConfig { workspace_root: root.to_path_buf(), database: None, settings, editor: None };
    Orchestrator::start(config).await.expect("orchestrator starts").0
}

fn draft(id: &str, agent: &str, command: Option<&str>, depends_on: &[&str]) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(id.to_owned()),
        title: format!("step {id}"),
        agent: agent.to_owned(),
        command: command.map(str::to_owned),
        depends_on: depends_on.iter().map(|dependency| (*dependency).to_owned()).collect(),
        ..SubtaskDraft::default()
    }
}

async fn approved_plan(orchestrator: &Orchestrator, subtasks: Vec<SubtaskDraft>) -> PlanId {
    let request =
        CreateRequest { task: "manual".into(), mode: CreateMode::Plan, subtasks: Some(subtasks), ..Default::default() };
    let plan_id = orchestrator.create(request).await.unwrap().plan.id;
    orchestrator.approve(plan_id.clone()).await.unwrap();
    plan_id
}

fn complete_request(plan_id: &PlanId, id: &str) -> CompleteRequest {
    CompleteRequest { plan_id: plan_id.clone(), completion: done(id, "done by the test") }
}

fn execute_request(plan_id: &PlanId) -> ExecuteRequest {
    ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None }
}

#[tokio::test]
async fn a_waiting_step_survives_shutdown_and_restart_and_retry_resumes_the_plan() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    let first = orchestrator(root, Settings::default()).await;
    let subtasks = vec![
        draft("code", "coder", None, &[]),
        draft("review", "manual", None, &["code"]),
        draft("test", "shell", Some("echo tested > tested.txt"), &["review"]),
    ];
    let plan_id = approved_plan(&first, subtasks).await;
    let mut run = first.execute(execute_request(&plan_id)).await.unwrap();
    events_until(&mut run.events, is_waiting("code")).await;
    let refused = first.complete(complete_request(&plan_id, "review")).await.expect_err("review is pending");
    assert!(matches!(refused, OrchestratorError::InvalidState { .. }), "{refused:?}");
    first.shutdown().await;

    let second = orchestrator(root, Settings::default()).await;
    let plan = second.get(plan_id.clone()).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Interrupted);
    assert_eq!(status_of(&plan, "code"), SubtaskStatus::Waiting, "still waiting after a restart");
    let plan = second.complete(complete_request(&plan_id, "code")).await.unwrap();
    assert_eq!(status_of(&plan, "code"), SubtaskStatus::Done);
    assert_eq!(plan.status, PlanStatus::Interrupted, "the person's answer is kept; retry resumes");

    let mut resumed = second.retry(RetryRequest { plan_id: plan_id.clone(), subtask_ids: None }).await.unwrap();
    events_until(&mut resumed.events, is_waiting("review")).await;
    let plan = second.complete(complete_request(&plan_id, "review")).await.unwrap();
    assert_eq!(status_of(&plan, "review"), SubtaskStatus::Done);
    events_until(&mut resumed.events, is_final).await;
    let plan = second.get(plan_id.clone()).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Completed);
    assert!(root.join("tested.txt").exists());
}

#[tokio::test]
async fn without_model_fail_keeps_the_old_behaviour() {
    let directory = tempfile::tempdir().unwrap();
    let settings = Settings { without_model: WithoutModel::Fail, ..Settings::default() };
    let orchestrator = orchestrator(directory.path(), settings).await;
    let plan_id = approved_plan(&orchestrator, vec![draft("code", "coder", None, &[])]).await;
    let mut run = orchestrator.execute(execute_request(&plan_id)).await.unwrap();
    let seen = events_until(&mut run.events, is_final).await;
    assert!(!seen.iter().any(|event| matches!(event.kind, RunEventKind::SubtaskWaiting { .. })));
    let plan = orchestrator.get(plan_id).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Failed);
    assert!(plan.subtasks[0].error.as_deref().unwrap_or("").contains("no language model is configured"));
}

// ---------------------------------------------------------------------------------------------
// `cwd` of shell steps: validated at input, resolved and checked by the shell agent.

#[tokio::test]
async fn a_shell_step_runs_in_its_cwd_and_one_that_resolves_outside_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(directory.path().join("backend/src")).unwrap();
    std::os::unix::fs::symlink(outside.path(), directory.path().join("escape")).unwrap();
    let repository = open(directory.path()).await;
    let mut inside = step("inside", AgentKind::Shell, Some("pwd > here.txt"), &[]);
    inside.cwd = Some("backend/src".to_owned());
    let mut escaping = step("escaping", AgentKind::Shell, Some("echo escaped > escaped.txt"), &[]);
    escaping.cwd = Some("escape".to_owned());
    let plan = claimed(&repository, vec![inside, escaping]).await;
    let (handle, mut events) =
        spawn_run(repository.clone(), plan.clone(), config(directory.path(), 2, AgentSet::without_llm()));
    events_until(&mut events, is_final).await;
    assert_eq!(handle.finished.await.unwrap().status, PlanStatus::Failed);
    let here = std::fs::read_to_string(directory.path().join("backend/src/here.txt")).expect("ran in backend/src");
    assert!(here.trim_end().ends_with("backend/src"), "{here}");
    let end = stored(&repository, &plan.id).await;
    let escaping = end.subtask(&SubtaskId::from_raw("escaping")).unwrap();
    assert_eq!(escaping.status, SubtaskStatus::Failed);
    assert!(escaping.error.as_deref().unwrap_or("").contains("resolves outside the workspace"), "{escaping:?}");
    assert!(!outside.path().join("escaped.txt").exists(), "nothing ran outside the workspace");
}

#[test]
fn a_cwd_must_be_a_relative_path_inside_the_workspace_and_only_for_shell() {
    use codelab_planner::model::validate::build_subtasks;
    let with_cwd = |agent: &str, cwd: &str| SubtaskDraft {
        cwd: Some(cwd.to_owned()),
        command: (agent == "shell").then(|| "make".to_owned()),
        ..draft("a", agent, None, &[])
    };
    let built = build_subtasks(&[with_cwd("shell", "./web//app/")], "subtasks").unwrap();
    assert_eq!(built[0].cwd.as_deref(), Some("web/app"));
    assert_eq!(build_subtasks(&[with_cwd("shell", ".")], "subtasks").unwrap()[0].cwd, None);
    for (agent, cwd, message) in [
        ("shell", "../other", "subtasks[0].cwd: must stay inside the workspace (no \"..\") (got \"../other\")"),
        ("shell", "/etc", "subtasks[0].cwd: must be relative to the workspace (got \"/etc\")"),
        ("coder", "web", "subtasks[0].cwd: not allowed for the coder agent (only for shell)"),
    ] {
        let errors = build_subtasks(&[with_cwd(agent, cwd)], "subtasks").unwrap_err();
        assert_eq!(errors.messages(), [message], "{agent} {cwd}");
    }
}
