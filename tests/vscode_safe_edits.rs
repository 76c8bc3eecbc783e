//! In real VS Code (code-server through headless Chromium, `editors/vscode/test/e2e/safe_edits.mjs`),
//! against this crate's binary and the scripted model: the person has `src/lib.rs` open with unsaved
//! Russian text; a coder step edits the same file; the person's unsaved text survives in the editor
//! beside the agent's change, the file on disk is unchanged until they save, and saving writes both.
//! A screenshot of the editor is left in `target/vscode-e2e/safe-edits.png`.

#[path = "support/fake_openai.rs"]
mod fake_openai;
#[path = "support/vscode_e2e.rs"]
mod vscode_e2e;

use std::time::Duration;

use fake_openai::{FakeOpenAi, Reply};
use serde_json::json;

fn call(name: &str, arguments: serde_json::Value) -> Reply {
    Reply::tool_calls(&[(name, &arguments.to_string())])
}

#[test]
fn an_agent_edit_keeps_the_persons_unsaved_text_in_vscode_and_the_disk_waits_for_save() {
    if vscode_e2e::skipped("VS Code safe-edits end-to-end test (code-server + chromium)") {
        return;
    }
    let model = FakeOpenAi::start();
    model.push(call("read_file", json!({ "path": "src/lib.rs" })));
    model.push(call(
        "edit_file",
        json!({ "path": "src/lib.rs", "edits": [{ "search": "    41", "replace": "    42" }] }),
    ));
    model.push(call("attempt_completion", json!({ "result": "the answer is 42" })));
    let scratch = tempfile::tempdir().expect("tempdir");
    let command =
        vscode_e2e::node_e2e_command("safe_edits.mjs", scratch.path(), &[("CODELAB_E2E_MODEL_URL", &model.base_url)]);
    let finished = vscode_e2e::run(command, Duration::from_secs(420), "the VS Code safe-edits test");
    let report = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert!(finished.status.success(), "the VS Code safe-edits test failed ({})\n{report}", finished.status);
    assert!(finished.stdout.contains("vscode safe edits: ok"), "{report}");
    let requests = model.requests();
    assert_eq!(requests.len(), 3, "read, edit, complete: {report}");
    let read_result =
        requests[1].body["messages"].as_array().unwrap().iter().rev().find(|message| message["role"] == "tool");
    let read_result = read_result.map(|message| message["content"].to_string()).unwrap_or_default();
    assert!(read_result.contains("несохранённая правка"), "the agent read the unsaved buffer: {read_result}");
    let screenshot = vscode_e2e::artifacts_dir().join("safe-edits.png");
    assert!(screenshot.is_file(), "no screenshot at {}\n{report}", screenshot.display());
    eprintln!("{}\nscreenshot: {}", finished.stdout, screenshot.display());
}
