//! Benchmark of the execution engine (`cargo bench --bench engine`), with a real SQLite file:
//!
//! - overhead: a seeded random DAG of 10,000 no-op subtasks (in-process agent), ~2 dependencies
//!   each, maxParallel 8 → µs per subtask (target < 50 µs);
//! - makespan: 200 subtasks sleeping 10–50 ms (in-process agent, seeded durations and edges),
//!   maxParallel 4 → makespan / max(critical path, total work / 4) (target < 1.10), next to the
//!   seed's level-by-level batching of the same DAG (implemented here only, for comparison);
//! - cancel latency: 8 running `sleep 30` shell subtasks → time from `cancel()` to every process
//!   gone and the status committed (target < 200 ms);
//! - per-step cost against the limit (`baselines`): 400 trivial shell steps (`sh -c true`) on a
//!   wide seeded DAG, 8 at a time, next to raw spawning of the same 400 processes (`xargs -P8`)
//!   and `make -j8` on the same DAG, measured in the same round (targets ≤ 1.10× and ≤ 1.25×);
//! - makespan of 40 sleeping shell steps (seeded DAG and durations, maxParallel 4) against the
//!   bound max(critical path, work / 4) (target ≤ 1.04).
//!
//! Prints the median and the min/max over repeated samples. Not a test: nothing here asserts.
//! Sections can be picked by name: `cargo bench --bench engine -- trivial shell-makespan`
//! (overhead, makespan, cancel, trivial, shell-makespan); the ratios stay within one run.

#![allow(clippy::disallowed_methods)] // It runs xargs and make as the baselines.

#[path = "support/baselines.rs"]
mod baselines;
#[path = "support/stats.rs"]
mod stats;

use stats::spread;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use codelab_planner::engine::queue::ReadyQueue;
use codelab_planner::engine::{
    AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSet, Backoff, RunConfig, SubtaskExecutor, spawn_run,
};
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, Timestamp,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};
use futures::FutureExt;
use futures::future::BoxFuture;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Returns at once: measures the engine, not the work.
struct InstantAgent;

impl SubtaskExecutor for InstantAgent {
    fn execute<'a>(&'a self, _request: AgentRequest, _io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        async { Ok(AgentOutcome { result: String::new() }) }.boxed()
    }
}

/// Sleeps the number of milliseconds in the subtask's description.
struct SleepAgent;

impl SubtaskExecutor for SleepAgent {
    fn execute<'a>(&'a self, request: AgentRequest, io: AgentIo) -> BoxFuture<'a, Result<AgentOutcome, AgentError>> {
        async move {
            let millis: u64 = request.subtask.description.parse().unwrap_or(0);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(millis)) => Ok(AgentOutcome { result: String::new() }),
                () = io.cancel.cancelled() => Err(AgentError::Cancelled),
            }
        }
        .boxed()
    }
}

/// A seeded random DAG: each node depends on about `mean_dependencies` earlier nodes.
fn random_dag(size: usize, mean_dependencies: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..size)
        .map(|node| {
            if node == 0 {
                return Vec::new();
            }
            let count = rng.gen_range(0..=2 * mean_dependencies).min(node);
            let mut dependencies: Vec<usize> = (0..count).map(|_| rng.gen_range(0..node)).collect();
            dependencies.sort_unstable();
            dependencies.dedup();
            dependencies
        })
        .collect()
}

fn subtasks_of(dag: &[Vec<usize>], descriptions: impl Fn(usize) -> String) -> Vec<Subtask> {
    dag.iter()
        .enumerate()
        .map(|(node, dependencies)| {
            let mut subtask =
                Subtask::new(SubtaskId::from_raw(format!("n{node}")), format!("node {node}"), AgentKind::Coder);
            subtask.description = descriptions(node);
            subtask.depends_on = dependencies.iter().map(|d| SubtaskId::from_raw(format!("n{d}"))).collect();
            subtask.timeout_secs = None;
            subtask
        })
        .collect()
}

async fn claimed(repository: &PlanRepository, subtasks: Vec<Subtask>) -> Plan {
    let now = Timestamp::now();
    let mut plan = Plan::new_draft(SessionId::generate(), "bench".into(), "bench".into(), subtasks, now);
    plan.approve(now).expect("approve");
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.expect("insert");
    plan.start_run(Timestamp::now(), RunId::generate()).expect("start");
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.expect("claim");
    plan
}

fn config(root: &Path, max_parallel: usize, agents: AgentSet) -> RunConfig {
    RunConfig {
        max_parallel,
        failure_policy: FailurePolicy::Continue,
        workspace_root: root.to_path_buf(),
        backoff: Backoff::default(),
        kill_grace: Duration::from_millis(500),
        agents,
        editor: None,
    }
}

async fn overhead_sample(root: &Path, repository: &PlanRepository) -> f64 {
    const SIZE: usize = 10_000;
    let plan = claimed(repository, subtasks_of(&random_dag(SIZE, 2, 7), |_| String::new())).await;
    let agents = AgentSet::new().with(AgentKind::Coder, Arc::new(InstantAgent));
    let started = Instant::now();
    let (handle, _events) = spawn_run(repository.clone(), plan, config(root, 8, agents));
    let summary = handle.finished.await.expect("run");
    assert_eq!(summary.status, PlanStatus::Completed);
    started.elapsed().as_secs_f64() * 1e6 / SIZE as f64
}

/// The makespan no schedule can beat: max(critical path, total work / parallel slots), the
/// critical path as the engine's queue measures it.
fn lower_bound_ms(subtasks: &[Subtask], durations: &[u64], parallel: usize) -> f64 {
    let critical_path = ReadyQueue::new(subtasks).expect("a DAG").critical_path(durations);
    critical_path.max(durations.iter().sum::<u64>() / parallel as u64) as f64
}

/// The seed's algorithm: layers, each split into batches of `max_parallel`, batch after batch.
async fn level_batched_makespan(dag: &[Vec<usize>], durations: &[u64], max_parallel: usize) -> Duration {
    let mut level = vec![0usize; dag.len()];
    for node in 0..dag.len() {
        level[node] = dag[node].iter().map(|&d| level[d] + 1).max().unwrap_or(0);
    }
    let depth = level.iter().max().map_or(0, |deepest| deepest + 1);
    let started = Instant::now();
    for current in 0..depth {
        let members: Vec<usize> = (0..dag.len()).filter(|&node| level[node] == current).collect();
        for batch in members.chunks(max_parallel) {
            futures::future::join_all(
                batch.iter().map(|&node| tokio::time::sleep(Duration::from_millis(durations[node]))),
            )
            .await;
        }
    }
    started.elapsed()
}

struct MakespanSample {
    ready_queue_ratio: f64,
    level_batched_ratio: f64,
}

async fn makespan_sample(root: &Path, repository: &PlanRepository, seed: u64) -> MakespanSample {
    const SIZE: usize = 200;
    const PARALLEL: usize = 4;
    let dag = random_dag(SIZE, 2, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let durations: Vec<u64> = (0..SIZE).map(|_| rng.gen_range(10..=50)).collect();
    let subtasks = subtasks_of(&dag, |node| durations[node].to_string());
    let bound_ms = lower_bound_ms(&subtasks, &durations, PARALLEL);
    let plan = claimed(repository, subtasks).await;
    let agents = AgentSet::new().with(AgentKind::Coder, Arc::new(SleepAgent));
    let started = Instant::now();
    let (handle, _events) = spawn_run(repository.clone(), plan, config(root, PARALLEL, agents));
    let summary = handle.finished.await.expect("run");
    assert_eq!(summary.status, PlanStatus::Completed);
    let makespan_ms = started.elapsed().as_secs_f64() * 1e3;
    let batched_ms = level_batched_makespan(&dag, &durations, PARALLEL).await.as_secs_f64() * 1e3;
    MakespanSample { ready_queue_ratio: makespan_ms / bound_ms, level_batched_ratio: batched_ms / bound_ms }
}

fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

async fn cancel_sample(root: &Path, repository: &PlanRepository, sample: usize) -> f64 {
    const SIZE: usize = 8;
    let pid_files: Vec<PathBuf> = (0..SIZE).map(|index| root.join(format!("s{sample}-{index}.pid"))).collect();
    let subtasks = (0..SIZE)
        .map(|index| {
            let mut subtask =
                Subtask::new(SubtaskId::from_raw(format!("p{index}")), format!("sleeper {index}"), AgentKind::Shell);
            subtask.command = Some(format!("echo $$ > {}; sleep 30", pid_files[index].display()));
            subtask
        })
        .collect();
    let plan = claimed(repository, subtasks).await;
    let (handle, _events) = spawn_run(repository.clone(), plan.clone(), config(root, SIZE, AgentSet::without_llm()));
    while !pid_files.iter().all(|file| std::fs::read_to_string(file).is_ok_and(|text| text.ends_with('\n'))) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pids: Vec<i32> =
        pid_files.iter().map(|file| std::fs::read_to_string(file).expect("pid").trim().parse().expect("pid")).collect();
    let started = Instant::now();
    handle.cancel();
    let summary = handle.finished.await.expect("run");
    while !pids.iter().all(|&pid| process_gone(pid)) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let latency = started.elapsed();
    let stored = repository.get_plan(plan.id.clone()).await.expect("read").expect("plan");
    assert_eq!((summary.status, stored.status), (PlanStatus::Cancelled, PlanStatus::Cancelled));
    latency.as_secs_f64() * 1e3
}

/// The same step as every baseline runs: `sh -c true`.
const TRIVIAL_COMMAND: &str = "true";
const TRIVIAL_STEPS: usize = 400;
const TRIVIAL_PARALLEL: usize = 8;

fn shell_subtasks(dag: &[Vec<usize>], command: impl Fn(usize) -> String) -> Vec<Subtask> {
    let mut subtasks = subtasks_of(dag, |_| String::new());
    for (node, subtask) in subtasks.iter_mut().enumerate() {
        subtask.agent = AgentKind::Shell;
        subtask.command = Some(command(node));
    }
    subtasks
}

/// CPU time (user + system) of this process so far: the engine's own work, not its children's.
fn server_cpu() -> Duration {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).expect("getrusage");
    let time = |value: nix::sys::time::TimeVal| {
        Duration::from_secs(value.tv_sec().unsigned_abs()) + Duration::from_micros(value.tv_usec().unsigned_abs())
    };
    time(usage.user_time()) + time(usage.system_time())
}

/// The engine's wall time (ms) for `dag` of `sh -c true` steps, `TRIVIAL_PARALLEL` at a time,
/// and its own CPU time per step (µs).
async fn trivial_engine_sample(root: &Path, repository: &PlanRepository, dag: &[Vec<usize>]) -> (f64, f64) {
    let plan = claimed(repository, shell_subtasks(dag, |_| TRIVIAL_COMMAND.to_owned())).await;
    let cpu_before = server_cpu();
    let started = Instant::now();
    let (handle, _events) =
        spawn_run(repository.clone(), plan, config(root, TRIVIAL_PARALLEL, AgentSet::without_llm()));
    let summary = handle.finished.await.expect("run");
    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors.first());
    let wall = started.elapsed().as_secs_f64() * 1e3;
    (wall, (server_cpu() - cpu_before).as_secs_f64() * 1e6 / dag.len() as f64)
}

/// One round of the same 400 trivial steps: raw spawning, make, ninja (if any), the engine (ms).
struct TrivialRound {
    xargs: f64,
    make: f64,
    ninja: Option<f64>,
    engine: f64,
    /// The engine's own CPU time per step (µs).
    engine_cpu: f64,
}

async fn trivial_round(root: &Path, repository: &PlanRepository, dag: &[Vec<usize>]) -> TrivialRound {
    let makefile = baselines::write_makefile(root, dag, TRIVIAL_COMMAND);
    let ninja_file = baselines::write_ninja(root, dag, TRIVIAL_COMMAND);
    let milliseconds = |duration: Duration| duration.as_secs_f64() * 1e3;
    let xargs = milliseconds(baselines::xargs(dag.len(), TRIVIAL_COMMAND, TRIVIAL_PARALLEL));
    let make = milliseconds(baselines::make(&makefile, TRIVIAL_PARALLEL));
    let ninja = baselines::ninja(&ninja_file, TRIVIAL_PARALLEL).map(milliseconds);
    let (engine, engine_cpu) = trivial_engine_sample(root, repository, dag).await;
    TrivialRound { xargs, make, ninja, engine, engine_cpu }
}

/// The makespan (ms) the engine's own queue would reach with no cost at all: `parallel` slots,
/// a ready step started the moment a slot frees, picked as the engine picks (`ReadyQueue`: the
/// earliest in the plan). What the engine loses beyond it is its own overhead; below the bound is
/// the policy's.
fn list_schedule_ms(subtasks: &[Subtask], durations: &[u64], parallel: usize) -> u64 {
    let mut queue = ReadyQueue::new(subtasks).expect("a DAG");
    let mut running: Vec<(u64, usize)> = Vec::new();
    let mut now = 0;
    loop {
        while running.len() < parallel {
            let Some(node) = queue.next_ready() else { break };
            queue.mark_started(node);
            running.push((now + durations[node], node));
        }
        let Some(&(next, _)) = running.iter().min() else { break };
        now = next;
        for &(_, node) in running.iter().filter(|&&(at, _)| at == now) {
            queue.mark_done(node);
        }
        running.retain(|&(at, _)| at != now);
    }
    assert!(queue.is_drained());
    now
}

struct ShellMakespan {
    /// Measured makespan over the bound.
    ratio: f64,
    /// The engine's queue at no cost over the same bound.
    policy_ratio: f64,
}

/// Makespan of 40 sleeping shell steps (100–300 ms, seeded DAG), maxParallel 4, over the bound.
async fn shell_makespan_sample(root: &Path, repository: &PlanRepository, seed: u64) -> ShellMakespan {
    const SIZE: usize = 40;
    const PARALLEL: usize = 4;
    let dag = random_dag(SIZE, 1, seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x51ee9);
    let durations: Vec<u64> = (0..SIZE).map(|_| rng.gen_range(100..=300)).collect();
    let subtasks =
        shell_subtasks(&dag, |node| format!("sleep {}.{:03}", durations[node] / 1000, durations[node] % 1000));
    let bound_ms = lower_bound_ms(&subtasks, &durations, PARALLEL);
    let policy_ratio = list_schedule_ms(&subtasks, &durations, PARALLEL) as f64 / bound_ms;
    let plan = claimed(repository, subtasks).await;
    let started = Instant::now();
    let (handle, _events) = spawn_run(repository.clone(), plan, config(root, PARALLEL, AgentSet::without_llm()));
    let summary = handle.finished.await.expect("run");
    assert_eq!(summary.status, PlanStatus::Completed);
    ShellMakespan { ratio: started.elapsed().as_secs_f64() * 1e3 / bound_ms, policy_ratio }
}

fn row(name: &str, unit: &str, target: &str, samples: Vec<f64>) {
    let count = samples.len();
    if count == 0 {
        return;
    }
    let (median, min, max) = spread(samples);
    println!("{name:<40} {median:>10.3} {min:>10.3} {max:>10.3}  {unit:<6} {count:>3}  {target}");
}

/// The sections to run: all of them, or those named on the command line
/// (`cargo bench --bench engine -- trivial makespan`).
fn wanted(section: &str) -> bool {
    let named: Vec<String> = std::env::args().skip(1).filter(|argument| !argument.starts_with('-')).collect();
    named.is_empty() || named.iter().any(|name| name == section)
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let directory = tempfile::tempdir().expect("tempdir");
        let root = directory.path().to_path_buf();
        let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.expect("open store");

        let mut overhead = Vec::new();
        let mut ready_queue = Vec::new();
        let mut level_batched = Vec::new();
        let mut cancel = Vec::new();
        let mut rounds = Vec::new();
        let mut shell_makespan = Vec::new();
        let mut shell_policy = Vec::new();
        for _ in 0..5 {
            if wanted("overhead") {
                overhead.push(overhead_sample(&root, &repository).await);
            }
        }
        for seed in 0..5 {
            if wanted("makespan") {
                let sample = makespan_sample(&root, &repository, seed).await;
                ready_queue.push(sample.ready_queue_ratio);
                level_batched.push(sample.level_batched_ratio);
            }
        }
        for sample in 0..5 {
            if wanted("cancel") {
                cancel.push(cancel_sample(&root, &repository, sample).await);
            }
        }
        let trivial_dag = baselines::wide_dag(TRIVIAL_STEPS, 16, 11);
        for _ in 0..5 {
            if wanted("trivial") {
                rounds.push(trivial_round(&root, &repository, &trivial_dag).await);
            }
        }
        for seed in 0..5 {
            if wanted("shell-makespan") {
                let sample = shell_makespan_sample(&root, &repository, seed).await;
                shell_makespan.push(sample.ratio);
                shell_policy.push(sample.policy_ratio);
            }
        }

        println!(
            "{:<40} {:>10} {:>10} {:>10}  {:<6} {:>3}  target",
            "engine benchmark", "median", "min", "max", "unit", "n"
        );
        row("overhead, 10k no-op DAG, par 8", "µs/sub", "< 50", overhead);
        row("makespan ratio, ready-queue", "ratio", "< 1.10", ready_queue);
        row("makespan ratio, level batching", "ratio", "(seed)", level_batched);
        row("cancel 8 shells → gone+committed", "ms", "< 200", cancel);
        row("makespan ratio, 40 shell sleeps, par 4", "ratio", "≤ 1.04", shell_makespan);
        row("  same DAGs, cost-free list scheduling", "ratio", "(policy)", shell_policy);
        if rounds.is_empty() {
            return;
        }
        println!();
        println!("400 × `sh -c true` on one wide DAG, 8 at a time; each round runs all of them, ratios are per round");
        let column = |pick: fn(&TrivialRound) -> f64| rounds.iter().map(pick).collect::<Vec<f64>>();
        row("raw spawning (xargs -P8)", "ms", "", column(|round| round.xargs));
        row("make -j8", "ms", "", column(|round| round.make));
        match rounds.iter().map(|round| round.ninja).collect::<Option<Vec<f64>>>() {
            Some(times) => row("ninja -j8", "ms", "", times),
            None => println!("{:<40} not installed: skipped", "ninja -j8"),
        }
        row("codelab-planner, maxParallel 8", "ms", "", column(|round| round.engine));
        row("engine / raw spawning", "ratio", "≤ 1.10", column(|round| round.engine / round.xargs));
        row("engine / make -j8", "ratio", "≤ 1.25", column(|round| round.engine / round.make));
        let per_step = column(|round| round.engine * 1e3 / TRIVIAL_STEPS as f64);
        row("engine time per step", "µs", "", per_step);
        row("engine's own CPU per step (no child)", "µs", "", column(|round| round.engine_cpu));
    });
}
