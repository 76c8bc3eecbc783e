//! `next` over the real binary: `planning/next` and `codelab-planner next [ID]` list the steps that
//! can be taken now — the ready steps of an approved plan nothing runs, worked through by hand
//! (from the editor and the command line in turn) to its end; the waiting step of a running plan,
//! also seen from a second process.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, binary, workspace};

fn cli(dir: &Path, arguments: &[&str]) -> Output {
    Command::new(binary())
        .args(arguments)
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run codelab-planner")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ready_ids(result: &Value) -> Vec<String> {
    result["ready"].as_array().unwrap().iter().map(|step| step["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn an_approved_plan_is_worked_through_by_hand_from_the_editor_and_the_command_line() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    let subtasks = json!([
        { "id": "draft", "title": "Написать черновик заметки о выпуске", "agent": "manual" },
        { "id": "review", "title": "Review the release note with the team", "agent": "manual", "dependsOn": ["draft"] },
        { "id": "check", "title": "Check the links", "agent": "shell", "command": "true", "dependsOn": ["draft"] },
    ]);
    let created =
        server.call("planning/create", json!({ "task": "release note", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    assert!(ready_ids(&server.call("planning/next", json!({ "planId": plan_id }))).is_empty(), "a draft first");
    server.call("planning/approve", json!({ "planId": plan_id }));

    let next = server.call("planning/next", json!({ "planId": plan_id }));
    assert_eq!(ready_ids(&next), ["draft"]);
    assert_eq!((next["planId"].as_str(), next.get("claims")), (Some(plan_id.as_str()), None));
    let listed = cli(dir.path(), &["next"]);
    assert_eq!(listed.status.code(), Some(0));
    let text = stdout(&listed);
    assert!(text.starts_with(&format!("{plan_id} is approved; ready now:")), "{text}");
    assert!(text.contains("· draft  Написать черновик заметки о выпуске [manual]"), "{text}");

    let completed = cli(dir.path(), &["complete", &plan_id, "draft", "--result", "черновик готов"]);
    assert_eq!(completed.status.code(), Some(0), "{}", String::from_utf8_lossy(&completed.stderr));
    assert!(stdout(&completed).contains(&format!("codelab-planner next {plan_id}")), "{}", stdout(&completed));
    let listed = cli(dir.path(), &["next", &plan_id, "--json"]);
    let result: Value = serde_json::from_str(stdout(&listed).trim()).expect("one json object");
    assert_eq!(ready_ids(&result), ["review", "check"]);

    let early = server.call_err("planning/complete", json!({ "planId": plan_id, "subtaskId": "ghost" }));
    assert_eq!(early.code, -32602, "{early:?}");
    server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "check", "result": "links ok" }));
    let plan = server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "review" }));
    assert_eq!(plan["status"], "completed", "{plan}");
    assert_eq!(plan["subtasks"][0]["result"], "черновик готов");
    assert!(ready_ids(&server.call("planning/next", json!({ "planId": plan_id }))).is_empty());
    let nothing = stdout(&cli(dir.path(), &["next", &plan_id]));
    assert_eq!(nothing.trim(), format!("nothing in {plan_id} can be taken now (it is completed)"));
    let no_plan = server.call_err("planning/next", json!({}));
    assert_eq!(no_plan.code, -32602, "{no_plan:?}");
    let missing = server.call_err("planning/next", json!({ "planId": "no-such-plan" }));
    assert_eq!(missing.data["kind"], "planNotFound", "{missing:?}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn the_waiting_step_of_a_running_plan_is_listed_by_both_processes() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.work_done_progress = false;
    let (mut server, _) = TestServer::start(setup);
    let subtasks = json!([
        { "id": "build", "title": "Build", "agent": "shell", "command": "true" },
        { "id": "sign", "title": "Sign the release by hand", "agent": "manual", "dependsOn": ["build"] },
    ]);
    let created = server.call("planning/create", json!({ "task": "sign it", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let started = server.call("planning/execute", json!({ "planId": plan_id }));
    let run_id = started["runId"].as_str().unwrap().to_owned();
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| {
        params["runId"] == run_id.as_str() && params["event"]["kind"] == "subtaskWaiting"
    });
    assert_eq!(ready_ids(&server.call("planning/next", json!({ "planId": plan_id }))), ["sign"]);
    let from_terminal = stdout(&cli(dir.path(), &["next"]));
    assert!(from_terminal.starts_with(&format!("{plan_id} is running; ready now:")), "{from_terminal}");
    assert!(from_terminal.contains("· sign  Sign the release by hand [manual]"), "{from_terminal}");
    server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "sign" }));
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed");
    server.discard(|message| message["method"] == "planning/progress" || message["method"] == "window/showMessage");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
