//! Runs `tests/emacs/planfile.el` in a real batch-mode Emacs with eglot against the real binary:
//! a plan file's diagnostic shown by Flymake, cleared after an edit, then a run started through
//! a code action, completed, and its result in the hover.
//!
//! Emacs comes from `$CODELAB_EMACS` or `PATH` (`tests/setup/planfiles.sh` installs `emacs-nox`
//! and `elpa-eglot`). When it is missing the test fails and says how to install it, unless
//! `CODELAB_SKIP_EMACS=1` (then it prints a loud skip line). The test starts Emacs itself, so it
//! is allowed what `clippy.toml` reserves for `engine::process`.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "install it with `bash tests/setup/planfiles.sh` (Debian: emacs-nox and elpa-eglot), \
or set CODELAB_SKIP_EMACS=1 to skip this test";

const PLAN: &str = r#"title = "Emacs check"

[[subtask]]
id = "hello"
title = "Say hello"
agent = "shell"
command = "echo hello"

[[subtask]]
id = "world"
title = "Say world"
agent = "shell"
command = "echo world"
depends_on = ["ghost"]
"#;

fn emacs() -> Option<PathBuf> {
    let candidate = std::env::var_os("CODELAB_EMACS").map_or_else(|| PathBuf::from("emacs"), PathBuf::from);
    let output = Command::new(&candidate).arg("--version").output().ok()?;
    output.status.success().then_some(candidate)
}

#[test]
fn emacs_eglot_shows_diagnostics_and_runs_a_plan_file_from_a_code_action() {
    let Some(emacs) = emacs() else {
        if std::env::var("CODELAB_SKIP_EMACS").as_deref() == Ok("1") {
            eprintln!("\n!!!!!!!! SKIPPED: emacs eglot test (CODELAB_SKIP_EMACS=1, no emacs found) !!!!!!!!\n");
            return;
        }
        panic!("emacs not found: {INSTALL_HINT}");
    };
    let workspace = tempfile::tempdir().expect("tempdir");
    std::fs::write(workspace.path().join("check.plan.toml"), PLAN).expect("plan file");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/emacs/planfile.el");
    let mut child = Command::new(&emacs)
        .args(["--batch", "-Q", "-l"])
        .arg(&script)
        .env("CODELAB_BIN", env!("CARGO_BIN_EXE_codelab-planner"))
        .env("CODELAB_WORKSPACE", workspace.path())
        .env("HOME", workspace.path())
        .current_dir(workspace.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn emacs");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for emacs") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("emacs output");
            panic!(
                "emacs session timed out\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // Polls the exit status of the editor process (no event to wait on).
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("emacs output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = format!("emacs session ({status})\nstdout:\n{stdout}\nstderr (tail):\n{}", tail(&stderr));
    assert!(status.success(), "{report}");
    for step in [
        "STEP diagnostic at line 14: codelab-planner [planFile]: unknown subtask \"ghost\"",
        "STEP diagnostics cleared after the edit",
        "STEP run finished: completed",
        "STEP done",
    ] {
        assert!(stdout.contains(step), "missing {step:?}\n{report}");
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
