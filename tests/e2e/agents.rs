//! LLM agents over stdio, against the scripted OpenAI-compatible server: a coder subtask that
//! lists, reads, edits and writes files the editor does not have open (to the disk, no
//! `workspace/applyEdit`: open buffers are `safe_edits.rs`'s), asked for
//! approval with `window/showMessageRequest` ("Allow for this plan" covers every edit), with
//! usage on the plan and the key kept out of the log and the database; and a denied approval
//! that goes back to the model as the tool's result, with the answer in the plan's event log.

use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, Reply};
use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, workspace};

const KEY_VARIABLE: &str = "CODELAB_E2E_AGENT_KEY";
const KEY_VALUE: &str = "sk-e2e-never-log-this-4f1c9a";

pub(crate) fn call(name: &str, arguments: Value) -> Reply {
    Reply::tool_calls(&[(name, &arguments.to_string())])
}

fn setup_with_model(workspace: &std::path::Path, server: &FakeOpenAi, answer: &str) -> ServerSetup {
    let settings = json!({
        "llm": { "baseUrl": server.base_url, "model": "scripted", "apiKeyEnv": KEY_VARIABLE },
        "approval": { "tools": "ask" },
    });
    let mut setup = ServerSetup::new(workspace);
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    setup.env = vec![(KEY_VARIABLE.to_owned(), KEY_VALUE.to_owned())];
    setup.apply_edit = true;
    setup.message_answer = Some(answer.to_owned());
    setup
}

/// Creates a one-subtask coder plan, approves and executes it; returns `(plan id, run id)`.
pub(crate) fn run_coder(server: &mut TestServer, title: &str) -> (String, String) {
    let subtask = json!({ "id": "s1", "title": title, "agent": "coder", "maxAttempts": 1 });
    let created = server.call("planning/create", json!({ "task": title, "mode": "plan", "subtasks": [subtask] }));
    let plan_id = created["plan"]["id"].as_str().expect("plan id").to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let started = server.call("planning/execute", json!({ "planId": plan_id }));
    (plan_id, started["runId"].as_str().expect("run id").to_owned())
}

pub(crate) fn tool_answers(request: &crate::fake_openai::RecordedRequest) -> Vec<String> {
    let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
    messages.iter().filter(|message| message["role"] == "tool").map(|message| message["content"].to_string()).collect()
}

#[test]
fn a_coder_edits_files_not_open_on_the_disk_after_approval() {
    let directory = workspace();
    std::fs::create_dir_all(directory.path().join("src")).unwrap();
    std::fs::write(directory.path().join("src/lib.rs"), "pub fn answer() -> u32 {\n    41\n}\n").unwrap();
    let model = FakeOpenAi::start();
    model.push(call("list_files", json!({ "path": "src" })).with_usage(100, 10));
    model.push(call("read_file", json!({ "path": "src/lib.rs" })).with_usage(100, 10));
    let edit = json!({ "path": "src/lib.rs", "edits": [{ "search": "    41", "replace": "    42" }] });
    model.push(call("edit_file", edit.clone()).with_usage(100, 10));
    model.push(call("edit_file", json!({ "path": "src/lib.rs", "edits": [{ "search": "42", "replace": "43" }] })));
    model.push(call("write_file", json!({ "path": "NOTES.md", "content": "the answer\n" })).with_usage(100, 10));
    model.push(call("attempt_completion", json!({ "result": "answer is 43" })).with_usage(100, 10));
    let (mut server, _) = TestServer::start(setup_with_model(directory.path(), &model, "Allow for this plan"));
    server.take_server_request("workspace/configuration");

    let (plan_id, run_id) = run_coder(&mut server, "Make the answer 42");
    let question = server.take_server_request("window/showMessageRequest");
    assert_eq!(question["message"], "Allow coder to edit `src/lib.rs`? (+1 −1 src/lib.rs)");
    let titles: Vec<&str> =
        question["actions"].as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(titles, ["Allow", "Allow for this plan", "Deny"]);

    let events = server.collect_run_events(&run_id);
    let finished = events.last().unwrap();
    assert_eq!(finished["status"], "completed", "{events:#?}");
    assert_eq!(finished["usage"], json!({ "promptTokens": 500, "completionTokens": 50, "calls": 6 }));
    assert!(events.iter().any(|event| event["kind"] == "agentActivity"
        && event["phase"] == "toolStarted"
        && event["toolKind"] == "edit"
        && event["target"] == "src/lib.rs"));
    assert_eq!(
        std::fs::read_to_string(directory.path().join("src/lib.rs")).unwrap(),
        "pub fn answer() -> u32 {\n    43\n}\n"
    );
    assert_eq!(std::fs::read_to_string(directory.path().join("NOTES.md")).unwrap(), "the answer\n");

    let token = server.take_server_request("window/workDoneProgress/create")["token"].clone();
    let reports: Vec<String> = server
        .collect_work_done(&token)
        .iter()
        .filter_map(|value| value["message"].as_str().map(str::to_owned))
        .collect();
    assert!(reports.iter().any(|message| message.ends_with("coder: editing src/lib.rs")), "{reports:#?}");

    // "Allow for this plan" covers every edit of the plan: the second edit and NOTES.md unasked.
    assert_eq!(server.discard_count(|message| message["serverRequest"] == "window/showMessageRequest"), 0);
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["subtasks"][0]["result"], "answer is 43");
    assert_eq!(plan["subtasks"][0]["usage"]["calls"], 6);
    assert_eq!(plan["usage"]["promptTokens"], 500);
    let stderr = server.stderr_text();
    assert!(!stderr.is_empty(), "the server logs at debug level");
    assert!(!stderr.contains(KEY_VALUE), "the key's value is not in the log");
    server.shutdown_and_exit();
    for file in [".codelab/planner.db", ".codelab/planner.db-wal"] {
        let bytes = std::fs::read(directory.path().join(file)).unwrap_or_default();
        let needle = KEY_VALUE.as_bytes();
        assert!(!bytes.windows(needle.len()).any(|window| window == needle), "the key's value is not in {file}");
    }
}

#[test]
fn a_denied_tool_goes_back_to_the_model_and_into_the_event_log() {
    let directory = workspace();
    let model = FakeOpenAi::start();
    model.push(call("execute_command", json!({ "command": "touch created-by-command" })));
    model.push(call("attempt_completion", json!({ "result": "could not run it" })));
    let mut setup = setup_with_model(directory.path(), &model, "Deny");
    setup.work_done_progress = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let (_, run_id) = run_coder(&mut server, "Create a file with a command");
    let question = server.take_server_request("window/showMessageRequest");
    assert_eq!(question["message"], "Allow coder to run `touch created-by-command`?");
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "a denial is not a failure: {events:#?}");
    assert!(!directory.path().join("created-by-command").exists());
    let requests = model.wait_for_requests(2, REQUEST_TIMEOUT);
    let answers = tool_answers(&requests[1]);
    assert!(answers[0].contains("denied by the person"), "{answers:?}");
    server.shutdown_and_exit();
    let connection = rusqlite::Connection::open(directory.path().join(".codelab/planner.db")).unwrap();
    let detail: String = connection
        .query_row("SELECT detail FROM plan_events WHERE kind = 'toolApproval'", [], |row| row.get(0))
        .expect("the answer is in the event log");
    assert!(
        detail.contains("Allow coder to run `touch created-by-command`? -> Deny (reject_once) from editor"),
        "{detail}"
    );
}

#[test]
fn cancel_withdraws_a_question_nobody_answers() {
    let directory = workspace();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "never.txt", "content": "x" })));
    let mut setup = setup_with_model(directory.path(), &model, "Allow");
    setup.work_done_progress = false;
    setup.answer_message_requests = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let (plan_id, run_id) = run_coder(&mut server, "Write a file nobody approves");
    let (question_id, _) = server.take_unanswered_request("window/showMessageRequest");
    let cancelled = server.call("planning/cancel", json!({ "planId": plan_id }));
    let withdrawn = server.wait_for_notification("$/cancelRequest", REQUEST_TIMEOUT, |_| true);
    assert_eq!(withdrawn["id"], question_id, "the question nobody answered is withdrawn");
    assert_eq!(cancelled["cancelled"], true);
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "cancelled");
    assert!(events.iter().any(|event| event["kind"] == "agentActivity" && event["phase"] == "waitingForApproval"));
    assert!(!directory.path().join("never.txt").exists());
    server.shutdown_and_exit();
}

#[test]
fn cancel_stops_a_run_whose_edit_the_editor_never_answers() {
    let directory = workspace();
    let open_file = directory.path().join("hanging.txt");
    std::fs::write(&open_file, "before\n").unwrap();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "hanging.txt", "content": "x" })));
    let mut setup = setup_with_model(directory.path(), &model, "Allow");
    setup.work_done_progress = false;
    setup.answer_apply_edits = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    // Open in the editor, so the change goes to its buffer (and waits for its answer).
    let document = json!({ "uri": format!("file://{}", open_file.display()), "languageId": "plaintext", "version": 1, "text": "before\n" });
    server.notify("textDocument/didOpen", json!({ "textDocument": document }));
    let (plan_id, run_id) = run_coder(&mut server, "Write a file the editor never takes");
    server.take_server_request("window/showMessageRequest");
    server.take_server_request("workspace/applyEdit");
    let cancelled = server.call("planning/cancel", json!({ "planId": plan_id }));
    assert_eq!(cancelled["cancelled"], true);
    assert_eq!(server.collect_run_events(&run_id).last().unwrap()["status"], "cancelled");
    assert_eq!(std::fs::read_to_string(&open_file).unwrap(), "before\n", "nothing written without the editor's answer");
    server.shutdown_and_exit();
}

#[test]
fn without_apply_edit_and_with_auto_approval_edits_go_to_the_disk_unasked() {
    let directory = workspace();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "plain.txt", "content": "on disk\n" })));
    model.push(call("attempt_completion", json!({ "result": "written" })));
    let settings =
        json!({ "llm": { "baseUrl": model.base_url, "model": "scripted" }, "approval": { "tools": "auto" } });
    let mut setup = ServerSetup::new(directory.path());
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    setup.work_done_progress = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let (_, run_id) = run_coder(&mut server, "Write a plain file");
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    assert_eq!(std::fs::read_to_string(directory.path().join("plain.txt")).unwrap(), "on disk\n");
    server.assert_all_consumed();
    server.shutdown_and_exit();
}
