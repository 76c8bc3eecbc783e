//! The command line, run as the real binary: exit codes, the `--json` event stream, Ctrl-C in
//! the middle of a run, a command line and a language server on one database, and `export`
//! then `run` giving the same plan back; steps that wait for a person (failed at once with no
//! terminal, asked about in a pseudo-terminal) and `complete`.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};

use serde_json::{Value, json};

use crate::harness::{
    REQUEST_TIMEOUT, RUN_TIMEOUT, ServerSetup, TestServer, binary, eventually, process_is_gone, read_pid_file,
    workspace,
};

fn command(dir: &Path, arguments: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command.args(arguments).current_dir(dir).env("CODELAB_PLANNER_LOG", "warn").stdin(Stdio::null());
    // No user settings file (the developer's own is never read).
    command.env("XDG_CONFIG_HOME", dir.join(".test-user-config"));
    command
}

fn run(dir: &Path, arguments: &[&str]) -> Output {
    command(dir, arguments).output().expect("run codelab-planner")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json_lines(output: &Output) -> Vec<Value> {
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not json: {line:?}: {error}")))
        .collect()
}

const PASSING: &str = r#"title = "Two steps"

[[subtask]]
id = "hello"
title = "Say hello"
agent = "shell"
command = "echo hello"

[[subtask]]
id = "where"
title = "Say where"
agent = "shell"
command = "pwd"
cwd = "sub"
depends_on = ["hello"]
"#;

fn write_plan(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn exit_codes_say_whether_every_subtask_is_done() {
    let dir = workspace();
    write_plan(dir.path(), "ok.plan.toml", PASSING);
    let passed = run(dir.path(), &["run", "ok.plan.toml"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stderr));
    assert!(text(&passed.stdout).starts_with("completed: 2/2 done in "), "{}", text(&passed.stdout));
    assert!(text(&passed.stderr).contains("✓ where  Say where"), "{}", text(&passed.stderr));
    assert!(!text(&passed.stderr).contains("hello │ hello"), "output only with --verbose");
    let verbose = run(dir.path(), &["run", "ok.plan.toml", "--verbose", "--max-parallel", "1", "--fail-fast"]);
    assert_eq!(verbose.status.code(), Some(0), "{}", text(&verbose.stderr));
    assert!(text(&verbose.stderr).contains("  hello │ hello"), "{}", text(&verbose.stderr));

    let failing = PASSING
        .replace("echo hello", "exit 4")
        .replace("title = \"Say hello\"", "title = \"Say hello\"\nmax_attempts = 1");
    write_plan(dir.path(), "failing.plan.toml", &failing);
    let failed = run(dir.path(), &["run", "failing.plan.toml"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(text(&failed.stdout).starts_with("failed: 0/2 done, 1 failed, 1 skipped"), "{}", text(&failed.stdout));

    write_plan(dir.path(), "bad.plan.toml", &PASSING.replace("[\"hello\"]", "[\"ghost\"]"));
    let refused = run(dir.path(), &["run", "bad.plan.toml"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("bad.plan.toml:15:15: error: unknown subtask \"ghost\""),
        "{}",
        text(&refused.stderr)
    );
    let missing = run(dir.path(), &["show", "no-such-plan"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("plan no-such-plan not found"), "{}", text(&missing.stderr));
}

#[test]
fn a_clean_run_leaves_its_data_in_the_database_file_not_in_the_write_ahead_log() {
    let dir = workspace();
    let steps: String = (0..30)
        .map(|index| format!("\n[[subtask]]\nid = \"s{index}\"\ntitle = \"Step {index}\"\nagent = \"shell\"\ncommand = \"echo {index}\"\n"))
        .collect();
    write_plan(dir.path(), "many.plan.toml", &format!("title = \"Thirty steps\"\n{steps}"));
    let passed = run(dir.path(), &["run", "many.plan.toml"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed.stderr));
    let database = dir.path().join(".codelab/planner.db");
    let wal = dir.path().join(".codelab/planner.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |metadata| metadata.len());
    assert_eq!(wal_bytes, 0, "the write-ahead log is truncated on exit");
    // The database file alone holds the plan: a copy of it without the log reads back.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&database, &copy).unwrap();
    let connection = rusqlite::Connection::open(&copy).unwrap();
    let plans: i64 = connection.query_row("SELECT count(*) FROM plans", [], |row| row.get(0)).unwrap();
    assert_eq!(plans, 1);
}

#[test]
fn the_json_stream_is_one_event_object_a_line() {
    let dir = workspace();
    write_plan(dir.path(), "ok.plan.toml", PASSING);
    let output = run(dir.path(), &["run", "ok.plan.toml", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let lines = json_lines(&output);
    let kinds: Vec<&str> = lines.iter().map(|line| line["event"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"planStarted"));
    assert_eq!(kinds.last(), Some(&"planFinished"));
    assert_eq!(kinds.iter().filter(|kind| **kind == "planFinished").count(), 1);
    assert_eq!(kinds.iter().filter(|kind| **kind == "subtaskFinished").count(), 2);
    for line in &lines {
        assert_eq!(line["planId"], lines[0]["planId"]);
        assert_eq!(line["runId"], lines[0]["runId"]);
    }
    let finished =
        lines.iter().find(|line| line["event"]["subtaskId"] == "where" && line["event"]["kind"] == "subtaskFinished");
    let result = finished.unwrap()["event"]["result"].as_str().unwrap().trim().to_owned();
    assert!(result.ends_with("/sub"), "cwd is used: {result}");
    assert_eq!(lines.last().unwrap()["event"]["status"], "completed");
}

const LONG: &str = r#"title = "Long"

[[subtask]]
id = "sleeper"
title = "Sleep"
agent = "shell"
command = "echo $$ > sleeper.pid; exec sleep 60"

[[subtask]]
id = "after"
title = "After"
agent = "shell"
command = "echo after"
depends_on = ["sleeper"]
"#;

/// A command line running [`LONG`] with `--json`, once its sleeping step runs: the child, its
/// stdout lines, the plan id and the sleeping process's pid.
fn start_long_run(dir: &Path) -> (Child, Receiver<String>, String, i32) {
    write_plan(dir, "long.plan.toml", LONG);
    let mut child = command(dir, &["run", "long.plan.toml", "--json"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let started = received.recv_timeout(REQUEST_TIMEOUT).expect("planStarted");
    let plan_id = serde_json::from_str::<Value>(&started).unwrap()["planId"].as_str().unwrap().to_owned();
    let sleeper = read_pid_file(&dir.join("sleeper.pid"));
    (child, received, plan_id, sleeper)
}

/// Waits for the run's last event and the command line's exit; checks both say `cancelled`
/// (exit 130) and that the sleeping step is gone and the plan stored `cancelled`.
fn expect_cancelled(dir: &Path, mut child: Child, received: &Receiver<String>, plan_id: &str, sleeper: i32) {
    let mut last = Value::Null;
    while let Ok(line) = received.recv_timeout(RUN_TIMEOUT) {
        last = serde_json::from_str(&line).unwrap();
    }
    assert_eq!(last["event"]["kind"], "planFinished");
    assert_eq!(last["event"]["status"], "cancelled");
    let mut status = None;
    eventually("the command line exits", RUN_TIMEOUT, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(130));
    eventually("the sleeping step is gone", REQUEST_TIMEOUT, || process_is_gone(sleeper));
    let shown = run(dir, &["show", plan_id, "--json"]);
    let plan = json_lines(&shown).remove(0);
    assert_eq!(plan["status"], "cancelled");
    let statuses: Vec<&str> =
        plan["subtasks"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["cancelled", "cancelled"]);
}

#[test]
fn ctrl_c_mid_run_cancels_the_plan_and_leaves_no_process() {
    let dir = workspace();
    let (child, received, plan_id, sleeper) = start_long_run(dir.path());
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    expect_cancelled(dir.path(), child, &received, &plan_id, sleeper);
}

#[test]
fn cancel_from_another_command_line_stops_the_run() {
    let dir = workspace();
    let (child, received, plan_id, sleeper) = start_long_run(dir.path());
    let cancelled = run(dir.path(), &["cancel", &plan_id]);
    assert_eq!(cancelled.status.code(), Some(0), "{}", text(&cancelled.stderr));
    let said = text(&cancelled.stdout);
    assert!(
        said.starts_with(&format!(
            "cancelled: {plan_id} is cancelled; interrupted the command line running it (pid {})",
            child.id()
        )),
        "{said}"
    );
    expect_cancelled(dir.path(), child, &received, &plan_id, sleeper);
}

#[test]
fn a_command_line_and_a_server_share_one_database() {
    let dir = workspace();
    write_plan(dir.path(), "ok.plan.toml", PASSING);
    let mut setup = ServerSetup::new(dir.path());
    setup.configuration = None;
    let (mut server, _) = TestServer::start(setup);
    let subtasks = json!([{ "id": "x", "title": "X", "agent": "shell", "command": "true" }]);
    let created =
        server.call("planning/create", json!({ "task": "from the editor", "mode": "plan", "subtasks": subtasks }));
    let editor_plan = created["plan"]["id"].as_str().unwrap().to_owned();

    let listed = json_lines(&run(dir.path(), &["list", "--json"])).remove(0);
    assert_eq!(listed["plans"][0]["id"], editor_plan.as_str());
    let ran = run(dir.path(), &["run", "ok.plan.toml", "--json"]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    let cli_plan = json_lines(&ran)[0]["planId"].as_str().unwrap().to_owned();
    // The server shows the command line's run to its editor, to its one end.
    let cli_run = json_lines(&ran)[0]["runId"].as_str().unwrap().to_owned();
    assert_eq!(server.collect_run_events(&cli_run).last().unwrap()["status"], "completed");
    let token = json!(format!("codelab-planner/run/{cli_run}"));
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["token"] == token && params["value"]["kind"] == "end"
    });
    let approved = run(dir.path(), &["approve", &editor_plan]);
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved.stderr));

    let seen = server.call("planning/get", json!({ "planId": cli_plan }));
    assert_eq!((seen["status"].as_str(), seen["sourceFile"].as_str()), (Some("completed"), Some("ok.plan.toml")));
    assert_eq!(server.call("planning/get", json!({ "planId": editor_plan }))["status"], "approved");
    let started = server.call("planning/execute", json!({ "planId": editor_plan }));
    let events = server.collect_run_events(started["runId"].as_str().unwrap());
    // The command line's run shows too (with its own token): wait for the end of this one.
    let token = json!(format!("codelab-planner/run/{}", started["runId"].as_str().unwrap()));
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["token"] == token && params["value"]["kind"] == "end"
    });
    assert_eq!(events.last().unwrap()["status"], "completed");

    // A run the server owns is left to the editor.
    let long =
        json!([{ "id": "wait", "title": "Wait", "agent": "shell", "command": "echo $$ > wait.pid; exec sleep 60" }]);
    let created = server.call("planning/create", json!({ "task": "a long one", "mode": "plan", "subtasks": long }));
    let long_plan = created["plan"]["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": long_plan }));
    let started = server.call("planning/execute", json!({ "planId": long_plan }));
    read_pid_file(&dir.path().join("wait.pid"));
    let refused = run(dir.path(), &["cancel", &long_plan]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stdout).contains("it runs in a language server (pid "), "{}", text(&refused.stdout));
    server.call("planning/cancel", json!({ "planId": long_plan }));
    let events = server.collect_run_events(started["runId"].as_str().unwrap());
    let token = json!(format!("codelab-planner/run/{}", started["runId"].as_str().unwrap()));
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| {
        params["token"] == token && params["value"]["kind"] == "end"
    });
    assert_eq!(events.last().unwrap()["status"], "cancelled");
    server.discard(|message| matches!(message["method"].as_str(), Some("planning/progress" | "$/progress")));
    server.shutdown_and_exit();
}

#[test]
fn export_then_run_reproduces_the_plan() {
    let dir = workspace();
    write_plan(dir.path(), "ok.plan.toml", PASSING);
    let first = run(dir.path(), &["run", "ok.plan.toml", "--json"]);
    let first_id = json_lines(&first)[0]["planId"].as_str().unwrap().to_owned();
    let exported = run(dir.path(), &["export", &first_id]);
    assert_eq!(exported.status.code(), Some(0), "{}", text(&exported.stderr));
    std::fs::write(dir.path().join("copy.plan.toml"), &exported.stdout).unwrap();
    let second = run(dir.path(), &["run", "copy.plan.toml", "--json"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let second_id = json_lines(&second)[0]["planId"].as_str().unwrap().to_owned();
    let shape = |plan_id: &str| {
        let plan = json_lines(&run(dir.path(), &["show", plan_id, "--json"])).remove(0);
        let subtasks: Vec<Value> = plan["subtasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                json!([
                    s["id"],
                    s["title"],
                    s["agent"],
                    s["command"],
                    s["cwd"],
                    s["dependsOn"],
                    s["maxAttempts"],
                    s["status"]
                ])
            })
            .collect();
        (plan["title"].clone(), plan["goal"].clone(), subtasks)
    };
    assert_eq!(shape(&first_id), shape(&second_id));
    let listed = json_lines(&run(dir.path(), &["list", "--json"])).remove(0);
    assert_eq!(listed["plans"].as_array().unwrap().len(), 2);
}

#[test]
fn retry_runs_what_did_not_finish_and_new_asks_before_running() {
    let dir = workspace();
    let plan = r#"title = "Flaky"

[[subtask]]
id = "flaky"
title = "Fails the first time"
agent = "shell"
command = "test -f marker || { touch marker; exit 1; }"
max_attempts = 1

[[subtask]]
id = "after"
title = "After"
agent = "shell"
command = "echo after"
depends_on = ["flaky"]
"#;
    write_plan(dir.path(), "flaky.plan.toml", plan);
    let first = run(dir.path(), &["run", "flaky.plan.toml", "--json"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let plan_id = json_lines(&first)[0]["planId"].as_str().unwrap().to_owned();
    let retried = run(dir.path(), &["retry", &plan_id]);
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert!(text(&retried.stdout).starts_with("completed: 2/2 done"), "{}", text(&retried.stdout));

    let planned = run(dir.path(), &["new", "add a settings page and write tests for it", "--json"]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let plan = json_lines(&planned).remove(0);
    assert!(!plan["subtasks"].as_array().unwrap().is_empty(), "{plan}");
    let unconfirmed = run(dir.path(), &["new", "add a settings page and write tests for it", "--run"]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    assert!(
        text(&unconfirmed.stderr).contains("no terminal to confirm the run: pass --yes to run without asking"),
        "{}",
        text(&unconfirmed.stderr)
    );
}

#[test]
fn fail_fast_stops_starting_steps_after_a_failure() {
    let dir = workspace();
    let plan = r#"title = "Independent"

[[subtask]]
id = "broken"
title = "Broken"
agent = "shell"
command = "exit 1"
max_attempts = 1

[[subtask]]
id = "fine"
title = "Fine"
agent = "shell"
command = "echo fine"
"#;
    write_plan(dir.path(), "independent.plan.toml", plan);
    let statuses = |arguments: &[&str]| {
        let output = run(dir.path(), arguments);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        let plan_id = json_lines(&output)[0]["planId"].as_str().unwrap().to_owned();
        let plan = json_lines(&run(dir.path(), &["show", &plan_id, "--json"])).remove(0);
        let subtasks = plan["subtasks"].as_array().unwrap().clone();
        subtasks.iter().map(|subtask| subtask["status"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let base = ["run", "independent.plan.toml", "--json", "--max-parallel", "1"];
    assert_eq!(statuses(&base), ["failed", "done"]);
    let fail_fast: Vec<&str> = base.iter().copied().chain(["--fail-fast"]).collect();
    let stopped = statuses(&fail_fast);
    assert_eq!(stopped[0], "failed");
    assert_ne!(stopped[1], "done", "{stopped:?}");
}

/// In a terminal (a pseudo-terminal from `script`, util-linux) the live display draws the overall
/// bar and still prints each finished step and the summary.
#[test]
fn the_live_display_draws_in_a_terminal() {
    let dir = workspace();
    write_plan(dir.path(), "ok.plan.toml", PASSING);
    let line = format!("{} run ok.plan.toml", binary());
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path())
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let shown = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(shown.contains("▶ Two steps (2 steps)"), "{shown}");
    assert!(shown.contains("✓ hello  Say hello"), "{shown}");
    assert!(["] 0/2", "] 1/2", "] 2/2"].iter().any(|bar| shown.contains(bar)), "the overall bar: {shown}");
    assert!(shown.contains("completed: 2/2 done in "), "{shown}");
}

const MANUAL: &str = r#"title = "By hand"

[[subtask]]
id = "edit"
title = "Edit the config by hand"
agent = "manual"

[[subtask]]
id = "check"
title = "Check"
agent = "shell"
command = "echo checked > checked.txt"
depends_on = ["edit"]
"#;

fn show_json(dir: &Path, plan_id: &str) -> Value {
    let shown = run(dir, &["--json", "show", plan_id]);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    serde_json::from_slice(&shown.stdout).unwrap()
}

fn statuses(plan: &Value) -> Vec<String> {
    plan["subtasks"].as_array().unwrap().iter().map(|step| step["status"].as_str().unwrap().to_owned()).collect()
}

/// The newest plan's id (`list --json`).
fn newest_plan_id(dir: &Path) -> String {
    let listed = run(dir, &["--json", "list"]);
    let page: Value = serde_json::from_slice(&listed.stdout).unwrap();
    page["plans"][0]["id"].as_str().unwrap().to_owned()
}

/// With no terminal (or under `--json`) nobody can answer: the step is left waiting, not failed,
/// the command says how to finish it with `codelab-planner complete` and exits 1, and the plan
/// resumes once it is done.
#[test]
fn with_no_terminal_a_step_for_a_person_is_left_waiting_and_the_plan_resumes() {
    let dir = workspace();
    write_plan(dir.path(), "manual.plan.toml", MANUAL);
    let plain = run(dir.path(), &["run", "manual.plan.toml"]);
    let stderr = text(&plain.stderr);
    assert_eq!(plain.status.code(), Some(1), "{stderr}");
    let plan_id = newest_plan_id(dir.path());
    assert_eq!(stderr.matches("Edit the config by hand").count(), 1, "said once: {stderr}");
    assert!(stderr.contains("⏸ edit  waiting for you: This step is yours: Edit the config by hand."), "{stderr}");
    let finish = format!(
        "left waiting: edit; the plan is kept ({plan_id}). Finish with `codelab-planner complete {plan_id} edit`, \
         then `codelab-planner retry {plan_id}`"
    );
    assert!(stderr.contains(&finish), "{stderr}");
    assert!(!stderr.contains("planning/"), "no protocol names for terminal users: {stderr}");
    let plan = show_json(dir.path(), &plan_id);
    assert_eq!(plan["status"], "interrupted");
    assert_eq!(statuses(&plan), ["waiting", "pending"]);

    let completed = run(dir.path(), &["complete", &plan_id, "edit"]);
    assert_eq!(completed.status.code(), Some(0), "{}", text(&completed.stderr));
    let resumed = run(dir.path(), &["retry", &plan_id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert!(dir.path().join("checked.txt").exists());
    assert_eq!(statuses(&show_json(dir.path(), &plan_id)), ["done", "done"]);

    let json = run(dir.path(), &["--json", "run", "manual.plan.toml"]);
    assert_eq!(json.status.code(), Some(1), "{}", text(&json.stderr));
    let events = json_lines(&json);
    let waiting = events.iter().find(|event| event["event"]["kind"] == "subtaskWaiting").expect("subtaskWaiting");
    let instructions = waiting["event"]["instructions"].as_str().unwrap_or_default();
    assert_eq!(instructions, "This step is yours: Edit the config by hand.", "{waiting}");
    let plan_id = newest_plan_id(dir.path());
    assert!(text(&json.stderr).contains(&format!("codelab-planner complete {plan_id} edit")), "{}", text(&json.stderr));
    assert_eq!(statuses(&show_json(dir.path(), &plan_id)), ["waiting", "pending"]);
}

/// Runs `arguments` in a pseudo-terminal (`script`, util-linux) and types `typed` into it; stdin
/// stays open until the command ends, so the answer is the only thing the prompt reads.
fn run_in_terminal(dir: &Path, arguments: &str, typed: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let line = format!("{} {arguments}", binary());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(typed.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let (sender, received) = channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = received.recv_timeout(RUN_TIMEOUT).expect("the command ends").unwrap();
    drop(stdin);
    (output.status.code(), text(&output.stdout))
}

#[test]
fn in_a_terminal_the_person_is_asked_and_yes_lets_the_dependents_run() {
    let dir = workspace();
    write_plan(dir.path(), "manual.plan.toml", MANUAL);
    let (code, shown) = run_in_terminal(dir.path(), "run manual.plan.toml", "y\n");
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("Edit the config by hand"), "{shown}");
    assert!(shown.contains("— done? [y]es / [f]ailed / [s]kip for now"), "{shown}");
    assert!(shown.contains("completed: 2/2 done in "), "{shown}");
    assert!(dir.path().join("checked.txt").exists());
    let plan = show_json(dir.path(), &newest_plan_id(dir.path()));
    assert_eq!(statuses(&plan), ["done", "done"]);

    // An answer it does not understand asks again; `f` fails the step and skips its dependent.
    let (code, shown) = run_in_terminal(dir.path(), "run manual.plan.toml", "maybe\nf\n");
    assert_eq!(code, Some(1), "{shown}");
    assert_eq!(shown.matches("[s]kip for now").count(), 2, "{shown}");
    let plan = show_json(dir.path(), &newest_plan_id(dir.path()));
    assert_eq!(statuses(&plan), ["failed", "skipped"]);
    assert_eq!(plan["subtasks"][0]["error"], "marked failed at the terminal", "{plan}");
}

/// A manual step beside a shell step that finishes while the person is being asked: the line
/// about the finished step appears, the question itself is shown once (then only the keys).
#[test]
fn in_a_terminal_each_question_is_shown_once_while_other_steps_finish() {
    use std::io::{Read, Write};
    let dir = workspace();
    let plan = r#"title = "Meanwhile"

[[subtask]]
id = "edit"
title = "Edit the config by hand"
agent = "manual"

[[subtask]]
id = "later"
title = "Wait for the go file"
agent = "shell"
command = "while [ ! -f go ]; do sleep 0.05; done; echo went"
"#;
    write_plan(dir.path(), "meanwhile.plan.toml", plan);
    let line = format!("{} run meanwhile.plan.toml", binary());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path())
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (sender, received) = channel();
    std::thread::spawn(move || {
        let mut chunk = [0_u8; 4096];
        while let Ok(count @ 1..) = stdout.read(&mut chunk) {
            if sender.send(chunk[..count].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    let read_until = |needle: &str, shown: &mut String| {
        while !shown.contains(needle) {
            let chunk = received.recv_timeout(RUN_TIMEOUT).unwrap_or_else(|_| panic!("no {needle:?}: {shown}"));
            shown.push_str(&text(&chunk));
        }
    };
    read_until("[s]kip for now", &mut shown);
    std::fs::write(dir.path().join("go"), "").unwrap();
    read_until("✓ later  Wait for the go file", &mut shown);
    read_until("edit: [y/f/s]", &mut shown);
    stdin.write_all(b"y\n").unwrap();
    stdin.flush().unwrap();
    while let Ok(chunk) = received.recv_timeout(RUN_TIMEOUT) {
        shown.push_str(&text(&chunk));
    }
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(0), "{shown}");
    assert_eq!(shown.matches("yours: Edit the config by hand").count(), 1, "the question once: {shown}");
    assert_eq!(shown.matches("[s]kip for now").count(), 1, "{shown}");
    assert!(shown.contains("completed: 2/2 done in "), "{shown}");
}

#[test]
fn a_step_left_waiting_is_completed_from_the_command_line_and_the_plan_resumes() {
    let dir = workspace();
    write_plan(dir.path(), "manual.plan.toml", MANUAL);
    let (code, shown) = run_in_terminal(dir.path(), "run manual.plan.toml", "s\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("left waiting: edit"), "{shown}");
    let plan_id = newest_plan_id(dir.path());
    let plan = show_json(dir.path(), &plan_id);
    assert_eq!(plan["status"], "interrupted");
    assert_eq!(statuses(&plan), ["waiting", "pending"]);

    let refused = run(dir.path(), &["complete", &plan_id, "check"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("cannot complete subtask \"check\" while it is pending"),
        "{}",
        text(&refused.stderr)
    );
    let completed = run(dir.path(), &["complete", &plan_id, "edit", "--result", "edited by hand"]);
    assert_eq!(completed.status.code(), Some(0), "{}", text(&completed.stderr));
    assert!(text(&completed.stdout).starts_with("edit is done"), "{}", text(&completed.stdout));
    assert_eq!(show_json(dir.path(), &plan_id)["subtasks"][0]["result"], "edited by hand");
    let resumed = run(dir.path(), &["retry", &plan_id]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert!(dir.path().join("checked.txt").exists());
    assert_eq!(statuses(&show_json(dir.path(), &plan_id)), ["done", "done"]);
}

#[test]
fn ctrl_c_at_the_question_cancels_the_run() {
    use std::io::{Read, Write};
    let dir = workspace();
    write_plan(dir.path(), "manual.plan.toml", MANUAL);
    let line = format!("{} run manual.plan.toml", binary());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir.path())
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (sender, received) = channel();
    std::thread::spawn(move || {
        let mut chunk = [0_u8; 4096];
        while let Ok(count @ 1..) = stdout.read(&mut chunk) {
            if sender.send(chunk[..count].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    while !shown.contains("[s]kip for now") {
        let chunk = received.recv_timeout(RUN_TIMEOUT).unwrap_or_else(|_| panic!("no question: {shown}"));
        shown.push_str(&text(&chunk));
    }
    stdin.write_all(b"\x03").unwrap();
    stdin.flush().unwrap();
    while let Ok(chunk) = received.recv_timeout(RUN_TIMEOUT) {
        shown.push_str(&text(&chunk));
    }
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(130), "{shown}");
    assert!(shown.contains("interrupted: cancelling the run"), "{shown}");
    let plan = show_json(dir.path(), &newest_plan_id(dir.path()));
    assert_eq!(plan["status"], "cancelled");
    assert_eq!(statuses(&plan), ["cancelled", "cancelled"]);
}

/// `complete` on a plan a language server is running is refused and changes nothing; the
/// server's run still takes the answer.
#[test]
fn complete_leaves_a_step_of_a_server_run_to_the_server() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.configuration = None;
    let (mut server, _) = TestServer::start(setup);
    let subtasks = json!([
        { "id": "edit", "title": "Edit by hand", "agent": "manual" },
        { "id": "check", "title": "Check", "agent": "shell", "command": "true", "dependsOn": ["edit"] },
    ]);
    let created = server.call("planning/create", json!({ "task": "by hand", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let run_id = server.call("planning/execute", json!({ "planId": plan_id }))["runId"].as_str().unwrap().to_owned();
    let run_of = run_id.clone();
    server.wait_for_notification("planning/progress", RUN_TIMEOUT, move |params| {
        params["runId"] == run_of.as_str() && params["event"]["kind"] == "subtaskWaiting"
    });

    let refused = run(dir.path(), &["complete", &plan_id, "edit"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("is running in another codelab-planner process"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(statuses(&show_json(dir.path(), &plan_id)), ["waiting", "pending"]);
    server.call("planning/complete", json!({ "planId": plan_id, "subtaskId": "edit" }));
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    server.discard(|message| matches!(message["method"].as_str(), Some("planning/progress" | "$/progress")));
    server.shutdown_and_exit();
}
