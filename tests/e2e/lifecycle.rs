//! Lifecycle over stdio: initialize (server info, experimental capabilities), shutdown with
//! `params: null`, exit codes, prompt exit with stdin still open, settings warnings.

use serde_json::{Value, json};

use codelab_planner::lsp::ext;

use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, workspace};

#[test]
fn initialize_reports_server_info_and_every_planning_method() {
    let dir = workspace();
    let (server, result) = TestServer::start(ServerSetup::new(dir.path()));
    assert_eq!(result["serverInfo"]["name"], "codelab-planner");
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    let methods: Vec<&str> = result["capabilities"]["experimental"]["planning"]["methods"]
        .as_array()
        .expect("methods array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(methods, ext::request_methods());
    assert_eq!(result["capabilities"]["experimental"]["planning"]["progress"], "planning/progress");
    let status = server.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_without_shutdown_exits_with_one_while_stdin_stays_open() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.notify("exit", Value::Null);
    let status = server.wait_exit(REQUEST_TIMEOUT);
    assert_eq!(status.code(), Some(1));
}

#[test]
fn exit_after_shutdown_is_prompt_with_stdin_open_and_a_started_database() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    // A planning request makes sure the orchestrator (and its database) is running.
    let listed = server.call("planning/list", json!({}));
    assert_eq!(listed["plans"], json!([]));
    let status = server.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
    assert!(dir.path().join(".codelab").join("planner.db").exists());
}

#[test]
fn bad_settings_are_reported_by_name_and_do_not_stop_the_server() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.initialization_options = json!({ "maxParallel": -3, "colour": "blue" });
    setup.configuration = Some(json!({ "approval": { "plans": "sometimes" } }));
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let listed = server.call("planning/list", json!({}));
    assert!(listed["plans"].is_array());
    server.wait_for_log("approval.plans", REQUEST_TIMEOUT);
    server.wait_for_log("maxParallel", REQUEST_TIMEOUT);
    let messages = server.log_messages.join("\n");
    assert!(messages.contains("maxParallel: expected a positive integer, got -3"), "{messages}");
    assert!(messages.contains("codelabPlanner.colour"), "{messages}");
    assert!(messages.contains("approval.plans: unknown value \"sometimes\""), "{messages}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn did_change_configuration_pushes_or_pulls_settings() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    // Pushed: the section is in the notification.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "codelabPlanner": { "failurePolicy": "stop" } } }),
    );
    let warning = server.wait_for_log("failurePolicy", REQUEST_TIMEOUT);
    assert!(warning.contains("unknown value \"stop\""), "{warning}");
    // Pulled: no settings, so the server asks for them.
    server.notify("workspace/didChangeConfiguration", json!({ "settings": null }));
    let asked = server.take_server_request("workspace/configuration");
    assert_eq!(asked["items"][0]["section"], "codelabPlanner");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}
