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

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fake_openai::{FakeOpenAi, Reply};
use serde_json::json;

const SETUP_HINT: &str =
    "run `bash tests/setup/vscode.sh` first (or set CODELAB_SKIP_VSCODE=1 to skip the VS Code tests)";

fn extension_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editors/vscode")
}

/// Where the end-to-end test leaves its screenshots and logs.
fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/vscode-e2e")
}

fn skipped(what: &str) -> bool {
    if std::env::var("CODELAB_SKIP_VSCODE").as_deref() == Ok("1") {
        eprintln!("\n!!!!!!!! SKIPPED: {what} (CODELAB_SKIP_VSCODE=1) !!!!!!!!\n");
        return true;
    }
    false
}

struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `command` to its end, or kills it after `timeout`; output is drained on threads so a
/// chatty child never blocks on a full pipe.
fn run(mut command: Command, timeout: Duration, what: &str) -> Finished {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| panic!("{what}: cannot start: {error}; {SETUP_HINT}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} timed out after {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        // Polls the exit status of the child (there is no event to wait on).
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

fn npm(script: &str, timeout: Duration) -> Finished {
    let mut command = Command::new("npm");
    command.args(["run", "--silent", script]).current_dir(extension_dir());
    let finished = run(command, timeout, &format!("npm run {script}"));
    assert!(
        finished.status.success(),
        "npm run {script} failed ({})\nstdout:\n{}\nstderr:\n{}",
        finished.status,
        finished.stdout,
        finished.stderr
    );
    finished
}

/// Type-checks, bundles and packages the extension once per test binary; the `.vsix` path.
fn packaged_vsix() -> PathBuf {
    static PACKAGED: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
    let mut packaged = PACKAGED.get_or_init(|| Mutex::new(None)).lock().unwrap_or_else(|poison| poison.into_inner());
    if let Some(path) = packaged.as_ref() {
        return path.clone();
    }
    assert!(
        extension_dir().join("node_modules/.bin/vsce").exists(),
        "editors/vscode/node_modules is missing: {SETUP_HINT}"
    );
    npm("typecheck", Duration::from_secs(180));
    npm("package", Duration::from_secs(180));
    let vsix = extension_dir().join("out/codelab-planner.vsix");
    assert!(vsix.is_file(), "npm run package did not write {}", vsix.display());
    *packaged = Some(vsix.clone());
    vsix
}

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

#[derive(Debug)]
struct Tools {
    node: PathBuf,
    code_server: PathBuf,
    chromium: PathBuf,
}

fn tools() -> Tools {
    let path = extension_dir().join(".e2e-tools.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing: {SETUP_HINT}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("tools json");
    let tool = |name: &str| {
        let tool_path = PathBuf::from(json[name].as_str().unwrap_or_default());
        assert!(tool_path.is_file(), "{name} ({}) is missing: {SETUP_HINT}", tool_path.display());
        tool_path
    };
    Tools { node: tool("node"), code_server: tool("codeServer"), chromium: tool("chromium") }
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

fn path_with(first: &Path) -> std::ffi::OsString {
    let mut paths = vec![first.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("PATH")
}
