//! Failed commits during a run (issue 9, defect 4), over the real binary: while another
//! connection holds the database's write lock, the server's commits fail (`database is locked`
//! after its busy timeout), exactly as they fail on a full disk. The person is told once with
//! `window/showMessage`, no event whose commit failed is emitted, and once the database takes
//! writes again the run reaches its final status with everything the client was told stored.

use serde_json::json;

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, create_and_execute, shell, workspace};

/// A running plan of `a` (which waits for a `release` file) then `b` (`second`), once `a` has
/// started: the server, the plan id and the run id.
fn start_two_steps(second: &str) -> (tempfile::TempDir, TestServer, String, String) {
    let dir = workspace();
    let setup = ServerSetup { work_done_progress: false, ..ServerSetup::new(dir.path()) };
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let subtasks =
        vec![shell("a", "until [ -f release ]; do sleep 0.02; done; echo a-done", &[]), shell("b", second, &["a"])];
    let (plan_id, run_id) = create_and_execute(&mut server, "two steps", subtasks, json!({}));
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["runId"] == run_id.as_str() && params["event"]["kind"] == "subtaskStarted"
    });
    (dir, server, plan_id, run_id)
}

/// A second connection to the workspace database, to hold its write lock.
fn open_database(workspace: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(workspace.join(".codelab/planner.db")).unwrap()
}

#[test]
fn commits_that_fail_are_retried_told_once_and_never_emitted_before_they_land() {
    let (dir, mut server, plan_id, run_id) = start_two_steps("echo b-done");
    let mut blocker = open_database(dir.path());
    let lock = blocker.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    std::fs::write(dir.path().join("release"), "").unwrap();

    let shown = server.wait_for_notification("window/showMessage", RUN_TIMEOUT, |_| true);
    let message = shown["message"].as_str().unwrap_or_default();
    assert!(message.contains(&plan_id) && message.contains("retrying"), "{message}");
    // Nothing the database does not hold reached the client: `a` has not finished for it.
    let status = server.call("planning/status", json!({ "planId": plan_id }));
    assert_eq!(status["progress"]["done"], 0, "{status}");
    let early = server.discard_count(|message| message["params"]["event"]["kind"] == "subtaskFinished");
    assert_eq!(early, 0, "an event was emitted before its commit landed");

    lock.rollback().unwrap();
    let events = server.collect_run_events(&run_id);
    let finished: Vec<&str> = events
        .iter()
        .filter(|event| event["kind"] == "subtaskFinished")
        .map(|event| event["subtaskId"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(finished, ["a", "b"]);
    assert_eq!(events.last().unwrap()["status"], "completed");
    let shown_again = server.discard_count(|message| message["method"] == "window/showMessage");
    assert_eq!(shown_again, 0, "told once");

    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "completed");
    assert_eq!(plan["subtasks"][0]["result"], "a-done\n");
    assert_eq!(plan["subtasks"][1]["status"], "done");
    server.discard(|message| message.get("method").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn cancel_reaches_its_own_run_while_commits_fail_and_the_plan_ends_cancelled() {
    let (dir, mut server, plan_id, run_id) = start_two_steps("echo $$ > b.pid; exec sleep 300");
    let mut blocker = open_database(dir.path());
    let lock = blocker.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    std::fs::write(dir.path().join("release"), "").unwrap();
    server.wait_for_notification("window/showMessage", RUN_TIMEOUT, |_| true);

    // Not "running in another process": this process owns the run and stops it.
    let cancelled = server.call("planning/cancel", json!({ "planId": plan_id, "reason": "disk full" }));
    assert_eq!(cancelled["cancelled"], true, "{cancelled}");
    lock.rollback().unwrap();
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "cancelled", "{events:?}");
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "cancelled");
    assert!(!dir.path().join("b.pid").exists(), "b never started");
    server.discard(|message| message.get("method").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
