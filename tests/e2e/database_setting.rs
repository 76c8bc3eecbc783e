//! The `database` setting however the editor gives it (issue 18), over the real binary: through
//! `workspace/configuration` alone (as eglot, Helix or Zed do), through `initializationOptions`
//! alone, and changed while the planner runs (it says plainly that the change applies at the
//! next start, and it does).

use serde_json::{Value, json};

use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, create_plan, shell, workspace};

fn start(setup: ServerSetup) -> TestServer {
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    server
}

fn plan_titles(server: &mut TestServer) -> Vec<String> {
    let listed = server.call("planning/list", json!({}));
    listed["plans"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|plan| plan["title"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_database_given_only_through_workspace_configuration_is_used_from_the_start() {
    let dir = workspace();
    let setup =
        ServerSetup { configuration: Some(json!({ "database": "state/plans.db" })), ..ServerSetup::new(dir.path()) };
    let mut server = start(setup.clone());
    create_plan(&mut server, "kept in state/plans.db", vec![shell("a", "true", &[])]);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    assert!(dir.path().join("state/plans.db").is_file(), "the configured file is used");
    assert!(!dir.path().join(".codelab/planner.db").exists(), "the default file is not");
    let mut again = start(setup);
    assert_eq!(plan_titles(&mut again), ["kept in state/plans.db"]);
    assert!(!again.log_messages.iter().any(|message| message.contains("restart")), "{:?}", again.log_messages);
    assert_eq!(again.shutdown_and_exit().code(), Some(0));
}

#[test]
fn initialization_options_and_workspace_configuration_combine() {
    let dir = workspace();
    let setup = ServerSetup {
        initialization_options: json!({ "database": "from-init.db" }),
        configuration: Some(json!({ "maxParallel": 2 })),
        ..ServerSetup::new(dir.path())
    };
    let mut server = start(setup);
    create_plan(&mut server, "a plan", vec![shell("a", "true", &[])]);
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    assert!(dir.path().join("from-init.db").is_file(), "a key the configuration leaves out keeps its start value");
}

#[test]
fn a_database_changed_while_running_is_announced_and_used_after_a_restart() {
    let dir = workspace();
    let mut server = start(ServerSetup::new(dir.path()));
    create_plan(&mut server, "in the default file", vec![shell("a", "true", &[])]);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "codelabPlanner": { "database": "moved/plans.db" } } }),
    );
    let shown = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
    let message = shown["message"].as_str().unwrap_or_default();
    assert!(message.contains("moved/plans.db") && message.contains("until the server restarts"), "{message}");
    assert!(message.contains(".codelab/planner.db"), "says where plans are now: {message}");
    assert_eq!(plan_titles(&mut server), ["in the default file"], "the running planner keeps its file");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    let setup =
        ServerSetup { configuration: Some(json!({ "database": "moved/plans.db" })), ..ServerSetup::new(dir.path()) };
    let mut restarted = start(setup);
    assert_eq!(plan_titles(&mut restarted), Vec::<String>::new(), "the new file is used after the restart");
    restarted.discard(|message: &Value| message.get("serverRequest").is_some());
    assert_eq!(restarted.shutdown_and_exit().code(), Some(0));
    assert!(dir.path().join("moved/plans.db").is_file());
}
