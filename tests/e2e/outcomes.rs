//! Outcomes that tell the truth, over the real binary: a bug-fix plan whose baseline fails (a
//! tiny Python project with one failing test, real `python3 -m unittest` runs) ends `completed`
//! with "before: 1 failing · after: all passing", over stdio and from the command line; a
//! waiting step's `instructions` speak plain words; an unsure verdict stays a draft that
//! `planning/execute` refuses until it is approved.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, binary, workspace};

const TESTS: &str = "python3 -m unittest";
const FIX: &str = "sed -i 's/a - b/a + b/' calc.py";

/// `calc.py` adds with a minus: one of its two tests fails.
fn write_buggy_project(root: &Path) {
    std::fs::write(root.join("calc.py"), "def add(a, b):\n    return a - b\n\n\ndef neg(a):\n    return -a\n").unwrap();
    std::fs::write(
        root.join("test_calc.py"),
        "import unittest\n\nfrom calc import add, neg\n\n\nclass CalcTest(unittest.TestCase):\n    \
         def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_neg(self):\n        \
         self.assertEqual(neg(2), -2)\n",
    )
    .unwrap();
}

/// Drops the runs' progress and the notices already received (after the run's end was awaited).
fn discard_chatter(server: &mut TestServer) {
    server.discard(|message| {
        message.get("method").is_some_and(|method| {
            ["planning/progress", "$/progress", "window/showMessage", "window/logMessage"]
                .contains(&method.as_str().unwrap_or(""))
        })
    });
}

fn subtask<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["subtasks"].as_array().and_then(|all| all.iter().find(|step| step["id"] == id)).expect("subtask exists")
}

#[test]
fn over_stdio_a_bug_fix_with_a_failing_baseline_completes_with_before_and_after() {
    let directory = workspace();
    write_buggy_project(directory.path());
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let subtasks = json!([
        { "id": "before", "title": "Run the tests before the change", "agent": "shell", "command": TESTS, "role": "baseline" },
        { "id": "fix", "title": "Fix add", "agent": "shell", "command": FIX, "dependsOn": ["before"] },
        { "id": "after", "title": "Run the tests", "agent": "shell", "command": TESTS, "dependsOn": ["fix"] },
    ]);
    let created = server.call("planning/create", json!({ "task": "fix add", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    assert_eq!(subtask(&created["plan"], "before")["role"], "baseline");
    assert!(subtask(&created["plan"], "fix").get("role").is_none(), "a plain step has no role");
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();
    let events = server.collect_run_events(&run_id);
    let baseline = events
        .iter()
        .find(|event| event["kind"] == "subtaskFinished" && event["subtaskId"] == "before")
        .expect("the baseline finished");
    assert_eq!(baseline["status"], "done", "{baseline}");
    assert!(baseline["result"].as_str().unwrap_or("").starts_with("failing before the change: 1 test"), "{baseline}");
    let last = events.last().expect("planFinished");
    assert_eq!((last["kind"].as_str(), last["status"].as_str()), (Some("planFinished"), Some("completed")), "{last}");
    assert_eq!(last["summary"], "before: 1 failing · after: all passing", "{last}");
    let end = server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    let message = end["value"]["message"].as_str().unwrap_or("");
    assert!(message.ends_with(" · before: 1 failing · after: all passing"), "{message}");

    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["status"], "completed");
    assert_eq!(plan["summary"], "before: 1 failing · after: all passing");
    assert!(plan.get("error").is_none(), "{plan}");
    let exported = server.call("planning/export", json!({ "planId": plan_id }));
    assert!(exported.to_string().contains(r#"role = \"baseline\""#), "{exported}");
    discard_chatter(&mut server);
    server.shutdown_and_exit();
}

#[test]
fn from_the_command_line_a_bug_fix_with_a_failing_baseline_exits_0_with_before_and_after() {
    let directory = workspace();
    write_buggy_project(directory.path());
    let plan = format!(
        "title = \"Fix add\"\n\n[[subtask]]\nid = \"before\"\ntitle = \"Run the tests before the change\"\n\
         agent = \"shell\"\ncommand = \"{TESTS}\"\nrole = \"baseline\"\n\n[[subtask]]\nid = \"fix\"\n\
         title = \"Fix add\"\nagent = \"shell\"\ncommand = \"{FIX}\"\ndepends_on = [\"before\"]\n\n[[subtask]]\n\
         id = \"after\"\ntitle = \"Run the tests\"\nagent = \"shell\"\ncommand = \"{TESTS}\"\ndepends_on = [\"fix\"]\n"
    );
    std::fs::write(directory.path().join("fix.plan.toml"), plan).unwrap();
    let output = Command::new(binary())
        .args(["run", "fix.plan.toml"])
        .current_dir(directory.path())
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run codelab-planner");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("completed: 3/3 done in "), "{stdout}");
    assert!(stdout.contains(" · before: 1 failing · after: all passing (plan "), "{stdout}");
    assert!(stderr.contains("✓ before  Run the tests before the change"), "{stderr}");
    assert!(stderr.contains("· failing before the change: 1 test"), "{stderr}");
}

#[test]
fn a_manual_steps_instructions_speak_plain_words() {
    let directory = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    let subtasks = json!([
        { "id": "edit", "title": "Edit the config by hand...", "agent": "manual",
          "description": "Set the port to 8080 in config.yaml." },
        { "id": "think", "title": "Design the change", "agent": "ask", "dependsOn": ["edit"] },
    ]);
    let created =
        server.call("planning/create", json!({ "task": "edit config", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    for id in ["edit", "think"] {
        let run = run_id.clone();
        let waiting = server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
            params["runId"] == run.as_str() && params["event"]["kind"] == "subtaskWaiting"
        })["event"]
            .clone();
        assert_eq!(waiting["subtaskId"], id);
        seen.push(waiting.clone());
        server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": id }));
    }
    assert_eq!(
        seen[0]["instructions"],
        "This step is yours: Edit the config by hand. Set the port to 8080 in config.yaml."
    );
    assert_eq!(seen[1]["instructions"], "No language model is configured, so this step is yours: Design the change.");
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    discard_chatter(&mut server);
    for event in &seen {
        for field in ["instructions", "message"] {
            let text = event[field].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{event}");
            for name in ["planning/", "withoutModel", "agents.", "llm.", "approval.", ".."] {
                assert!(!text.contains(name), "{name:?} in {field}: {text}");
            }
        }
    }
    server.shutdown_and_exit();
}

#[test]
fn an_unsure_verdict_stays_a_draft_that_execute_refuses_until_approved() {
    let directory = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    // No model: the keywords are unsure, the template plans several steps — complex, reviewed.
    let created = server
        .call("planning/create", json!({ "task": "Profile the parse function and speed it up, then update the docs" }));
    let plan = &created["plan"];
    assert_eq!(plan["status"], "draft");
    assert!(plan["subtasks"].as_array().unwrap().len() > 1, "{plan}");
    assert_eq!(plan["classification"]["isAtomic"], false, "several steps are complex: {}", plan["classification"]);
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let refused = server.call_err("planning/execute", json!({ "planId": plan_id }));
    assert_eq!(refused.data["kind"], "invalidState", "{refused:?}");
    assert!(refused.message.contains("needs approval"), "{}", refused.message);

    // One step, but a low-confidence verdict: still reviewed.
    let created = server.call("planning/create", json!({ "task": "Check the address field", "mode": "direct" }));
    let plan = &created["plan"];
    assert_eq!(plan["classification"]["confidence"], "low", "{}", plan["classification"]);
    assert_eq!(plan["subtasks"].as_array().unwrap().len(), 1);
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let refused = server.call_err("planning/execute", json!({ "planId": plan_id }));
    assert_eq!(refused.data["kind"], "invalidState", "{refused:?}");
    server.call("planning/approve", json!({ "planId": plan_id }));
    let started = server.call("planning/execute", json!({ "planId": plan_id }));
    assert_eq!(started["status"], "running");
    let run_id = started["runId"].as_str().unwrap().to_owned();
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
        params["runId"] == run_id.as_str() && params["event"]["kind"] == "subtaskWaiting"
    });
    server.wait_for_notification("window/showMessage", RUN_TIMEOUT, |_| true);
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["value"]["message"].as_str().is_some_and(|message| message.contains("waiting for you"))
    });
    discard_chatter(&mut server);
    server.shutdown_and_exit();
}
