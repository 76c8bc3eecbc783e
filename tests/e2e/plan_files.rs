//! Plan files over stdio, through standard LSP only: diagnostics with exact ranges (and their
//! update after an incremental change, and when a lens request checked the file first), code lenses and hover after a run started from a code
//! action, completion, definition, symbols, rename, and every action as
//! `workspace/executeCommand`.

use serde_json::{Value, json};

use std::time::Duration;

use crate::harness::{REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, workspace};

/// The LSP range of the `nth` (0-based) occurrence of `needle` (ASCII text).
fn range_of(text: &str, needle: &str, nth: usize) -> Value {
    let start = text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("no {needle:?} #{nth}")).0;
    let position = |offset: usize| {
        let before = &text[..offset];
        let line = before.matches('\n').count();
        let character = offset - before.rfind('\n').map_or(0, |index| index + 1);
        json!({ "line": line, "character": character })
    };
    json!({ "start": position(start), "end": position(start + needle.len()) })
}

fn uri_of(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

fn open(server: &mut TestServer, uri: &str, text: &str) {
    let document = json!({ "uri": uri, "languageId": "toml", "version": 1, "text": text });
    server.notify("textDocument/didOpen", json!({ "textDocument": document }));
}

/// The next diagnostics published for `uri`, as `(range, message)` pairs.
fn diagnostics(server: &mut TestServer, uri: &str) -> Vec<(Value, String)> {
    let uri = uri.to_owned();
    let params = server.wait_for_notification("textDocument/publishDiagnostics", REQUEST_TIMEOUT, |params| {
        params["uri"] == uri.as_str()
    });
    let list = params["diagnostics"].as_array().cloned().unwrap_or_default();
    for diagnostic in &list {
        assert_eq!(diagnostic["source"], "codelab-planner");
        assert_eq!(diagnostic["severity"], 1);
    }
    list.iter()
        .map(|diagnostic| (diagnostic["range"].clone(), diagnostic["message"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn start(dir: &std::path::Path) -> TestServer {
    let mut setup = ServerSetup::new(dir);
    setup.workspace_capabilities = json!({ "codeLens": { "refreshSupport": true } });
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    server
}

const BROKEN: &str = r#"title = "Broken plan"
colour = "blue"

[[subtask]]
id = "a"
title = "A"
agent = "shell"
command = "true"
depends_on = ["c"]

[[subtask]]
id = "b"
title = "B"
agent = "wizard"

[[subtask]]
id = "c"
title = "C"
agent = "shell"
command = "true"
depends_on = ["a", "ghost"]

[[subtask]]
id = "b"
title = "B again"
agent = "shell"
"#;

#[test]
fn diagnostics_have_exact_ranges_and_follow_incremental_changes() {
    let dir = workspace();
    let mut server = start(dir.path());
    let uri = uri_of(&dir.path().join("broken.plan.toml"));
    open(&mut server, &uri, BROKEN);
    let cycle = "dependency cycle: a -> c -> a".to_owned();
    let expected = vec![
        (range_of(BROKEN, "colour", 0), "unknown field `colour` (expected one of: title, goal, subtask)".to_owned()),
        (range_of(BROKEN, "\"a\"", 0), cycle.clone()),
        (
            range_of(BROKEN, "\"wizard\"", 0),
            r#"unknown agent "wizard" (expected "coder", "debug", "ask", "shell", "manual")"#.to_owned(),
        ),
        (range_of(BROKEN, "\"c\"", 1), cycle.clone()),
        (range_of(BROKEN, "\"ghost\"", 0), r#"unknown subtask "ghost""#.to_owned()),
        (range_of(BROKEN, "[[subtask]]", 3), "`command`: required for the shell agent".to_owned()),
        (range_of(BROKEN, "\"b\"", 1), r#"duplicate id "b" (first at subtask[1])"#.to_owned()),
    ];
    assert_eq!(diagnostics(&mut server, &uri), expected);

    // Incremental edit: drop `, "ghost"` and rename the agent; what is left is reported again.
    let ghost = range_of(BROKEN, ", \"ghost\"", 0);
    let wizard = range_of(BROKEN, "wizard", 0);
    let changes = json!([
        { "range": ghost, "text": "" },
        { "range": wizard, "text": "ask" },
    ]);
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": changes }),
    );
    let messages: Vec<String> = diagnostics(&mut server, &uri).into_iter().map(|(_, message)| message).collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    assert!(!messages.iter().any(|message| message.contains("ghost") || message.contains("wizard")));
    let syntax = "title = \"x\"\n[[subtask]\n";
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": syntax }] }),
    );
    let found = diagnostics(&mut server, &uri);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.starts_with("toml: "), "{found:?}");
    assert_eq!(found[0].0["start"]["line"], 1);
    server.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri } }));
    assert_eq!(diagnostics(&mut server, &uri), vec![]);
    server.shutdown_and_exit();
}

const RUNNABLE: &str = r#"title = "Three steps"

[[subtask]]
id = "first"
title = "First"
agent = "shell"
command = "echo alpha"

[[subtask]]
id = "second"
title = "Second"
agent = "shell"
command = "test -f marker || { touch marker; echo broken >&2; exit 3; }"
depends_on = ["first"]
max_attempts = 1

[[subtask]]
id = "third"
title = "Third"
agent = "shell"
command = "echo never"
depends_on = ["second"]
"#;

fn lens_titles(server: &mut TestServer, uri: &str) -> Vec<String> {
    let lenses = server.call("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
    lenses
        .as_array()
        .expect("lenses")
        .iter()
        .map(|lens| lens["command"]["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// An editor opens a plan file and at once asks for its lenses (VS Code does). The lens request
/// can check the file before the diagnostics do; the diagnostics are published all the same.
#[test]
fn diagnostics_come_even_when_a_lens_request_checks_the_file_first() {
    let dir = workspace();
    let mut server = start(dir.path());
    let text = "title = \"Проверить\"\n\n[[subtask]]\nid = \"test\"\ntitle = \"Тесты\"\nagent = \"shel\"\ncommand = \"make test\"\n";
    let uris: Vec<String> = (0..40).map(|index| uri_of(&dir.path().join(format!("check-{index}.plan.toml")))).collect();
    for uri in &uris {
        open(&mut server, uri, text);
        assert!(lens_titles(&mut server, uri).iter().any(|title| title.contains("Run plan")), "{uri}");
    }
    for uri in &uris {
        let found = diagnostics(&mut server, uri);
        assert_eq!(found.len(), 1, "{uri}: {found:?}");
        assert!(found[0].1.contains(r#"unknown agent "shel""#), "{uri}: {found:?}");
    }
    server.shutdown_and_exit();
}

#[test]
fn a_run_started_from_a_code_action_updates_lenses_and_hover() {
    let dir = workspace();
    let path = dir.path().join("steps.plan.toml");
    std::fs::write(&path, RUNNABLE).unwrap();
    let mut server = start(dir.path());
    let uri = uri_of(&path);
    open(&mut server, &uri, RUNNABLE);
    assert_eq!(diagnostics(&mut server, &uri), vec![]);
    assert_eq!(lens_titles(&mut server, &uri), ["▶ Run plan", "▶ Run from here", "▶ Run from here", "▶ Run from here"]);

    let inside_second = range_of(RUNNABLE, "Second", 0);
    let actions = server.call(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": inside_second, "context": { "diagnostics": [] } }),
    );
    let titles: Vec<&str> =
        actions.as_array().unwrap().iter().map(|action| action["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Run plan", "Run from here (second)"]);
    let run_plan = actions[0]["command"].clone();
    assert_eq!(run_plan["command"], "codelab-planner.runFile");
    let started = server.call(
        "workspace/executeCommand",
        json!({ "command": run_plan["command"], "arguments": run_plan["arguments"] }),
    );
    assert_eq!(started["status"], "running");
    let run_id = started["runId"].as_str().unwrap().to_owned();
    let plan_id = started["planId"].as_str().unwrap().to_owned();
    let events = server.collect_run_events(&run_id);
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    assert_eq!(events.last().unwrap()["status"], "failed");
    server.wait_for("a code lens refresh", RUN_TIMEOUT, |message| {
        message["serverRequest"] == "workspace/codeLens/refresh"
    });

    let titles = lens_titles(&mut server, &uri);
    assert_eq!(titles[0], "▶ Run plan");
    assert!(titles[1].starts_with("last run: failed 1/3 in "), "{titles:?}");
    assert_eq!(titles[2], "▶ Run from here");
    assert!(titles[3].starts_with("✓ done "), "{titles:?}");
    assert!(titles[5].starts_with("✗ failed "), "{titles:?}");
    assert_eq!(titles[7], "⊘ skipped");

    let hover = server.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": range_of(RUNNABLE, "exit 3", 0)["start"] }),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**second** — Second · shell"), "{text}");
    assert!(text.contains("Last run: ✗ failed"), "{text}");
    assert!(text.contains("exit code 3: broken"), "{text}");

    // Retried through the command: the failed step passes now, the lenses follow.
    server.discard(|message| message["serverRequest"] == "workspace/codeLens/refresh");
    let retried =
        server.call("workspace/executeCommand", json!({ "command": "codelab-planner.retry", "arguments": [] }));
    assert_eq!(retried["planId"], plan_id.as_str());
    let events = server.collect_run_events(retried["runId"].as_str().unwrap());
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    assert_eq!(events.last().unwrap()["status"], "completed");
    server.wait_for("a code lens refresh after the retry", RUN_TIMEOUT, |message| {
        message["serverRequest"] == "workspace/codeLens/refresh"
    });
    let titles = lens_titles(&mut server, &uri);
    assert!(titles[1].starts_with("last run: completed 3/3 in "), "{titles:?}");
    assert!(titles[5].starts_with("✓ done ") && titles[7].starts_with("✓ done "), "{titles:?}");

    let hover = server.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": range_of(RUNNABLE, "Three steps", 0)["start"] }),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**Three steps** — 3 subtask(s)\n\nLast run: completed 3/3 in "), "{text}");

    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["sourceFile"], "steps.plan.toml");
    let listed = server.call("planning/list", json!({}));
    assert_eq!(listed["plans"][0]["id"], plan_id.as_str());
    let exported = server.call("planning/export", json!({ "planId": plan_id }));
    let reexported = exported["text"].as_str().unwrap();
    assert!(reexported.contains("id = \"second\"") && reexported.contains("depends_on = [\"first\"]"), "{reexported}");
    server.discard(|message| {
        matches!(message["method"].as_str(), Some("planning/progress" | "$/progress"))
            || message.get("serverRequest").is_some()
    });
    server.shutdown_and_exit();
}

const NAVIGABLE: &str = r#"title = "Navigate"

[[subtask]]
id = "build"
title = "Build it"
agent = "shell"
command = "make"

[[subtask]]
id = "test"
title = "Test it"
agent = "shell"
command = "make test"
depends_on = ["build"]

[[subtask]]
id = "ship"
title = "Ship it"
agent = "ask"
depends_on = []
"#;

#[test]
fn completion_definition_symbols_and_rename() {
    let dir = workspace();
    let mut server = start(dir.path());
    let uri = uri_of(&dir.path().join("nav.plan.toml"));
    open(&mut server, &uri, NAVIGABLE);
    assert_eq!(diagnostics(&mut server, &uri), vec![]);
    let position = |needle: &str, nth: usize, shift: u64| {
        let mut position = range_of(NAVIGABLE, needle, nth)["start"].clone();
        position["character"] = json!(position["character"].as_u64().unwrap() + shift);
        json!({ "textDocument": { "uri": uri }, "position": position })
    };

    let items = server.call("textDocument/completion", position("depends_on = []", 0, 14));
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|item| item["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["build", "test"]);
    assert_eq!(items[0]["detail"], "Build it");
    let items = server.call("textDocument/completion", position("\"ask\"", 0, 1));
    let labels: Vec<&str> = items.as_array().unwrap().iter().map(|item| item["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["coder", "debug", "ask", "shell", "manual"]);

    let definition = server.call("textDocument/definition", position("\"build\"", 1, 2));
    assert_eq!(definition, json!({ "uri": uri, "range": range_of(NAVIGABLE, "\"build\"", 0) }));

    let symbols = server.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|symbol| symbol["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Navigate", "build", "test", "ship"]);
    assert_eq!(symbols[1]["selectionRange"], range_of(NAVIGABLE, "\"build\"", 0));

    let mut rename = position("\"build\"", 0, 3);
    rename["newName"] = json!("compile");
    let edit = server.call("textDocument/rename", rename.clone());
    let inner = |nth: usize| json!({ "range": range_of(NAVIGABLE, "build", nth), "newText": "compile" });
    assert_eq!(edit["changes"][uri.as_str()], json!([inner(0), inner(1)]));
    rename["newName"] = json!("not an id");
    let error = server.call_err("textDocument/rename", rename);
    assert_eq!(error.code, -32602);
    assert!(error.message.starts_with("newName: invalid id"), "{}", error.message);
    server.shutdown_and_exit();
}

#[test]
fn every_action_is_a_workspace_command() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.configuration = None;
    let (mut server, initialized) = TestServer::start(setup);
    let commands = &initialized["capabilities"]["executeCommandProvider"]["commands"];
    for name in [
        "runFile", "newTask", "execute", "approve", "reject", "revise", "cancel", "retry", "status", "export",
        "complete",
    ] {
        assert!(commands.as_array().unwrap().contains(&json!(format!("codelab-planner.{name}"))), "{name}");
    }
    let execute = |server: &mut TestServer, command: &str, arguments: Value| {
        server.call("workspace/executeCommand", json!({ "command": command, "arguments": arguments }))
    };
    let subtasks = json!([{ "id": "only", "title": "Only", "agent": "shell", "command": "echo ok" }]);
    let created = execute(
        &mut server,
        "codelab-planner.newTask",
        json!([{ "task": "one step", "mode": "plan", "subtasks": subtasks }]),
    );
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["plan"]["status"], "draft");
    // No argument: the newest draft; once there is none, a clear error.
    assert_eq!(execute(&mut server, "codelab-planner.approve", json!([]))["status"], "approved");
    let error = server.call_err("workspace/executeCommand", json!({ "command": "codelab-planner.approve" }));
    assert_eq!(error.code, -32602);
    assert_eq!(error.message, "arguments[0]: no plan id given and no plan is draft");
    let started = execute(&mut server, "codelab-planner.execute", json!([plan_id]));
    let events = server.collect_run_events(started["runId"].as_str().unwrap());
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    assert_eq!(events.last().unwrap()["status"], "completed");
    assert_eq!(execute(&mut server, "codelab-planner.status", json!([plan_id]))["status"], "completed");
    let cancelled = execute(&mut server, "codelab-planner.cancel", json!([{ "planId": plan_id }]));
    assert_eq!(cancelled["cancelled"], false);
    let text = execute(&mut server, "codelab-planner.export", json!([plan_id]))["text"].as_str().unwrap().to_owned();
    assert!(text.starts_with("title = "), "{text}");

    let draft =
        execute(&mut server, "codelab-planner.newTask", json!([{ "task": "add a login page", "mode": "plan" }]));
    let rejected = execute(&mut server, "codelab-planner.reject", json!([draft["plan"]["id"], "not now"]));
    assert_eq!((rejected["status"].as_str(), rejected["feedback"].as_str()), (Some("rejected"), Some("not now")));
    let from_words = execute(&mut server, "codelab-planner.newTask", json!(["explain the store module"]));
    assert!(from_words["plan"]["id"].is_string(), "{from_words}");
    let error = server.call_err("workspace/executeCommand", json!({ "command": "codelab-planner.nope" }));
    assert!(error.message.starts_with("command: unknown command \"codelab-planner.nope\""), "{}", error.message);
    server.discard(|message| matches!(message["method"].as_str(), Some("planning/progress" | "$/progress")));
    server.shutdown_and_exit();
}

/// Starts a plan whose manual step `edit` must be done before `check` writes `checked.txt`;
/// returns the plan id and run id once `edit` waits.
fn start_manual_plan(server: &mut TestServer, task: &str) -> (String, String) {
    let subtasks = json!([
        { "id": "edit", "title": "Edit the config by hand", "agent": "manual" },
        { "id": "check", "title": "Check", "agent": "shell", "command": "echo checked > checked.txt", "dependsOn": ["edit"] },
    ]);
    let created = server.call("planning/create", json!({ "task": task, "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();
    let run = run_id.clone();
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
        params["runId"] == run.as_str() && params["event"]["kind"] == "subtaskWaiting"
    });
    (plan_id, run_id)
}

#[test]
fn a_waiting_step_is_completed_with_a_workspace_command() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.configuration = None;
    let (mut server, _) = TestServer::start(setup);
    let complete = |server: &mut TestServer, arguments: Value| {
        let params = json!({ "command": "codelab-planner.complete", "arguments": arguments });
        server.request("workspace/executeCommand", params)
    };
    let (plan_id, run_id) = start_manual_plan(&mut server, "edit config");
    let error = complete(&mut server, json!([plan_id])).unwrap_err();
    assert_eq!(error.code, -32602);
    assert!(error.message.starts_with("arguments: a plan id and a subtask id"), "{}", error.message);
    let refused = complete(&mut server, json!([plan_id, "check"])).unwrap_err();
    assert_eq!(refused.data["kind"], "invalidState", "{refused:?}");

    let answered = complete(&mut server, json!([plan_id, "edit", "done", "edited by hand"])).unwrap();
    let edit = answered["subtasks"].as_array().unwrap().iter().find(|step| step["id"] == "edit").unwrap().clone();
    assert_eq!((edit["status"].as_str(), edit["result"].as_str()), (Some("done"), Some("edited by hand")));
    let events = server.collect_run_events(&run_id);
    let token = format!("codelab-planner/run/{run_id}");
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["token"] == token.as_str() && params["value"]["kind"] == "end"
    });
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    assert!(dir.path().join("checked.txt").exists());

    // The params object of `planning/complete`, failing the step: its dependent is skipped.
    let (plan_id, run_id) = start_manual_plan(&mut server, "edit again");
    let params = json!({ "planId": plan_id, "subtaskId": "edit", "status": "failed", "result": "no time" });
    complete(&mut server, json!([params])).unwrap();
    let events = server.collect_run_events(&run_id);
    let token = format!("codelab-planner/run/{run_id}");
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["token"] == token.as_str() && params["value"]["kind"] == "end"
    });
    assert_eq!(events.last().unwrap()["status"], "failed", "{events:#?}");
    let stored = server.call("planning/get", json!({ "planId": plan_id }));
    let statuses: Vec<&str> =
        stored["subtasks"].as_array().unwrap().iter().map(|step| step["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "skipped"]);
    server.discard(|message| matches!(message["method"].as_str(), Some("planning/progress" | "$/progress")));
    server.shutdown_and_exit();
}

/// A 10 MB plan file whose 20,000 steps each depend on an id that does not exist.
fn huge_broken_plan() -> String {
    let padding = "x".repeat(380);
    let mut text = String::from("title = \"Huge\"\n");
    for index in 0..20_000 {
        text.push_str(&format!(
            "\n[[subtask]]\nid = \"s{index}\"\ntitle = \"Step {index}\"\nagent = \"shell\"\ncommand = \"true\"\n\
             description = \"{padding}\"\ndepends_on = [\"missing-{index}\"]\n"
        ));
    }
    text
}

#[test]
fn a_huge_plan_file_is_checked_off_the_request_path_and_the_newest_text_wins() {
    let dir = workspace();
    let mut server = start(dir.path());
    let uri = uri_of(&dir.path().join("huge.plan.toml"));
    let text = huge_broken_plan();
    assert!(text.len() > 9_500_000, "{} bytes", text.len());
    open(&mut server, &uri, &text);
    // Every other request answers while the file is being checked: before its diagnostics.
    server.call("planning/list", json!({}));
    let diagnosed = |message: &Value| message["method"] == "textDocument/publishDiagnostics";
    assert!(!server.has_unconsumed(diagnosed), "the list answered before the file was checked");
    let symbols =
        server.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": "file:///elsewhere.plan.toml" } }));
    assert!(symbols.is_null(), "{symbols}");
    // A change while the first check runs: only the newest text's diagnostics are published.
    let edit = json!({ "range": { "start": { "line": 0, "character": 9 }, "end": { "line": 0, "character": 13 } }, "text": "Vast" });
    server.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [edit] }),
    );
    server.call("planning/list", json!({}));
    let uri_value = uri.clone();
    let published =
        server.wait_for_notification("textDocument/publishDiagnostics", Duration::from_secs(300), |params| {
            params["uri"] == uri_value.as_str() && params["version"] == 2
        });
    let diagnostics = published["diagnostics"].as_array().cloned().unwrap_or_default();
    let unknown = diagnostics
        .iter()
        .filter(|diagnostic| {
            diagnostic["message"].as_str().is_some_and(|message| message.starts_with("unknown subtask \"missing-"))
        })
        .count();
    assert_eq!(
        unknown,
        20_000,
        "every unknown id is reported: {:?}",
        diagnostics.iter().find(|d| !d["message"].as_str().unwrap_or("").starts_with("unknown subtask"))
    );
    let lenses = server.call("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
    assert_eq!(lenses.as_array().map(Vec::len), Some(20_001), "one per step and one on the title");
    server.discard(|message| message.get("method").is_some() || message.get("serverRequest").is_some());
    server.shutdown_and_exit();
}
