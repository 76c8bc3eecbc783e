//! Input bounds over stdio (issue 9, defect 6; issue 18): every text and token a client sends is
//! bounded by its wire type (`crate::wire::bounds`) and refused with -32602 naming the field;
//! errors quote at most a short prefix of bad input; nothing refused reaches the database or
//! comes back in a notification; numbers that do not fit are refused by name.

use serde_json::{Value, json};

use crate::harness::{
    RUN_TIMEOUT, RpcError, ServerSetup, TestServer, create_and_execute, create_plan, shell, workspace,
};

const HUGE: usize = 10 * 1024 * 1024;

fn started() -> (tempfile::TempDir, TestServer) {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    (dir, server)
}

/// -32602, the message starts with `field`, and neither the message nor the data echoes much.
fn assert_refused_by_name(error: &RpcError, field: &str) {
    let shown = &error.message[..error.message.len().min(300)];
    assert_eq!(error.code, -32602, "{shown}");
    assert!(error.message.starts_with(field), "expected {field}: {shown}");
    assert!(error.message.len() < 500, "the message echoes the input: {} bytes", error.message.len());
    assert!(error.data.to_string().len() < 1000, "the data echoes the input");
}

fn draft_plan_id(server: &mut TestServer) -> String {
    let plan = create_plan(server, "a small plan", vec![shell("a", "true", &[])]);
    plan["id"].as_str().unwrap().to_owned()
}

#[test]
fn huge_texts_are_refused_by_name_and_not_echoed() {
    let (dir, mut server) = started();
    let plan_id = draft_plan_id(&mut server);
    let huge = "x".repeat(HUGE);
    let cases: Vec<(&str, Value, &str)> = vec![
        ("planning/reject", json!({ "planId": plan_id, "feedback": huge }), "feedback"),
        ("planning/revise", json!({ "planId": plan_id, "feedback": huge }), "feedback"),
        ("planning/cancel", json!({ "planId": plan_id, "reason": huge }), "reason"),
        ("planning/get", json!({ "planId": huge }), "planId"),
        ("planning/status", json!({ "planId": huge }), "planId"),
    ];
    for (method, params, field) in cases {
        let error = server.call_err(method, params);
        assert_refused_by_name(&error, field);
    }
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!((plan["status"].as_str(), plan["version"].as_u64()), (Some("draft"), Some(1)), "nothing stored");
    let database = std::fs::metadata(dir.path().join(".codelab/planner.db")).unwrap().len();
    assert!(database < 1024 * 1024, "the database grew to {database} bytes");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn long_ids_are_quoted_by_a_short_prefix_only() {
    let (_dir, mut server) = started();
    let long_id = "i".repeat(200 * 1024);
    let error = server.call_err(
        "planning/create",
        json!({ "task": "t", "mode": "plan", "subtasks": [shell(&long_id, "true", &[]), shell("b", "true", &[&long_id])] }),
    );
    assert_refused_by_name(&error, "subtasks[0].id");
    let unknown = server.call_err(
        "planning/create",
        json!({ "task": "t", "mode": "plan", "subtasks": [shell("b", "true", &[&long_id])] }),
    );
    assert_refused_by_name(&unknown, "subtasks[0].dependsOn[0]");
    let retried = server.call_err("planning/retry", json!({ "planId": "01NOPE", "subtaskIds": [long_id] }));
    assert!(retried.message.len() < 500 && retried.data.to_string().len() < 1000, "{}", &retried.message[..100]);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_estimate_that_does_not_fit_is_refused_by_name() {
    let (dir, mut server) = started();
    let mut subtask = shell("a", "true", &[]);
    subtask["estimateSecs"] = json!(9_223_372_036_854_775_808_u64);
    let error = server.call_err("planning/create", json!({ "task": "t", "mode": "plan", "subtasks": [subtask] }));
    assert_refused_by_name(&error, "subtasks[0].estimateSecs");
    assert!(!error.message.contains(&dir.path().display().to_string()), "{}", error.message);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// `planning/complete` with a 10 MB `result`: refused by name, not echoed, not stored; the step
/// still waits and a normal answer still ends it.
#[test]
fn a_huge_completion_result_is_refused_and_not_stored() {
    let (dir, mut server) = started();
    let manual = json!({ "id": "sign", "title": "Sign the release", "agent": "manual" });
    let (plan_id, run_id) = create_and_execute(&mut server, "sign it", vec![manual], json!({}));
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["runId"] == run_id.as_str() && params["event"]["kind"] == "subtaskWaiting"
    });
    let huge = "r".repeat(HUGE);
    let error = server.call_err("planning/complete", json!({ "planId": plan_id, "subtaskId": "sign", "result": huge }));
    assert_refused_by_name(&error, "result");
    assert_eq!(error.message, "result: too long (10485760 characters, at most 65536)");
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["subtasks"][0]["status"], "waiting");
    assert!(plan["subtasks"][0].get("result").is_none(), "nothing stored");
    let done = server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "sign", "result": "signed" }));
    assert_eq!(done["subtasks"][0]["result"], "signed");
    server.collect_run_events(&run_id);
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    server.discard(|message| message["method"] == "$/progress" || message.get("serverRequest").is_some());
    let database = std::fs::metadata(dir.path().join(".codelab/planner.db")).unwrap().len();
    assert!(database < 1024 * 1024, "the database grew to {database} bytes");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A 10 MB progress token is refused by name wherever a client may give one, so it is never
/// repeated in every `$/progress`; a short one is used as given.
#[test]
fn huge_progress_tokens_are_refused_and_never_repeated() {
    let (_dir, mut server) = started();
    let huge = "t".repeat(HUGE);
    let plan = create_plan(&mut server, "two steps", vec![shell("a", "true", &[]), shell("b", "true", &["a"])]);
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("planning/execute", json!({ "planId": plan_id, "workDoneToken": huge }), "workDoneToken"),
        ("planning/retry", json!({ "planId": plan_id, "workDoneToken": huge }), "workDoneToken"),
        ("planning/create", json!({ "task": "t", "workDoneToken": huge }), "workDoneToken"),
        ("planning/create", json!({ "task": "t", "partialResultToken": huge }), "partialResultToken"),
    ];
    for (method, params, field) in cases {
        let error = server.call_err(method, params);
        assert_refused_by_name(&error, field);
    }
    let token = "k".repeat(256);
    let started = server.call("planning/execute", json!({ "planId": plan_id, "workDoneToken": token }));
    let run_id = started["runId"].as_str().unwrap().to_owned();
    server.collect_run_events(&run_id);
    let values = server.collect_work_done(&json!(token));
    assert_eq!(values.last().map(|value| value["kind"].clone()), Some(json!("end")));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
