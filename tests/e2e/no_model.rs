//! With no language model (the default), over the real binary in real temporary workspaces
//! (Cargo, npm, Python with a `.venv`, a monorepo): a complex task becomes a guided checklist —
//! approve, execute, the agent steps go `waiting` while the baseline test runs, `planning/complete`
//! on each, then the workspace's build and test steps run for real and the plan ends `completed`.
//! Also: a restart while a step waits, and revise feedback in English and Russian.
#![allow(clippy::disallowed_methods)]

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, workspace};

fn write(root: &Path, name: &str, text: &str) {
    let path = root.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}

fn cargo_project(root: &Path) {
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"reports\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    );
    write(
        root,
        "src/lib.rs",
        "pub fn total(values: &[u32]) -> u32 { values.iter().sum() }\n\n#[test]\nfn adds() { assert_eq!(total(&[1, 2]), 3); }\n",
    );
}

fn npm_project(root: &Path) {
    write(
        root,
        "package.json",
        r#"{ "name": "web", "version": "1.0.0", "scripts": { "build": "node build.js", "test": "node test.js" } }"#,
    );
    write(root, "build.js", "require('fs').writeFileSync('built.txt', 'ok'); console.log('built');\n");
    write(root, "test.js", "require('assert').strictEqual(1 + 1, 2); console.log('web tests passed');\n");
}

fn python_project(root: &Path) {
    write(root, "pyproject.toml", "[project]\nname = \"tool\"\nversion = \"0.1\"\n");
    write(
        root,
        "tests/test_tool.py",
        "import unittest\n\nclass T(unittest.TestCase):\n    def test_ok(self):\n        self.assertEqual(2 + 2, 4)\n",
    );
    let status = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip", ".venv"])
        .current_dir(root)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "python3 -m venv failed");
}

/// The first `planning/progress` event of `run_id` that `predicate` accepts.
fn next_event(server: &mut TestServer, run_id: &str, predicate: impl Fn(&Value) -> bool) -> Value {
    let run = run_id.to_owned();
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
        params["runId"] == run.as_str() && predicate(&params["event"])
    })["event"]
        .clone()
}

fn subtask<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["subtasks"].as_array().and_then(|all| all.iter().find(|step| step["id"] == id)).expect("subtask exists")
}

/// Creates the task's plan (classified complex), approves and executes it; returns the plan and run id.
fn plan_and_execute(server: &mut TestServer, task: &str) -> (Value, String) {
    let created = server.call("planning/create", json!({ "task": task }));
    let plan = created["plan"].clone();
    assert_eq!(plan["classification"]["isAtomic"], false, "{}", plan["classification"]);
    assert_eq!(created["session"]["state"], "plan_review");
    let plan_id = plan["id"].as_str().expect("plan id").to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let started = server.call("planning/execute", json!({ "planId": plan_id }));
    (plan, started["runId"].as_str().expect("run id").to_owned())
}

/// Drives a no-model run to its end: the baseline test finishes while the first agent step
/// waits; then every waiting step is completed by hand; returns the final plan.
fn complete_checklist(server: &mut TestServer, plan: &Value, run_id: &str) -> Value {
    let plan_id = plan["id"].as_str().expect("plan id").to_owned();
    let baseline_id = plan["subtasks"]
        .as_array()
        .and_then(|steps| steps.iter().find(|step| step["role"] == "baseline"))
        .and_then(|step| step["id"].as_str())
        .expect("a baseline test step")
        .to_owned();
    let first_wait = next_event(server, run_id, |event| event["kind"] == "subtaskWaiting");
    for field in ["message", "instructions"] {
        let text = first_wait[field].as_str().unwrap_or("");
        assert!(text.starts_with("No language model is configured, so this step is yours: "), "{first_wait}");
        assert!(!text.contains("planning/") && !text.contains("withoutModel"), "{first_wait}");
    }
    let notice = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
    assert_eq!(notice["type"], 3, "an info message");
    assert!(notice["message"].as_str().unwrap_or("").contains("no language model is configured"), "{notice}");
    let baseline_id_clone = baseline_id.clone();
    let baseline = next_event(server, run_id, move |event| {
        event["kind"] == "subtaskFinished" && event["subtaskId"] == baseline_id_clone.as_str()
    });
    assert_eq!(baseline["status"], "done", "the baseline test ran while the step waited: {baseline}");
    let still = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(subtask(&still, first_wait["subtaskId"].as_str().unwrap_or(""))["status"], "waiting");
    assert!(still["progress"]["waiting"].as_u64().unwrap_or(0) >= 1, "{}", still["progress"]);

    let mut to_complete = vec![first_wait["subtaskId"].as_str().unwrap_or("").to_owned()];
    loop {
        for id in to_complete.drain(..) {
            let answer = server
                .call("planning/complete", json!({ "planId": plan_id, "subtaskId": id, "result": "done by hand" }));
            assert_eq!(subtask(&answer, &id)["status"], "done");
        }
        let event =
            next_event(server, run_id, |event| event["kind"] == "subtaskWaiting" || event["kind"] == "planFinished");
        if event["kind"] == "planFinished" {
            assert_eq!(event["status"], "completed", "{event}");
            break;
        }
        to_complete.push(event["subtaskId"].as_str().unwrap_or("").to_owned());
    }
    finish_progress(server);
    server.call("planning/get", json!({ "planId": plan_id }))
}

/// Waits for the run's `$/progress` end, then drops the run's remaining chatter.
fn finish_progress(server: &mut TestServer) {
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    server.discard(|message| {
        message.get("method").is_some_and(|method| method == "planning/progress" || method == "$/progress")
    });
}

/// Every shell step ran and succeeded; returns their commands with their cwd.
fn shell_steps_done(plan: &Value) -> Vec<(String, Option<String>)> {
    let steps = plan["subtasks"].as_array().expect("subtasks");
    assert!(steps.iter().all(|step| step["status"] == "done"), "{plan:#}");
    steps
        .iter()
        .filter(|step| step["agent"] == "shell")
        .map(|step| (step["command"].as_str().unwrap_or("").to_owned(), step["cwd"].as_str().map(str::to_owned)))
        .collect()
}

#[test]
fn a_cargo_feature_without_a_model_is_a_checklist_whose_checks_run_themselves() {
    let directory = workspace();
    cargo_project(directory.path());
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let (plan, run_id) = plan_and_execute(&mut server, "Add CSV export to the reports module and write tests for it");
    let titles: Vec<&str> = plan["subtasks"].as_array().unwrap().iter().filter_map(|s| s["title"].as_str()).collect();
    assert!(titles.iter().any(|title| title.contains("CSV export")), "titles use the task's words: {titles:?}");
    assert!(!titles.iter().any(|title| title.starts_with("Build")), "cargo test builds: {titles:?}");
    let done = complete_checklist(&mut server, &plan, &run_id);
    assert_eq!(done["status"], "completed");
    let shell = shell_steps_done(&done);
    assert_eq!(shell, [("cargo test".to_owned(), None), ("cargo test".to_owned(), None)]);
    let test_step = done["subtasks"].as_array().unwrap().iter().find(|step| step["title"] == "Test (cargo)").unwrap();
    assert!(test_step["result"].as_str().unwrap_or("").contains("test result: ok"), "{test_step}");
    server.shutdown_and_exit();
}

#[test]
fn npm_and_python_venv_workspaces_run_their_own_commands() {
    let npm = workspace();
    npm_project(npm.path());
    let (mut server, _) = TestServer::start(ServerSetup::new(npm.path()));
    let (plan, run_id) = plan_and_execute(&mut server, "Add a dark theme to the settings page and write tests for it");
    let done = complete_checklist(&mut server, &plan, &run_id);
    let shell = shell_steps_done(&done);
    assert_eq!(
        shell.iter().map(|(command, _)| command.as_str()).collect::<Vec<_>>(),
        ["npm test", "npm run build", "npm test"]
    );
    assert!(npm.path().join("built.txt").exists(), "the build really ran");
    server.shutdown_and_exit();

    let python = workspace();
    python_project(python.path());
    let (mut server, _) = TestServer::start(ServerSetup::new(python.path()));
    let (plan, run_id) = plan_and_execute(&mut server, "Add a --json flag to the CLI and write tests for it");
    let commands: Vec<&str> =
        plan["subtasks"].as_array().unwrap().iter().filter_map(|step| step["command"].as_str()).collect();
    assert!(commands.iter().all(|command| command.starts_with(".venv/bin/python -m unittest")), "{commands:?}");
    let done = complete_checklist(&mut server, &plan, &run_id);
    assert_eq!(done["status"], "completed");
    server.shutdown_and_exit();
}

#[test]
fn a_monorepo_runs_each_projects_commands_in_its_own_directory() {
    let directory = workspace();
    cargo_project(&directory.path().join("backend"));
    npm_project(&directory.path().join("web"));
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let (plan, run_id) = plan_and_execute(&mut server, "Add CSV export to the reports page and write tests for it");
    let done = complete_checklist(&mut server, &plan, &run_id);
    let mut shell = shell_steps_done(&done);
    shell.sort();
    let at = |command: &str, cwd: &str| (command.to_owned(), Some(cwd.to_owned()));
    assert_eq!(
        shell,
        [
            at("cargo test", "backend"),
            at("cargo test", "backend"),
            at("npm run build", "web"),
            at("npm test", "web"),
            at("npm test", "web")
        ]
    );
    assert!(directory.path().join("web/built.txt").exists(), "npm run build ran in web/");
    server.shutdown_and_exit();
}

#[test]
fn a_waiting_step_is_still_waiting_after_a_restart_and_the_plan_resumes() {
    let directory = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let subtasks = json!([
        { "id": "edit", "title": "Edit the config by hand", "agent": "manual" },
        { "id": "check", "title": "Check", "agent": "shell", "command": "echo checked > checked.txt", "dependsOn": ["edit"] },
    ]);
    let plan =
        server.call("planning/create", json!({ "task": "edit config", "mode": "plan", "subtasks": subtasks }))["plan"]
            .clone();
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();
    let waiting = next_event(&mut server, &run_id, |event| event["kind"] == "subtaskWaiting");
    assert_eq!(waiting["subtaskId"], "edit");
    server.kill_hard();

    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let stored = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(stored["status"], "interrupted");
    assert_eq!(subtask(&stored, "edit")["status"], "waiting", "still waiting, not interrupted");
    let refused = server.call_err("planning/complete", json!({ "planId": plan_id, "subtaskId": "check" }));
    assert_eq!(refused.data["kind"], "invalidState", "{refused:?}");
    let answered = server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "edit" }));
    assert_eq!(subtask(&answered, "edit")["status"], "done");
    let retry = server.call("planning/retry", json!({ "planId": plan_id }));
    let events = server.collect_run_events(retry["runId"].as_str().unwrap());
    assert_eq!(events.last().map(|event| &event["status"]), Some(&json!("completed")), "{events:#?}");
    assert!(directory.path().join("checked.txt").exists());
    finish_progress(&mut server);
    server.shutdown_and_exit();
}

#[test]
fn revise_feedback_in_english_and_russian_is_applied_or_reported() {
    let directory = workspace();
    cargo_project(directory.path());
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let created =
        server.call("planning/create", json!({ "task": "Add CSV export to reports and document it in the README" }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    let before = created["plan"]["subtasks"].as_array().unwrap().len();

    let revised = server.call("planning/revise", json!({ "planId": plan_id, "feedback": "убери шаг с документацией" }));
    let titles: Vec<&str> =
        revised["subtasks"].as_array().unwrap().iter().filter_map(|s| s["title"].as_str()).collect();
    assert_eq!(titles.len(), before - 1, "{titles:?}");
    assert!(!titles.iter().any(|title| title.starts_with("Document")), "{titles:?}");

    let revised = server.call("planning/revise", json!({ "planId": plan_id, "feedback": "add a step to run clippy" }));
    let last = revised["subtasks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["agent"].as_str(), last["command"].as_str()),
        (Some("shell"), Some("cargo clippy --all-targets -- -D warnings"))
    );

    let revised =
        server.call("planning/revise", json!({ "planId": plan_id, "feedback": "не пиши тесты, and be quick" }));
    assert!(
        revised["subtasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["title"].as_str().unwrap_or("").starts_with("Write tests"))
    );
    assert!(
        revised["feedback"].as_str().unwrap_or("").contains("not applied: \"be quick\""),
        "{}",
        revised["feedback"]
    );

    let refused = server.call_err("planning/revise", json!({ "planId": plan_id, "feedback": "make it nicer" }));
    assert_eq!(refused.code, -32602, "{refused:?}");
    assert!(refused.message.contains("could not apply the feedback"), "{}", refused.message);
    server.shutdown_and_exit();
}
