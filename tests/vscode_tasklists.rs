//! In real VS Code (code-server through headless Chromium, `editors/vscode/test/e2e/tasklists.mjs`),
//! against this crate's binary: a `*.plan.md` shows "▶ Run all" on its title and "▶ Run from here" on
//! each step; clicking "▶ Run all" runs it, each checkbox ticks in the editor's buffer (through
//! `workspace/applyEdit`) and on disk, and each step's line then shows "✓ done". A screenshot is left
//! in `target/vscode-e2e/tasklists.png`.

#[path = "support/vscode_e2e.rs"]
mod vscode_e2e;

use std::time::Duration;

#[test]
fn a_plan_md_in_vscode_runs_from_its_lens_and_ticks_its_checkboxes() {
    if vscode_e2e::skipped("VS Code task-list end-to-end test (code-server + chromium)") {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let command = vscode_e2e::node_e2e_command("tasklists.mjs", scratch.path(), &[]);
    let finished = vscode_e2e::run(command, Duration::from_secs(420), "the VS Code task-list test");
    let report = format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert!(finished.status.success(), "the VS Code task-list test failed ({})\n{report}", finished.status);
    assert!(finished.stdout.contains("vscode tasklists: ok"), "{report}");
    let screenshot = vscode_e2e::artifacts_dir().join("tasklists.png");
    assert!(screenshot.is_file(), "no screenshot at {}\n{report}", screenshot.display());
    eprintln!("{}\nscreenshot: {}", finished.stdout, screenshot.display());
}
