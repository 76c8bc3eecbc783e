//! Benchmark of the LLM agents (`cargo bench --bench agents`), with the real engine, a real
//! SQLite file, the real OpenAI-compatible client and the scripted server on 127.0.0.1:
//!
//! - makespan: 8 parallel coder subtasks, each 3 model round trips (two `read_file` calls, then
//!   `attempt_completion`), every reply held 300 ms by the server, maxParallel 8 → makespan /
//!   bound, where the bound is 3 × 300 ms (target < 1.10);
//! - overhead per tool call: one coder subtask making 20 `read_file` calls against instant
//!   replies → wall time per round trip (the engine, the loop, the HTTP client and the fake
//!   server together: everything but the model's thinking), next to a bare `ChatModel::chat`
//!   call against the same server; the difference is the engine's own overhead per tool call.
//!
//! Prints the median and the min/max over repeated samples. Not a test: nothing here asserts.

#[path = "../tests/support/fake_openai.rs"]
mod fake_openai;

#[path = "support/stats.rs"]
mod stats;

use stats::spread;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codelab_planner::agents::{AgentsConfig, SharedAgentState, agent_set};
use codelab_planner::config::ToolApproval;
use codelab_planner::engine::{AgentSet, Backoff, RunConfig, spawn_run};
use codelab_planner::llm::openai::{ApiKey, OpenAiCompatible, OpenAiConfig, RetryPolicy};
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, Timestamp,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};
use fake_openai::{FakeOpenAi, Reply};
use serde_json::json;

const REPLY_DELAY: Duration = Duration::from_millis(300);
const PARALLEL_SUBTASKS: usize = 8;
const ROUND_TRIPS: usize = 3;
const OVERHEAD_TOOL_CALLS: usize = 20;

/// The provider against the scripted server: no retries, so every sample is one round trip.
fn bench_model(server: &FakeOpenAi) -> OpenAiCompatible {
    let config = OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new("sk-bench")),
        timeout: Duration::from_secs(30),
        retry: RetryPolicy {
            max_retries: 0,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        },
    };
    OpenAiCompatible::new(config).expect("client")
}

fn agents(server: &FakeOpenAi, max_tool_calls: u32) -> AgentSet {
    let model = Arc::new(bench_model(server));
    let settings = AgentsConfig {
        model: "bench".to_owned(),
        context_tokens: 16_384,
        max_tool_calls,
        approval: ToolApproval::Auto,
        api_key_env: "CODELAB_BENCH_NO_SUCH_KEY".to_owned(),
        api_key_file: None,
        default_command_timeout: Duration::from_secs(60),
        temperature: None,
        max_reply_tokens: None,
        // In-process agents: the sandbox launcher is the server binary, which these tests do not run.
        command_sandbox: codelab_planner::config::SandboxCommands::Off,
    };
    agent_set(model, settings, SharedAgentState::new())
}

fn read_call(line: usize) -> Reply {
    let arguments = json!({ "path": "src/lib.rs", "start_line": line, "end_line": line }).to_string();
    Reply::tool_calls(&[("read_file", &arguments)])
}

fn completion() -> Reply {
    Reply::tool_calls(&[("attempt_completion", &json!({ "result": "done" }).to_string())])
}

/// Runs `count` coder subtasks to the end; returns the wall time and the plan's status.
async fn run_plan(root: &Path, repository: &PlanRepository, count: usize, agents: AgentSet) -> (Duration, PlanStatus) {
    let subtasks = (0..count)
        .map(|index| {
            let mut subtask =
                Subtask::new(SubtaskId::from_raw(format!("s{index}")), format!("change {index}"), AgentKind::Coder);
            subtask.max_attempts = 1;
            subtask
        })
        .collect();
    let now = Timestamp::now();
    let mut plan = Plan::new_draft(SessionId::generate(), "bench".into(), "bench the agents".into(), subtasks, now);
    plan.approve(now).expect("approve");
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.expect("insert");
    plan.start_run(Timestamp::now(), RunId::generate()).expect("start");
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.expect("claim");
    let config = RunConfig {
        max_parallel: count.max(1),
        failure_policy: FailurePolicy::Continue,
        workspace_root: root.to_path_buf(),
        backoff: Backoff::default(),
        kill_grace: Duration::from_millis(500),
        agents,
        editor: None,
    };
    let started = Instant::now();
    let (handle, mut events) = spawn_run(repository.clone(), plan, config);
    while events.recv().await.is_some() {}
    let summary = handle.finished.await.expect("driver");
    (started.elapsed(), summary.status)
}

async fn makespan_sample(root: &Path, repository: &PlanRepository) -> f64 {
    let server = FakeOpenAi::start();
    for round in 0..ROUND_TRIPS {
        for _ in 0..PARALLEL_SUBTASKS {
            let reply = if round + 1 == ROUND_TRIPS { completion() } else { read_call(round + 1) };
            server.push(reply.delayed(REPLY_DELAY));
        }
    }
    let (elapsed, status) = run_plan(root, repository, PARALLEL_SUBTASKS, agents(&server, 20)).await;
    if status != PlanStatus::Completed {
        eprintln!("warning: the makespan plan ended {status}");
    }
    let bound = REPLY_DELAY.as_secs_f64() * ROUND_TRIPS as f64;
    elapsed.as_secs_f64() / bound
}

async fn overhead_sample(root: &Path, repository: &PlanRepository) -> f64 {
    let server = FakeOpenAi::start();
    for call in 0..OVERHEAD_TOOL_CALLS {
        server.push(read_call(call % 3 + 1));
    }
    server.push(completion());
    let max_calls = u32::try_from(OVERHEAD_TOOL_CALLS).unwrap_or(u32::MAX);
    let (elapsed, status) = run_plan(root, repository, 1, agents(&server, max_calls)).await;
    if status != PlanStatus::Completed {
        eprintln!("warning: the overhead plan ended {status}");
    }
    elapsed.as_secs_f64() * 1000.0 / (OVERHEAD_TOOL_CALLS + 1) as f64
}

/// The same round trip without the agent: one `ChatModel::chat` call with the same request shape
/// against the same server, so the difference is the engine's and the loop's own cost.
async fn bare_call_sample() -> f64 {
    use codelab_planner::llm::{ChatMessage, ChatModel, ChatRequest};
    let server = FakeOpenAi::start();
    for call in 0..OVERHEAD_TOOL_CALLS {
        server.push(read_call(call % 3 + 1));
    }
    let model = bench_model(&server);
    let cancel = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    for _ in 0..OVERHEAD_TOOL_CALLS {
        let request = ChatRequest::new("bench", vec![ChatMessage::system("s"), ChatMessage::user("u")]);
        let _ = model.chat(request, &|_| {}, &cancel).await;
    }
    started.elapsed().as_secs_f64() * 1000.0 / OVERHEAD_TOOL_CALLS as f64
}

fn row(name: &str, unit: &str, target: &str, samples: Vec<f64>) {
    let count = samples.len();
    let (median, min, max) = spread(samples);
    println!("{name:<40} {median:>10.3} {min:>10.3} {max:>10.3}  {unit:<9} {count:>3}  {target}");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let directory = tempfile::tempdir().expect("tempdir");
        let root = directory.path().to_path_buf();
        std::fs::create_dir_all(root.join("src")).expect("src");
        std::fs::write(root.join("src/lib.rs"), "pub fn one() {}\npub fn two() {}\npub fn three() {}\n")
            .expect("lib.rs");
        let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.expect("store");
        let mut makespan = Vec::new();
        for _ in 0..5 {
            makespan.push(makespan_sample(&root, &repository).await);
        }
        let mut overhead = Vec::new();
        for _ in 0..9 {
            overhead.push(overhead_sample(&root, &repository).await);
        }
        let mut bare = Vec::new();
        for _ in 0..9 {
            bare.push(bare_call_sample().await);
        }
        let (overhead_median, _, _) = spread(overhead.clone());
        let (bare_median, _, _) = spread(bare.clone());
        println!("{:<40} {:>10} {:>10} {:>10}  {:<9} {:>3}  target", "measure", "median", "min", "max", "unit", "n");
        row("makespan / bound (8 coders x 3 x 300 ms)", "ratio", "< 1.10", makespan);
        row("wall time per tool call (instant model)", "ms", "-", overhead);
        row("bare model call, same server", "ms", "-", bare);
        println!("engine overhead per tool call (median difference): {:.3} ms", overhead_median - bare_median);
    });
}
