//! Runs another process owns, shown live: a command line runs a plan file on the workspace's
//! database while a language server has it open, and the server's client gets the run's
//! `planning/progress` events (each subtask's start and end, while it runs) and `$/progress`, with
//! exactly one `planFinished`, as for a run of its own.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, binary, workspace};

const GATED: &str = r#"title = "Сборка и проверка: a long title for a run started in a terminal"

[[subtask]]
id = "prepare"
title = "Подготовить рабочую папку"
agent = "shell"
command = "echo prepared"

[[subtask]]
id = "gate"
title = "Wait until the test opens the gate"
agent = "shell"
command = "while [ ! -e gate.open ]; do sleep 0.05; done; echo passed the gate"
depends_on = ["prepare"]

[[subtask]]
id = "after"
title = "Finish"
agent = "shell"
command = "echo finished"
depends_on = ["gate"]
"#;

/// `codelab-planner ARGUMENTS --json` in `dir`, its output thrown away.
fn start_command_line(dir: &Path, arguments: &[&str]) -> Child {
    Command::new(binary())
        .args(arguments)
        .arg("--json")
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the command line")
}

#[test]
fn a_command_line_run_is_shown_live_to_a_language_server_client() {
    let dir = workspace();
    std::fs::write(dir.path().join("gated.plan.toml"), GATED).unwrap();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    // The orchestrator is up (and follows other processes) once a request has been answered.
    assert_eq!(server.call("planning/list", json!({}))["plans"], json!([]));

    let mut command_line = start_command_line(dir.path(), &["run", "gated.plan.toml", "--db", ".codelab/planner.db"]);

    let started = server
        .wait_for_notification("planning/progress", RUN_TIMEOUT, |params| params["event"]["kind"] == "planStarted");
    let (plan_id, run_id) =
        (started["planId"].as_str().unwrap().to_owned(), started["runId"].as_str().unwrap().to_owned());
    assert!(started["event"]["title"].as_str().unwrap().starts_with("Сборка и проверка"), "{started}");
    // Live: the gated step is seen running before the test lets it finish.
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["runId"] == run_id.as_str()
            && params["event"]["kind"] == "subtaskStarted"
            && params["event"]["subtaskId"] == "gate"
    });
    let running = server.call("planning/status", json!({ "planId": plan_id }));
    assert_eq!((running["status"].as_str(), running["running"].clone()), (Some("running"), json!(["gate"])));
    std::fs::write(dir.path().join("gate.open"), "").unwrap();

    let mut events = vec![started["event"].clone()];
    events.extend(server.collect_run_events(&run_id));
    let kinds: Vec<(String, String)> = events
        .iter()
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
            (text("kind"), format!("{}{}", text("subtaskId"), text("status")))
        })
        .collect();
    let finished_in_order: Vec<&str> =
        kinds.iter().filter(|(kind, _)| kind == "subtaskFinished").map(|(_, what)| what.as_str()).collect();
    assert_eq!(finished_in_order, ["preparedone", "gatedone", "afterdone"], "{events:#?}");
    for step in ["prepare", "gate", "after"] {
        let starts = kinds.iter().filter(|(kind, what)| kind == "subtaskStarted" && what == step).count();
        assert!(starts <= 1, "{step} started {starts} times: {events:#?}");
    }
    let ends: Vec<&Value> = events.iter().filter(|event| event["kind"] == "planFinished").collect();
    assert_eq!(ends.len(), 1, "{events:#?}");
    assert_eq!(ends[0]["status"], "completed");
    assert_eq!(events.last().unwrap()["kind"], "planFinished", "planFinished comes last");
    assert_eq!(ends[0]["progress"]["done"], 3, "{events:#?}");

    let token = json!(format!("codelab-planner/run/{run_id}"));
    let work_done = server.collect_work_done(&token);
    assert_eq!(work_done.first().map(|value| value["kind"].clone()), Some(json!("begin")), "{work_done:#?}");
    assert_eq!(work_done[0]["cancellable"], false, "another process's run is stopped where it runs");
    assert!(work_done.last().unwrap()["message"].as_str().unwrap().starts_with("completed 3/3"), "{work_done:#?}");

    let status = command_line.wait().expect("the command line ends");
    assert_eq!(status.code(), Some(0));
    let listed = server.call("planning/list", json!({}));
    assert_eq!(listed["plans"][0]["id"], plan_id.as_str());
    assert_eq!(listed["plans"][0]["status"], "completed");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// A language server (without work-done progress) and a command line running [`GATED`] in its
/// workspace, the gate step seen running by the server.
struct GatedRun {
    dir: tempfile::TempDir,
    server: TestServer,
    command_line: Child,
    plan_id: String,
    run_id: String,
}

fn gated_run_under_a_server() -> GatedRun {
    let dir = workspace();
    std::fs::write(dir.path().join("gated.plan.toml"), GATED).unwrap();
    let mut setup = ServerSetup::new(dir.path());
    setup.work_done_progress = false;
    let (mut server, _) = TestServer::start(setup);
    server.call("planning/list", json!({}));
    let command_line = start_command_line(dir.path(), &["run", "gated.plan.toml"]);
    let started = server.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["event"]["kind"] == "subtaskStarted" && params["event"]["subtaskId"] == "gate"
    });
    let (plan_id, run_id) =
        (started["planId"].as_str().unwrap().to_owned(), started["runId"].as_str().unwrap().to_owned());
    GatedRun { dir, server, command_line, plan_id, run_id }
}

#[test]
fn a_followed_run_whose_process_dies_ends_interrupted_once() {
    let GatedRun { dir, mut server, mut command_line, plan_id, run_id } = gated_run_under_a_server();
    command_line.kill().expect("kill -9 the command line");
    command_line.wait().expect("it is gone");

    let events = server.collect_run_events(&run_id);
    let ends: Vec<&Value> = events.iter().filter(|event| event["kind"] == "planFinished").collect();
    assert_eq!(ends.len(), 1, "{events:#?}");
    assert_eq!(ends[0]["status"], "interrupted", "{events:#?}");
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "interrupted");
    std::fs::write(dir.path().join("gate.open"), "").unwrap();
    server.discard(|message| message["method"] == "planning/progress");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_command_line_run_is_cancelled_from_the_editor() {
    let GatedRun { dir: _dir, mut server, mut command_line, plan_id, run_id } = gated_run_under_a_server();
    let outcome = server.call("planning/cancel", json!({ "planId": plan_id, "reason": "from the editor" }));
    assert_eq!((outcome["cancelled"].clone(), outcome["status"].clone()), (json!(true), json!("cancelled")));
    assert_eq!(command_line.wait().expect("the command line ends").code(), Some(130), "as after Ctrl-C");
    let events = server.collect_run_events(&run_id);
    let ends: Vec<&Value> = events.iter().filter(|event| event["kind"] == "planFinished").collect();
    assert_eq!(ends.len(), 1, "{events:#?}");
    assert_eq!(ends[0]["status"], "cancelled");
    server.discard(|message| message["method"] == "planning/progress");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
