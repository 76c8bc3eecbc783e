//! Benchmark: the use cases the MCP and ACP faces will call most, against a real SQLite file.
//!
//! - `next` listing the ready steps of a plan, and `next` handing one step to a claimant followed by
//!   `complete` (what an outside agent does per step);
//! - following a run another connection owns: from the moment the owner emits an event to the
//!   moment the follower gets it (bounded by the tail's poll interval);
//! - a run of 200 steps that print, shown to one follower and to three (the run's fan-out).
//!
//! Prints median, min and max per row. Run with `cargo bench --bench usecases`.

#[path = "support/stats.rs"]
mod stats;

use std::path::Path;
use std::time::Instant;

use codelab_planner::config::Settings;
use codelab_planner::engine::{Completion, EventReceiver, RunEventKind};
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{PlanId, Timestamp};
use codelab_planner::orchestrator::{
    ClaimRequest, CompleteRequest, CreateMode, CreateRequest, ExecuteRequest, NextRequest, Orchestrator,
    OrchestratorConfig,
};

async fn start(workspace: &Path) -> Orchestrator {
    let config = OrchestratorConfig {
        workspace_root: workspace.to_path_buf(),
        database: None,
        settings: Settings::default(),
        editor: None,
    };
    Orchestrator::start(config).await.expect("orchestrator starts").0
}

fn step(id: String, agent: &str, command: Option<&str>) -> SubtaskDraft {
    SubtaskDraft {
        id: Some(id.clone()),
        title: format!("step {id}"),
        agent: agent.to_owned(),
        command: command.map(str::to_owned),
        ..SubtaskDraft::default()
    }
}

async fn approved(orchestrator: &Orchestrator, subtasks: Vec<SubtaskDraft>) -> PlanId {
    let request =
        CreateRequest { task: "bench".into(), mode: CreateMode::Plan, subtasks: Some(subtasks), ..Default::default() };
    let plan_id = orchestrator.create(request).await.expect("created").plan.id;
    orchestrator.approve(plan_id.clone()).await.expect("approved");
    plan_id
}

fn row(name: &str, unit: &str, samples: Vec<f64>) {
    let count = samples.len();
    let (median, min, max) = stats::spread(samples);
    println!("{name:<44} {median:>10.1} {min:>10.1} {max:>10.1}  {unit} ({count} samples)");
}

fn micros(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e6
}

async fn next_and_claims(workspace: &Path) {
    let orchestrator = start(workspace).await;
    let steps = (0..500).map(|index| step(format!("s{index}"), "manual", None)).collect();
    let plan_id = approved(&orchestrator, steps).await;
    let mut listing = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let listed = orchestrator.next(NextRequest { plan_id: Some(plan_id.clone()), claim: None }).await;
        assert_eq!(listed.expect("next").ready.len(), 500);
        listing.push(micros(started));
    }
    let (mut claiming, mut completing) = (Vec::new(), Vec::new());
    for _ in 0..500 {
        let request = NextRequest { plan_id: Some(plan_id.clone()), claim: Some(ClaimRequest::one("bench agent")) };
        let started = Instant::now();
        let handed = orchestrator.next(request).await.expect("next");
        claiming.push(micros(started));
        let subtask_id = handed.ready[0].subtask.id.clone();
        let completion = Completion { subtask_id, done: true, note: None };
        let started = Instant::now();
        let request = CompleteRequest { plan_id: plan_id.clone(), completion };
        orchestrator.complete_as(request, Some("bench agent".into())).await.expect("complete");
        completing.push(micros(started));
    }
    row("next, listing 500 ready steps", "µs", listing);
    row("next, handing one step to a claimant", "µs", claiming);
    row("complete, that claimant's step", "µs", completing);
}

/// The follower's delay for every subtask event of a run of another connection.
async fn follow_delay(workspace: &Path) {
    let (runner, follower) = (start(workspace).await, start(workspace).await);
    let mut delays = Vec::new();
    for round in 0..20 {
        let gate = workspace.join(format!("gate-{round}"));
        let first = format!("while [ ! -e '{}' ]; do sleep 0.01; done", gate.display());
        let mut steps = vec![step("gate".into(), "shell", Some(&first))];
        steps.extend((0..5).map(|index| step(format!("s{index}"), "shell", Some("true"))));
        let plan_id = approved(&runner, steps).await;
        let request = ExecuteRequest { plan_id: plan_id.clone(), max_parallel: Some(1), failure_policy: None };
        let run = runner.execute(request).await.expect("runs");
        let followed = loop {
            if let Some(run) = follower.follow(plan_id.clone()).await.expect("follow") {
                break run;
            }
            tokio::task::yield_now().await;
        };
        std::fs::write(&gate, "").expect("open the gate");
        tokio::spawn(drain(run.events));
        delays.extend(delays_of(followed.events).await);
    }
    row("follow another process's run: event delay", "ms", delays);
}

async fn delays_of(mut events: EventReceiver) -> Vec<f64> {
    let mut delays = Vec::new();
    while let Some(event) = events.recv().await {
        if matches!(event.kind, RunEventKind::SubtaskFinished { .. }) {
            delays.push(Timestamp::now().millis_since(event.at) as f64);
        }
    }
    delays
}

async fn drain(mut events: EventReceiver) -> usize {
    let mut count = 0;
    while events.recv().await.is_some() {
        count += 1;
    }
    count
}

/// A run of 200 printing steps from execute to the last follower's `planFinished`.
async fn fan_out(workspace: &Path) {
    let orchestrator = start(workspace).await;
    for followers in [1, 3] {
        let mut samples = Vec::new();
        for _ in 0..10 {
            let steps = (0..200).map(|index| step(format!("s{index}"), "shell", Some("seq 1 50"))).collect();
            let plan_id = approved(&orchestrator, steps).await;
            let started = Instant::now();
            let request = ExecuteRequest { plan_id: plan_id.clone(), max_parallel: Some(8), failure_policy: None };
            let run = orchestrator.execute(request).await.expect("runs");
            let mut all = vec![tokio::spawn(drain(run.events))];
            for _ in 1..followers {
                if let Some(run) = orchestrator.follow(plan_id.clone()).await.expect("follow") {
                    all.push(tokio::spawn(drain(run.events)));
                }
            }
            for drained in all {
                drained.await.expect("drained");
            }
            samples.push(started.elapsed().as_secs_f64() * 1e3);
        }
        row(&format!("run of 200 printing steps, {followers} follower(s)"), "ms", samples);
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        println!("{:<44} {:>10} {:>10} {:>10}", "use case", "median", "min", "max");
        let workspace = tempfile::tempdir().expect("temp dir");
        next_and_claims(workspace.path()).await;
        let workspace = tempfile::tempdir().expect("temp dir");
        follow_delay(workspace.path()).await;
        let workspace = tempfile::tempdir().expect("temp dir");
        fan_out(workspace.path()).await;
    });
}
