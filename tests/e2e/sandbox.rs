//! `execute_command` in the command sandbox, over the real binary with the scripted model: where
//! the kernel has Landlock, writing `.git/config`, `.codelab/x` and `../outside` is refused
//! while writing inside the workspace and in the temporary folder works, under
//! `approval.tools = "auto"`; where it has none, the server says so at start and the approval
//! question says the command is not sandboxed.
//!
//! The workspace lives under the build's own temporary folder (`CARGO_TARGET_TMPDIR`), not the
//! system's, so that `../` is really outside everything the sandbox allows.

use serde_json::json;

use crate::agents::{call, run_coder, tool_answers};
use crate::fake_openai::FakeOpenAi;
use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer};
use codelab_planner::agents::sandbox::{KernelSupport, kernel_support};

fn setup(workspace: &std::path::Path, model: &FakeOpenAi, approval: &str) -> ServerSetup {
    let settings =
        json!({ "llm": { "baseUrl": model.base_url, "model": "scripted" }, "approval": { "tools": approval } });
    let mut setup = ServerSetup::new(workspace);
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    setup.work_done_progress = false;
    setup.message_answer = Some("Deny".to_owned());
    setup
}

#[test]
fn commands_write_inside_the_workspace_and_the_temporary_folder_only() {
    let parent = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = parent.path().join("workspace");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
    let temporary_file = std::env::temp_dir().join(format!("codelab-sandbox-{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary_file);
    let commands = [
        "echo changed >> .git/config".to_owned(),
        "echo x > .codelab/x".to_owned(),
        "echo x > ../outside.txt".to_owned(),
        "echo inside > src/made.txt && echo top > top.txt".to_owned(),
        format!("echo temporary > {}", temporary_file.display()),
    ];
    let model = FakeOpenAi::start();
    for command in &commands {
        model.push(call("execute_command", json!({ "command": command })));
    }
    model.push(call("attempt_completion", json!({ "result": "tried every write" })));

    let landlock = matches!(kernel_support(), KernelSupport::Landlock { .. });
    let approval = if landlock { "auto" } else { "ask" };
    let (mut server, initialized) = TestServer::start(setup(&root, &model, approval));
    server.take_server_request("workspace/configuration");
    let sandbox = &initialized["capabilities"]["experimental"]["sandbox"];
    assert_eq!(sandbox["enforced"], landlock, "{sandbox}");
    let (_, run_id) = run_coder(&mut server, "Try to write everywhere");
    if !landlock {
        // No Landlock here: the server said so at start, and the question says so.
        assert!(sandbox["note"].as_str().unwrap().contains("not sandboxed"), "{sandbox}");
        let question = server.take_server_request("window/showMessageRequest");
        assert!(question["message"].as_str().unwrap().contains("(not sandboxed: this kernel offers no Landlock"));
        server.collect_run_events(&run_id);
        server.shutdown_and_exit();
        return;
    }
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    let requests = model.wait_for_requests(commands.len() + 1, REQUEST_TIMEOUT);
    let answers = tool_answers(&requests[commands.len()]);

    assert_eq!(std::fs::read_to_string(root.join(".git/config")).unwrap(), "[core]\n", "{answers:?}");
    assert!(!root.join(".codelab/x").exists(), "{answers:?}");
    assert!(root.join(".codelab/planner.db").exists(), "the server itself still writes its database");
    assert!(!parent.path().join("outside.txt").exists(), "{answers:?}");
    for refused in &answers[..3] {
        assert!(!refused.contains("exit code 0"), "refused by the sandbox: {refused}");
    }
    assert!(answers[3].contains("exit code 0"), "{}", answers[3]);
    assert_eq!(std::fs::read_to_string(root.join("src/made.txt")).unwrap(), "inside\n");
    assert_eq!(std::fs::read_to_string(root.join("top.txt")).unwrap(), "top\n");
    assert!(answers[4].contains("exit code 0"), "{}", answers[4]);
    assert_eq!(std::fs::read_to_string(&temporary_file).unwrap(), "temporary\n");
    let _ = std::fs::remove_file(&temporary_file);
    server.shutdown_and_exit();
}
