//! The agents against a real (tiny) model: SmolLM2-135M-Instruct served by llama-cpp-python's
//! OpenAI-compatible server (installed by `tests/setup/llm.sh`). A one-subtask `ask` plan must end
//! — completed, or failed with a clean reason — within its limits (tool-call cap, reply size,
//! attempt timeout), with usage recorded. A model this small often answers badly; the test is
//! about the loop staying inside its bounds with a real endpoint, not about the answer.
//!
//! It starts the model server (`tests/support/llama_server.rs`), so it is allowed what
//! `clippy.toml` reserves for `engine::process` in the product.
#![allow(clippy::disallowed_methods)]

#[path = "support/llama_server.rs"]
mod llama_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use codelab_planner::agents::{AgentsConfig, SharedAgentState, agent_set};
use codelab_planner::config::ToolApproval;
use codelab_planner::engine::{Backoff, RunConfig, spawn_run};
use codelab_planner::llm::openai::{OpenAiCompatible, OpenAiConfig, RetryPolicy};
use codelab_planner::model::{
    AgentKind, FailurePolicy, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, Timestamp,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};

const SUBTASK_TIMEOUT_SECS: u64 = 240;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_subtask_ask_plan_ends_within_its_limits_against_smollm2() {
    let server = llama_server::LlamaServer::start().unwrap_or_else(|error| panic!("{error}"));
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path().to_path_buf();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/lib.rs"),
        "/// Adds two numbers.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    )
    .unwrap();
    let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.unwrap();

    let config = OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: None,
        timeout: Duration::from_secs(120),
        retry: RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        },
    };
    let model = Arc::new(OpenAiCompatible::new(config).unwrap());
    let agents = AgentsConfig {
        model: "smollm2".to_owned(),
        context_tokens: 4096,
        max_tool_calls: 4,
        approval: ToolApproval::Auto,
        api_key_env: "OPENAI_API_KEY".to_owned(),
        api_key_file: None,
        default_command_timeout: Duration::from_secs(60),
        temperature: Some(0.0),
        max_reply_tokens: Some(200),
        // In-process agents: the sandbox launcher is the server binary, which these tests do not run.
        command_sandbox: codelab_planner::config::SandboxCommands::Off,
    };
    let mut subtask = Subtask::new(SubtaskId::from_raw("s1"), "What does src/lib.rs define?".into(), AgentKind::Ask);
    subtask.max_attempts = 1;
    subtask.timeout_secs = Some(SUBTASK_TIMEOUT_SECS);
    let now = Timestamp::now();
    let mut plan =
        Plan::new_draft(SessionId::generate(), "ask".into(), "What does src/lib.rs define?".into(), vec![subtask], now);
    plan.approve(now).unwrap();
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.unwrap();
    plan.start_run(Timestamp::now(), RunId::generate()).unwrap();
    repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.unwrap();
    let run = RunConfig {
        max_parallel: 1,
        failure_policy: FailurePolicy::Continue,
        workspace_root: root.clone(),
        backoff: Backoff::default(),
        kill_grace: Duration::from_millis(500),
        agents: agent_set(model, agents, SharedAgentState::new()),
        editor: None,
    };
    let started = Instant::now();
    let (handle, mut events) = spawn_run(repository.clone(), plan.clone(), run);
    let bound = Duration::from_secs(SUBTASK_TIMEOUT_SECS + 30);
    tokio::time::timeout(bound, async { while events.recv().await.is_some() {} }).await.expect("the run ends in time");
    let summary = handle.finished.await.unwrap();
    let stored = repository.get_plan(plan.id.clone()).await.unwrap().unwrap();
    let subtask = &stored.subtasks[0];
    eprintln!(
        "smollm2 ask plan: {} in {:?}, usage {:?}, result {:?}, error {:?}",
        summary.status,
        started.elapsed(),
        subtask.usage,
        subtask.result,
        subtask.error
    );
    match summary.status {
        PlanStatus::Completed => assert!(subtask.result.as_deref().is_some_and(|result| !result.trim().is_empty())),
        PlanStatus::Failed => {
            let error = subtask.error.clone().unwrap_or_default();
            let log = server.log_tail();
            assert!(!error.is_empty() && !error.contains("internal error"), "a clean failure: {error}\n{log}");
            assert!(!error.contains("unreachable"), "the model server answered: {error}\nmodel server log:\n{log}");
        }
        other => panic!("the plan ended {other}"),
    }
    assert!(subtask.usage.calls >= 1, "the model was called and its usage recorded");
    assert!(subtask.usage.calls <= 6, "within the tool-call cap (4), the nudge and the completion");
}
