//! `codelab-planner acp` driven by the ACP SDK's client side (`@agentclientprotocol/sdk`'s
//! `ClientApp`, through `tests/clients/acp_bridge.mjs`), with the scripted OpenAI-compatible
//! server as the model: a prompt planned and run to `end_turn` with its plan entries going
//! `pending` → `in_progress` → `completed`, an agent's edit asked with `session/request_permission`
//! and shown as a diff, `session/cancel` stopping a running shell step, and `session/load`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, Reply};
use crate::harness::{process_is_gone, read_pid_file, workspace};
use crate::sdk_client::SdkClient;

/// How long a cancelled shell step may keep running after `session/cancel` (issue 22).
const CANCEL_BOUND: Duration = Duration::from_millis(100);

fn settings(model: &FakeOpenAi) -> String {
    json!({
        "llm": { "baseUrl": model.base_url, "model": "scripted", "apiKeyEnv": "CODELAB_ACP_TEST_UNSET_KEY", "classify": "always" },
        "approval": { "tools": "ask" },
    })
    .to_string()
}

fn plan_reply(subtasks: Value) -> Reply {
    Reply::json(&json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "two steps", "title": "Greeting",
        "subtasks": subtasks,
    }))
}

fn call(name: &str, arguments: Value) -> Reply {
    Reply::tool_calls(&[(name, &arguments.to_string())])
}

/// An ACP client with the agent started in `dir`, initialized, and one new session; returns the
/// client and the session id.
fn start(dir: &std::path::Path, settings: &str) -> (SdkClient, String) {
    let mut client = SdkClient::start("acp_bridge.mjs", dir, &["acp", "--settings", settings], &[]);
    let initialized = request(&mut client, "initialize", json!({ "protocolVersion": 1, "clientCapabilities": {} }));
    assert_eq!(initialized["agentCapabilities"]["loadSession"], true, "{initialized}");
    let session = request(&mut client, "session/new", json!({ "cwd": dir, "mcpServers": [] }));
    let id = session["sessionId"].as_str().expect("a session id").to_owned();
    (client, id)
}

fn request(client: &mut SdkClient, method: &str, params: Value) -> Value {
    client.request(json!({ "op": "request", "method": method, "params": params }))
}

/// The whole answer line of a request (`result` or `error`).
fn answer_line(client: &mut SdkClient, method: &str, params: Value) -> Value {
    let id = client.send(json!({ "op": "request", "method": method, "params": params }));
    client.answer_or_error(id)
}

/// The statuses each plan entry went through, in order, without repeats.
fn entry_histories(updates: &[Value]) -> Vec<Vec<String>> {
    let mut histories: Vec<Vec<String>> = Vec::new();
    for update in updates.iter().filter(|update| update["params"]["update"]["sessionUpdate"] == "plan") {
        for (index, entry) in update["params"]["update"]["entries"].as_array().unwrap().iter().enumerate() {
            if histories.len() <= index {
                histories.push(Vec::new());
            }
            let status = entry["status"].as_str().unwrap().to_owned();
            if histories[index].last() != Some(&status) {
                histories[index].push(status);
            }
        }
    }
    histories
}

#[test]
fn a_prompt_is_planned_and_run_to_end_turn_with_live_plan_entries_a_permission_and_a_diff() {
    let dir = workspace();
    let model = FakeOpenAi::start();
    model.push(plan_reply(json!([
        { "id": "write", "title": "Write greeting.txt", "description": "d", "agent": "coder", "dependsOn": [] },
        { "id": "check", "title": "Check the greeting", "description": "d", "agent": "shell",
          "command": "grep -q hello greeting.txt && echo checked", "dependsOn": ["write"] },
    ])));
    model.push(call("write_file", json!({ "path": "greeting.txt", "content": "hello\n" })));
    model.push(call("attempt_completion", json!({ "result": "wrote greeting.txt" })));
    let (mut client, session) = start(dir.path(), &settings(&model));

    let answer = request(
        &mut client,
        "session/prompt",
        json!({ "sessionId": session, "prompt": [{ "type": "text", "text": "Write a greeting file and check it" }] }),
    );
    assert_eq!(answer["stopReason"], "end_turn", "{answer}");
    assert_eq!(std::fs::read_to_string(dir.path().join("greeting.txt")).unwrap(), "hello\n");

    let events = client.drain_events();
    let updates: Vec<Value> = events.iter().filter(|event| event["kind"] == "update").cloned().collect();
    assert!(updates.iter().all(|update| update["params"]["sessionId"] == session.as_str()));
    let histories = entry_histories(&updates);
    assert_eq!(
        histories,
        [["pending", "in_progress", "completed"], ["pending", "in_progress", "completed"]],
        "{updates:#?}"
    );

    let permissions: Vec<&Value> = events.iter().filter(|event| event["kind"] == "permission").collect();
    assert_eq!(permissions.len(), 1, "{events:#?}");
    let kinds: Vec<&str> = permissions[0]["params"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|option| option["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["allow_once", "allow_always", "reject_once"]);
    assert!(
        permissions[0]["params"]["toolCall"]["title"].as_str().unwrap().contains("greeting.txt"),
        "{:#?}",
        permissions[0]
    );

    let calls: Vec<&Value> = updates
        .iter()
        .map(|update| &update["params"]["update"])
        .filter(|update| update["sessionUpdate"] == "tool_call")
        .collect();
    let diff = calls
        .iter()
        .find(|call| call["kind"] == "edit" && call["content"][0]["type"] == "diff")
        .unwrap_or_else(|| panic!("no edit with a diff: {calls:#?}"));
    assert_eq!(diff["content"][0]["path"], "greeting.txt");
    assert_eq!(diff["content"][0]["newText"], "hello\n");
    assert!(
        calls
            .iter()
            .any(|call| call["kind"] == "edit" && call["title"].as_str().unwrap_or_default().starts_with("write_file")),
        "the agent's tool call with its ACP kind: {calls:#?}"
    );
    assert!(client.close().success());

    // Another connection loads the session: the stored plan comes back as entries, all completed.
    let mut second = SdkClient::start("acp_bridge.mjs", dir.path(), &["acp"], &[]);
    request(&mut second, "initialize", json!({ "protocolVersion": 1, "clientCapabilities": {} }));
    request(&mut second, "session/load", json!({ "sessionId": session, "cwd": dir.path(), "mcpServers": [] }));
    let loaded = second.event("the loaded plan", |event| event["params"]["update"]["sessionUpdate"] == "plan");
    let statuses: Vec<&str> = loaded["params"]["update"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["completed", "completed"]);
    let params = json!({ "sessionId": "01NOSUCHSESSION0000000000", "cwd": dir.path(), "mcpServers": [] });
    let missing = answer_line(&mut second, "session/load", params);
    assert!(missing["error"].as_str().unwrap_or_default().contains("no plan"), "{missing}");
    assert!(second.close().success());
}

#[test]
fn session_cancel_stops_a_running_shell_step_within_100_ms() {
    let dir = workspace();
    let model = FakeOpenAi::start();
    model.push(plan_reply(json!([
        { "id": "wait", "title": "Wait a long time", "description": "d", "agent": "shell",
          "command": "echo $$ > wait.pid; exec sleep 60", "dependsOn": [] },
        { "id": "after", "title": "After", "description": "d", "agent": "shell", "command": "echo after", "dependsOn": ["wait"] },
    ])));
    let (mut client, session) = start(dir.path(), &settings(&model));
    let prompt = client.send(json!({ "op": "request", "method": "session/prompt",
        "params": { "sessionId": session, "prompt": [{ "type": "text", "text": "Wait, then say after" }] } }));
    let pid = read_pid_file(&dir.path().join("wait.pid"));

    let asked = Instant::now();
    client.send(json!({ "op": "notify", "method": "session/cancel", "params": { "sessionId": session } }));
    while !process_is_gone(pid) {
        assert!(asked.elapsed() < Duration::from_secs(10), "the step still runs 10 s after session/cancel");
        std::thread::sleep(Duration::from_millis(1));
    }
    let stopped_after = asked.elapsed();
    assert!(stopped_after < CANCEL_BOUND, "the shell step ran {stopped_after:?} after session/cancel");

    let answer = client.answer(prompt);
    assert_eq!(answer["stopReason"], "cancelled", "{answer}");
    let updates = client.drain_events();
    let histories = entry_histories(&updates);
    assert_eq!(histories[0], ["pending", "in_progress", "completed"], "{updates:#?}");
    // The step after it never started: it ends with the plan, marked cancelled.
    assert_eq!(histories[1], ["pending", "completed"], "{updates:#?}");
    let last = updates.iter().rev().find(|update| update["params"]["update"]["sessionUpdate"] == "plan").unwrap();
    assert_eq!(last["params"]["update"]["entries"][1]["content"], "After (cancelled)", "{last:#?}");
    assert!(client.close().success());
}

/// A session with no model under `settings`, prompted with a refactoring task the template plans;
/// the turn ends `end_turn`. Returns the client, the session and what the turn sent.
fn refactor_prompt(dir: &std::path::Path, settings: &str) -> (SdkClient, String, Vec<Value>) {
    let (mut client, session) = start(dir, settings);
    let text = "Refactor the parser module and add tests for it";
    let prompt = json!({ "sessionId": session, "prompt": [{ "type": "text", "text": text }] });
    let answer = request(&mut client, "session/prompt", prompt);
    assert_eq!(answer["stopReason"], "end_turn", "{answer}");
    let events = client.drain_events();
    (client, session, events)
}

#[test]
fn without_a_model_the_plan_is_shown_and_agent_steps_wait_with_instructions() {
    let dir = workspace();
    let (mut client, session, events) = refactor_prompt(dir.path(), "{}");
    let messages: Vec<&str> = events
        .iter()
        .filter(|event| event["params"]["update"]["sessionUpdate"] == "agent_message_chunk")
        .filter_map(|event| event["params"]["update"]["content"]["text"].as_str())
        .collect();
    assert!(messages.iter().any(|text| text.contains("_codelab/complete")), "{messages:#?}");
    let histories = entry_histories(&events);
    assert!(!histories.is_empty(), "the plan is shown: {events:#?}");
    assert!(histories.iter().any(|history| history.last().map(String::as_str) == Some("in_progress")), "{histories:?}");

    // The person finishes the waiting step through the extension method.
    let waiting = events
        .iter()
        .rev()
        .find(|event| event["params"]["update"]["sessionUpdate"] == "plan")
        .map(|event| event["params"]["update"]["entries"].clone())
        .unwrap_or_default();
    assert!(waiting.as_array().is_some_and(|entries| !entries.is_empty()));
    let refused =
        answer_line(&mut client, "_codelab/complete", json!({ "sessionId": session, "step": "no-such-step" }));
    assert!(refused.get("error").is_some(), "{refused}");
    assert!(client.close().success());
}

#[test]
fn a_reviewed_draft_is_edited_revised_and_run_through_the_extension_methods() {
    let dir = workspace();
    let (mut client, session, events) = refactor_prompt(dir.path(), r#"{"approval": {"plans": "always"}}"#);
    let histories = entry_histories(&events);
    assert!(!histories.is_empty() && histories.iter().all(|history| history == &["pending"]), "{histories:?}");
    let review = events
        .iter()
        .filter_map(|event| event["params"]["update"]["content"]["text"].as_str())
        .find(|text| text.contains("_codelab/run"))
        .unwrap_or_else(|| panic!("no review message: {events:#?}"));
    let plan_id = review.split_whitespace().nth(1).unwrap().to_owned();

    let subtasks = json!([{ "id": "only", "title": "Say done", "agent": "shell", "command": "echo done" }]);
    let edited = request(
        &mut client,
        "_codelab/edit",
        json!({ "sessionId": session, "planId": plan_id, "version": 1, "title": "Parser", "subtasks": subtasks }),
    );
    assert_eq!((edited["version"].as_u64(), edited["status"].as_str()), (Some(2), Some("draft")), "{edited}");
    let shown = client.event("the edited plan", |event| event["params"]["update"]["sessionUpdate"] == "plan");
    assert_eq!(
        shown["params"]["update"]["entries"],
        json!([{ "content": "Say done", "priority": "medium", "status": "pending" }])
    );
    let stale = answer_line(
        &mut client,
        "_codelab/edit",
        json!({ "sessionId": session, "planId": plan_id, "version": 1, "title": "Old" }),
    );
    assert!(stale["error"].as_str().unwrap_or_default().contains("version"), "a stale edit is refused: {stale}");

    let revised = request(
        &mut client,
        "_codelab/revise",
        json!({ "sessionId": session, "feedback": "also update the changelog" }),
    );
    assert_eq!(revised["version"].as_u64(), Some(3), "{revised}");
    client.event("the revised plan", |event| event["params"]["update"]["sessionUpdate"] == "plan");

    let started = request(&mut client, "_codelab/run", json!({ "sessionId": session }));
    assert_eq!(started["status"], "running", "{started}");
    // The revised plan's new step is the person's: it waits, saying how to finish it.
    let waiting = client.event("the waiting step", |event| {
        event["params"]["update"]["content"]["text"].as_str().is_some_and(|text| text.contains("_codelab/complete"))
    });
    let text = waiting["params"]["update"]["content"]["text"].as_str().unwrap();
    let step = text.split("(step ").nth(1).and_then(|rest| rest.split(':').next()).unwrap().to_owned();
    let completed =
        request(&mut client, "_codelab/complete", json!({ "sessionId": session, "step": step, "result": "updated" }));
    assert_eq!(completed["step"]["status"], "done", "{completed}");
    client.event("the run's end", |event| {
        event["params"]["update"]["content"]["text"].as_str().is_some_and(|text| text.contains("completed"))
    });
    let retried = answer_line(&mut client, "_codelab/retry", json!({ "sessionId": session }));
    assert!(retried.get("error").is_some(), "a completed plan has nothing to retry: {retried}");
    assert!(client.close().success());
}
