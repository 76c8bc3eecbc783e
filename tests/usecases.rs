//! The use cases every face calls, against real SQLite files and real shell steps: following a
//! run (of this process, live; of another connection, through the store), `next` with claims
//! (listing, handing out, two connections at once), and an approved plan worked through by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codelab_planner::config::Settings;
use codelab_planner::engine::{Completion, EventReceiver, RunEventKind};
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{PlanId, PlanStatus, SubtaskId, SubtaskStatus};
use codelab_planner::orchestrator::{
    ClaimRequest, CompleteRequest, CreateMode, CreateRequest, ExecuteRequest, NextRequest, Orchestrator,
    OrchestratorConfig, OrchestratorError,
};

const RUN_TIMEOUT: Duration = Duration::from_secs(30);

async fn start(workspace: &Path) -> Orchestrator {
    let config = OrchestratorConfig {
        workspace_root: workspace.to_path_buf(),
        database: None,
        settings: Settings::default(),
        editor: None,
    };
    Orchestrator::start(config).await.expect("orchestrator starts").0
}

fn step(id: &str, agent: &str, command: Option<&str>, after: &[&str]) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(id.to_owned()),
        title: format!("Шаг {id}: a step with a long title"),
        agent: agent.to_owned(),
        command: command.map(str::to_owned),
        depends_on: after.iter().map(|id| (*id).to_owned()).collect(),
        ..SubtaskDraft::default()
    }
}

async fn approved_plan(orchestrator: &Orchestrator, subtasks: Vec<SubtaskDraft>) -> PlanId {
    let request = CreateRequest {
        task: "work through it by hand".to_owned(),
        mode: CreateMode::Plan,
        subtasks: Some(subtasks),
        ..CreateRequest::default()
    };
    let created = orchestrator.create(request).await.expect("created");
    orchestrator.approve(created.plan.id.clone()).await.expect("approved");
    created.plan.id
}

/// A shell step that runs until the file `gate` exists in `workspace`.
fn gated(workspace: &Path, id: &str, after: &[&str]) -> SubtaskDraft {
    let gate = workspace.join("gate");
    let command = format!("while [ ! -e '{}' ]; do sleep 0.05; done; echo through", gate.display());
    step(id, "shell", Some(&command), after)
}

/// Events until `planFinished`, as `(kind, subtask, status)` names.
async fn drain(mut events: EventReceiver) -> Vec<(String, String, String)> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(RUN_TIMEOUT, events.recv()).await.expect("the run ends in time");
        let Some(event) = event else { return seen };
        let named = match &event.kind {
            RunEventKind::PlanStarted { .. } => ("planStarted", String::new(), String::new()),
            RunEventKind::SubtaskStarted { subtask_id, .. } => {
                ("subtaskStarted", subtask_id.to_string(), String::new())
            }
            RunEventKind::SubtaskFinished { subtask_id, status, .. } => {
                ("subtaskFinished", subtask_id.to_string(), status.to_string())
            }
            RunEventKind::PlanFinished { status, .. } => ("planFinished", String::new(), status.to_string()),
            _ => continue,
        };
        let last = event.kind.is_final();
        seen.push((named.0.to_owned(), named.1, named.2));
        if last {
            return seen;
        }
    }
}

/// Waits until the step `id` is running (read from the store).
async fn until_running(orchestrator: &Orchestrator, plan_id: &PlanId, id: &str) {
    let deadline = tokio::time::Instant::now() + RUN_TIMEOUT;
    loop {
        let status = orchestrator.status(plan_id.clone()).await.expect("status");
        if status.running.iter().any(|running| running.as_str() == id) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} never ran");
        tokio::task::yield_now().await;
    }
}

fn finished_steps(seen: &[(String, String, String)]) -> Vec<String> {
    seen.iter().filter(|(kind, ..)| kind == "subtaskFinished").map(|(_, id, status)| format!("{id}:{status}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_this_process_is_followed_live_by_a_second_follower() {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = start(dir.path()).await;
    let subtasks = vec![step("a", "shell", Some("echo a"), &[]), gated(dir.path(), "b", &["a"])];
    let plan_id = approved_plan(&orchestrator, subtasks).await;
    let run =
        orchestrator.execute(ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None });
    let run = run.await.expect("runs");
    until_running(&orchestrator, &plan_id, "b").await;
    let follower = orchestrator.follow(plan_id.clone()).await.expect("follow").expect("it is running");
    assert!(!follower.elsewhere);
    assert_eq!(follower.run_id, run.run_id);
    std::fs::write(dir.path().join("gate"), "").unwrap();
    let (first, second) = tokio::join!(drain(run.events), drain(follower.events));
    assert_eq!(second.first().map(|(kind, ..)| kind.as_str()), Some("planStarted"));
    assert_eq!(finished_steps(&second), ["b:done"], "the follower joined after a ended: {second:?}");
    assert_eq!(finished_steps(&first), ["a:done", "b:done"]);
    assert_eq!(second.last(), first.last());
    assert_eq!(second.iter().filter(|(kind, ..)| kind == "planFinished").count(), 1);
    assert!(orchestrator.follow(plan_id).await.expect("follow").is_none(), "nothing to follow after the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_another_connection_is_followed_through_the_store_to_one_end() {
    let dir = tempfile::tempdir().unwrap();
    let runner = start(dir.path()).await;
    let watcher = start(dir.path()).await;
    let mut other_runs = watcher.follow_other_runs().await.expect("following");
    let subtasks = vec![
        step("a", "shell", Some("echo a"), &[]),
        gated(dir.path(), "b", &["a"]),
        step("c", "shell", Some("exit 3"), &["b"]),
    ];
    let plan_id = approved_plan(&runner, subtasks).await;
    let run = runner.execute(ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None });
    let run = run.await.expect("runs");
    until_running(&runner, &plan_id, "b").await;
    let followed = watcher.follow(plan_id.clone()).await.expect("follow").expect("running elsewhere");
    assert!(followed.elsewhere && followed.run_id == run.run_id);
    let announced = tokio::time::timeout(RUN_TIMEOUT, other_runs.recv()).await.expect("announced").expect("a run");
    assert_eq!((announced.plan_id.clone(), announced.run_id.clone()), (plan_id.clone(), run.run_id.clone()));
    std::fs::write(dir.path().join("gate"), "").unwrap();
    let (own, followed, announced) = tokio::join!(drain(run.events), drain(followed.events), drain(announced.events));
    assert_eq!(own.last().map(|(.., status)| status.as_str()), Some("failed"));
    for seen in [&followed, &announced] {
        assert_eq!(seen.first().map(|(kind, ..)| kind.as_str()), Some("planStarted"), "{seen:?}");
        assert_eq!(seen.last(), own.last(), "{seen:?}");
        assert_eq!(seen.iter().filter(|(kind, ..)| kind == "planFinished").count(), 1, "{seen:?}");
        let steps = finished_steps(seen);
        assert!(steps.ends_with(&["b:done".to_owned(), "c:failed".to_owned()]), "{seen:?}");
    }
}

#[tokio::test]
async fn an_approved_plan_is_listed_claimed_and_worked_through_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = start(dir.path()).await;
    let subtasks = vec![
        step("a", "manual", None, &[]),
        step("b", "coder", None, &["a"]),
        step("c", "shell", Some("echo c"), &["a"]),
        step("d", "manual", None, &["b", "c"]),
    ];
    let plan_id = approved_plan(&orchestrator, subtasks).await;
    let list = |plan_id: &PlanId| NextRequest { plan_id: Some(plan_id.clone()), claim: None };
    let claim = |plan_id: &PlanId, who: &str| NextRequest {
        plan_id: Some(plan_id.clone()),
        claim: Some(ClaimRequest::one(who)),
    };
    let ids = |outcome: &codelab_planner::orchestrator::NextOutcome| -> Vec<String> {
        outcome.ready.iter().map(|step| step.subtask.id.to_string()).collect()
    };

    assert_eq!(ids(&orchestrator.next(list(&plan_id)).await.unwrap()), ["a"]);
    let first = orchestrator.next(claim(&plan_id, "agent one")).await.unwrap();
    assert_eq!(ids(&first), ["a"]);
    assert!(orchestrator.next(claim(&plan_id, "agent two")).await.unwrap().ready.is_empty(), "a is held");
    let again = orchestrator.next(claim(&plan_id, "agent one")).await.unwrap();
    assert_eq!(ids(&again), ["a"], "a claimant gets its own step back, its lease renewed");
    let listed = orchestrator.next(NextRequest::default()).await.unwrap();
    assert_eq!(listed.plan_id.as_ref(), Some(&plan_id), "no id: the newest plan with a ready step");
    assert_eq!(listed.ready[0].claim.as_ref().map(|claim| claim.claimant.as_str()), Some("agent one"));

    let complete = |id: &str, done: bool| CompleteRequest {
        plan_id: plan_id.clone(),
        completion: Completion { subtask_id: SubtaskId::from_raw(id), done, note: Some(format!("{id} by hand")) },
    };
    let refused = orchestrator.complete_as(complete("a", true), Some("agent two".into())).await.unwrap_err();
    assert!(refused.to_string().contains("claimed by agent one"), "{refused}");
    let too_early = orchestrator.complete(complete("d", true)).await.unwrap_err();
    assert!(matches!(too_early, OrchestratorError::InvalidState { .. }), "{too_early:?}");
    assert!(too_early.to_string().contains("before its dependencies: b, c not done"), "{too_early}");

    let plan = orchestrator.complete_as(complete("a", true), Some("agent one".into())).await.unwrap();
    assert_eq!((plan.status, plan.subtasks[0].status), (PlanStatus::Approved, SubtaskStatus::Done));
    assert_eq!(ids(&orchestrator.next(list(&plan_id)).await.unwrap()), ["b", "c"]);
    assert!(orchestrator.next(list(&plan_id)).await.unwrap().ready.iter().all(|step| step.claim.is_none()));
    orchestrator.complete(complete("b", true)).await.unwrap();
    orchestrator.complete(complete("c", true)).await.unwrap();
    let plan = orchestrator.complete(complete("d", true)).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Completed);
    assert_eq!(plan.subtasks[3].result.as_deref(), Some("d by hand"));
    assert!(orchestrator.next(list(&plan_id)).await.unwrap().ready.is_empty());
    let events = orchestrator.repository().call(move |store| store.plan_events(&plan_id)).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|kind| **kind == "subtaskCompleted").count(), 4, "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"finishedByHand"));
}

#[tokio::test]
async fn a_step_failed_by_hand_skips_its_dependents_and_the_plan_fails() {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = start(dir.path()).await;
    let subtasks =
        vec![step("a", "manual", None, &[]), step("b", "manual", None, &["a"]), step("c", "manual", None, &[])];
    let plan_id = approved_plan(&orchestrator, subtasks).await;
    let complete = |id: &str, done: bool| CompleteRequest {
        plan_id: plan_id.clone(),
        completion: Completion { subtask_id: SubtaskId::from_raw(id), done, note: None },
    };
    let plan = orchestrator.complete(complete("a", false)).await.unwrap();
    let statuses: Vec<SubtaskStatus> = plan.subtasks.iter().map(|subtask| subtask.status).collect();
    assert_eq!(statuses, [SubtaskStatus::Failed, SubtaskStatus::Skipped, SubtaskStatus::Pending]);
    assert_eq!(plan.status, PlanStatus::Approved, "c can still be done");
    let plan = orchestrator.complete(complete("c", true)).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Failed);
    assert_eq!(plan.error.as_deref(), Some("1 of 3 subtasks failed, 1 skipped"));
}

/// Two connections on one database (as two processes would be), four claimants on each, all
/// claiming and completing at once: every step is handed out exactly once, and the plan ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claimants_on_two_connections_never_get_the_same_step() {
    let dir = tempfile::tempdir().unwrap();
    let connections = [start(dir.path()).await, start(dir.path()).await];
    let subtasks: Vec<SubtaskDraft> = (0..24).map(|index| step(&format!("s{index}"), "manual", None, &[])).collect();
    let plan_id = approved_plan(&connections[0], subtasks).await;
    let mut claimants = Vec::new();
    for (index, connection) in connections.iter().cycle().take(8).enumerate() {
        let (connection, plan_id) = (connection.clone(), plan_id.clone());
        claimants.push(tokio::spawn(async move {
            let claimant = format!("claimant {index}");
            let mut taken = Vec::new();
            loop {
                let request = NextRequest { plan_id: Some(plan_id.clone()), claim: Some(ClaimRequest::one(&claimant)) };
                let handed = connection.next(request).await.expect("next");
                let Some(step) = handed.ready.first() else { return taken };
                let subtask_id = step.subtask.id.clone();
                let completion = Completion { subtask_id: subtask_id.clone(), done: true, note: None };
                let request = CompleteRequest { plan_id: plan_id.clone(), completion };
                connection.complete_as(request, Some(claimant.clone())).await.expect("complete");
                taken.push(subtask_id.to_string());
            }
        }));
    }
    let mut handed: BTreeMap<String, usize> = BTreeMap::new();
    for claimant in claimants {
        for id in tokio::time::timeout(RUN_TIMEOUT, claimant).await.expect("in time").expect("no panic") {
            *handed.entry(id).or_default() += 1;
        }
    }
    assert_eq!(handed.len(), 24, "{handed:?}");
    assert!(handed.values().all(|count| *count == 1), "a step was handed out twice: {handed:?}");
    let plan = connections[1].get(plan_id).await.unwrap();
    assert_eq!(plan.status, PlanStatus::Completed);
}

#[tokio::test]
async fn a_plan_file_is_imported_once_for_every_face() {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = start(dir.path()).await;
    let file: PathBuf = dir.path().join("ship.plan.toml");
    std::fs::write(
        &file,
        "title = \"Ship\"\n\n[[subtask]]\nid = \"x\"\ntitle = \"X\"\nagent = \"shell\"\ncommand = \"true\"\n",
    )
    .unwrap();
    let request = codelab_planner::orchestrator::ImportRequest { path: "ship.plan.toml".into(), ..Default::default() };
    let created = orchestrator.import(request).await.expect("imported");
    assert_eq!((created.plan.status, created.plan.source_file.as_deref()), (PlanStatus::Draft, Some("ship.plan.toml")));
    std::fs::write(&file, "title = \"Ship\"\n\n[[subtask]]\nid = \"x\"\ntitle = \"X\"\nagent = \"shell\"\n").unwrap();
    let request = codelab_planner::orchestrator::ImportRequest { path: file.clone(), ..Default::default() };
    let OrchestratorError::Validation(problems) = orchestrator.import(request).await.unwrap_err() else {
        panic!("a file with problems is a validation error")
    };
    assert!(problems.0[0].path.ends_with("ship.plan.toml:3:1"), "{problems:?}");
    let missing = codelab_planner::orchestrator::ImportRequest { path: "gone.plan.toml".into(), ..Default::default() };
    let refused = orchestrator.import(missing).await.unwrap_err();
    assert!(refused.to_string().starts_with("gone.plan.toml: cannot read the plan file"), "{refused}");
    let page = orchestrator.list(Default::default()).await.unwrap();
    assert_eq!(page.plans.len(), 1, "nothing stored for a file that fails its check");
}

#[tokio::test]
async fn a_plan_worked_through_in_part_by_hand_runs_only_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let orchestrator = start(dir.path()).await;
    let subtasks = vec![step("a", "manual", None, &[]), step("b", "shell", Some("echo b"), &["a"])];
    let plan_id = approved_plan(&orchestrator, subtasks).await;
    let completion = Completion { subtask_id: SubtaskId::from_raw("a"), done: true, note: None };
    orchestrator.complete(CompleteRequest { plan_id: plan_id.clone(), completion }).await.unwrap();
    let run =
        orchestrator.execute(ExecuteRequest { plan_id: plan_id.clone(), max_parallel: None, failure_policy: None });
    let seen = drain(run.await.expect("runs").events).await;
    let started: Vec<&str> =
        seen.iter().filter(|(kind, ..)| kind == "subtaskStarted").map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(started, ["b"], "{seen:?}");
    assert_eq!(seen.last().map(|(.., status)| status.as_str()), Some("completed"));
}
