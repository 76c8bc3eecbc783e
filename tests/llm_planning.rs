//! The LLM classifier and planner through the real orchestrator (real SQLite file) against the
//! scripted OpenAI-compatible server: calls per create, classifier fallback with its reason, the
//! cache, the planner's repair round trip and template fallback with `plannerNote`, the FSM events
//! those produce, revise through the model, streamed partial subtasks, cancelling a planning call
//! (the HTTP connection closes), and reads answering while a planning call hangs.

#[path = "support/fake_openai.rs"]
mod fake_openai;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codelab_planner::config::{LlmClassify, LlmSettings, Settings};
use codelab_planner::fsm::SessionEvent;
use codelab_planner::model::validate::SubtaskDraft;
use codelab_planner::model::{ClassifyMethod, PlanId, PlannerKind, RouteAgent};
use codelab_planner::orchestrator::{
    CreateMode, CreateRequest, ListRequest, Orchestrator, OrchestratorConfig, OrchestratorError, PlanningHooks,
    TaskContext,
};
use fake_openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
/// Design work: the keyword classifier is sure it is complex, so only the planner is asked.
const SURE_COMPLEX: &str = "Design the export system for reports, invoices and orders";
/// One sign of scope ("across"): the keyword classifier says complex with medium confidence, so the
/// model classifies too.
const UNSURE: &str = "Implement features across several components";

async fn start(workspace: &Path, server: &FakeOpenAi, classify: LlmClassify) -> Orchestrator {
    let llm = LlmSettings {
        base_url: Some(server.base_url.clone()),
        model: Some("test-model".into()),
        api_key_env: "CODELAB_PLANNER_TEST_UNSET_KEY".into(),
        classify,
        ..LlmSettings::default()
    };
    let settings = Settings { llm, ..Settings::default() };
    let config = OrchestratorConfig { workspace_root: workspace.to_path_buf(), database: None, settings, editor: None };
    Orchestrator::start(config).await.expect("orchestrator starts").0
}

fn request(task: &str) -> CreateRequest {
    CreateRequest { task: task.to_owned(), ..CreateRequest::default() }
}

fn good_plan() -> Value {
    json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "several dependent steps",
        "title": "Export feature",
        "subtasks": [
            {"id": "s1", "title": "Design the export format", "description": "CSV columns", "agent": "ask", "dependsOn": [], "estimateSecs": 300},
            {"id": "s2", "title": "Write the exporter", "description": "src/export.rs", "agent": "coder", "dependsOn": ["s1"]},
            {"id": "s3", "title": "Run the tests", "description": "all of them", "agent": "shell", "command": "cargo test", "dependsOn": ["s2"]},
        ],
    })
}

fn cyclic_plan() -> Value {
    let mut plan = good_plan();
    plan["subtasks"][0]["dependsOn"] = json!(["s3"]);
    plan
}

async fn session_events(orchestrator: &Orchestrator, plan: &codelab_planner::model::Plan) -> Vec<SessionEvent> {
    let session = plan.session_id.clone();
    let transitions = orchestrator.repository().call(move |store| store.session_transitions(&session)).await.unwrap();
    transitions.into_iter().map(|transition| transition.event).collect()
}

#[tokio::test]
async fn a_sure_complex_task_is_planned_by_the_model_in_one_call_with_the_workspace_in_the_prompt() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("Cargo.toml"), "[package]\nname = \"demo\"\n").unwrap();
    std::fs::write(workspace.path().join("README.md"), "# Demo\nExports orders.\n").unwrap();
    std::fs::create_dir(workspace.path().join("src")).unwrap();
    std::fs::write(workspace.path().join("src/orders.rs"), "pub struct Order;").unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&good_plan()).with_usage(900, 120));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;

    let context = TaskContext { notes: None, files: vec!["src/orders.rs".into()] };
    let created = orchestrator.create(CreateRequest { context, ..request(SURE_COMPLEX) }).await.unwrap();
    let plan = created.plan;
    assert_eq!(plan.planner, PlannerKind::Llm);
    assert_eq!(plan.planner_note, None);
    assert_eq!(plan.title, "Export feature");
    let ids: Vec<&str> = plan.subtasks.iter().map(|subtask| subtask.id.as_str()).collect();
    assert_eq!(ids, ["s1", "s2", "s3"]);
    assert_eq!(plan.subtasks[2].command.as_deref(), Some("cargo test"));
    assert_eq!((plan.planning_usage.calls, plan.planning_usage.prompt_tokens), (1, 900));
    assert_eq!(plan.classification.as_ref().unwrap().method, ClassifyMethod::Keywords, "the keywords were sure");

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "one model call for a complex task");
    let prompt = requests[0].prompt_text();
    for expected in ["Languages: Rust", "cargo build", "cargo test", "# Demo", "src/orders.rs", "pub struct Order;"] {
        assert!(prompt.contains(expected), "the prompt lacks {expected:?}:\n{prompt}");
    }
    assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
    let stored = orchestrator.get(plan.id.clone()).await.unwrap();
    assert_eq!((stored.planner, stored.planning_usage), (PlannerKind::Llm, plan.planning_usage));
}

#[tokio::test]
async fn an_unsure_task_is_classified_and_planned_by_the_same_call_and_the_verdict_cached() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&good_plan()));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request(UNSURE)).await.unwrap().plan;
    assert_eq!(plan.classification.as_ref().unwrap().method, ClassifyMethod::Llm);
    assert_eq!(plan.planner, PlannerKind::Llm);
    assert_eq!(server.requests().len(), 1);

    // planning/classify of the same task (spelled differently) is answered from the cache.
    let classification = orchestrator.classify(format!("  {}  ", UNSURE.to_uppercase())).await.unwrap();
    assert_eq!((classification.method, classification.agent()), (ClassifyMethod::Llm, RouteAgent::Plan));
    assert_eq!(server.requests().len(), 1, "cache hit: no second call");
}

#[tokio::test]
async fn an_atomic_task_the_keywords_are_sure_of_makes_no_call() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request("explain what a lifetime is")).await.unwrap().plan;
    assert!(plan.classification.as_ref().unwrap().is_atomic());
    assert_eq!(server.requests().len(), 0);
    assert_eq!(plan.planning_usage.calls, 0);
}

#[tokio::test]
async fn the_classifier_falls_back_to_keywords_with_the_reason_and_caches_what_the_model_said() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&json!({"isAtomic": false, "agent": "code", "confidence": "high", "reason": "x"})));
    server.push(Reply::json(&json!({"isAtomic": true, "agent": "debug", "confidence": "high", "reason": "one bug"})));
    let orchestrator = start(workspace.path(), &server, LlmClassify::Always).await;

    let fallback = orchestrator.classify("fix the crash when saving".into()).await.unwrap();
    assert_eq!(fallback.method, ClassifyMethod::Keywords);
    assert!(fallback.reason.contains("language model not used"), "{}", fallback.reason);
    assert!(fallback.reason.contains("isAtomic is false but agent is code"), "{}", fallback.reason);

    let by_model = orchestrator.classify("fix the crash when saving".into()).await.unwrap();
    assert_eq!((by_model.method, by_model.agent()), (ClassifyMethod::Llm, RouteAgent::Debug));
    let cached = orchestrator.classify("Fix the crash  when saving".into()).await.unwrap();
    assert_eq!(cached, by_model);
    assert_eq!(server.requests().len(), 2);

    server.push(Reply::status(500, "down"));
    let unreachable = orchestrator.classify("explain the borrow checker to me please".into()).await;
    assert!(unreachable.unwrap().reason.contains("language model not used"));
}

#[tokio::test]
async fn a_bad_plan_gets_one_repair_round_trip_with_the_problems() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&cyclic_plan()).with_usage(100, 10));
    server.push(Reply::json(&good_plan()).with_usage(150, 20));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request(SURE_COMPLEX)).await.unwrap().plan;
    assert_eq!(plan.planner, PlannerKind::Llm);
    assert_eq!((plan.planning_usage.calls, plan.planning_usage.prompt_tokens), (2, 250));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let repair = requests[1].prompt_text();
    assert!(repair.contains("cannot be used") && repair.contains("dependency cycle: s1 -> s3 -> s2 -> s1"), "{repair}");
}

#[tokio::test]
async fn a_plan_still_bad_after_the_repair_falls_back_to_the_template_with_a_note() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&cyclic_plan()));
    server.push(Reply::text("Sure! Here is your plan: first do it, then test it."));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request(SURE_COMPLEX)).await.unwrap().plan;
    assert_eq!(plan.planner, PlannerKind::Template);
    let note = plan.planner_note.clone().unwrap();
    assert!(note.contains("unusable after one repair") && note.contains("no JSON object"), "{note}");
    assert!(!plan.subtasks.is_empty());
    assert_eq!(server.requests().len(), 2, "one try and one repair, no more");
    let events = session_events(&orchestrator, &plan).await;
    let tail = &events[events.len() - 3..];
    assert_eq!(tail, [SessionEvent::PlanningFailed, SessionEvent::RequiresReplanning, SessionEvent::PlanCreated]);
    assert_eq!(orchestrator.get(plan.id).await.unwrap().planner_note, Some(note));
}

#[tokio::test]
async fn a_failing_combined_call_is_a_classify_error_and_the_keywords_and_template_take_over() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::status(401, "invalid api key"));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request(UNSURE)).await.unwrap().plan;
    let classification = plan.classification.clone().unwrap();
    assert_eq!(classification.method, ClassifyMethod::Keywords);
    assert!(classification.reason.contains("credentials"), "{}", classification.reason);
    assert_eq!(plan.planner, PlannerKind::Template);
    assert!(plan.planner_note.as_deref().unwrap().contains("credentials"));
    let events = session_events(&orchestrator, &plan).await;
    assert_eq!(&events[..3], [SessionEvent::ReceiveMessage, SessionEvent::ClassifyError, SessionEvent::ReceiveMessage]);
    assert!(events.contains(&SessionEvent::PlanningFailed));
    assert_eq!(server.requests().len(), 1, "authentication is not retried");
}

#[tokio::test]
async fn revise_goes_through_the_model_with_the_plan_and_the_feedback() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&good_plan()));
    let mut revised = good_plan();
    revised["subtasks"].as_array_mut().unwrap().truncate(2);
    server.push(Reply::json(&revised));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let plan = orchestrator.create(request(SURE_COMPLEX)).await.unwrap().plan;
    let after = orchestrator.revise(plan.id.clone(), "drop the test run".into()).await.unwrap();
    assert_eq!(after.version, plan.version + 1);
    assert_eq!(after.subtasks.len(), 2);
    assert_eq!(after.planner, PlannerKind::Llm);
    assert_eq!(after.planning_usage.calls, 2);
    let prompt = server.requests()[1].prompt_text();
    assert!(prompt.contains("drop the test run") && prompt.contains("Run the tests"), "{prompt}");
}

#[tokio::test]
async fn subtasks_stream_to_the_caller_as_they_are_complete() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::json(&good_plan()));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let seen: Arc<Mutex<Vec<Vec<SubtaskDraft>>>> = Arc::default();
    let sink = seen.clone();
    let hooks = PlanningHooks {
        on_subtasks: Some(Arc::new(move |drafts: Vec<SubtaskDraft>| sink.lock().unwrap().push(drafts))),
        ..PlanningHooks::default()
    };
    let plan = orchestrator.create_with(request(SURE_COMPLEX), hooks).await.unwrap().plan;
    let seen = seen.lock().unwrap().clone();
    let counts: Vec<usize> = seen.iter().map(Vec::len).collect();
    assert_eq!(counts, [1, 2, 3], "one update per completed subtask");
    assert_eq!(seen[2][2].command.as_deref(), Some("cargo test"));
    assert_eq!(plan.subtasks.len(), 3);
}

#[tokio::test]
async fn cancelling_planning_closes_the_model_connection_and_creates_nothing() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["{\"isAtomic\": false"]).hang_after(1));
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let hooks = PlanningHooks::default();
    let cancel = hooks.cancel.clone();
    let planning = tokio::spawn({
        let orchestrator = orchestrator.clone();
        async move { orchestrator.create_with(request(SURE_COMPLEX), hooks).await }
    });
    server.requests_arrived(1, WAIT).await;
    cancel.cancel();
    let outcome = tokio::time::timeout(WAIT, planning).await.unwrap().unwrap();
    assert!(matches!(outcome, Err(OrchestratorError::PlanningCancelled)), "{:?}", outcome.err());
    server.streams_closed_early(1, WAIT).await;
    let page = orchestrator.list(ListRequest::default()).await.unwrap();
    assert!(page.plans.is_empty());
}

#[tokio::test]
async fn reads_and_cancel_answer_while_a_planning_call_hangs() {
    let workspace = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::start();
    let orchestrator = start(workspace.path(), &server, LlmClassify::WhenUnsure).await;
    let explicit = CreateRequest {
        mode: CreateMode::Plan,
        subtasks: Some(vec![SubtaskDraft {
            title: "x".into(),
            agent: "shell".into(),
            command: Some("true".into()),
            ..SubtaskDraft::default()
        }]),
        ..request("an existing plan")
    };
    let existing = orchestrator.create(explicit).await.unwrap().plan;
    server.push(Reply::text_pieces(&["{"]).hang_after(1));
    let hooks = PlanningHooks::default();
    let cancel = hooks.cancel.clone();
    let planning = tokio::spawn({
        let orchestrator = orchestrator.clone();
        async move { orchestrator.create_with(request(SURE_COMPLEX), hooks).await }
    });
    server.requests_arrived(1, WAIT).await;

    // The model never answers; these must not wait for it (the hard timeout catches a hang).
    let page = tokio::time::timeout(WAIT, orchestrator.list(ListRequest::default())).await.unwrap().unwrap();
    assert_eq!(page.plans.len(), 1);
    let outcome = tokio::time::timeout(WAIT, orchestrator.cancel(existing.id.clone(), None)).await.unwrap().unwrap();
    assert!(!outcome.cancelled);
    let approved = tokio::time::timeout(WAIT, orchestrator.approve(existing.id.clone())).await.unwrap().unwrap();
    assert_eq!(approved.id, existing.id);
    let missing = orchestrator.get(PlanId::from_raw("nope")).await;
    assert!(matches!(missing, Err(OrchestratorError::PlanNotFound(_))));

    cancel.cancel();
    assert!(tokio::time::timeout(WAIT, planning).await.unwrap().unwrap().is_err());
}
