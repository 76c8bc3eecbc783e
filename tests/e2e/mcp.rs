//! `codelab-planner mcp` driven by the official MCP SDK's client (`@modelcontextprotocol/sdk`,
//! through `tests/clients/mcp_bridge.mjs`): the tool list, an agent taking and completing a step,
//! a run and a cancel — seen live by a language server client on the same workspace — and two
//! clients asking for steps at once.

use serde_json::{Value, json};

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, eventually, process_is_gone, read_pid_file, workspace};
use crate::sdk_client::SdkClient;

const TOOLS: [&str; 7] =
    ["plan_cancel", "plan_create", "plan_get", "plan_list", "plan_next", "plan_run", "step_complete"];

/// An MCP client on `dir`'s workspace database, named `name`.
fn mcp_client(dir: &std::path::Path, name: &str) -> SdkClient {
    SdkClient::start("mcp_bridge.mjs", dir, &["mcp"], &[("MCP_CLIENT_NAME", name)])
}

/// Calls a tool; returns its answer parsed (a tool error fails the test).
fn call(client: &mut SdkClient, tool: &str, arguments: Value) -> Value {
    let result = client.request(json!({ "op": "call", "name": tool, "arguments": arguments }));
    if result["isError"] == true {
        client.fail(&format!("{tool} answered an error: {result}"));
    }
    tool_text(client, &result)
}

fn tool_text(client: &SdkClient, result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().unwrap_or_else(|| client.fail(&format!("no text in {result}")));
    serde_json::from_str(text).unwrap_or_else(|_| client.fail(&format!("not JSON: {text}")))
}

/// A tool's error text (the call must fail as a tool error, `isError`).
fn call_error(client: &mut SdkClient, tool: &str, arguments: Value) -> String {
    let result = client.request(json!({ "op": "call", "name": tool, "arguments": arguments }));
    assert_eq!(result["isError"], true, "{tool} should have failed: {result}");
    result["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

fn step_ids(answer: &Value) -> Vec<String> {
    answer["steps"]
        .as_array()
        .map_or_else(Vec::new, |steps| steps.iter().filter_map(|step| step["id"].as_str().map(str::to_owned)).collect())
}

#[test]
fn an_agent_plans_takes_completes_runs_and_cancels_through_mcp_and_the_editor_sees_it() {
    let dir = workspace();
    let (mut editor, _) = TestServer::start(ServerSetup::new(dir.path()));
    // The editor's server is up, and follows other processes' runs, once it has answered.
    assert_eq!(editor.call("planning/list", json!({}))["plans"], json!([]));
    let mut agent = mcp_client(dir.path(), "test agent");

    let tools = agent.request(json!({ "op": "list" }));
    let mut names: Vec<&str> =
        tools["tools"].as_array().unwrap().iter().map(|tool| tool["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, TOOLS);
    for tool in tools["tools"].as_array().unwrap() {
        let description = tool["description"].as_str().unwrap();
        assert!(description.contains("Use "), "{} does not say when to use it: {description}", tool["name"]);
    }

    let plan = call(
        &mut agent,
        "plan_create",
        json!({
            "task": "write the greeting and check it",
            "steps": [
                { "id": "write", "title": "Write greeting.txt" },
                { "id": "check", "title": "Check the greeting", "command": "grep -q hello greeting.txt && echo checked", "after": ["write"] },
            ],
        }),
    );
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    assert_eq!((plan["status"].as_str(), step_ids(&plan)), (Some("approved"), vec!["write".into(), "check".into()]));
    assert_eq!(plan["steps"][1]["agent"], "shell");
    assert_eq!(plan["steps"][0]["agent"], "manual");

    let taken = call(&mut agent, "plan_next", json!({ "plan_id": plan_id }));
    assert_eq!(step_ids(&taken), ["write"], "{taken}");
    assert!(taken["steps"][0]["until"].is_string(), "a taken step says until when it is held: {taken}");
    // Taken again by the same agent: the same step, renewed; nothing else is ready yet.
    assert_eq!(step_ids(&call(&mut agent, "plan_next", json!({ "plan_id": plan_id, "limit": 5 }))), ["write"]);

    std::fs::write(dir.path().join("greeting.txt"), "hello\n").unwrap();
    let completed = call(
        &mut agent,
        "step_complete",
        json!({ "plan_id": plan_id, "step": "write", "result": "wrote greeting.txt" }),
    );
    assert_eq!(completed["step"], json!({ "id": "write", "status": "done" }));
    assert_eq!((completed["done"].as_str(), completed["ready"].as_u64()), (Some("1/2"), Some(1)), "{completed}");

    let started = call(&mut agent, "plan_run", json!({ "plan_id": plan_id }));
    assert_eq!(started["status"], "running");
    let run_id = started["run"].as_str().unwrap().to_owned();
    // The editor sees the agent's run live, to its one end.
    let events = editor.collect_run_events(&run_id);
    let ends: Vec<&Value> = events.iter().filter(|event| event["kind"] == "planFinished").collect();
    assert_eq!(ends.len(), 1, "{events:#?}");
    assert_eq!(ends[0]["status"], "completed", "{events:#?}");
    assert!(
        events.iter().any(|event| event["kind"] == "subtaskFinished" && event["subtaskId"] == "check"),
        "{events:#?}"
    );
    let work_done = editor.collect_work_done(&json!(format!("codelab-planner/run/{run_id}")));
    assert!(work_done.last().unwrap()["message"].as_str().unwrap().starts_with("completed 2/2"), "{work_done:#?}");
    editor.discard(|message| message.get("serverRequest").is_some());

    let listed = editor.call("planning/list", json!({}));
    assert_eq!(
        (listed["plans"][0]["id"].as_str(), listed["plans"][0]["status"].as_str()),
        (Some(plan_id.as_str()), Some("completed"))
    );
    let shown = call(&mut agent, "plan_get", json!({ "plan_id": plan_id }));
    assert_eq!(shown["status"], "completed");
    assert_eq!(shown["steps"][0]["result"], "wrote greeting.txt");
    assert!(shown["steps"][1]["result"].as_str().unwrap_or_default().contains("checked"), "{shown}");

    // A long shell step, cancelled through MCP: its process is stopped, the editor sees the end.
    let long = call(
        &mut agent,
        "plan_create",
        json!({ "task": "wait a long time", "steps": [{ "id": "wait", "title": "Wait", "command": "echo $$ > wait.pid; exec sleep 60" }] }),
    );
    let long_id = long["id"].as_str().unwrap().to_owned();
    let run = call(&mut agent, "plan_run", json!({ "plan_id": long_id, "shell_only": true }));
    let long_run = run["run"].as_str().unwrap().to_owned();
    let pid = read_pid_file(&dir.path().join("wait.pid"));
    let cancelled = call(&mut agent, "plan_cancel", json!({ "plan_id": long_id, "reason": "no longer wanted" }));
    // The run is told to stop at once; its end is committed as it stops (seen below).
    assert_eq!(cancelled["cancelled"], true, "{cancelled}");
    assert!(matches!(cancelled["status"].as_str(), Some("running" | "cancelled")), "{cancelled}");
    eventually("the cancelled step's process is gone", RUN_TIMEOUT, || process_is_gone(pid));
    let events = editor.collect_run_events(&long_run);
    assert_eq!(events.last().unwrap()["status"], "cancelled", "{events:#?}");
    let listed = call(&mut agent, "plan_list", json!({}));
    assert_eq!(
        listed["plans"][0],
        json!({ "id": long_id, "title": "wait a long time", "status": "cancelled", "done": "0/1" })
    );

    // Bad input: a clear error naming what was wrong; nothing stored changes.
    let error = call_error(&mut agent, "step_complete", json!({ "plan_id": plan_id, "step": "nope" }));
    assert!(error.contains("nope"), "{error}");
    let error = call_error(&mut agent, "plan_get", json!({ "plan_id": "01NOSUCHPLAN" }));
    assert!(error.contains("not found"), "{error}");
    let error = call_error(
        &mut agent,
        "plan_create",
        json!({ "task": "cycle", "steps": [{ "id": "a", "title": "A", "after": ["b"] }, { "id": "b", "title": "B", "after": ["a"] }] }),
    );
    assert!(error.contains("a -> b -> a") || error.contains("b -> a -> b"), "{error}");

    assert!(agent.close().success());
    editor.collect_work_done(&json!(format!("codelab-planner/run/{long_run}")));
    editor.discard(|message| message.get("serverRequest").is_some());
    assert_eq!(editor.shutdown_and_exit().code(), Some(0));
}

#[test]
fn two_mcp_clients_calling_plan_next_at_once_never_get_the_same_step() {
    let dir = workspace();
    // Both clients carry the same name: the claim still tells them apart.
    let mut first = mcp_client(dir.path(), "agent");
    let mut second = mcp_client(dir.path(), "agent");
    for round in 0..5 {
        let steps: Vec<Value> =
            (0..6).map(|index| json!({ "id": format!("s{index}"), "title": format!("Step {index}") })).collect();
        let plan = call(&mut first, "plan_create", json!({ "task": format!("round {round}"), "steps": steps }));
        let plan_id = plan["id"].as_str().unwrap().to_owned();
        let arguments = json!({ "plan_id": plan_id, "limit": 4 });
        let one = first.send(json!({ "op": "call", "name": "plan_next", "arguments": arguments }));
        let two = second.send(json!({ "op": "call", "name": "plan_next", "arguments": arguments }));
        let (one, two) = (first.answer(one), second.answer(two));
        let (one, two) = (step_ids(&tool_text(&first, &one)), step_ids(&tool_text(&second, &two)));
        assert!(one.iter().all(|step| !two.contains(step)), "round {round}: both got a step: {one:?} {two:?}");
        let mut all: Vec<String> = one.iter().chain(&two).cloned().collect();
        all.sort_unstable();
        assert_eq!(all.len(), 6, "round {round}: six steps, four at most each: {one:?} {two:?}");
        assert!(one.len() >= 2 && two.len() >= 2, "round {round}: {one:?} {two:?}");
    }
    // A step held by one client cannot be completed by the other.
    let plan = call(&mut first, "plan_create", json!({ "task": "held", "steps": [{ "id": "only", "title": "Only" }] }));
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(step_ids(&call(&mut first, "plan_next", json!({ "plan_id": plan_id }))), ["only"]);
    assert_eq!(step_ids(&call(&mut second, "plan_next", json!({ "plan_id": plan_id }))), Vec::<String>::new());
    let refused = call_error(&mut second, "step_complete", json!({ "plan_id": plan_id, "step": "only" }));
    assert!(refused.contains("only"), "{refused}");
    let done = call(&mut first, "step_complete", json!({ "plan_id": plan_id, "step": "only", "ok": true }));
    assert_eq!(done["status"], "completed");
    assert!(first.close().success());
    assert!(second.close().success());
}
