//! Several server processes on one workspace: crash and resume (kill -9 mid-run, restart, the
//! plan is `interrupted`, `planning/retry` finishes it keeping earlier results), and two live
//! servers sharing one database (the second shows the first one's run to its client).

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::json;

use crate::harness::{
    REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, create_and_execute, eventually, process_is_gone,
    read_pid_file, shell, workspace,
};

#[test]
fn a_crashed_run_is_interrupted_and_retry_finishes_it_keeping_results() {
    let dir = workspace();
    let root = dir.path();
    let pid_file = root.join("b.pid");
    let subtasks = vec![
        shell("a", "echo x >> a.count; echo first-result", &[]),
        shell(
            "b",
            &format!("echo $$ > {}; if [ -e resume ]; then echo resumed; else sleep 30; fi", pid_file.display()),
            &["a"],
        ),
        shell("c", "echo c-done", &["b"]),
    ];
    let mut setup = ServerSetup::new(root);
    setup.configuration = None;
    setup.work_done_progress = false;
    let (mut first, _) = TestServer::start(setup.clone());
    let (plan_id, run_id) = create_and_execute(&mut first, "crash in the middle", subtasks, json!({}));
    first.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["runId"] == run_id.as_str()
            && params["event"]["kind"] == "subtaskFinished"
            && params["event"]["subtaskId"] == "a"
    });
    let orphan = read_pid_file(&pid_file);
    first.kill_hard();
    // The orphaned step would sleep on; end it the way the dead server could not.
    let _ = killpg(Pid::from_raw(orphan), Signal::SIGKILL);
    let _ = nix::sys::signal::kill(Pid::from_raw(orphan), Signal::SIGKILL);
    eventually("the orphaned step is gone", REQUEST_TIMEOUT, || process_is_gone(orphan));
    std::fs::write(root.join("resume"), "").expect("write resume marker");
    std::fs::remove_file(&pid_file).expect("remove pid file");

    let (mut second, _) = TestServer::start(setup);
    let plan = second.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "interrupted");
    assert_eq!(plan["subtasks"][0]["status"], "done");
    assert_eq!(plan["subtasks"][1]["status"], "pending");

    let retried = second.call("planning/retry", json!({ "planId": plan_id }));
    let retry_run = retried["runId"].as_str().expect("run id").to_owned();
    assert_ne!(retry_run, run_id);
    let events = second.collect_run_events(&retry_run);
    assert_eq!(events.last().map(|event| event["status"].clone()), Some(json!("completed")), "{events:#?}");
    assert!(!events.iter().any(|event| event["kind"] == "subtaskStarted" && event["subtaskId"] == "a"), "a ran again");

    let plan = second.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "completed");
    assert!(plan["subtasks"][0]["result"].as_str().is_some_and(|result| result.contains("first-result")), "{plan}");
    assert_eq!(plan["subtasks"][0]["attempts"], 1);
    assert!(plan["subtasks"][1]["result"].as_str().is_some_and(|result| result.contains("resumed")), "{plan}");
    assert_eq!(std::fs::read_to_string(root.join("a.count")).unwrap_or_default().lines().count(), 1);
    assert_eq!(second.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_server_started_during_a_run_sees_it_running_and_cannot_execute_it() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.configuration = None;
    setup.work_done_progress = false;
    let (mut first, _) = TestServer::start(setup.clone());
    let pid_file = dir.path().join("shared.pid");
    let command = format!("echo $$ > {}; sleep 30", pid_file.display());
    let (plan_id, run_id) = create_and_execute(&mut first, "shared run", vec![shell("slow", &command, &[])], json!({}));
    let pid = read_pid_file(&pid_file);
    // The second server opens the database while the first one's run is live: its crash
    // recovery must leave that run alone.
    let (mut second, _) = TestServer::start(setup);

    let seen = second.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(seen["status"], "running");
    let listed = second.call("planning/list", json!({ "status": "running" }));
    assert!(
        listed["plans"].as_array().is_some_and(|plans| plans.iter().any(|plan| plan["id"] == plan_id.as_str())),
        "{listed}"
    );
    let refused = second.call_err("planning/execute", json!({ "planId": plan_id }));
    assert_eq!(refused.code, -32803);
    assert_eq!(refused.data["kind"], "invalidState");
    assert_eq!(refused.data["status"], "running");

    first.call("planning/cancel", json!({ "planId": plan_id }));
    let events = first.collect_run_events(&run_id);
    assert_eq!(events.last().map(|event| event["status"].clone()), Some(json!("cancelled")));
    // The second server shows the first one's run to its client like its own, to its one end.
    let shown = second.collect_run_events(&run_id);
    assert_eq!(shown.first().map(|event| event["kind"].clone()), Some(json!("planStarted")), "{shown:#?}");
    assert_eq!(shown.last().map(|event| event["status"].clone()), Some(json!("cancelled")), "{shown:#?}");
    assert!(
        shown.iter().any(|event| event["kind"] == "subtaskFinished" && event["status"] == "cancelled"),
        "{shown:#?}"
    );
    eventually("the shared run's shell is gone", REQUEST_TIMEOUT, || process_is_gone(pid));
    assert_eq!(first.shutdown_and_exit().code(), Some(0));
    assert_eq!(second.shutdown_and_exit().code(), Some(0));
}
