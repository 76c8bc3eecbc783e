//! Bad plan files are bad input (issue 23 item 6), over the real binary: a plan with a title and
//! no steps, a missing file, a directory, a file that is not UTF-8, a FIFO and a file past the
//! size limit each exit 2 naming the file (with `line:column` where there is one), return at
//! once (a FIFO is never opened for a blocking read), and store nothing.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{binary, workspace};
use crate::settings_files::{cli, text};

/// Runs `run FILE` and returns `(exit code, stderr)`; fails if it has not ended after 30 s.
fn run_file(dir: &Path, file: &str) -> (Option<i32>, String) {
    let stderr_path = dir.join(format!("stderr-{}.txt", file.replace('/', "_")));
    let mut child = Command::new(binary())
        .args(["run", file])
        .current_dir(dir)
        .env("CODELAB_PLANNER_LOG", "warn")
        .env("XDG_CONFIG_HOME", dir.join(".test-user-config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("spawn codelab-planner");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`run {file}` hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), std::fs::read_to_string(&stderr_path).unwrap_or_default())
}

#[test]
fn every_kind_of_bad_plan_file_exits_2_naming_it_and_stores_nothing() {
    let dir = workspace();
    let root = dir.path();
    std::fs::write(root.join("empty.plan.toml"), "title = \"Nothing to do\"\n").unwrap();
    std::fs::create_dir(root.join("folder.plan.toml")).unwrap();
    std::fs::write(root.join("latin1.plan.toml"), b"title = \"ok\"\n# caf\xe9\n").unwrap();
    nix::unistd::mkfifo(&root.join("fifo.plan.toml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let huge = format!("title = \"big\"\n#{}\n", "x".repeat(5 * 1024 * 1024));
    std::fs::write(root.join("huge.plan.toml"), huge).unwrap();

    let cases = [
        ("empty.plan.toml", "empty.plan.toml:1:1: error: the plan has no steps"),
        ("missing.plan.toml", "missing.plan.toml: cannot read the plan file: there is no such file"),
        ("folder.plan.toml", "folder.plan.toml: cannot read the plan file: it is a directory, not a file"),
        ("latin1.plan.toml", "latin1.plan.toml:2:6: error: is not UTF-8 text (line 2, column 6)"),
        ("fifo.plan.toml", "fifo.plan.toml: cannot read the plan file: it is a FIFO, not a regular file"),
        ("huge.plan.toml", "huge.plan.toml: cannot read the plan file: it is larger than 4096 KiB"),
    ];
    for (file, expected) in cases {
        let (code, stderr) = run_file(root, file);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(stderr.contains(expected), "{file}: expected {expected:?} in {stderr}");
    }
    let listed = cli(root, &root.join(".test-user-config"), &["list", "--json"]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let page: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(page["plans"], serde_json::json!([]), "nothing is stored for a file that fails its check");
}
