//! `planning/update` keeps what a client omits (issue 18), over the real binary: a subtask that
//! keeps its id keeps every stored field the client did not send; `null` clears an optional
//! field; a new agent does not inherit the old one's command, folder and limits.

use serde_json::{Value, json};

use crate::harness::{ServerSetup, TestServer, workspace};

fn subtask<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["subtasks"].as_array().and_then(|all| all.iter().find(|step| step["id"] == id)).expect("subtask exists")
}

/// `subtask` without the fields an edit is expected to change.
fn without(subtask: &Value, fields: &[&str]) -> Value {
    let mut copy = subtask.clone();
    if let Some(object) = copy.as_object_mut() {
        for field in fields {
            object.remove(*field);
        }
    }
    copy
}

fn started() -> (tempfile::TempDir, TestServer) {
    let dir = workspace();
    std::fs::create_dir_all(dir.path().join("backend")).expect("backend folder");
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    (dir, server)
}

fn detailed_plan(server: &mut TestServer) -> Value {
    let subtasks = json!([
        { "id": "build", "title": "Build the backend", "agent": "shell", "command": "make", "cwd": "backend",
          "timeoutSecs": 90, "maxAttempts": 3, "estimateSecs": 30, "description": "Компиляция всего бэкенда" },
        { "id": "test", "title": "Run the tests", "agent": "shell", "command": "make test", "cwd": "backend",
          "dependsOn": ["build"], "timeoutSecs": 600, "maxAttempts": 2 },
        { "id": "write", "title": "Write the exporter", "agent": "coder", "dependsOn": ["build"],
          "description": "Долгое описание\nв две строки", "timeoutSecs": 1200, "maxAttempts": 5, "estimateSecs": 900 },
    ]);
    let created =
        server.call("planning/create", json!({ "task": "build, test, export", "mode": "plan", "subtasks": subtasks }));
    created["plan"].clone()
}

#[test]
fn an_update_of_titles_only_keeps_every_other_field() {
    let (_dir, mut server) = started();
    let before = detailed_plan(&mut server);
    let plan_id = before["id"].as_str().expect("plan id").to_owned();
    let titles_only = json!([
        { "id": "build", "title": "Собрать бэкенд", "agent": "shell" },
        { "id": "test", "title": "Run every test", "agent": "shell" },
        { "id": "write", "title": "Write the CSV exporter", "agent": "coder" },
    ]);
    let after = server.call(
        "planning/update",
        json!({ "planId": plan_id, "version": 1, "title": "A longer title for the plan", "subtasks": titles_only }),
    );
    assert_eq!((after["version"].as_u64(), after["title"].as_str()), (Some(2), Some("A longer title for the plan")));
    for id in ["build", "test", "write"] {
        assert_eq!(without(subtask(&after, id), &["title"]), without(subtask(&before, id), &["title"]), "{id}");
    }
    assert_eq!(subtask(&after, "build")["title"], "Собрать бэкенд");
    assert_eq!(subtask(&after, "build")["cwd"], "backend");
    assert_eq!(subtask(&after, "write")["description"], "Долгое описание\nв две строки");
    for field in ["sessionId", "goal", "classification", "planner", "createdAt"] {
        assert_eq!(after[field], before[field], "{field}");
    }
    let stored = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(stored["subtasks"], after["subtasks"], "what the reply shows is what was stored");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn null_clears_given_values_win_and_a_new_agent_starts_fresh() {
    let (_dir, mut server) = started();
    let before = detailed_plan(&mut server);
    let plan_id = before["id"].as_str().expect("plan id").to_owned();
    let edits = json!([
        { "id": "build", "title": "Build", "agent": "shell", "cwd": null, "timeoutSecs": null, "maxAttempts": 4 },
        { "id": "test", "title": "Test by hand", "agent": "manual" },
        { "id": "write", "title": "Write", "agent": "coder", "dependsOn": [], "description": null },
        { "id": "docs", "title": "Document it", "agent": "ask" },
    ]);
    let after = server.call("planning/update", json!({ "planId": plan_id, "version": 1, "subtasks": edits }));
    let build = subtask(&after, "build");
    assert!(build.get("cwd").is_none() && build.get("timeoutSecs").is_none(), "null clears: {build}");
    assert_eq!((build["maxAttempts"].as_u64(), build["command"].as_str()), (Some(4), Some("make")));
    assert_eq!(build["estimateSecs"], 30, "left out, kept");
    let test = subtask(&after, "test");
    assert!(test.get("command").is_none() && test.get("cwd").is_none(), "a manual step takes no command: {test}");
    assert_eq!(test["dependsOn"], json!(["build"]), "agent-independent fields are kept");
    assert_eq!(test["maxAttempts"], 1, "the new agent's default, not the old agent's limit");
    let write = subtask(&after, "write");
    assert_eq!((write["dependsOn"].clone(), write["description"].clone()), (json!([]), json!("Write")));
    assert_eq!((write["timeoutSecs"].as_u64(), write["maxAttempts"].as_u64()), (Some(1200), Some(5)));
    let docs = subtask(&after, "docs");
    assert_eq!(
        (docs["maxAttempts"].as_u64(), docs["timeoutSecs"].as_u64()),
        (Some(3), Some(600)),
        "a new id: defaults"
    );
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_client_that_sends_back_everything_it_received_changes_nothing_else() {
    let (_dir, mut server) = started();
    let before = detailed_plan(&mut server);
    let plan_id = before["id"].as_str().expect("plan id").to_owned();
    let mut echoed = before["subtasks"].clone();
    echoed[1]["title"] = json!("Run the tests, all of them");
    let after = server.call("planning/update", json!({ "planId": plan_id, "version": 1, "subtasks": echoed }));
    for id in ["build", "test", "write"] {
        assert_eq!(without(subtask(&after, id), &["title"]), without(subtask(&before, id), &["title"]), "{id}");
    }
    assert_eq!(subtask(&after, "test")["title"], "Run the tests, all of them");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
