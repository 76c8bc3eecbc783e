//! What the server leaves behind and tells (issue 9, defects 7 and 8), over the real binary: the
//! `database` setting stays inside the workspace, `.codelab/` ignores itself, a clean exit
//! leaves no write-ahead log, a healthy session writes nothing on stderr, a start-up failure is
//! shown once, and `--log-file` creates missing folders like `--db`.

use serde_json::{Value, json};

use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, create_plan, shell, workspace};

#[test]
fn a_database_setting_outside_the_workspace_is_refused_and_the_default_used() {
    let dir = workspace();
    let root = dir.path().join("ws");
    std::fs::create_dir_all(&root).unwrap();
    let absolute = dir.path().join("elsewhere/absolute.db");
    for requested in [json!("../outside/escape.db"), json!(absolute.display().to_string())] {
        let mut setup = ServerSetup::new(&root);
        setup.initialization_options = json!({ "database": requested });
        let (mut server, _) = TestServer::start(setup);
        let shown = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
        assert!(shown["message"].as_str().unwrap_or_default().contains("outside the workspace"), "{shown}");
        create_plan(&mut server, "a plan", vec![shell("a", "true", &[])]);
        server.discard(|message| message.get("serverRequest").is_some());
        assert_eq!(server.shutdown_and_exit().code(), Some(0));
        assert!(root.join(".codelab/planner.db").is_file());
    }
    assert!(!dir.path().join("outside").exists(), "nothing written outside the workspace");
    assert!(!absolute.exists() && !dir.path().join("elsewhere").exists());
}

#[test]
fn the_state_folder_ignores_itself_and_a_clean_exit_leaves_no_write_ahead_log() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    for index in 0..20 {
        create_plan(&mut server, &format!("plan {index}"), vec![shell("a", "true", &[])]);
    }
    server.discard(|message| message.get("serverRequest").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    let ignore = std::fs::read_to_string(dir.path().join(".codelab/.gitignore")).expect(".gitignore written");
    assert!(ignore.lines().any(|line| line.trim() == "*"), "{ignore}");
    let wal = dir.path().join(".codelab/planner.db-wal");
    let wal_bytes = std::fs::metadata(&wal).map(|metadata| metadata.len()).unwrap_or(0);
    assert_eq!(wal_bytes, 0, "a clean exit left {wal_bytes} bytes of write-ahead log");
}

#[test]
fn a_healthy_session_writes_nothing_on_stderr_by_default() {
    let dir = workspace();
    let mut setup = ServerSetup::new(dir.path());
    setup.env = vec![("CODELAB_PLANNER_LOG".to_owned(), String::new()), ("RUST_LOG".to_owned(), String::new())];
    let (mut server, _) = TestServer::start(setup);
    create_plan(&mut server, "a plan", vec![shell("a", "true", &[])]);
    server.discard(|message| message.get("serverRequest").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    let stderr: String = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("server-stderr-"))
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect();
    assert_eq!(stderr, "", "stderr of a healthy session");
}

#[test]
fn a_database_that_cannot_open_is_shown_once_not_per_request() {
    let dir = workspace();
    std::fs::create_dir_all(dir.path().join(".codelab")).unwrap();
    std::fs::write(dir.path().join(".codelab/planner.db"), "this is not a database").unwrap();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    for _ in 0..3 {
        let refused = server.call_err("planning/list", json!({}));
        assert_eq!(refused.data["kind"], "storage", "{refused:?}");
    }
    let shown = server.wait_for_notification("window/showMessage", REQUEST_TIMEOUT, |_| true);
    assert!(shown["message"].as_str().unwrap_or_default().contains("cannot start"), "{shown}");
    assert_eq!(server.discard_count(|message| message["method"] == "window/showMessage"), 0, "shown once");
    server.discard(|message| message.get("serverRequest").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn log_file_creates_missing_folders_like_db() {
    let dir = workspace();
    let mut server = TestServer::spawn_raw(ServerSetup::new(dir.path()), &["--log-file", "logs/deep/server.log"]);
    server.initialize();
    server.discard(|message| message.get("serverRequest").is_some());
    let result = server.call("planning/list", json!({}));
    assert_eq!(result["plans"], Value::Array(Vec::new()));
    server.discard(|message| message.get("serverRequest").is_some());
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
    assert!(dir.path().join("logs/deep/server.log").is_file());
}

/// The README's first command, the main job on embedded defaults: the repository's own quick
/// checks pass on the repository as it is (a file without its `//!` header, say, fails it).
#[test]
#[allow(clippy::disallowed_methods)] // The test starts the binary itself, as a person would.
fn the_readmes_main_job_passes_on_this_repository() {
    let database = tempfile::tempdir().expect("temporary folder");
    let output = std::process::Command::new(crate::harness::binary())
        .args(["run", "examples/check.plan.toml", "--db"])
        .arg(database.path().join("planner.db"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the main job failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("6/6 done"), "every check ran and passed:\n{stdout}");
}
