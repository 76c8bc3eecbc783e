//! Input bounds over stdio (issue 9, defect 6): every text is bounded and refused with -32602
//! naming the field; errors quote at most a short prefix of bad input; numbers that do not fit
//! are refused by name, never reach the database.

use serde_json::{Value, json};

use crate::harness::{RpcError, ServerSetup, TestServer, create_plan, shell, workspace};

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
