//! Malformed input over stdio (issue 9, defect 1; issue 18): every bad message gets a JSON-RPC
//! error reply — with the request's id whenever the id can be read — and the server keeps
//! serving with its run alive; an unrecoverable framing error, end of input
//! or `exit` without `shutdown` ends the server with the run left `interrupted`, not `cancelled`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    REQUEST_TIMEOUT, ServerSetup, TestServer, create_and_execute, eventually, process_is_gone, read_pid_file, shell,
    workspace,
};

fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Starts a server and a run whose only step sleeps; returns the step's pid.
fn start_long_run(dir: &std::path::Path) -> (TestServer, String, String, i32) {
    // No `$/progress`: `planning/progress` alone says when a run has ended.
    let setup = ServerSetup { work_done_progress: false, ..ServerSetup::new(dir) };
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let step = shell("sleeper", "echo $$ > sleeper.pid; exec sleep 300", &[]);
    let (plan_id, run_id) = create_and_execute(&mut server, "sleep for a long time", vec![step], json!({}));
    let pid = read_pid_file(&dir.join("sleeper.pid"));
    (server, plan_id, run_id, pid)
}

/// The plan as a fresh server on the same workspace sees it.
fn stored_plan(dir: &std::path::Path, plan_id: &str) -> Value {
    let (mut server, _) = TestServer::start(ServerSetup::new(dir));
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    server.discard(|_| true);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    plan
}

#[test]
fn every_malformed_message_gets_an_error_reply_and_the_server_keeps_serving() {
    let dir = workspace();
    let (mut server, plan_id, run_id, pid) = start_long_run(dir.path());
    let deep = format!("{}{}", "[".repeat(127), "]".repeat(127));
    let cases: Vec<(&str, Vec<u8>, i64)> = vec![
        ("not json", b"{bad json".to_vec(), -32700),
        ("nested 127 deep", deep.into_bytes(), -32700),
        ("not utf-8", b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}".to_vec(), -32700),
        ("jsonrpc 1.0", br#"{"jsonrpc":"1.0","id":901,"method":"planning/list","params":{}}"#.to_vec(), -32600),
        ("batch", br#"[{"jsonrpc":"2.0","id":902,"method":"planning/list","params":{}}]"#.to_vec(), -32600),
        ("integer method", br#"{"jsonrpc":"2.0","id":903,"method":7}"#.to_vec(), -32600),
        ("object id", br#"{"jsonrpc":"2.0","id":{"x":1},"method":"planning/list"}"#.to_vec(), -32600),
    ];
    for (name, body, code) in cases {
        server.send_raw(&frame(&body));
        let reply = server.wait_for(name, REQUEST_TIMEOUT, |message| message.get("error").is_some());
        assert_eq!(reply["error"]["code"], code, "{name}: {reply}");
        let status = server.call("planning/status", json!({ "planId": plan_id }));
        assert_eq!(status["status"], "running", "{name}: the run must survive");
    }
    assert!(!process_is_gone(pid), "the step still runs");
    let cancelled = server.call("planning/cancel", json!({ "planId": plan_id }));
    assert_eq!(cancelled["cancelled"], true);
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "cancelled");
    server.discard(|message| message.get("method").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn an_unrecoverable_framing_error_ends_the_server_and_leaves_the_run_interrupted() {
    let dir = workspace();
    let (mut server, plan_id, _run_id, pid) = start_long_run(dir.path());
    server.send_raw(b"this is not a header\r\n\r\n");
    assert_eq!(server.wait_exit(REQUEST_TIMEOUT).code(), Some(1));
    eventually("the step is gone", REQUEST_TIMEOUT, || process_is_gone(pid));
    let plan = stored_plan(dir.path(), &plan_id);
    assert_eq!(plan["status"], "interrupted", "{plan}");
    assert_eq!(plan["subtasks"][0]["status"], "pending", "{plan}");
}

#[test]
fn end_of_input_and_exit_without_shutdown_leave_the_run_interrupted() {
    for ending in ["end of input", "exit without shutdown"] {
        let dir = workspace();
        let (mut server, plan_id, _run_id, pid) = start_long_run(dir.path());
        if ending == "end of input" {
            server.close_stdin();
        } else {
            server.notify("exit", Value::Null);
        }
        assert_eq!(server.wait_exit(REQUEST_TIMEOUT).code(), Some(1), "{ending}");
        eventually("the step is gone", Duration::from_secs(10), || process_is_gone(pid));
        let plan = stored_plan(dir.path(), &plan_id);
        assert_eq!(plan["status"], "interrupted", "{ending}: {plan}");
        let retried = {
            let setup = ServerSetup { work_done_progress: false, ..ServerSetup::new(dir.path()) };
            let (mut again, _) = TestServer::start(setup);
            let started = again.call("planning/retry", json!({ "planId": plan_id }));
            again.call("planning/cancel", json!({ "planId": plan_id }));
            again.collect_run_events(started["runId"].as_str().unwrap_or_default());
            again.discard(|_| true);
            assert_eq!(again.shutdown_and_exit().code(), Some(0));
            started
        };
        assert_eq!(retried["status"], "running", "{ending}: an interrupted plan resumes");
    }
}

/// Issue 18: a request whose id can be read gets its error reply with that id, whatever else in
/// it is wrong — a lone surrogate escape anywhere, bytes that are not UTF-8, a body cut short or
/// nested too deep after the id. Nothing of it reaches a handler; the server keeps serving.
#[test]
fn a_request_with_a_readable_id_always_gets_its_reply() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    let plan = crate::harness::create_plan(&mut server, "keep me", vec![shell("a", "true", &[])]);
    let plan_id = plan["id"].as_str().expect("plan id").to_owned();
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let cases: Vec<(Vec<u8>, Value)> = vec![
        (br#"{"jsonrpc":"2.0","id":"lone-1","method":"planning/get","params":{"planId":"\ud800"}}"#.to_vec(), json!("lone-1")),
        (br#"{"jsonrpc":"2.0","id":9001,"method":"planning/\udfffget","params":{}}"#.to_vec(), json!(9001)),
        (
            format!(r#"{{"jsonrpc":"2.0","id":9002,"method":"planning/reject","params":{{"planId":"{plan_id}","feedback":"no \ud83d"}}}}"#)
                .into_bytes(),
            json!(9002),
        ),
        (b"{\"jsonrpc\":\"2.0\",\"id\":9003,\"method\":\"planning/list\",\"params\":{\"cursor\":\"\xc3\x28\"}}".to_vec(), json!(9003)),
        (br#"{"jsonrpc":"2.0","id":9004,"method":"planning/list","params":{"limit":"#.to_vec(), json!(9004)),
        (format!(r#"{{"jsonrpc":"2.0","id":9005,"method":"planning/list","params":{{"x":{deep}}}}}"#).into_bytes(), json!(9005)),
        (br#"{"params":{"a":"\udc00"},"method":"planning/list","jsonrpc":"2.0","id":9006}"#.to_vec(), json!(9006)),
    ];
    for (body, id) in cases {
        server.send_raw(&frame(&body));
        let wanted = id.clone();
        let reply = server.wait_for(&format!("the reply to {id}"), REQUEST_TIMEOUT, move |message| {
            message.get("error").is_some() && message["id"] == wanted
        });
        assert_eq!(reply["error"]["code"], -32700, "{reply}");
        let message = reply["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("parse error"), "{message}");
    }
    let stored = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!((stored["status"].as_str(), stored["version"].as_u64()), (Some("draft"), Some(1)), "nothing applied");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
