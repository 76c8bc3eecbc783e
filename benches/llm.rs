//! Benchmark of the language-model layer (a report, not a test; run once: `cargo bench --bench llm`).
//!
//! 1. Model calls per `planning/create` (atomic and complex tasks; target: at most 1 each),
//!    counted at the scripted OpenAI-compatible server.
//! 2. The provider's own overhead per call: `OpenAiCompatible::chat` against the scripted server
//!    minus a bare reqwest POST that reads the same reply's bytes (target: under 1 ms).
//! 3. With the real model (llama-cpp-python + SmolLM2-135M, from `tests/setup/llm.sh`): time to
//!    the first streamed subtask and to the whole plan. Skipped, with a line saying so, when the
//!    model is not installed.
//!
//! Every timing is printed as median, min and max over its runs. Arguments pick sections:
//! `cargo bench --bench llm -- calls overhead real` (default: all three).
#![allow(clippy::disallowed_methods)]

#[path = "../tests/support/fake_openai.rs"]
mod fake_openai;
#[path = "../tests/support/llama_server.rs"]
mod llama_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codelab_planner::config::{LlmClassify, LlmSettings, Settings};
use codelab_planner::llm::openai::{OpenAiCompatible, OpenAiConfig, RetryPolicy};
use codelab_planner::llm::{ChatMessage, ChatModel, ChatRequest};
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::orchestrator::{CreateMode, CreateRequest, Orchestrator, OrchestratorConfig, PlanningHooks};
use fake_openai::{FakeOpenAi, Reply};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const OVERHEAD_CALLS: usize = 300;
const REAL_MODEL_RUNS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sections: Vec<String> = std::env::args().skip(1).filter(|argument| !argument.starts_with('-')).collect();
    let wanted = |name: &str| sections.is_empty() || sections.iter().any(|section| section == name);
    runtime.block_on(async {
        if wanted("calls") {
            calls_per_create().await;
        }
        if wanted("overhead") {
            provider_overhead().await;
        }
        if wanted("real") {
            real_model().await;
        }
    });
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let (min, max) = (samples[0], samples[samples.len() - 1]);
    println!(
        "{label:<44} {:>10.3} {:>10.3} {:>10.3}   (n = {})",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        samples.len()
    );
}

async fn orchestrator(workspace: &std::path::Path, base_url: &str) -> Orchestrator {
    let llm = LlmSettings {
        base_url: Some(base_url.to_owned()),
        model: Some("bench-model".into()),
        api_key_env: "CODELAB_PLANNER_BENCH_UNSET_KEY".into(),
        timeout_secs: 600,
        classify: LlmClassify::WhenUnsure,
        ..LlmSettings::default()
    };
    let settings = Settings { llm, ..Settings::default() };
    let config = OrchestratorConfig { workspace_root: workspace.to_path_buf(), database: None, settings, editor: None };
    Orchestrator::start(config).await.unwrap().0
}

fn plan_reply() -> serde_json::Value {
    json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "steps", "title": "Export",
        "subtasks": [
            {"id": "s1", "title": "Write it", "description": "d", "agent": "coder", "dependsOn": []},
            {"id": "s2", "title": "Test it", "description": "d", "agent": "shell", "command": "cargo test", "dependsOn": ["s1"]},
        ],
    })
}

async fn calls_per_create() {
    println!("\n== model calls per planning/create (scripted endpoint; target <= 1)");
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    let orchestrator = orchestrator(workspace.path(), &server.base_url).await;
    let atomic_by_model = json!({"isAtomic": true, "agent": "code", "confidence": "high", "reason": "one change",
        "title": "", "subtasks": []});
    let cases: [(&str, &str, Option<Reply>); 3] = [
        ("atomic, keywords sure", "explain what a lifetime is", None),
        (
            "atomic, keywords unsure (model classifies)",
            "make the greeting in the nightly report a little friendlier for customers please",
            Some(Reply::json(&atomic_by_model)),
        ),
        ("complex", "Design the export system for reports, invoices and orders", Some(Reply::json(&plan_reply()))),
    ];
    for (label, task, reply) in cases {
        let before = server.requests().len();
        if let Some(reply) = reply {
            server.push(reply);
        }
        let request = CreateRequest { task: task.to_owned(), mode: CreateMode::Auto, ..CreateRequest::default() };
        let created = orchestrator.create(request).await.unwrap();
        let calls = server.requests().len() - before;
        println!("{label:<44} {calls} call(s), {} subtask(s)", created.plan.subtasks.len());
    }
}

async fn provider_overhead() {
    println!("\n== provider overhead per call (ms: median, min, max)");
    let server = FakeOpenAi::start();
    server.set_fallback(Reply::text("a short streamed reply of a few dozen characters").with_usage(20, 10));
    let config = OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: None,
        timeout: Duration::from_secs(30),
        retry: RetryPolicy::default(),
    };
    let model = OpenAiCompatible::new(config).unwrap();
    let client = reqwest::Client::new();
    let url = format!("{}/chat/completions", server.base_url);
    let request = ChatRequest::new("bench-model", vec![ChatMessage::user("hello")]);
    let body = json!({ "model": "bench-model", "stream": true, "messages": [{ "role": "user", "content": "hello" }] });
    let cancel = CancellationToken::new();
    let (mut provider, mut bare) = (Vec::new(), Vec::new());
    for round in 0..OVERHEAD_CALLS * 2 {
        // Interleaved, so both see the same machine load.
        if round % 2 == 0 {
            let started = Instant::now();
            model.chat(request.clone(), &|_| {}, &cancel).await.unwrap();
            provider.push(started.elapsed());
        } else {
            let started = Instant::now();
            let response = client.post(&url).json(&body).send().await.unwrap();
            response.bytes().await.unwrap();
            bare.push(started.elapsed());
        }
    }
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (provider_median, bare_median) = (median(&mut provider), median(&mut bare));
    summary("OpenAiCompatible::chat (streamed, parsed)", provider);
    summary("bare reqwest POST + read bytes", bare);
    let overhead = provider_median.as_secs_f64() - bare_median.as_secs_f64();
    println!("{:<44} {:>10.3} ms (target < 1 ms)", "provider overhead (difference of medians)", overhead * 1e3);
}

async fn real_model() {
    println!("\n== real model: llama-cpp-python + SmolLM2-135M (ms: median, min, max)");
    let server = match tokio::task::spawn_blocking(llama_server::LlamaServer::start).await.unwrap() {
        Ok(server) => server,
        Err(error) => {
            println!("skipped: {}", error.lines().next().unwrap_or_default());
            return;
        }
    };
    let workspace = tempfile::tempdir().unwrap();
    let orchestrator = orchestrator(workspace.path(), &server.base_url).await;
    let (mut first, mut full, mut outcomes) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..REAL_MODEL_RUNS {
        let first_at: Arc<Mutex<Option<Duration>>> = Arc::default();
        let started = Instant::now();
        let seen = first_at.clone();
        let hooks = PlanningHooks {
            on_subtasks: Some(Arc::new(move |_: Vec<SubtaskDraft>| {
                seen.lock().unwrap().get_or_insert(started.elapsed());
            })),
            ..PlanningHooks::default()
        };
        let task = "Implement feature: export the orders to a CSV file, with tests";
        let request = CreateRequest { task: task.to_owned(), mode: CreateMode::Plan, ..CreateRequest::default() };
        let created = orchestrator.create_with(request, hooks).await.unwrap();
        full.push(started.elapsed());
        if let Some(at) = *first_at.lock().unwrap() {
            first.push(at);
        }
        let plan = created.plan;
        outcomes.push(format!("{} ({} calls)", plan.planner, plan.planning_usage.calls));
        if let Some(note) = plan.planner_note {
            println!("  note: {}", note.chars().take(200).collect::<String>());
        }
    }
    if first.is_empty() {
        println!(
            "{:<44} none streamed (the model's replies had no complete subtask)",
            "time to first streamed subtask"
        );
    } else {
        summary("time to first streamed subtask", first);
    }
    summary("time to the full plan", full);
    println!("{:<44} {}", "planner per run", outcomes.join(", "));
}
