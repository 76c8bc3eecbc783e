//! The VS Code extension (`editors/vscode`): its TypeScript type check and unit tests (node's test
//! runner), its `.vsix` package (`@vscode/vsce`), and the whole flows in real VS Code — one
//! code-server with the packaged `.vsix`, driven through headless Chromium by
//! `editors/vscode/test/e2e/run.mjs` against this crate's binary and, for the flow with a model,
//! the scripted OpenAI-compatible server (`tests/support/fake_openai.rs`). Screenshots of every
//! step and VS Code's logs stay in `target/vscode-e2e/`.
//!
//! What it needs is installed by `tests/setup/vscode.sh` (which writes
//! `editors/vscode/.e2e-tools.json`). When that has not run the tests fail and say so, unless
//! `CODELAB_SKIP_VSCODE=1` (then they print a loud skip line). The tests start npm, node and
//! code-server themselves, so they are allowed what `clippy.toml` reserves for `engine::process`.
#![allow(clippy::disallowed_methods)]

#[path = "support/fake_openai.rs"]
mod fake_openai;
#[path = "support/vscode_e2e.rs"]
mod vscode_e2e;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fake_openai::{FakeOpenAi, Reply};
use serde_json::json;
use vscode_e2e::{artifacts_dir, extension_dir, npm, packaged_vsix, path_with, run, skipped, tools};

#[test]
fn extension_unit_tests_pass_and_it_packages_as_a_vsix() {
    if skipped("VS Code extension unit tests") {
        return;
    }
    let vsix = packaged_vsix();
    let size = std::fs::metadata(&vsix).expect("vsix").len();
    assert!(size > 10_000, "{} is only {size} bytes", vsix.display());
    let finished = npm("test", Duration::from_secs(180));
    let report = format!("{}{}", finished.stdout, finished.stderr);
    assert!(report.contains("# fail 0"), "the unit tests did not all pass:\n{report}");
    let passed = report.lines().find(|line| line.starts_with("# pass")).unwrap_or("# pass ?");
    eprintln!("extension unit tests: {passed}");
}

/// What the scripted model answers, in order: the plan, the revised plan (slowly, so the revise's
/// progress shows), the coder's file write (asked about first), its completion; then the record
/// flow's coder (`flows_record.mjs`): an edit of README.md (asked about), a new docs/usage.md
/// (covered by "Allow for this plan"), its completion.
fn script_the_model(model: &FakeOpenAi) {
    let coder = json!({
        "id": "s1",
        "title": "Описать флаг --verbose в NOTES.md, с примерами вывода для каждой команды интерфейса",
        "description": "Write NOTES.md:\nwhat --verbose prints,\nwith an example.",
        "agent": "coder",
        "dependsOn": [],
    });
    let plan = json!({
        "isAtomic": false, "agent": "plan", "confidence": "high", "reason": "several steps",
        "title": "Флаг --verbose для командной строки",
        "subtasks": [coder],
    });
    let mut revised = plan.clone();
    revised["subtasks"] = json!([
        coder,
        { "id": "s2", "title": "Run the tests", "description": "Run them", "agent": "shell",
          "command": "echo 'tests: 3 passed'; echo 'docs: ok'", "dependsOn": ["s1"] },
    ]);
    model.push(Reply::json(&plan).with_usage(300, 40));
    model.push(Reply::json(&revised).with_usage(320, 60).delayed(Duration::from_millis(2500)));
    let write = json!({ "path": "NOTES.md", "content": "# --verbose\n\nprints every step.\n" });
    model.push(Reply::tool_calls(&[("write_file", &write.to_string())]).with_usage(100, 10));
    let done = json!({ "result": "NOTES.md documents --verbose" });
    model.push(Reply::tool_calls(&[("attempt_completion", &done.to_string())]).with_usage(100, 10));
    let readme = json!({ "path": "README.md", "edits": [{ "search": "Run it.",
        "replace": "Run it with `cargo run`.\nПо-русски: запустите её." }] });
    model.push(Reply::tool_calls(&[("edit_file", &readme.to_string())]));
    let usage = json!({ "path": "docs/usage.md", "content": "Run `cargo run`.\n" });
    model.push(Reply::tool_calls(&[("write_file", &usage.to_string())]));
    let documented = json!({ "result": "documented how to run it" });
    model.push(Reply::tool_calls(&[("attempt_completion", &documented.to_string())]));
}

#[test]
fn vscode_whole_flows_without_and_with_a_model_fail_on_any_error() {
    if skipped("VS Code end-to-end test (code-server + chromium)") {
        return;
    }
    let tools = tools();
    let vsix = packaged_vsix();
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let scratch = tempfile::tempdir().expect("tempdir");
    let model = FakeOpenAi::start();
    script_the_model(&model);
    let mut command = Command::new(&tools.node);
    command
        .arg(extension_dir().join("test/e2e/run.mjs"))
        .current_dir(extension_dir())
        .env("CODELAB_E2E_SERVER", env!("CARGO_BIN_EXE_codelab-planner"))
        .env("CODELAB_E2E_CODE_SERVER", &tools.code_server)
        .env("CODELAB_E2E_CHROMIUM", &tools.chromium)
        .env("CODELAB_E2E_VSIX", &vsix)
        .env("CODELAB_E2E_ARTIFACTS", &artifacts)
        .env("CODELAB_E2E_SCRATCH", scratch.path())
        .env("CODELAB_E2E_OPENAI", &model.base_url)
        // The extension must find the server through its User setting, not the environment.
        .env_remove("CODELAB_PLANNER_SERVER_PATH")
        // code-server must find Node 24 for its own child processes.
        .env("PATH", path_with(tools.node.parent().unwrap_or(Path::new("/"))));
    let started = Instant::now();
    let finished = run(command, Duration::from_secs(600), "the VS Code end-to-end test");
    let report = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    eprintln!(
        "VS Code flows: {:.0}s; screenshots and logs in {}",
        started.elapsed().as_secs_f64(),
        artifacts.display()
    );
    assert!(finished.status.success(), "the VS Code end-to-end test failed ({})\n{report}", finished.status);
    assert!(finished.stdout.contains("vscode e2e: ok"), "{report}");
    for name in
        ["plans-view", "moment-record-question-toast", "moment-record-transcript-start", "moment-record-reverted"]
    {
        let screenshot = artifacts.join(format!("{name}.png"));
        assert!(screenshot.is_file(), "no screenshot at {}\n{report}", screenshot.display());
    }
    assert_eq!(model.pending(), 0, "the model was asked less than scripted\n{report}");
    eprintln!("{}", finished.stdout);
}
