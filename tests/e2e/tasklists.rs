//! Task lists as plans over the real binary: `planning/import` of a checklist open in the editor,
//! run, its checkboxes ticked through `workspace/applyEdit` (the person's buffer is the truth),
//! then the lenses ("▶ Run all", each step's outcome) and hover with the last result; a
//! `*.plan.md`'s diagnostics at their line; and `codelab-planner import` / `export --format md` on
//! the command line.

#![allow(clippy::disallowed_methods)] // the command line is run as a person runs it

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, binary, workspace};
use crate::safe_edits::Buffer;

const CHECKLIST: &str = "# Ship it\n\n- [ ] Run `true`\n- [ ] Run `echo second`\n";

fn lens_titles(server: &mut TestServer, uri: &str) -> Vec<(u64, String)> {
    let lenses = server.call("textDocument/codeLens", json!({ "textDocument": { "uri": uri } }));
    let mut titles: Vec<(u64, String)> = lenses
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|lens| {
            let line = lens["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX);
            (line, lens["command"]["title"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    titles.sort();
    titles
}

#[test]
fn an_imported_checklist_open_in_the_editor_ticks_through_apply_edit_and_shows_lenses() {
    let directory = workspace();
    let path = directory.path().join("tasks.md");
    std::fs::write(&path, CHECKLIST).unwrap();
    let mut setup = ServerSetup::new(directory.path());
    setup.apply_edit = true;
    setup.answer_apply_edits = false;
    setup.work_done_progress = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");
    let mut buffer = Buffer::open(&mut server, &path, CHECKLIST);

    let plan = server.call("planning/import", json!({ "path": "tasks.md" }));
    assert_eq!(plan["sourceFile"], "tasks.md", "{plan}");
    assert_eq!(plan["status"], "draft");
    let titles: Vec<&str> = plan["subtasks"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["Run `true`", "Run `echo second`"]);
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let started = server.call("planning/execute", json!({ "planId": plan_id }));
    let run_id = started["runId"].as_str().unwrap().to_owned();

    for _ in 0..2 {
        let (id, params) = server.take_unanswered_request("workspace/applyEdit");
        let edits = params["edit"]["documentChanges"][0]["edits"].as_array().cloned().unwrap_or_default();
        assert_eq!(edits.len(), 1, "one checkbox, not the file: {params}");
        assert_eq!(edits[0]["newText"], "x", "{params}");
        buffer.apply(&mut server, id, &params);
    }
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    let ticked = CHECKLIST.replace("[ ]", "[x]");
    assert_eq!(buffer.text, ticked, "ticked in the editor's buffer");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ticked, "a buffer with nothing unsaved is saved too");

    let lenses = lens_titles(&mut server, &buffer.uri);
    assert!(lenses.contains(&(0, "▶ Run all".to_owned())), "on the title: {lenses:?}");
    assert!(
        lenses.iter().any(|(line, title)| *line == 0 && title.starts_with("last run: completed 2/2")),
        "{lenses:?}"
    );
    for line in [2, 3] {
        let on_line: Vec<&str> = lenses.iter().filter(|(at, _)| *at == line).map(|(_, title)| title.as_str()).collect();
        assert!(on_line.contains(&"▶ Run from here"), "line {line}: {lenses:?}");
        assert!(on_line.iter().any(|title| title.starts_with("✓ done")), "line {line}: {lenses:?}");
    }
    let hover = server.call(
        "textDocument/hover",
        json!({ "textDocument": { "uri": buffer.uri }, "position": { "line": 3, "character": 8 } }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("Last run: ✓ done") && shown.contains("Result:\n```text\nsecond"),
        "hover shows the last result: {shown}"
    );
    // Once imported, the list is a plan file: its (clean) diagnostics follow each tick.
    server.discard(|message| message["method"] == "textDocument/publishDiagnostics");
    server.shutdown_and_exit();
}

#[test]
fn a_plan_md_gets_diagnostics_at_the_line_of_the_problem() {
    let directory = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(directory.path()));
    server.take_server_request("workspace/configuration");
    let uri = format!("file://{}", directory.path().join("release.plan.md").display());
    let text = "# Release\n\n- [ ] T001 Build\n- [ ] T002 Publish (depends on T009)\n- [] T003 Announce\n";
    let document = json!({ "uri": uri, "languageId": "markdown", "version": 1, "text": text });
    server.notify("textDocument/didOpen", json!({ "textDocument": document }));
    let wanted = uri.clone();
    let params = server.wait_for_notification("textDocument/publishDiagnostics", REQUEST_TIMEOUT, move |params| {
        params["uri"] == wanted.as_str()
    });
    let found: Vec<(u64, u64, String)> = params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| {
            let start = &diagnostic["range"]["start"];
            let message = diagnostic["message"].as_str().unwrap_or("").to_owned();
            (start["line"].as_u64().unwrap(), diagnostic["severity"].as_u64().unwrap(), message)
        })
        .collect();
    assert_eq!(
        found,
        vec![(3, 1, "unknown subtask \"T009\"".to_owned()), (4, 2, "an empty checkbox `[]`: write `[ ]`".to_owned()),]
    );
    server.shutdown_and_exit();
}

fn cli(dir: &std::path::Path, arguments: &[&str]) -> (i32, String, String) {
    let output = Command::new(binary())
        .args(arguments)
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run codelab-planner");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[test]
fn the_command_line_imports_a_taskmaster_file_and_exports_markdown() {
    let directory = workspace();
    let tasks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tasklists/taskmaster-tasks.json");
    std::fs::create_dir_all(directory.path().join(".taskmaster/tasks")).unwrap();
    std::fs::copy(&tasks, directory.path().join(".taskmaster/tasks/tasks.json")).unwrap();

    let (code, stdout, stderr) = cli(directory.path(), &["import", ".taskmaster/tasks/tasks.json", "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let plan: Value = serde_json::from_str(&stdout).expect("the plan as JSON");
    assert_eq!(plan["sourceFile"], ".taskmaster/tasks/tasks.json");
    let ids: Vec<&str> = plan["subtasks"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec!["1", "2.1", "2.2", "2.3", "3", "4.1", "4.2", "4.3", "5", "6", "7.1", "7.2", "8", "9", "10", "11"]
    );

    let plan_id = plan["id"].as_str().unwrap();
    let (code, markdown, stderr) = cli(directory.path(), &["export", plan_id, "--format", "md"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(markdown.starts_with("# tasks.json\n\nTasks for the todo service\n\n"), "{markdown}");
    assert!(markdown.contains("- [ ] 2.2 Write the schema migration\n"), "{markdown}");
    assert!(
        markdown.contains("- [ ] 8 Run `npm test`\n") || markdown.contains("- [ ] Run `npm test`\n  - id: 8\n"),
        "{markdown}"
    );
    std::fs::write(directory.path().join("again.plan.md"), &markdown).unwrap();
    let (code, again, stderr) = cli(directory.path(), &["import", "again.plan.md", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let again: Value = serde_json::from_str(&again).unwrap();
    let shape = |plan: &Value| -> Vec<(Value, Value, Value)> {
        plan["subtasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["id"].clone(), s["title"].clone(), s["dependsOn"].clone()))
            .collect()
    };
    assert_eq!(shape(&again), shape(&plan), "the markdown export imports to the same steps");

    let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tasklists/spec-kit-template.md");
    std::fs::create_dir_all(directory.path().join("specs")).unwrap();
    std::fs::copy(&template, directory.path().join("specs/tasks.md")).unwrap();
    let (code, stdout, stderr) = cli(directory.path(), &["import", "specs/tasks.md"]);
    assert_eq!(code, 0, "warnings do not stop an import: {stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|line| line.contains(": warning: ")).collect();
    assert_eq!(warnings.len(), 6, "{stderr}");
    assert!(
        warnings[0].starts_with("specs/tasks.md:147:7: warning: `TXXX` is a placeholder: this step is numbered T029"),
        "{stderr}"
    );
    assert!(stdout.contains("T034"), "{stdout}");

    let (code, _, stderr) = cli(directory.path(), &["import", "nothing-here.md"]);
    assert_ne!(code, 0, "a missing file is refused");
    assert!(stderr.contains("nothing-here.md"), "the file is named: {stderr}");
}
