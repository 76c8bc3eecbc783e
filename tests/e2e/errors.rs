//! Every error case of the protocol, over stdio: the code, the field named in the message, and
//! the machine-readable `data`.

use serde_json::json;

use crate::harness::{ServerSetup, TestServer, create_plan, shell, workspace};

fn started() -> (tempfile::TempDir, TestServer) {
    let dir = workspace();
    let (server, _) = TestServer::start(ServerSetup::new(dir.path()));
    (dir, server)
}

#[test]
fn malformed_params_name_the_field() {
    let (_dir, mut server) = started();
    let wrong_type = server.call_err("planning/get", json!({ "planId": 7 }));
    assert_eq!(wrong_type.code, -32602);
    assert!(wrong_type.message.starts_with("planId: invalid type"), "{}", wrong_type.message);

    let missing = server.call_err("planning/create", json!({ "title": "no task" }));
    assert_eq!(missing.code, -32602);
    assert!(missing.message.contains("task"), "{}", missing.message);

    let nested = server.call_err(
        "planning/create",
        json!({ "task": "t", "subtasks": [{ "title": "a", "agent": "shell", "command": "true", "maxAttempts": "many" }] }),
    );
    assert_eq!(nested.code, -32602);
    assert!(nested.message.starts_with("subtasks[0].maxAttempts"), "{}", nested.message);

    let status = server.call_err("planning/list", json!({ "status": "foo" }));
    assert_eq!(status.code, -32602);
    assert!(
        status.message.starts_with("status: unknown plan status \"foo\" (expected \"draft\""),
        "{}",
        status.message
    );

    let limit = server.call_err("planning/list", json!({ "limit": -5 }));
    assert_eq!((limit.code, limit.message.as_str()), (-32602, "limit: expected a positive integer, got -5"));

    let parallel = server.call_err("planning/execute", json!({ "planId": "x", "maxParallel": -3 }));
    assert_eq!(
        (parallel.code, parallel.message.as_str()),
        (-32602, "maxParallel: expected a positive integer, got -3")
    );

    let negative_attempts = server.call_err(
        "planning/create",
        json!({ "task": "t", "subtasks": [{ "title": "a", "agent": "shell", "command": "true", "maxAttempts": -1 }] }),
    );
    assert_eq!(negative_attempts.code, -32602);
    assert!(negative_attempts.message.starts_with("subtasks[0].maxAttempts"), "{}", negative_attempts.message);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_ten_megabyte_task_is_refused_cleanly() {
    let (_dir, mut server) = started();
    let huge = "x".repeat(10 * 1024 * 1024);
    let refused = server.call_err("planning/create", json!({ "task": huge }));
    assert_eq!(refused.code, -32602);
    assert!(refused.message.starts_with("task"), "{}", &refused.message[..refused.message.len().min(200)]);
    assert!(refused.message.len() < 1000, "the error echoes the input: {} bytes", refused.message.len());
    // Still serving.
    assert!(server.call("planning/list", json!({}))["plans"].is_array());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn unknown_plan_is_plan_not_found() {
    let (_dir, mut server) = started();
    for method in ["planning/get", "planning/approve", "planning/status", "planning/delete"] {
        let missing = server.call_err(method, json!({ "planId": "01NOPE" }));
        assert_eq!(missing.code, -32803, "{method}");
        assert_eq!(missing.data["kind"], "planNotFound", "{method}");
    }
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn executing_a_draft_complex_plan_is_invalid_state() {
    let (_dir, mut server) = started();
    let plan = create_plan(&mut server, "build and test the project", vec![shell("a", "true", &[])]);
    assert_eq!(plan["status"], "draft");
    let refused = server.call_err("planning/execute", json!({ "planId": plan["id"] }));
    assert_eq!(refused.code, -32803);
    assert_eq!(refused.data["kind"], "invalidState");
    assert_eq!(refused.data["status"], "draft");
    assert!(
        refused.data["allowed"].as_array().is_some_and(|allowed| allowed.contains(&json!("approve"))),
        "{:?}",
        refused.data
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn update_with_a_stale_version_is_content_modified() {
    let (_dir, mut server) = started();
    let plan = create_plan(&mut server, "build it", vec![shell("a", "true", &[])]);
    let version = plan["version"].as_i64().expect("version");
    let updated =
        server.call("planning/update", json!({ "planId": plan["id"], "version": version, "title": "renamed" }));
    assert_eq!(updated["version"], version + 1);
    assert_eq!(updated["title"], "renamed");
    let stale =
        server.call_err("planning/update", json!({ "planId": plan["id"], "version": version, "title": "again" }));
    assert_eq!(stale.code, -32801);
    assert_eq!(stale.data["kind"], "staleVersion");
    assert_eq!(stale.data["actual"], version + 1);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_cycle_is_a_validation_failure_with_the_path() {
    let (_dir, mut server) = started();
    let subtasks = vec![shell("a", "true", &["b"]), shell("b", "true", &["a"])];
    let refused = server.call_err("planning/create", json!({ "task": "loop", "mode": "plan", "subtasks": subtasks }));
    assert_eq!(refused.code, -32803);
    assert_eq!(refused.data["kind"], "validation");
    let errors = refused.data["errors"].to_string();
    assert!(errors.contains("a -> b -> a") || errors.contains("b -> a -> b"), "{errors}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_unknown_dependency_names_its_path() {
    let (_dir, mut server) = started();
    let subtasks = vec![shell("a", "true", &[]), shell("b", "true", &["build"])];
    let refused = server.call_err("planning/create", json!({ "task": "deps", "mode": "plan", "subtasks": subtasks }));
    assert_eq!(refused.code, -32602);
    assert!(refused.message.starts_with("subtasks[1].dependsOn[0]"), "{}", refused.message);
    assert!(refused.message.contains("build"), "{}", refused.message);
    assert_eq!(refused.data["kind"], "validation");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn reset_session_rejects_the_plan_in_review_and_unknown_sessions_are_named() {
    let (_dir, mut server) = started();
    let created = server.call(
        "planning/create",
        json!({ "task": "build and test the project", "mode": "plan", "subtasks": [shell("a", "true", &[])] }),
    );
    let session_id = created["session"]["id"].clone();
    assert_eq!(created["session"]["state"], "plan_review");
    let reset = server.call("planning/resetSession", json!({ "sessionId": session_id }));
    assert_eq!(reset["state"], "idle");
    let plan = server.call("planning/get", json!({ "planId": created["plan"]["id"] }));
    assert_eq!(plan["status"], "rejected");
    let session = server.call("planning/session", json!({ "sessionId": session_id }));
    assert_eq!(session["state"], "idle");

    let unknown = server.call_err("planning/resetSession", json!({ "sessionId": "no-such-session" }));
    assert_eq!(unknown.code, -32803);
    assert_eq!(unknown.data["kind"], "sessionNotFound");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
