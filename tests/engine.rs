//! Engine tests with real processes (`sh -c`) and a real SQLite file: scheduling order and
//! overlap (proved from the timestamps the store recorded), failure policies, retries, timeouts
//! and cancellation that leave no process behind, a killed engine process that resumes, and the
//! agents that cannot run without a language model.
//!
//! No sleeps for synchronisation: every wait is on an event, a file or a process, with a bound.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codelab_planner::engine::{
    AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSet, Backoff, EventReceiver, ExecutionSummary, RunConfig,
    RunEvent, RunEventKind, SubtaskExecutor, spawn_run,
};
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, SubtaskStatus, Timestamp,
};
use codelab_planner::store::{PlanHeader, PlanRepository, Store, WriteOp};
use futures::FutureExt;
use futures::future::BoxFuture;

const EVENT_WAIT: Duration = Duration::from_secs(60);

fn shell(id: &str, command: &str, depends_on: &[&str]) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), AgentKind::Shell);
    subtask.command = Some(command.to_owned());
    subtask.depends_on = depends_on.iter().map(|dependency| SubtaskId::from_raw(*dependency)).collect();
    subtask
}

fn agent_subtask(id: &str, agent: AgentKind, depends_on: &[&str]) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), agent);
    subtask.description = format!("do {id}");
    subtask.depends_on = depends_on.iter().map(|dependency| SubtaskId::from_raw(*dependency)).collect();
    subtask
}

struct Workspace {
    _directory: tempfile::TempDir,
    root: PathBuf,
    repository: PlanRepository,
}

impl Workspace {
    async fn new() -> Self {
        let directory = tempfile::tempdir().expect("tempdir");
        let root = directory.path().to_path_buf();
        let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.expect("open store");
        Self { _directory: directory, root, repository }
    }

    fn config(&self, max_parallel: usize, failure_policy: FailurePolicy) -> RunConfig {
        RunConfig {
            max_parallel,
            failure_policy,
            workspace_root: self.root.clone(),
            backoff: Backoff { base: Duration::from_millis(10), cap: Duration::from_millis(50) },
            kill_grace: Duration::from_millis(500),
            agents: AgentSet::without_llm(),
            editor: None,
        }
    }

    /// Inserts an approved plan and claims it (`running`), as the orchestrator does.
    async fn claimed_plan(&self, subtasks: Vec<Subtask>) -> Plan {
        insert_and_claim(&self.repository, subtasks).await
    }

    async fn stored(&self, plan: &Plan) -> Plan {
        self.repository.get_plan(plan.id.clone()).await.expect("read plan").expect("plan exists")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

async fn insert_and_claim(repository: &PlanRepository, subtasks: Vec<Subtask>) -> Plan {
    let now = Timestamp::now();
    let mut plan =
        Plan::new_draft(SessionId::generate(), "engine test".into(), "test the engine".into(), subtasks, now);
    plan.approve(now).expect("approve");
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.expect("insert plan");
    plan.start_run(Timestamp::now(), RunId::generate()).expect("start run");
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.expect("claim plan");
    plan
}

/// Every event of the run, up to and including `PlanFinished`, then checks that nothing follows.
async fn all_events(mut receiver: EventReceiver) -> Vec<RunEvent> {
    let mut events = Vec::new();
    let deadline = Instant::now() + EVENT_WAIT;
    while let Some(event) = tokio::time::timeout_at(deadline.into(), receiver.recv()).await.expect("run ends in time") {
        events.push(event);
    }
    events
}

async fn summary_of(finished: tokio::task::JoinHandle<ExecutionSummary>) -> ExecutionSummary {
    tokio::time::timeout(EVENT_WAIT, finished).await.expect("run ends in time").expect("driver does not panic")
}

fn assert_one_final_event_last(events: &[RunEvent]) {
    assert!(matches!(events.first().map(|event| &event.kind), Some(RunEventKind::PlanStarted { .. })));
    assert_eq!(events.iter().filter(|event| event.kind.is_final()).count(), 1, "exactly one planFinished");
    assert!(events.last().is_some_and(|event| event.kind.is_final()), "planFinished comes last");
}

fn subtask<'a>(plan: &'a Plan, id: &str) -> &'a Subtask {
    plan.subtask(&SubtaskId::from_raw(id)).expect("subtask exists")
}

fn interval(plan: &Plan, id: &str) -> (i64, i64) {
    let subtask = subtask(plan, id);
    let started = subtask.started_at.expect("started_at recorded").as_millis();
    let finished = subtask.finished_at.expect("finished_at recorded").as_millis();
    (started, finished)
}

fn overlaps(first: (i64, i64), second: (i64, i64)) -> bool {
    first.0 < second.1 && second.0 < first.1
}

/// The largest number of intervals open at the same moment.
fn max_concurrency(intervals: &[(i64, i64)]) -> usize {
    intervals
        .iter()
        .map(|&(start, _)| intervals.iter().filter(|&&(s, f)| s <= start && start < f).count())
        .max()
        .unwrap_or(0)
}

fn finished_status(events: &[RunEvent], id: &str) -> Vec<SubtaskStatus> {
    events
        .iter()
        .filter_map(|event| match &event.kind {
            RunEventKind::SubtaskFinished { subtask_id, status, .. } if subtask_id.as_str() == id => Some(*status),
            _ => None,
        })
        .collect()
}

/// True once the shell has written its whole pid line.
fn pid_written(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.ends_with('\n'))
}

fn pid_from(path: &Path) -> i32 {
    std::fs::read_to_string(path).expect("pid file").trim().parse().expect("pid")
}

/// True once `pid` no longer exists (or is a zombie nobody will run again).
fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn diamond_runs_in_dependency_order_and_its_branches_overlap() {
    let workspace = Workspace::new().await;
    let plan = workspace
        .claimed_plan(vec![
            shell("a", "echo a", &[]),
            shell("b", "sleep 0.3; echo b", &["a"]),
            shell("c", "sleep 0.3; echo c", &["a"]),
            shell("d", "echo d", &["b", "c"]),
        ])
        .await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(4, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    let summary = summary_of(handle.finished).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary.status, PlanStatus::Completed);
    assert_eq!((summary.completed, summary.total), (4, 4));

    let stored = workspace.stored(&plan).await;
    assert_eq!(stored.status, PlanStatus::Completed);
    let (a, b, c, d) = (interval(&stored, "a"), interval(&stored, "b"), interval(&stored, "c"), interval(&stored, "d"));
    assert!(b.0 >= a.1 && c.0 >= a.1, "b and c start after a finished: {a:?} {b:?} {c:?}");
    assert!(d.0 >= b.1 && d.0 >= c.1, "d starts after b and c finished: {b:?} {c:?} {d:?}");
    assert!(overlaps(b, c), "b and c ran at the same time: {b:?} {c:?}");
    assert_eq!(subtask(&stored, "b").result.as_deref(), Some("b\n"));
    assert!(summary.critical_path_ms >= 300, "critical path includes a 300 ms sleep");
}

#[tokio::test]
async fn a_wide_graph_never_runs_more_than_max_parallel_at_once() {
    let workspace = Workspace::new().await;
    let subtasks: Vec<Subtask> = (0..6).map(|index| shell(&format!("w{index}"), "sleep 0.3", &[])).collect();
    let plan = workspace.claimed_plan(subtasks).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(3, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Completed);
    let stored = workspace.stored(&plan).await;
    let intervals: Vec<(i64, i64)> = (0..6).map(|index| interval(&stored, &format!("w{index}"))).collect();
    let concurrency = max_concurrency(&intervals);
    assert!((2..=3).contains(&concurrency), "between 2 and 3 at once, got {concurrency}: {intervals:?}");
}

#[tokio::test]
async fn a_failure_skips_its_dependents_and_lets_independent_work_finish() {
    let workspace = Workspace::new().await;
    let plan = workspace
        .claimed_plan(vec![
            shell("a", "echo building; echo 'no such target' >&2; exit 3", &[]),
            shell("b", "echo b", &["a"]),
            shell("c", "echo c", &["b"]),
            shell("d", "echo d", &[]),
        ])
        .await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(2, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    let summary = summary_of(handle.finished).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary.status, PlanStatus::Failed);
    assert_eq!((summary.completed, summary.failed, summary.skipped), (1, 1, 2));

    let stored = workspace.stored(&plan).await;
    assert_eq!(stored.status, PlanStatus::Failed);
    let failed = subtask(&stored, "a");
    assert_eq!(failed.status, SubtaskStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("exit code 3: no such target"));
    assert!(failed.result.as_deref().is_some_and(|output| output.contains("building")), "partial output kept");
    for id in ["b", "c"] {
        assert_eq!(subtask(&stored, id).status, SubtaskStatus::Skipped);
        assert_eq!(subtask(&stored, id).error.as_deref(), Some("dependency \"a\" failed"));
        assert_eq!(finished_status(&events, id), vec![SubtaskStatus::Skipped]);
    }
    assert_eq!(subtask(&stored, "d").status, SubtaskStatus::Done);
}

#[tokio::test]
async fn fail_fast_stops_running_work_and_cancels_pending_work() {
    let workspace = Workspace::new().await;
    let plan = workspace
        .claimed_plan(vec![
            shell("slow", "echo $$ > slow.pid; sleep 30", &[]),
            shell("broken", "while [ ! -f slow.pid ]; do sleep 0.01; done; exit 1", &[]),
            shell("later", "echo later", &[]),
            shell("after", "echo after", &["broken"]),
        ])
        .await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(2, FailurePolicy::FailFast));
    let events = all_events(receiver).await;
    let summary = summary_of(handle.finished).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary.status, PlanStatus::Failed);

    let stored = workspace.stored(&plan).await;
    assert_eq!(stored.status, PlanStatus::Failed);
    assert_eq!(subtask(&stored, "broken").status, SubtaskStatus::Failed);
    assert_eq!(subtask(&stored, "slow").status, SubtaskStatus::Cancelled);
    assert_eq!(subtask(&stored, "later").status, SubtaskStatus::Cancelled);
    assert_eq!(subtask(&stored, "after").status, SubtaskStatus::Skipped);
    let slow_pid = pid_from(&workspace.path("slow.pid"));
    wait_until("the cancelled shell is gone", || process_gone(slow_pid)).await;
}

#[tokio::test]
async fn a_failed_attempt_is_retried_after_a_backoff_and_then_succeeds() {
    let workspace = Workspace::new().await;
    let mut flaky = shell("flaky", "if [ -f marker ]; then echo second try; else touch marker; exit 1; fi", &[]);
    flaky.max_attempts = 3;
    let plan = workspace.claimed_plan(vec![flaky]).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(1, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Completed);
    assert_one_final_event_last(&events);

    let kinds: Vec<&RunEventKind> = events
        .iter()
        .map(|event| &event.kind)
        .filter(|kind| !matches!(kind, RunEventKind::SubtaskOutput { .. }))
        .collect();
    assert!(matches!(kinds[1], RunEventKind::SubtaskStarted { attempt: 1, .. }));
    match kinds[2] {
        RunEventKind::SubtaskRetrying { attempt, delay_ms, error, .. } => {
            assert_eq!(*attempt, 2);
            assert!(*delay_ms <= 10, "first delay is within the base: {delay_ms}");
            assert_eq!(error, "exit code 1");
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    assert!(matches!(kinds[3], RunEventKind::SubtaskStarted { attempt: 2, .. }));
    assert!(matches!(kinds[4], RunEventKind::SubtaskFinished { status: SubtaskStatus::Done, .. }));
    let stored = workspace.stored(&plan).await;
    assert_eq!(subtask(&stored, "flaky").attempts, 2);
    assert_eq!(subtask(&stored, "flaky").result.as_deref(), Some("second try\n"));
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let workspace = Workspace::new().await;
    let mut hanging = shell("hang", "sleep 100 & echo $! > child.pid; sleep 100", &[]);
    hanging.timeout_secs = Some(1);
    let plan = workspace.claimed_plan(vec![hanging]).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(1, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Failed);
    let stored = workspace.stored(&plan).await;
    assert_eq!(subtask(&stored, "hang").error.as_deref(), Some("timed out after 1 s"));
    let grandchild = pid_from(&workspace.path("child.pid"));
    wait_until("the background grandchild is gone", || process_gone(grandchild)).await;
}

#[tokio::test]
async fn cancel_mid_run_kills_running_processes_and_cancels_everything() {
    let workspace = Workspace::new().await;
    let plan = workspace
        .claimed_plan(vec![
            shell("one", "echo $$ > one.pid; sleep 30", &[]),
            shell("two", "echo $$ > two.pid; sleep 30", &[]),
            shell("three", "echo three", &["one"]),
        ])
        .await;
    let (handle, mut receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(4, FailurePolicy::Continue));
    let mut started = 0;
    while started < 2 {
        let event =
            tokio::time::timeout(EVENT_WAIT, receiver.recv()).await.expect("event in time").expect("run goes on");
        if matches!(event.kind, RunEventKind::SubtaskStarted { .. }) {
            started += 1;
        }
    }
    let (one, two) = (workspace.path("one.pid"), workspace.path("two.pid"));
    wait_until("both shells recorded their pids", || pid_written(&one) && pid_written(&two)).await;
    let pids = [pid_from(&one), pid_from(&two)];
    handle.cancel();
    let events = all_events(receiver).await;
    let summary = summary_of(handle.finished).await;
    assert!(events.last().is_some_and(|event| event.kind.is_final()));
    assert_eq!(summary.status, PlanStatus::Cancelled);
    for pid in pids {
        assert!(process_gone(pid), "shell {pid} is gone once the run has ended");
    }
    let stored = workspace.stored(&plan).await;
    assert_eq!(stored.status, PlanStatus::Cancelled);
    for id in ["one", "two", "three"] {
        assert_eq!(subtask(&stored, id).status, SubtaskStatus::Cancelled, "{id}");
    }
}

/// Set in the re-executed test binary that plays the engine process to be killed.
const CHILD_MODE: &str = "CODELAB_ENGINE_TEST_CHILD_WORKSPACE";
const RESUME_TEST: &str = "a_killed_engine_process_leaves_an_interrupted_plan_that_resumes";

#[tokio::test]
async fn a_killed_engine_process_leaves_an_interrupted_plan_that_resumes() {
    if let Ok(root) = std::env::var(CHILD_MODE) {
        run_engine_until_killed(PathBuf::from(root)).await;
        return;
    }
    let directory = tempfile::tempdir().expect("tempdir");
    let root = directory.path().to_path_buf();
    let mut child = spawn_self_as_engine(&root);
    let b_pid_file = root.join("b.pid");
    wait_until("B is running in the child engine", || {
        pid_written(&b_pid_file) || matches!(child.try_wait(), Ok(Some(_)))
    })
    .await;
    assert!(pid_written(&b_pid_file), "the child engine started B");
    let b_group = pid_from(&b_pid_file);
    child.kill().expect("kill -9 the engine process");
    child.wait().expect("reap the engine process");
    // B's shell leads its own process group and outlived its engine.
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(b_group), nix::sys::signal::Signal::SIGKILL);

    let database = root.join(".codelab/planner.db");
    let mut plan = {
        let (store, report) = Store::open(&database).expect("reopen store");
        assert_eq!(report.interrupted.len(), 1, "the plan was found running");
        store.get_plan(&report.interrupted[0]).expect("read").expect("plan exists")
    };
    assert_eq!(plan.status, PlanStatus::Interrupted);
    assert_eq!(subtask(&plan, "a").status, SubtaskStatus::Done);
    assert_eq!(subtask(&plan, "a").result.as_deref(), Some("a-result\n"));
    assert_eq!(subtask(&plan, "b").status, SubtaskStatus::Pending);

    std::fs::write(root.join("marker"), "").expect("marker");
    let (repository, _) = PlanRepository::open(database).await.expect("open store");
    let not_done: Vec<SubtaskId> =
        plan.subtasks.iter().filter(|s| s.status != SubtaskStatus::Done).map(|s| s.id.clone()).collect();
    plan.start_retry(Timestamp::now(), RunId::generate(), &not_done, false).expect("retry");
    let claim = WriteOp::ClaimHeader { header: PlanHeader::of(&plan), expected: vec![PlanStatus::Interrupted] };
    let reset = WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: plan.subtasks.clone() };
    repository.commit(vec![claim, reset]).await.expect("claim the resumed run");
    let config = RunConfig {
        max_parallel: 2,
        failure_policy: FailurePolicy::Continue,
        workspace_root: root.clone(),
        backoff: Backoff::default(),
        kill_grace: Duration::from_millis(500),
        agents: AgentSet::without_llm(),
        editor: None,
    };
    let (handle, receiver) = spawn_run(repository.clone(), plan.clone(), config);
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert!(finished_status(&events, "a").is_empty(), "a is not run again");
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Completed);
    let resumed = repository.get_plan(plan.id.clone()).await.expect("read").expect("plan exists");
    assert_eq!(resumed.status, PlanStatus::Completed);
    assert_eq!(subtask(&resumed, "a").result.as_deref(), Some("a-result\n"));
    assert_eq!(subtask(&resumed, "b").result.as_deref(), Some("ok\n"));
}

#[allow(clippy::disallowed_methods)] // The test re-executes its own binary as the engine to kill.
fn spawn_self_as_engine(root: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", RESUME_TEST, "--nocapture"])
        .env(CHILD_MODE, root)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the engine process")
}

/// The child side: a plan of a fast A and a slow B that waits for a marker file.
async fn run_engine_until_killed(root: PathBuf) {
    let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.expect("open store");
    let plan = insert_and_claim(
        &repository,
        vec![
            shell("a", "echo a-result", &[]),
            shell("b", "test -f marker && echo ok || { echo $$ > b.pid; sleep 30; }", &["a"]),
        ],
    )
    .await;
    let config = RunConfig {
        max_parallel: 2,
        failure_policy: FailurePolicy::Continue,
        workspace_root: root,
        backoff: Backoff::default(),
        kill_grace: Duration::from_millis(500),
        agents: AgentSet::without_llm(),
        editor: None,
    };
    let (handle, _receiver) = spawn_run(repository, plan, config);
    let _ = handle.finished.await;
}

#[tokio::test]
async fn an_llm_agent_without_a_language_model_fails_at_once_without_retries() {
    let workspace = Workspace::new().await;
    let plan = workspace.claimed_plan(vec![agent_subtask("write", AgentKind::Coder, &[])]).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(1, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert!(!events.iter().any(|event| matches!(event.kind, RunEventKind::SubtaskRetrying { .. })));
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Failed);
    let stored = workspace.stored(&plan).await;
    let write = subtask(&stored, "write");
    assert_eq!(write.error.as_deref(), Some("no language model is configured: set llm.baseUrl"));
    assert_eq!(write.attempts, 1);
}

#[tokio::test]
async fn a_plan_whose_dependencies_form_a_cycle_runs_nothing_and_ends_failed() {
    let workspace = Workspace::new().await;
    let plan = workspace
        .claimed_plan(vec![
            shell("a", "echo a > ran-a", &["b"]),
            shell("b", "echo b > ran-b", &["a"]),
            shell("free", "true", &[]),
        ])
        .await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(2, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Failed);
    let stored = workspace.stored(&plan).await;
    for id in ["a", "b", "free"] {
        let skipped = subtask(&stored, id);
        assert_eq!(skipped.status, SubtaskStatus::Skipped, "{id}");
        let reason = skipped.error.clone().unwrap_or_default();
        assert!(reason.starts_with("invalid dependency graph: dependency cycle: a -> b -> a"), "{id}: {reason}");
    }
    assert!(!workspace.root.join("ran-a").exists() && !workspace.root.join("ran-b").exists());
}

/// An in-process agent for the tests: records what it was given and answers with its
/// dependencies' results; panics when the subtask's description says so.
#[derive(Default)]
struct RecordingAgent {
    requests: Mutex<Vec<AgentRequest>>,
}

impl SubtaskExecutor for RecordingAgent {
    fn execute<'a>(&'a self, request: AgentRequest, _io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        async move {
            self.requests.lock().unwrap().push(request.clone());
            assert!(request.subtask.description != "panic", "agent exploded");
            let seen: Vec<String> = request.dependencies.iter().map(|d| format!("{}={}", d.id, d.result)).collect();
            Ok(AgentOutcome { result: format!("{}[{}]", request.subtask.id, seen.join(",")) })
        }
        .boxed()
    }
}

#[tokio::test]
async fn dependents_receive_their_dependencies_results_in_plan_order() {
    let workspace = Workspace::new().await;
    let agent = Arc::new(RecordingAgent::default());
    let mut config = workspace.config(2, FailurePolicy::Continue);
    config.agents = AgentSet::without_llm().with(AgentKind::Coder, agent.clone());
    let plan = workspace
        .claimed_plan(vec![
            agent_subtask("x", AgentKind::Coder, &[]),
            agent_subtask("y", AgentKind::Coder, &[]),
            agent_subtask("z", AgentKind::Coder, &["y", "x"]),
        ])
        .await;
    let (handle, receiver) = spawn_run(workspace.repository.clone(), plan.clone(), config);
    all_events(receiver).await;
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Completed);
    let stored = workspace.stored(&plan).await;
    assert_eq!(subtask(&stored, "z").result.as_deref(), Some("z[x=x[],y=y[]]"));
    let requests = agent.requests.lock().unwrap();
    let z = requests.iter().find(|request| request.subtask.id.as_str() == "z").expect("z ran");
    assert_eq!(z.goal, "test the engine");
    assert_eq!(z.attempt, 1);
}

#[tokio::test]
async fn a_panicking_agent_fails_its_subtask_and_the_run_goes_on() {
    let workspace = Workspace::new().await;
    let mut config = workspace.config(1, FailurePolicy::Continue);
    config.agents = AgentSet::without_llm().with(AgentKind::Coder, Arc::new(RecordingAgent::default()));
    let mut exploding = agent_subtask("boom", AgentKind::Coder, &[]);
    exploding.description = "panic".to_owned();
    let plan = workspace.claimed_plan(vec![exploding, shell("fine", "echo fine", &[])]).await;
    let (handle, receiver) = spawn_run(workspace.repository.clone(), plan.clone(), config);
    let events = all_events(receiver).await;
    assert_one_final_event_last(&events);
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Failed);
    let stored = workspace.stored(&plan).await;
    assert_eq!(subtask(&stored, "boom").error.as_deref(), Some("internal error: agent exploded"));
    assert_eq!(subtask(&stored, "boom").attempts, 1, "an internal error is not retried");
    assert_eq!(subtask(&stored, "fine").status, SubtaskStatus::Done);
}

#[tokio::test]
async fn output_streams_before_the_subtask_finishes_and_a_dropped_receiver_does_not_stop_the_run() {
    let workspace = Workspace::new().await;
    let plan = workspace.claimed_plan(vec![shell("talk", "echo one; echo two", &[])]).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(1, FailurePolicy::Continue));
    let events = all_events(receiver).await;
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|event| match &event.kind {
            RunEventKind::SubtaskOutput { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["one", "two"]);
    let finished_at = events.iter().position(|event| matches!(event.kind, RunEventKind::SubtaskFinished { .. }));
    let last_output = events.iter().rposition(|event| matches!(event.kind, RunEventKind::SubtaskOutput { .. }));
    assert!(last_output < finished_at);
    summary_of(handle.finished).await;

    let plan = workspace.claimed_plan(vec![shell("quiet", "echo ignored", &[])]).await;
    let (handle, receiver) =
        spawn_run(workspace.repository.clone(), plan.clone(), workspace.config(1, FailurePolicy::Continue));
    drop(receiver);
    assert_eq!(summary_of(handle.finished).await.status, PlanStatus::Completed);
    assert_eq!(workspace.stored(&plan).await.status, PlanStatus::Completed);
}
