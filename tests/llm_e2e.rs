//! The LLM planner through the real binary over stdio, against the scripted OpenAI-compatible
//! server: `planning/create` with a `partialResultToken` streams the subtasks (every
//! `$/progress` before the reply), a `workDoneToken` gives a "Planning…" progress, cancelling it
//! aborts the model call (the connection closes, the request fails with -32800), and
//! `planning/list` answers while a planning call hangs; six slow planning calls at once leave
//! `planning/list` and `planning/cancel` free, and `$/cancelRequest` closes a model call.
#![allow(clippy::disallowed_methods)]

#[path = "support/fake_openai.rs"]
mod fake_openai;
#[allow(dead_code)]
#[path = "e2e/harness.rs"]
mod harness;

use std::time::Duration;

use fake_openai::{FakeOpenAi, Reply};
use harness::{ServerSetup, TestServer};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const TASK: &str = "Design the export system for reports, invoices and orders";

fn start(server: &FakeOpenAi, workspace: &std::path::Path) -> TestServer {
    let mut setup = ServerSetup::new(workspace);
    let settings = json!({
        "llm": { "baseUrl": server.base_url, "model": "test-model", "apiKeyEnv": "CODELAB_PLANNER_TEST_UNSET_KEY" }
    });
    // Both: initializationOptions apply before the first request, the configuration answer later.
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    TestServer::start(setup).0
}

fn plan_reply() -> Value {
    json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "several steps", "title": "Export",
        "subtasks": [
            {"id": "s1", "title": "Write the exporter", "description": "d", "agent": "coder", "dependsOn": []},
            {"id": "s2", "title": "Run the tests", "description": "d", "agent": "shell", "command": "cargo test", "dependsOn": ["s1"]},
        ],
    })
}

fn is_progress(token: &'static str) -> impl Fn(&Value) -> bool {
    move |message: &Value| message["method"] == "$/progress" && message["params"]["token"] == token
}

#[test]
fn create_streams_partial_subtasks_and_planning_progress_before_the_reply() {
    let workspace = harness::workspace();
    let fake = FakeOpenAi::start();
    fake.push(Reply::json(&plan_reply()).with_usage(300, 40));
    let mut server = start(&fake, workspace.path());
    let params = json!({ "task": TASK, "partialResultToken": "partial-1", "workDoneToken": "planning-1" });
    let created = server.call("planning/create", params);
    let plan = &created["plan"];
    assert_eq!(plan["planner"], "llm");
    assert_eq!(plan["usage"], json!({ "promptTokens": 300, "completionTokens": 40, "calls": 1 }));
    assert!(plan.get("plannerNote").is_none());

    // The begin and the partial results arrived before the reply: a zero wait only looks at what
    // is queued. The end may follow the reply.
    let begin = server.wait_for("planning begin", Duration::ZERO, is_progress("planning-1"));
    assert_eq!(begin["params"]["value"]["kind"], "begin");
    assert_eq!(begin["params"]["value"]["title"], "Planning…");
    assert_eq!(begin["params"]["value"]["cancellable"], true);
    let first = server.wait_for("first partial", Duration::ZERO, is_progress("partial-1"));
    assert_eq!(first["params"]["value"]["subtasks"].as_array().unwrap().len(), 1);
    let second = server.wait_for("second partial", Duration::ZERO, is_progress("partial-1"));
    let subtasks = second["params"]["value"]["subtasks"].as_array().unwrap().clone();
    assert_eq!(subtasks.len(), 2);
    assert_eq!(subtasks[1]["command"], "cargo test");
    let end = server.wait_for("planning end", WAIT, is_progress("planning-1"));
    assert_eq!(end["params"]["value"]["kind"], "end");
    server.discard(|message| message.get("serverRequest").is_some());
    server.assert_all_consumed();
    server.shutdown_and_exit();
}

#[test]
fn cancelling_the_planning_progress_aborts_the_model_call_while_list_still_answers() {
    let workspace = harness::workspace();
    let fake = FakeOpenAi::start();
    fake.push(Reply::text_pieces(&["{\"isAtomic\": false"]).hang_after(1));
    let mut server = start(&fake, workspace.path());
    let id = server.start_request("planning/create", json!({ "task": TASK, "workDoneToken": "planning-2" }));
    fake.wait_for_requests(1, WAIT);

    let page = server.call("planning/list", json!({}));
    assert_eq!(page["plans"], json!([]));
    server.notify("window/workDoneProgress/cancel", json!({ "token": "planning-2" }));
    let error = server.response_to(id).unwrap_err();
    assert_eq!(error.code, -32800, "{error:?}");
    fake.wait_closed_early(1, WAIT);
    let ended = server.collect_work_done(&json!("planning-2"));
    assert_eq!(ended.last().map(|value| value["kind"].clone()), Some(json!("end")), "{ended:?}");
    assert_eq!(server.call("planning/list", json!({}))["plans"], json!([]));
    server.discard(|message| message.get("serverRequest").is_some());
    server.assert_all_consumed();
    server.shutdown_and_exit();
}

#[test]
fn a_model_that_keeps_failing_gives_a_template_plan_with_a_note() {
    let workspace = harness::workspace();
    let fake = FakeOpenAi::start();
    fake.push(Reply::malformed_stream());
    let mut server = start(&fake, workspace.path());
    let created = server.call("planning/create", json!({ "task": TASK }));
    assert_eq!(created["plan"]["planner"], "template");
    let note = created["plan"]["plannerNote"].as_str().unwrap();
    assert!(note.contains("malformed"), "{note}");
    server.shutdown_and_exit();
}

#[test]
fn six_slow_planning_calls_leave_list_and_cancel_free_and_cancel_request_closes_the_model_call() {
    let workspace = harness::workspace();
    let fake = FakeOpenAi::start();
    let reply = plan_reply().to_string();
    let (head, tail) = reply.split_at(20);
    // Every model call sends its first piece, then nothing for 4 s.
    fake.set_fallback(Reply::text_pieces(&[head, tail]).with_gap(Duration::from_secs(4)));
    let mut server = start(&fake, workspace.path());
    let steps = json!([{ "id": "wait", "title": "Wait", "agent": "shell", "command": "sleep 300" }]);
    let running = server.call("planning/create", json!({ "task": "a long wait", "mode": "plan", "subtasks": steps }));
    let plan_id = running["plan"]["id"].clone();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();

    let creates: Vec<i64> = (0..6)
        .map(|index| {
            server.start_request("planning/create", json!({ "task": format!("{TASK} #{index}"), "mode": "plan" }))
        })
        .collect();
    fake.wait_for_requests(6, WAIT);
    let page = server.call("planning/list", json!({}));
    assert!(page["plans"].as_array().is_some_and(|plans| !plans.is_empty()), "{page}");
    let cancelled = server.call("planning/cancel", json!({ "planId": plan_id }));
    assert_eq!(cancelled["cancelled"], true, "{cancelled}");
    for id in &creates {
        assert!(!server.has_response_to(*id), "list and cancel answer before the slow create {id}");
    }
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "cancelled", "the end of the run arrives as events");

    server.notify("$/cancelRequest", json!({ "id": creates[0] }));
    let error = server.response_to(creates[0]).unwrap_err();
    assert_eq!(error.code, -32800, "{error:?}");
    fake.wait_closed_early(1, WAIT);
    for id in &creates[1..] {
        let created = server.response_to(*id).expect("planned once the model answers");
        assert_eq!(created["plan"]["subtasks"].as_array().map(Vec::len), Some(2), "{created}");
    }
    server.discard(|message| message.get("method").is_some() || message.get("serverRequest").is_some());
    server.shutdown_and_exit();
}
