//! What a test needs to drive the VS Code extension in real VS Code: the tools that
//! `tests/setup/vscode.sh` installed (Node 24, code-server, Debian's chromium), the packaged
//! `.vsix`, and a runner that bounds a child's time and drains its output. A skip only with
//! `CODELAB_SKIP_VSCODE=1`, loudly. Include it with `#[path = "support/vscode_e2e.rs"] mod vscode_e2e;`.
//! It starts npm, node and code-server, so it is allowed what `clippy.toml` reserves for
//! `engine::process` in the product.
#![allow(clippy::disallowed_methods, dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const SETUP_HINT: &str =
    "run `bash tests/setup/vscode.sh` first (or set CODELAB_SKIP_VSCODE=1 to skip the VS Code tests)";

pub fn extension_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editors/vscode")
}

/// Where end-to-end tests leave their screenshots and logs.
pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/vscode-e2e")
}

pub fn skipped(what: &str) -> bool {
    if std::env::var("CODELAB_SKIP_VSCODE").as_deref() == Ok("1") {
        eprintln!("\n!!!!!!!! SKIPPED: {what} (CODELAB_SKIP_VSCODE=1) !!!!!!!!\n");
        return true;
    }
    false
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end, or kills it after `timeout`; output is drained on threads so a
/// chatty child never blocks on a full pipe.
pub fn run(mut command: Command, timeout: Duration, what: &str) -> Finished {
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

pub fn npm(script: &str, timeout: Duration) -> Finished {
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
pub fn packaged_vsix() -> PathBuf {
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

#[derive(Debug)]
pub struct Tools {
    pub node: PathBuf,
    pub code_server: PathBuf,
    pub chromium: PathBuf,
}

pub fn tools() -> Tools {
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

/// A node script of `editors/vscode/test/e2e/` in real VS Code, with the environment every such
/// script reads (the server binary, code-server, chromium, the `.vsix`, artifacts, a scratch
/// folder) plus `extra`.
pub fn node_e2e_command(script: &str, scratch: &Path, extra: &[(&str, &str)]) -> Command {
    let tools = tools();
    let vsix = packaged_vsix();
    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let mut command = Command::new(&tools.node);
    command
        .arg(extension_dir().join("test/e2e").join(script))
        .current_dir(extension_dir())
        .env("CODELAB_PLANNER_SERVER_PATH", env!("CARGO_BIN_EXE_codelab-planner"))
        .env("CODELAB_E2E_CODE_SERVER", &tools.code_server)
        .env("CODELAB_E2E_CHROMIUM", &tools.chromium)
        .env("CODELAB_E2E_VSIX", &vsix)
        .env("CODELAB_E2E_ARTIFACTS", &artifacts)
        .env("CODELAB_E2E_SCRATCH", scratch)
        // code-server must find Node 24 for its own child processes.
        .env("PATH", path_with(tools.node.parent().unwrap_or(Path::new("/"))));
    for (name, value) in extra {
        command.env(name, value);
    }
    command
}

/// `PATH` with `first` in front.
pub fn path_with(first: &Path) -> std::ffi::OsString {
    let mut paths = vec![first.to_path_buf()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("PATH")
}
