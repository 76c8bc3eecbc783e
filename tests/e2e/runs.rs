//! Runs over stdio: a plan of real shell steps with `$/progress` and `planning/progress` in a valid
//! order ending with exactly one `planFinished`; cancellation by `planning/cancel` and by
//! `window/workDoneProgress/cancel`, with the child processes gone afterwards.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::harness::{
    REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, create_and_execute, eventually, process_is_gone,
    read_pid_file, shell, workspace,
};

/// Checks the event stream of one run: starts with `planStarted`, every subtask starts before
/// it finishes and finishes once, dependencies finish before dependents start, exactly one
/// `planFinished`, last. Returns the final status.
fn check_run_order(events: &[Value], dependencies: &HashMap<&str, Vec<&str>>) -> String {
    assert_eq!(events.first().map(|event| &event["kind"]), Some(&json!("planStarted")), "{events:#?}");
    let finished_count = events.iter().filter(|event| event["kind"] == "planFinished").count();
    assert_eq!(finished_count, 1, "{events:#?}");
    let mut started = Vec::new();
    let mut finished = Vec::new();
    for event in events {
        let subtask = event["subtaskId"].as_str().unwrap_or_default().to_owned();
        match event["kind"].as_str() {
            Some("subtaskStarted") => {
                for dependency in dependencies.get(subtask.as_str()).into_iter().flatten() {
                    assert!(
                        finished.contains(&(*dependency).to_owned()),
                        "{subtask} started before {dependency} finished"
                    );
                }
                started.push(subtask);
            }
            Some("subtaskFinished") => {
                assert!(started.contains(&subtask), "{subtask} finished without starting");
                assert!(!finished.contains(&subtask), "{subtask} finished twice");
                finished.push(subtask);
            }
            _ => {}
        }
    }
    let last = events.last().expect("events");
    assert_eq!(last["kind"], "planFinished");
    last["status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_plan_of_shell_steps_runs_with_ordered_progress() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    let subtasks = vec![
        shell("a", "echo alpha", &[]),
        shell("b", "echo beta", &["a"]),
        shell("c", "echo gamma", &["a"]),
        shell("d", "echo done > result.txt && echo delta", &["b", "c"]),
    ];
    let (plan_id, run_id) = create_and_execute(&mut server, "run four shell steps", subtasks, json!({}));
    let created = server.take_server_request("window/workDoneProgress/create");
    let token = created["token"].clone();

    let events = server.collect_run_events(&run_id);
    let dependencies = HashMap::from([("b", vec!["a"]), ("c", vec!["a"]), ("d", vec!["b", "c"])]);
    assert_eq!(check_run_order(&events, &dependencies), "completed");
    let last = events.last().expect("planFinished");
    assert_eq!((last["progress"]["done"].as_u64(), last["progress"]["percentage"].as_u64()), (Some(4), Some(100)));

    let work_done = server.collect_work_done(&token);
    let begin = &work_done[0];
    assert_eq!((begin["kind"].as_str(), begin["cancellable"].as_bool()), (Some("begin"), Some(true)));
    assert_eq!(begin["percentage"], 0);
    assert!(work_done[1..work_done.len() - 1].iter().all(|value| value["kind"] == "report"), "{work_done:#?}");
    assert!(
        work_done
            .iter()
            .any(|value| value["message"].as_str().is_some_and(|message| message.contains("running: step d")))
    );
    let end = work_done.last().expect("end");
    assert!(end["message"].as_str().is_some_and(|message| message.starts_with("completed 4/4 in ")), "{end}");

    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "completed");
    assert_eq!(begin["title"], plan["title"]);
    let results: Vec<&str> =
        plan["subtasks"].as_array().expect("subtasks").iter().filter_map(|s| s["result"].as_str()).collect();
    assert!(
        results.iter().any(|result| result.contains("alpha")) && results.iter().any(|result| result.contains("delta")),
        "{results:?}"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("result.txt")).unwrap_or_default().trim(), "done");
    let status = server.call("planning/status", json!({ "planId": plan_id }));
    assert_eq!((status["status"].as_str(), status["progress"]["done"].as_u64()), (Some("completed"), Some(4)));
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn planning_cancel_stops_the_run_and_kills_its_processes() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.work_done_progress = false;
    setup.configuration = None;
    let (mut server, _) = TestServer::start(setup);
    let pid_file = dir.path().join("sleeper.pid");
    let command = format!("echo $$ > {}; sleep 30", pid_file.display());
    let (plan_id, run_id) =
        create_and_execute(&mut server, "a long step", vec![shell("slow", &command, &[])], json!({}));
    let pid = read_pid_file(&pid_file);

    let outcome = server.call("planning/cancel", json!({ "planId": plan_id, "reason": "enough" }));
    // Answered at once; the end of the run arrives as events.
    assert_eq!(outcome["cancelled"].as_bool(), Some(true), "{outcome}");
    let events = server.collect_run_events(&run_id);
    assert_eq!(check_run_order(&events, &HashMap::new()), "cancelled");
    eventually("the cancelled step's shell is gone", REQUEST_TIMEOUT, || process_is_gone(pid));
    let again = server.call("planning/cancel", json!({ "planId": plan_id }));
    assert_eq!(again["cancelled"], false);
    // No work-done progress: the client did not advertise it and sent no token.
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn work_done_progress_cancel_stops_the_run_of_that_token() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    let pid_file = dir.path().join("sleeper.pid");
    let command = format!("echo $$ > {}; sleep 30", pid_file.display());
    let token = json!("editor-token-1");
    let (plan_id, run_id) = create_and_execute(
        &mut server,
        "a long step",
        vec![shell("slow", &command, &[])],
        json!({ "workDoneToken": token }),
    );
    let begin = server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["token"] == token);
    assert_eq!(begin["value"]["kind"], "begin");
    let pid = read_pid_file(&pid_file);

    server.notify("window/workDoneProgress/cancel", json!({ "token": token }));
    let events = server.collect_run_events(&run_id);
    assert_eq!(check_run_order(&events, &HashMap::new()), "cancelled");
    let rest = server.collect_work_done(&token);
    assert!(
        rest.last().is_some_and(|end| end["message"].as_str().is_some_and(|message| message.starts_with("cancelled"))),
        "{rest:#?}"
    );
    eventually("the cancelled step's shell is gone", REQUEST_TIMEOUT, || process_is_gone(pid));
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "cancelled");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
