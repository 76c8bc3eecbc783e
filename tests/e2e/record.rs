//! Agent work on the record, over the real binary with the scripted model:
//!
//! - a coder step that reads a file holding the API key, edits two files and creates a third:
//!   its question waits in the plan (`pendingApproval` with the diff, seen by a second server
//!   process on the same database too), the editor's message carries `+N −M path`, an answer
//!   through `planning/answer` while the message is still open wins and the message is withdrawn
//!   (`$/cancelRequest`; a second answer and the late reply are refused or ignored), "Allow for
//!   this plan" covers the other files without asking, the transcript has every call and result
//!   in order, `planning/changes` gives the exact diffs, rollback is refused while it runs, and
//!   the key is in neither the transcript nor the database;
//! - a denied write: the step's result says what was not applied;
//! - rollback of the second step only, then of the whole plan through the editor's buffer, with
//!   a file the person changed since reported and left alone;
//! - the same from the command line, on the database a server left: `show`, `changes`,
//!   `transcript`, `rollback`.
// The command line is started as the real binary, as `cli.rs` does.
#![allow(clippy::disallowed_methods)]

use serde_json::{Value, json};

use crate::agents::call;
use crate::fake_openai::{FakeOpenAi, Reply, chunk_finish, chunk_text, chunk_tool_call};
use crate::harness::{REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, binary, create_and_execute, workspace};
use crate::safe_edits::Buffer;

const KEY_VARIABLE: &str = "CODELAB_E2E_RECORD_KEY";
const KEY_VALUE: &str = "sk-record-never-store-this-93b2";

const README: &str = "# Demo\n\nRun it.\n";
const README_AFTER: &str = "# Demo\n\nRun it with `cargo run`.\nПо-русски: запустите её.\n";
const LIB: &str = "pub fn answer() -> u32 {\n    41\n}\n";

fn settings(model: &FakeOpenAi, approval: &str) -> Value {
    json!({
        "llm": { "baseUrl": model.base_url, "model": "scripted", "apiKeyEnv": KEY_VARIABLE },
        "approval": { "tools": approval },
    })
}

fn setup(directory: &std::path::Path, model: &FakeOpenAi, approval: &str) -> ServerSetup {
    let mut setup = ServerSetup::new(directory);
    setup.initialization_options = settings(model, approval);
    setup.configuration = Some(settings(model, approval));
    setup.env = vec![(KEY_VARIABLE.to_owned(), KEY_VALUE.to_owned())];
    setup.apply_edit = true;
    setup.work_done_progress = false;
    setup
}

fn coder(id: &str, title: &str, depends_on: &[&str]) -> Value {
    json!({ "id": id, "title": title, "agent": "coder", "maxAttempts": 1, "dependsOn": depends_on })
}

/// The model says something (with the key in it, as a model echoing a secret might) and calls
/// `read_file` in the same reply.
fn talk_and_read(path: &str) -> Reply {
    let arguments = json!({ "path": path }).to_string();
    Reply::stream(vec![
        chunk_text(&format!("Reading {path} first; it holds the token {KEY_VALUE}.")),
        chunk_tool_call(0, Some("call_read"), Some("read_file"), &arguments),
        chunk_finish("tool_calls"),
    ])
}

fn the_key_is_not_in(text: &str, what: &str) {
    assert!(!text.contains(KEY_VALUE), "the key's value is in {what}: {text}");
}

fn progress_event(server: &mut TestServer, run_id: &str, kind: &str) -> Value {
    let (run_id, kind) = (run_id.to_owned(), kind.to_owned());
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
        params["runId"] == run_id.as_str() && params["event"]["kind"] == kind.as_str()
    })["event"]
        .clone()
}

#[test]
fn a_coder_step_is_on_the_record_and_its_question_waits_in_the_plan_for_any_client() {
    let directory = workspace();
    let root = directory.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("README.md"), README).unwrap();
    std::fs::write(root.join("src/lib.rs"), LIB).unwrap();
    std::fs::write(root.join("config.txt"), format!("token = {KEY_VALUE}\n")).unwrap();
    let model = FakeOpenAi::start();
    model.push(talk_and_read("config.txt"));
    let readme_edit = json!({ "path": "README.md", "edits": [{ "search": "Run it.", "replace": "Run it with `cargo run`.\nПо-русски: запустите её." }] });
    model.push(call("edit_file", readme_edit));
    model.push(call(
        "edit_file",
        json!({ "path": "src/lib.rs", "edits": [{ "search": "    41", "replace": "    42" }] }),
    ));
    model.push(call("write_file", json!({ "path": "src/new.rs", "content": "pub fn new() {}\n" })));
    model.push(call("attempt_completion", json!({ "result": "README, lib.rs and new.rs updated" })));
    let mut setup = setup(root, &model, "ask");
    setup.answer_message_requests = false;
    let (mut server, _) = TestServer::start(setup.clone());
    server.take_server_request("workspace/configuration");
    let title = "Document how to run it and make the answer 42";
    let (plan_id, run_id) = create_and_execute(&mut server, title, vec![coder("s1", title, &[])], json!({}));

    // The question: the editor's message with the change in one line, the event and the plan
    // with the whole diff.
    let (message_id, message) = server.take_unanswered_request("window/showMessageRequest");
    assert_eq!(message["message"], "Allow coder to edit `README.md`? (+2 −1 README.md)");
    let readme_diff = "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,4 @@\n # Demo\n \n-Run it.\n+Run it with `cargo run`.\n+По-русски: запустите её.\n";
    let requested = progress_event(&mut server, &run_id, "approvalRequested");
    let approval = requested["approval"].clone();
    assert_eq!(approval["diff"], readme_diff, "{approval}");
    assert_eq!(approval["summary"], "+2 −1 README.md");
    assert_eq!(approval["toolKind"], "edit");
    assert_eq!(approval["target"], "README.md");
    assert_eq!(approval["options"], json!(["allow_once", "allow_always", "reject_once"]));
    assert_eq!(approval["scope"], "every file edit of this plan");
    let request_id = approval["requestId"].as_str().unwrap().to_owned();
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["subtasks"][0]["pendingApproval"], approval, "the plan carries the same question");

    // Another client (a second server process on the same database) sees what is pending; it
    // cannot answer for the process that runs the plan, and says so.
    let (mut other, _) = TestServer::start(setup.clone());
    other.take_server_request("workspace/configuration");
    let seen = other.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(seen["subtasks"][0]["pendingApproval"]["requestId"], request_id.as_str());
    let elsewhere = other.call_err(
        "planning/answer",
        json!({ "planId": plan_id, "subtaskId": "s1", "requestId": request_id, "option": "allow_once" }),
    );
    assert_eq!(elsewhere.data["kind"], "invalidState", "{elsewhere:?}");
    assert!(elsewhere.message.contains("runs in another codelab-planner process"), "{elsewhere:?}");
    // It shows that run as it goes (its progress follows the database): it starts with the run's
    // `planStarted`, sent on its own time after the first read (waited for, not raced).
    let shown = progress_event(&mut other, &run_id, "planStarted");
    assert_eq!(shown["title"], title, "{shown}");
    other.discard(|message| message.get("method").and_then(Value::as_str) == Some("planning/progress"));
    other.shutdown_and_exit();

    // Rollback waits for the run.
    let refused = server.call_err("planning/rollback", json!({ "planId": plan_id }));
    assert_eq!(refused.data["kind"], "invalidState", "{refused:?}");
    assert!(refused.message.contains("is running"), "{refused:?}");

    // The first answer wins: `planning/answer` while the message is open; the message is withdrawn.
    let answer = json!({ "planId": plan_id, "subtaskId": "s1", "requestId": request_id, "option": "allow_always" });
    assert_eq!(server.call("planning/answer", answer.clone()), json!({}));
    let withdrawn = server.wait_for_notification("$/cancelRequest", REQUEST_TIMEOUT, |_| true);
    assert_eq!(withdrawn["id"], message_id, "the open message is the one withdrawn");
    let again = server.call_err("planning/answer", answer);
    assert_eq!(again.data["kind"], "invalidState", "a second answer is refused: {again:?}");
    server.respond(message_id, json!({ "title": "Deny" }));

    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    let answered: Vec<&Value> = events.iter().filter(|event| event["kind"] == "approvalAnswered").collect();
    assert_eq!(answered.len(), 1, "{events:#?}");
    assert_eq!(answered[0]["option"], "allow_always");
    assert_eq!(answered[0]["by"], "planning/answer");
    let asked_again = server.discard_count(|message| message["serverRequest"] == "window/showMessageRequest");
    assert_eq!(asked_again, 0, "\"Allow for this plan\" covers the other file edits without asking");
    assert_eq!(std::fs::read_to_string(root.join("README.md")).unwrap(), README_AFTER);
    assert_eq!(std::fs::read_to_string(root.join("src/lib.rs")).unwrap(), LIB.replace("41", "42"));
    assert_eq!(std::fs::read_to_string(root.join("src/new.rs")).unwrap(), "pub fn new() {}\n");

    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    let step = &plan["subtasks"][0];
    assert!(step.get("pendingApproval").is_none(), "answered: {step}");
    assert_eq!(step["changes"], json!({ "files": 3, "added": 4, "removed": 2 }));
    assert_eq!(step["result"], "README, lib.rs and new.rs updated");

    let changes = server.call("planning/changes", json!({ "planId": plan_id }))["changes"].clone();
    let expected = json!([
        { "subtaskId": "s1", "attempt": 1, "path": "README.md", "change": "modified", "diff": readme_diff,
          "added": 2, "removed": 1 },
        { "subtaskId": "s1", "attempt": 1, "path": "src/lib.rs", "change": "modified",
          "diff": "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n pub fn answer() -> u32 {\n-    41\n+    42\n }\n",
          "added": 1, "removed": 1 },
        { "subtaskId": "s1", "attempt": 1, "path": "src/new.rs", "change": "added",
          "diff": "--- /dev/null\n+++ b/src/new.rs\n@@ -0,0 +1 @@\n+pub fn new() {}\n", "added": 1, "removed": 0 },
    ]);
    assert_eq!(changes, expected);

    let transcript = server.call("planning/transcript", json!({ "planId": plan_id, "subtaskId": "s1" }));
    assert_eq!((transcript["attempt"].clone(), transcript["dropped"].clone()), (json!(1), json!(0)));
    let entries = transcript["entries"].as_array().unwrap();
    let shape: Vec<String> = entries
        .iter()
        .map(|entry| {
            let detail = entry["tool"].as_str().or(entry["role"].as_str()).unwrap_or_default();
            let outcome = entry["outcome"].as_str().map(|outcome| format!(" {outcome}")).unwrap_or_default();
            format!("{} {detail}{outcome}", entry["kind"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        shape,
        [
            "message user",
            "message assistant",
            "toolCall read_file",
            "toolResult read_file ok",
            "toolCall edit_file",
            "approval  asked",
            "approval  allow_always",
            "toolResult edit_file ok",
            "toolCall edit_file",
            "toolResult edit_file ok",
            "toolCall write_file",
            "toolResult write_file ok",
            "toolCall attempt_completion",
            "toolResult attempt_completion ok",
        ],
        "{transcript:#}"
    );
    assert_eq!(entries[2]["arguments"], json!({ "path": "config.txt" }).to_string());
    assert!(entries[3]["text"].as_str().unwrap().contains("token = [redacted]"), "{}", entries[3]);
    assert!(entries[1]["text"].as_str().unwrap().contains("[redacted]"), "{}", entries[1]);
    assert!(entries[5]["text"].as_str().unwrap().contains(readme_diff), "the question with its diff: {}", entries[5]);
    let answer_text = entries[6]["text"].as_str().unwrap();
    assert!(answer_text.contains("Allow for this plan") && answer_text.contains("every file edit of this plan"));
    assert!(answer_text.contains("planning/answer"), "{answer_text}");
    assert_eq!(entries[4]["target"], "README.md");
    assert_eq!(entries[11]["target"], "src/new.rs");
    the_key_is_not_in(&transcript.to_string(), "the transcript");
    the_key_is_not_in(&server.stderr_text(), "the log");
    server.shutdown_and_exit();
    for file in [".codelab/planner.db", ".codelab/planner.db-wal"] {
        let bytes = std::fs::read(root.join(file)).unwrap_or_default();
        the_key_is_not_in(&String::from_utf8_lossy(&bytes), file);
    }
}

/// Runs a plan of one coder step `title` whose one question (`asked`) the editor answers with
/// `answer`; the server, the plan's id and the run's events (completed).
fn one_coder_step_answered(
    root: &std::path::Path,
    model: &FakeOpenAi,
    title: &str,
    asked: &str,
    answer: &str,
) -> (TestServer, String, Vec<Value>) {
    let mut setup = setup(root, model, "ask");
    setup.message_answer = Some(answer.to_owned());
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let (plan_id, run_id) = create_and_execute(&mut server, title, vec![coder("s1", title, &[])], json!({}));
    let question = server.take_server_request("window/showMessageRequest");
    assert_eq!(question["message"], asked);
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    (server, plan_id, events)
}

#[test]
fn a_file_that_holds_the_key_is_changed_without_the_key_reaching_the_question_or_the_record() {
    let directory = workspace();
    let root = directory.path();
    let config = format!("token = {KEY_VALUE}\nport = 80\n");
    std::fs::write(root.join("config.txt"), &config).unwrap();
    let model = FakeOpenAi::start();
    model.push(call(
        "edit_file",
        json!({ "path": "config.txt", "edits": [{ "search": "port = 80", "replace": "port = 8080" }] }),
    ));
    model.push(call("attempt_completion", json!({ "result": "port changed" })));
    let asked = "Allow coder to edit `config.txt`? (+1 −1 config.txt)";
    let (mut server, plan_id, events) =
        one_coder_step_answered(root, &model, "Move the service to port 8080", asked, "Allow");
    let asked = events.iter().find(|event| event["kind"] == "approvalRequested").expect("asked");
    let diff = asked["approval"]["diff"].as_str().unwrap();
    assert!(diff.contains(" token = [redacted]\n-port = 80\n+port = 8080\n"), "the question's diff, redacted: {diff}");
    assert_eq!(std::fs::read_to_string(root.join("config.txt")).unwrap(), config.replace("80\n", "8080\n"), "applied");

    // The change is on the record (which file, how many lines) but not its content.
    let changes = server.call("planning/changes", json!({ "planId": plan_id }))["changes"].clone();
    assert_eq!(changes[0]["path"], "config.txt");
    assert_eq!((changes[0]["added"].clone(), changes[0]["removed"].clone()), (json!(1), json!(1)));
    assert_eq!(changes[0]["diff"], "(no diff: the content was not kept: it holds the API key)\n");
    let transcript = server.call("planning/transcript", json!({ "planId": plan_id, "subtaskId": "s1" }));
    the_key_is_not_in(&transcript.to_string(), "the transcript");
    the_key_is_not_in(&events.iter().map(Value::to_string).collect::<String>(), "the run's events");
    // Not restorable without its content: left as it is, and said so.
    let reverted = server.call("planning/rollback", json!({ "planId": plan_id }));
    assert_eq!(reverted["restored"], json!([]), "{reverted}");
    assert_eq!(reverted["conflicts"][0]["path"], "config.txt", "{reverted}");
    assert_eq!(std::fs::read_to_string(root.join("config.txt")).unwrap(), config.replace("80\n", "8080\n"));
    server.discard(|message| message.get("method").and_then(Value::as_str) == Some("planning/progress"));
    server.shutdown_and_exit();
    for file in [".codelab/planner.db", ".codelab/planner.db-wal"] {
        let bytes = std::fs::read(root.join(file)).unwrap_or_default();
        the_key_is_not_in(&String::from_utf8_lossy(&bytes), file);
    }
}

#[test]
fn what_the_loop_did_is_noted_in_the_transcript_a_wait_a_nudge_the_cap_and_the_failure() {
    let directory = workspace();
    std::fs::write(directory.path().join("README.md"), README).unwrap();
    let model = FakeOpenAi::start();
    model.push(Reply::rate_limited("1"));
    model.push(Reply::text("I will look at the README."));
    model.push(call("read_file", json!({ "path": "README.md" })));
    model.push(call("read_file", json!({ "path": "src/lib.rs" })));
    let mut setup = setup(directory.path(), &model, "auto");
    let mut settings = settings(&model, "auto");
    settings["llm"]["maxToolCalls"] = json!(1);
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let title = "Read the README";
    let (plan_id, run_id) = create_and_execute(&mut server, title, vec![coder("s1", title, &[])], json!({}));
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "failed", "{events:#?}");
    let transcript = server.call("planning/transcript", json!({ "planId": plan_id, "subtaskId": "s1" }));
    let entries: Vec<(String, String)> = transcript["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let kind = entry["kind"].as_str().unwrap().to_owned();
            let detail = match kind.as_str() {
                // A retry's wait is the policy's; the rest of the note is exact.
                "note" => entry["text"].as_str().unwrap().split(", after ").next().unwrap_or_default().to_owned(),
                "message" => entry["role"].as_str().unwrap().to_owned(),
                _ => format!("{} {}", entry["tool"].as_str().unwrap(), entry["outcome"].as_str().unwrap_or_default()),
            };
            (kind, detail)
        })
        .collect();
    let cap = "reached the limit of 1 tool calls (llm.maxToolCalls)";
    let expected: Vec<(String, String)> = [
        ("message", "user"),
        ("note", "the model call is tried again (retry 1"),
        ("message", "assistant"),
        ("note", "the model answered without calling a tool; it was asked once to finish with attempt_completion"),
        ("toolCall", "read_file "),
        ("toolResult", "read_file ok"),
        ("toolCall", "read_file "),
        ("toolResult", "read_file notRun"),
        ("note", cap),
    ]
    .iter()
    .map(|(kind, detail)| ((*kind).to_owned(), (*detail).to_owned()))
    .collect();
    assert_eq!(entries[..expected.len()], expected[..], "{transcript:#}");
    assert_eq!(entries.len(), expected.len() + 1, "{transcript:#}");
    assert_eq!(entries[expected.len()].0, "note");
    assert!(entries[expected.len()].1.starts_with("the attempt failed: ") && entries[expected.len()].1.contains(cap));
    let retried = transcript["entries"][1]["text"].as_str().unwrap();
    assert!(retried.ends_with("): language model rate limited, retry after 1 s"), "{retried}");
    server.shutdown_and_exit();
}

#[test]
fn a_denied_write_makes_the_step_result_say_so() {
    let directory = workspace();
    std::fs::write(directory.path().join("README.md"), README).unwrap();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "README.md", "content": "# Replaced\n" })));
    model.push(call("attempt_completion", json!({ "result": "wrote the files" })));
    let asked = "Allow coder to edit `README.md`? (+1 −3 README.md)";
    let (mut server, plan_id, _) =
        one_coder_step_answered(directory.path(), &model, "Replace the README", asked, "Deny");
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(
        plan["subtasks"][0]["result"],
        "1 change denied: README.md. no file was changed.\nThe agent said: wrote the files",
        "the record, not the model's claim"
    );
    assert!(plan["subtasks"][0].get("changes").is_none());
    assert_eq!(std::fs::read_to_string(directory.path().join("README.md")).unwrap(), README);
    let transcript = server.call("planning/transcript", json!({ "planId": plan_id, "subtaskId": "s1", "attempt": 1 }));
    let answered = transcript["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["kind"] == "approval" && entry["outcome"] == "reject_once")
        .cloned()
        .expect("the answer is in the transcript");
    assert!(answered["text"].as_str().unwrap().contains("from editor"), "{answered}");
    let unknown = server.call_err("planning/transcript", json!({ "planId": plan_id, "subtaskId": "nope" }));
    assert!(unknown.message.contains("unknown subtask \"nope\""), "{unknown:?}");
    server.shutdown_and_exit();
}

#[test]
fn rollback_of_one_step_then_of_the_plan_leaves_what_the_person_changed() {
    let directory = workspace();
    let root = directory.path();
    std::fs::write(root.join("a.txt"), "one\n").unwrap();
    std::fs::write(root.join("c.txt"), "gamma\n").unwrap();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "a.txt", "content": "one\ntwo\n" })));
    model.push(call("write_file", json!({ "path": "b.txt", "content": "бета\n" })));
    model.push(call("attempt_completion", json!({ "result": "a and b" })));
    model.push(call("edit_file", json!({ "path": "a.txt", "edits": [{ "search": "two", "replace": "two\nthree" }] })));
    model.push(call("edit_file", json!({ "path": "c.txt", "edits": [{ "search": "gamma", "replace": "delta" }] })));
    model.push(call("attempt_completion", json!({ "result": "a and c" })));
    let mut setup = setup(root, &model, "auto");
    setup.answer_apply_edits = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let steps = vec![coder("s1", "Write a, create b", &[]), coder("s2", "Extend a, change c", &["s1"])];
    let (plan_id, run_id) = create_and_execute(&mut server, "Two steps over the same files", steps, json!({}));
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "one\ntwo\nthree\n");

    // The second step only: its files go back to what the first step left.
    let second = server.call("planning/rollback", json!({ "planId": plan_id, "subtaskId": "s2" }));
    assert_eq!(second, json!({ "restored": ["a.txt", "c.txt"], "conflicts": [] }));
    assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "one\ntwo\n");
    assert_eq!(std::fs::read_to_string(root.join("c.txt")).unwrap(), "gamma\n");
    assert_eq!(std::fs::read_to_string(root.join("b.txt")).unwrap(), "бета\n", "the first step's file stays");
    let changes = server.call("planning/changes", json!({ "planId": plan_id }))["changes"].clone();
    let rolled_back: Vec<(&str, &str, bool)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            (change["subtaskId"].as_str().unwrap(), change["path"].as_str().unwrap(), change["rolledBack"] == true)
        })
        .collect();
    assert_eq!(
        rolled_back,
        [("s1", "a.txt", false), ("s1", "b.txt", false), ("s2", "a.txt", true), ("s2", "c.txt", true)]
    );
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["subtasks"][0]["changes"]["files"], 2);
    assert!(plan["subtasks"][1].get("changes").is_none(), "nothing of s2 is in effect: {}", plan["subtasks"][1]);

    // The whole plan, with a.txt open in the editor (restored there, undoable) and b.txt changed
    // by the person meanwhile (a conflict, left as it is).
    std::fs::write(root.join("b.txt"), "бета\nмоя строка\n").unwrap();
    let mut buffer = Buffer::open(&mut server, &root.join("a.txt"), "one\ntwo\n");
    let request = server.start_request("planning/rollback", json!({ "planId": plan_id }));
    let (edit_id, edit) = server.take_unanswered_request("workspace/applyEdit");
    assert_eq!(edit["label"], format!("codelab-planner: revert plan {plan_id}"));
    buffer.apply(&mut server, edit_id, &edit);
    let whole = server.response_to(request).expect("rollback answers");
    assert_eq!(
        whole,
        json!({ "restored": ["a.txt"], "conflicts": [{ "path": "b.txt", "reason": "changed since the agent wrote it" }] })
    );
    assert_eq!(buffer.text, "one\n", "restored in the editor's buffer");
    assert_eq!(std::fs::read_to_string(root.join("a.txt")).unwrap(), "one\n", "and on disk: it had no unsaved changes");
    assert_eq!(std::fs::read_to_string(root.join("b.txt")).unwrap(), "бета\nмоя строка\n", "left as it is");
    let again = server.call("planning/rollback", json!({ "planId": plan_id }));
    assert_eq!(again["restored"], json!([]), "done once: {again}");
    assert_eq!(again["conflicts"][0]["path"], "b.txt");
    server.discard(|message| message.get("method").and_then(Value::as_str) == Some("planning/progress"));
    server.shutdown_and_exit();
}

#[test]
fn a_moved_and_a_deleted_file_are_on_the_record_and_come_back_on_rollback() {
    let directory = workspace();
    let root = directory.path();
    std::fs::write(root.join("old.md"), "# Старое имя\n").unwrap();
    std::fs::write(root.join("gone.txt"), "keep me\n").unwrap();
    let model = FakeOpenAi::start();
    model.push(call("move_file", json!({ "source": "old.md", "destination": "docs/new.md" })));
    model.push(call("delete_file", json!({ "path": "gone.txt" })));
    model.push(call("attempt_completion", json!({ "result": "moved and deleted" })));
    let (mut server, _) = TestServer::start(setup(root, &model, "auto"));
    server.take_server_request("workspace/configuration");
    let title = "Move the doc, delete the leftover";
    let (plan_id, run_id) = create_and_execute(&mut server, title, vec![coder("s1", title, &[])], json!({}));
    assert_eq!(server.collect_run_events(&run_id).last().unwrap()["status"], "completed");
    assert!(!root.join("old.md").exists() && !root.join("gone.txt").exists());

    let changes = server.call("planning/changes", json!({ "planId": plan_id }))["changes"].clone();
    let kinds: Vec<(&str, &str, Option<&str>)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|change| (change["path"].as_str().unwrap(), change["change"].as_str().unwrap(), change["from"].as_str()))
        .collect();
    assert_eq!(kinds, [("docs/new.md", "moved", Some("old.md")), ("gone.txt", "deleted", None)], "{changes:#}");
    assert_eq!(changes[1]["diff"], "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-keep me\n");

    let reverted = server.call("planning/rollback", json!({ "planId": plan_id, "subtaskId": "s1" }));
    assert_eq!(reverted["conflicts"], json!([]), "{reverted}");
    assert_eq!(std::fs::read_to_string(root.join("old.md")).unwrap(), "# Старое имя\n", "back at its old path");
    assert!(!root.join("docs/new.md").exists(), "and not at the new one");
    assert_eq!(std::fs::read_to_string(root.join("gone.txt")).unwrap(), "keep me\n", "the deleted file is back");
    server.discard(|message| message.get("method").and_then(Value::as_str) == Some("planning/progress"));
    server.shutdown_and_exit();
}

fn command_line(directory: &std::path::Path, arguments: &[&str]) -> (Option<i32>, String) {
    let output = std::process::Command::new(binary())
        .args(arguments)
        .current_dir(directory)
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run codelab-planner");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty() || output.status.code() != Some(0), "{stderr}");
    (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_command_line_shows_changes_and_transcripts_and_reverts_a_step() {
    let directory = workspace();
    let root = directory.path();
    std::fs::write(root.join("README.md"), README).unwrap();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "hello.txt", "content": "привет\n" })));
    model.push(call(
        "edit_file",
        json!({ "path": "README.md", "edits": [{ "search": "Run it.", "replace": "Run it twice." }] }),
    ));
    model.push(call("attempt_completion", json!({ "result": "greeted" })));
    let (mut server, _) = TestServer::start(setup(root, &model, "auto"));
    server.take_server_request("workspace/configuration");
    let title = "Say hello in Russian and fix the README";
    let (plan_id, run_id) = create_and_execute(&mut server, title, vec![coder("s1", title, &[])], json!({}));
    assert_eq!(server.collect_run_events(&run_id).last().unwrap()["status"], "completed");
    server.shutdown_and_exit();

    let (code, shown) = command_line(root, &["show", &plan_id]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains(&format!("changed 2 files (+2 −1): codelab-planner changes {plan_id} s1")), "{shown}");
    let (code, diffs) = command_line(root, &["changes", &plan_id, "s1"]);
    assert_eq!(code, Some(0), "{diffs}");
    assert_eq!(
        diffs,
        "── s1 (attempt 1) · added hello.txt · +1 −0\n--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+привет\n\
         ── s1 (attempt 1) · modified README.md · +1 −1\n--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n # Demo\n \n-Run it.\n+Run it twice.\n"
    );
    let (_, json_diffs) = command_line(root, &["--json", "changes", &plan_id]);
    let parsed: Value = serde_json::from_str(json_diffs.trim()).expect("one json object");
    assert_eq!(parsed["changes"].as_array().map(Vec::len), Some(2));
    let (code, transcript) = command_line(root, &["transcript", &plan_id, "s1"]);
    assert_eq!(code, Some(0), "{transcript}");
    assert!(transcript.starts_with("Transcript of s1, attempt 1\n"), "{transcript}");
    assert!(transcript.contains("] → write_file hello.txt\n"), "{transcript}");
    assert!(transcript.contains("] ← write_file hello.txt: ok\n    created hello.txt (1 lines)\n"), "{transcript}");
    assert!(transcript.contains("] ← attempt_completion: ok\n    greeted\n"), "{transcript}");

    std::fs::write(root.join("README.md"), "# Demo\n\nRun it twice. (checked by me)\n").unwrap();
    let (code, reverted) = command_line(root, &["rollback", &plan_id, "s1"]);
    assert_eq!(code, Some(1), "a conflict is not a full revert: {reverted}");
    assert_eq!(reverted, "restored hello.txt\nleft README.md: changed since the agent wrote it\n");
    assert!(!root.join("hello.txt").exists(), "the file the agent created is gone");
    assert_eq!(std::fs::read_to_string(root.join("README.md")).unwrap(), "# Demo\n\nRun it twice. (checked by me)\n");
    let (code, missing) = command_line(root, &["rollback", &plan_id, "s9"]);
    assert_eq!(code, Some(2), "an unknown step is bad input: {missing}");
}
