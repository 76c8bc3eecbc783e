//! The LLM agents run by the real engine against the scripted OpenAI-compatible server, with a
//! real SQLite file, a real workspace on disk and real child processes: the tool loop end to end,
//! parallel and same-file subtasks, sandbox escapes, the tool-call cap, a model that never calls
//! `attempt_completion`, cancellation mid-stream and mid-command, the API key kept out of a
//! command's environment and the database, and usage rolled up.
//!
//! Approvals and `workspace/applyEdit` need a client: they are tested over stdio in
//! `tests/e2e/agents.rs`. Here `approval.tools` is `auto` and edits go to the disk.

#[path = "support/fake_openai.rs"]
mod fake_openai;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codelab_planner::agents::{AgentsConfig, SharedAgentState, agent_set};
use codelab_planner::config::ToolApproval;
use codelab_planner::engine::{
    ActivityPhase, AgentSet, Backoff, EventReceiver, ExecutionSummary, RunConfig, RunEvent, RunEventKind, spawn_run,
};
use codelab_planner::llm::Usage;
use codelab_planner::llm::openai::{ApiKey, OpenAiCompatible, OpenAiConfig, RetryPolicy};
use codelab_planner::model::{
    AgentKind, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, SubtaskStatus, Timestamp,
};
use codelab_planner::store::{PlanHeader, PlanRepository, WriteOp};
use fake_openai::{FakeOpenAi, Reply};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
/// A variable cargo sets for every test process: it stands in for the API key's variable.
const KEY_VARIABLE: &str = "CARGO_PKG_NAME";

struct Setup {
    _directory: tempfile::TempDir,
    root: PathBuf,
    repository: PlanRepository,
    server: FakeOpenAi,
}

impl Setup {
    async fn new() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("workspace");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn answer() -> u32 {\n    41\n}\n").unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
        let (repository, _) = PlanRepository::open(root.join(".codelab/planner.db")).await.unwrap();
        Self { _directory: directory, root, repository, server: FakeOpenAi::start() }
    }

    fn agents(&self, max_tool_calls: u32) -> AgentSet {
        let config = OpenAiConfig {
            base_url: self.server.base_url.clone(),
            api_key: Some(ApiKey::new("sk-test-secret")),
            timeout: Duration::from_secs(20),
            retry: RetryPolicy {
                max_retries: 0,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(50),
            },
        };
        let model = Arc::new(OpenAiCompatible::new(config).unwrap());
        let agents = AgentsConfig {
            model: "test-model".to_owned(),
            context_tokens: 16_384,
            max_tool_calls,
            approval: ToolApproval::Auto,
            api_key_env: KEY_VARIABLE.to_owned(),
            api_key_file: None,
            default_command_timeout: Duration::from_secs(60),
            temperature: None,
            max_reply_tokens: None,
            // In-process agents: the sandbox launcher is the server binary, which these tests do not run.
            command_sandbox: codelab_planner::config::SandboxCommands::Off,
        };
        agent_set(model, agents, SharedAgentState::new())
    }

    async fn start(
        &self,
        subtasks: Vec<Subtask>,
        agents: AgentSet,
    ) -> (Plan, codelab_planner::engine::RunHandle, EventReceiver) {
        let now = Timestamp::now();
        let mut plan =
            Plan::new_draft(SessionId::generate(), "agents".into(), "make the answer 42".into(), subtasks, now);
        plan.approve(now).unwrap();
        self.repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.unwrap();
        plan.start_run(Timestamp::now(), RunId::generate()).unwrap();
        self.repository.commit(vec![WriteOp::UpdateHeader(PlanHeader::of(&plan))]).await.unwrap();
        let config = RunConfig {
            max_parallel: 4,
            failure_policy: codelab_planner::model::FailurePolicy::Continue,
            workspace_root: self.root.clone(),
            backoff: Backoff { base: Duration::from_millis(5), cap: Duration::from_millis(20) },
            kill_grace: Duration::from_millis(300),
            agents,
            editor: None,
        };
        let (handle, events) = spawn_run(self.repository.clone(), plan.clone(), config);
        (plan, handle, events)
    }

    async fn run(&self, subtasks: Vec<Subtask>, agents: AgentSet) -> (ExecutionSummary, Vec<RunEvent>, Plan) {
        let (plan, handle, events) = self.start(subtasks, agents).await;
        let events = all_events(events).await;
        let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
        let stored = self.repository.get_plan(plan.id.clone()).await.unwrap().unwrap();
        (summary, events, stored)
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.join(path)).unwrap()
    }
}

fn coder(id: &str) -> Subtask {
    let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("Change for {id}"), AgentKind::Coder);
    subtask.description = format!("the description of {id}");
    subtask.max_attempts = 1;
    subtask
}

async fn all_events(mut receiver: EventReceiver) -> Vec<RunEvent> {
    let mut events = Vec::new();
    let deadline = Instant::now() + WAIT;
    while let Some(event) = tokio::time::timeout_at(deadline.into(), receiver.recv()).await.expect("run ends in time") {
        events.push(event);
    }
    events
}

fn call(name: &str, arguments: Value) -> Reply {
    Reply::tool_calls(&[(name, &arguments.to_string())])
}

fn complete(result: &str) -> Reply {
    call("attempt_completion", json!({ "result": result }))
}

/// The tool messages of a recorded request, as `(tool_call_id, content)`.
fn tool_answers(request: &fake_openai::RecordedRequest) -> Vec<(String, String)> {
    let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|message| message["role"] == "tool")
        .map(|message| {
            (
                message["tool_call_id"].as_str().unwrap_or("").to_owned(),
                message["content"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_coder_lists_reads_edits_writes_and_completes_with_usage_rolled_up() {
    let setup = Setup::new().await;
    setup.server.push(call("list_files", json!({ "recursive": true })).with_usage(100, 10));
    setup.server.push(call("read_file", json!({ "path": "src/lib.rs" })).with_usage(200, 10));
    setup.server.push(
        call("edit_file", json!({ "path": "src/lib.rs", "edits": [{ "search": "    41", "replace": "    42" }] }))
            .with_usage(300, 20),
    );
    setup
        .server
        .push(call("write_file", json!({ "path": "NOTES.md", "content": "answer is 42\n" })).with_usage(400, 20));
    setup.server.push(complete("changed the answer to 42").with_usage(500, 5));
    let (summary, events, stored) = setup.run(vec![coder("s1")], setup.agents(20)).await;

    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors);
    assert_eq!(setup.read("src/lib.rs"), "pub fn answer() -> u32 {\n    42\n}\n");
    assert_eq!(setup.read("NOTES.md"), "answer is 42\n");
    assert_eq!(stored.subtasks[0].result.as_deref(), Some("changed the answer to 42"));
    let expected = Usage { prompt_tokens: 1500, completion_tokens: 65, calls: 5 };
    assert_eq!(stored.subtasks[0].usage, expected);
    assert_eq!(stored.usage(), expected);
    let finished_usage = events.iter().find_map(|event| match &event.kind {
        RunEventKind::PlanFinished { usage, .. } => Some(*usage),
        _ => None,
    });
    assert_eq!(finished_usage, Some(expected));

    let requests = setup.server.requests();
    assert_eq!(requests.len(), 5);
    let first_prompt = requests[0].prompt_text();
    for needle in ["make the answer 42", "Change for s1", "the description of s1", "src/"] {
        assert!(first_prompt.contains(needle), "the prompt carries {needle:?}: {first_prompt}");
    }
    let listing = &tool_answers(&requests[1])[0].1;
    assert!(listing.contains("src/lib.rs") && !listing.contains(".codelab"), "{listing}");
    let answers = tool_answers(&requests[4]);
    assert_eq!(answers.len(), 4, "every earlier call answered exactly once: {answers:?}");
    assert!(answers[2].1.contains("-    41") && answers[2].1.contains("+    42"), "a short diff: {}", answers[2].1);
    let activity: Vec<_> = events
        .iter()
        .filter_map(|event| match &event.kind {
            RunEventKind::AgentActivity { activity, .. } => Some(activity.clone()),
            _ => None,
        })
        .collect();
    assert!(activity.iter().any(|activity| activity.phase == ActivityPhase::ToolStarted
        && activity.tool.as_deref() == Some("edit_file")
        && activity.describe() == "coder: editing src/lib.rs"));
}

#[tokio::test]
async fn two_parallel_coders_write_different_files() {
    let setup = Setup::new().await;
    // One gate per reply: `notify_one` keeps a permit, so a release is never missed.
    let gates = [Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new())];
    setup.server.push(call("write_file", json!({ "path": "a.txt", "content": "a\n" })).held_until(gates[0].clone()));
    setup.server.push(call("write_file", json!({ "path": "b.txt", "content": "b\n" })).held_until(gates[1].clone()));
    setup.server.push(complete("done"));
    setup.server.push(complete("done"));
    let (plan, handle, events) = setup.start(vec![coder("s1"), coder("s2")], setup.agents(20)).await;
    let requests = setup.server.requests_arrived(2, WAIT).await;
    assert_eq!(requests.len(), 2, "both subtasks asked the model before either got an answer");
    let prompts: Vec<String> = requests.iter().map(|request| request.prompt_text()).collect();
    assert!(prompts.iter().any(|prompt| prompt.contains("Change for s1") && !prompt.contains("Change for s2")));
    assert!(prompts.iter().any(|prompt| prompt.contains("Change for s2") && !prompt.contains("Change for s1")));
    gates.iter().for_each(|gate| gate.notify_one());
    let _ = all_events(events).await;
    let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors);
    assert_eq!((setup.read("a.txt"), setup.read("b.txt")), ("a\n".to_owned(), "b\n".to_owned()));
    let stored = setup.repository.get_plan(plan.id).await.unwrap().unwrap();
    assert!(stored.subtasks.iter().all(|subtask| subtask.status == SubtaskStatus::Done));
}

#[tokio::test]
async fn two_coders_editing_the_same_file_keep_both_edits() {
    let setup = Setup::new().await;
    std::fs::write(setup.root.join("list.txt"), "start\nend\n").unwrap();
    let gates = [Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new())];
    let edit = |line: &str, gate: &Arc<tokio::sync::Notify>| {
        call(
            "edit_file",
            json!({ "path": "list.txt", "edits": [{ "search": "end\n", "replace": format!("{line}\nend\n") }] }),
        )
        .held_until(gate.clone())
    };
    setup.server.push(edit("one", &gates[0]));
    setup.server.push(edit("two", &gates[1]));
    setup.server.push(complete("done"));
    setup.server.push(complete("done"));
    let (_, handle, events) = setup.start(vec![coder("s1"), coder("s2")], setup.agents(20)).await;
    setup.server.requests_arrived(2, WAIT).await;
    gates.iter().for_each(|gate| gate.notify_one());
    let _ = all_events(events).await;
    let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors);
    let text = setup.read("list.txt");
    assert!(text == "start\none\ntwo\nend\n" || text == "start\ntwo\none\nend\n", "both edits kept: {text:?}");
}

#[tokio::test]
async fn sandbox_escapes_are_refused_and_reported_to_the_model() {
    let setup = Setup::new().await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "top secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), setup.root.join("escape")).unwrap();
    setup.server.push(call("read_file", json!({ "path": "../outside.txt" })));
    setup.server.push(call("read_file", json!({ "path": outside.path().join("secret.txt").display().to_string() })));
    setup.server.push(call("read_file", json!({ "path": "escape/secret.txt" })));
    setup.server.push(call("write_file", json!({ "path": "escape/new.txt", "content": "x" })));
    setup.server.push(call("write_file", json!({ "path": ".git/config", "content": "x" })));
    setup.server.push(complete("could not"));
    let (summary, _, _) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed);
    let answers = tool_answers(&setup.server.requests()[5]);
    let texts: Vec<&str> = answers.iter().map(|(_, text)| text.as_str()).collect();
    assert!(texts[0].contains("`..` are refused"), "{}", texts[0]);
    assert!(texts[1].contains("absolute paths outside the workspace are refused"), "{}", texts[1]);
    assert!(texts[2].contains("leaves the workspace"), "{}", texts[2]);
    assert!(texts[3].contains("leaves the workspace"), "{}", texts[3]);
    assert!(texts[4].contains("never written"), "{}", texts[4]);
    assert!(texts.iter().all(|text| !text.contains("top secret")));
    assert!(!outside.path().join("new.txt").exists());
    assert!(!setup.root.join(".git/config").exists());
}

#[tokio::test]
async fn the_tool_call_cap_fails_the_subtask_with_that_reason() {
    let setup = Setup::new().await;
    for line in 1..=3 {
        setup.server.push(call("read_file", json!({ "path": "src/lib.rs", "start_line": line, "end_line": line })));
    }
    let (summary, _, stored) = setup.run(vec![coder("s1")], setup.agents(2)).await;
    assert_eq!(summary.status, PlanStatus::Failed);
    let error = stored.subtasks[0].error.clone().unwrap_or_default();
    assert!(error.contains("limit of 2 tool calls (llm.maxToolCalls)"), "{error}");
    assert_eq!(setup.server.requests().len(), 3);
}

#[tokio::test]
async fn a_model_that_never_calls_attempt_completion_is_nudged_once_then_its_answer_is_the_result() {
    let setup = Setup::new().await;
    setup.server.push(Reply::text("I think the answer should be 42."));
    setup.server.push(Reply::text("The answer is 42."));
    let (summary, _, stored) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed);
    assert_eq!(stored.subtasks[0].result.as_deref(), Some("The answer is 42."));
    let requests = setup.server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].prompt_text().contains("call attempt_completion"), "the nudge was sent");
}

#[tokio::test]
async fn the_same_call_repeated_is_refused_and_then_fails_the_subtask() {
    let setup = Setup::new().await;
    for _ in 0..6 {
        setup.server.push(call("list_files", json!({})));
    }
    let (summary, _, stored) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Failed);
    assert!(stored.subtasks[0].error.as_deref().unwrap_or_default().contains("kept repeating"));
    let answers = tool_answers(&setup.server.requests()[3]);
    assert!(answers[2].1.contains("same arguments 3 times"), "{}", answers[2].1);
}

#[tokio::test]
async fn cancel_mid_stream_drops_the_request() {
    let setup = Setup::new().await;
    setup.server.push(Reply::text_pieces(&["thinking", " more"]).hang_after(1));
    let (plan, handle, events) = setup.start(vec![coder("s1")], setup.agents(20)).await;
    setup.server.requests_arrived(1, WAIT).await;
    handle.cancel();
    setup.server.streams_closed_early(1, WAIT).await;
    let _ = all_events(events).await;
    let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Cancelled);
    let stored = setup.repository.get_plan(plan.id).await.unwrap().unwrap();
    assert_eq!(stored.subtasks[0].status, SubtaskStatus::Cancelled);
}

#[tokio::test]
async fn cancel_kills_a_running_command() {
    let setup = Setup::new().await;
    let command = "echo $$ > command.pid; exec sleep 60";
    setup.server.push(call("execute_command", json!({ "command": command })));
    let (_, handle, events) = setup.start(vec![coder("s1")], setup.agents(20)).await;
    let pid_file = setup.root.join("command.pid");
    let deadline = Instant::now() + WAIT;
    let pid = loop {
        let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
        if let Ok(pid) = text.trim().parse::<i32>() {
            break pid;
        }
        assert!(Instant::now() < deadline, "the command started");
        tokio::task::yield_now().await;
    };
    handle.cancel();
    let _ = all_events(events).await;
    let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Cancelled);
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    assert!(!alive, "the command's process is gone");
}

#[tokio::test]
async fn the_api_key_variable_is_not_passed_to_commands_nor_stored() {
    let setup = Setup::new().await;
    let value = std::env::var(KEY_VARIABLE).expect("cargo sets it");
    let command = format!("echo key=${{{KEY_VARIABLE}:-absent}}");
    setup.server.push(call("execute_command", json!({ "command": command })));
    setup.server.push(complete(&format!("the key is {value}")));
    let mut shell_step = Subtask::new(SubtaskId::from_raw("sh"), "shell step".into(), AgentKind::Shell);
    shell_step.command = Some(command.clone());
    shell_step.depends_on = vec![SubtaskId::from_raw("s1")];
    let (summary, _, stored) = setup.run(vec![coder("s1"), shell_step], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed);
    assert_eq!(stored.subtasks[1].result.as_deref().map(str::trim), Some("key=absent"), "nor to shell steps");
    let answers = tool_answers(&setup.server.requests()[1]);
    assert!(answers[0].1.contains("key=absent"), "{}", answers[0].1);
    assert_eq!(stored.subtasks[0].result.as_deref(), Some("the key is [redacted]"));
    let needle = value.as_bytes();
    for file in ["planner.db", "planner.db-wal"] {
        let bytes = std::fs::read(setup.root.join(".codelab").join(file)).unwrap_or_default();
        assert!(!bytes.windows(needle.len()).any(|window| window == needle), "the value is not in {file}");
    }
}

#[tokio::test]
async fn an_authentication_error_fails_the_subtask_at_once_without_retries() {
    let setup = Setup::new().await;
    setup.server.push(Reply::status(401, "invalid api key"));
    let mut subtask = coder("s1");
    subtask.max_attempts = 3;
    let (summary, _, stored) = setup.run(vec![subtask], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Failed);
    assert_eq!(stored.subtasks[0].attempts, 1, "not retried");
    assert!(stored.subtasks[0].error.as_deref().unwrap_or_default().contains("credentials"));
    assert_eq!(setup.server.requests().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_waits_and_the_same_conversation_goes_on() {
    let setup = Setup::new().await;
    setup.server.push(Reply::rate_limited("0"));
    setup.server.push(complete("done after waiting"));
    let (summary, _, stored) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors);
    assert_eq!(stored.subtasks[0].attempts, 1, "waited inside the attempt");
    assert_eq!(stored.subtasks[0].result.as_deref(), Some("done after waiting"));
    let requests = setup.server.requests();
    assert_eq!(requests[0].body["messages"], requests[1].body["messages"]);
}

#[tokio::test]
async fn a_long_tool_result_reaches_the_model_cut_to_head_and_tail() {
    let setup = Setup::new().await;
    let long: String = (0..3000).map(|line| format!("line number {line}\n")).collect();
    std::fs::write(setup.root.join("long.txt"), &long).unwrap();
    setup.server.push(call("read_file", json!({ "path": "long.txt" })));
    setup.server.push(complete("read it"));
    let (summary, _, _) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed);
    let answer = &tool_answers(&setup.server.requests()[1])[0].1;
    assert!(answer.starts_with("line number 0\n") && answer.ends_with("line number 2999"), "head and tail kept");
    assert!(answer.contains("lines omitted"), "with a note");
    assert!(answer.len() <= 11 * 1024, "{} bytes", answer.len());
}

#[tokio::test]
async fn an_edit_of_a_file_that_changed_since_it_was_read_is_refused() {
    let setup = Setup::new().await;
    let gate = Arc::new(tokio::sync::Notify::new());
    setup.server.push(call("read_file", json!({ "path": "src/lib.rs" })));
    let edit = json!({ "path": "src/lib.rs", "edits": [{ "search": "41", "replace": "42" }] });
    setup.server.push(call("edit_file", edit).held_until(gate.clone()));
    setup.server.push(complete("gave up"));
    let (_, handle, events) = setup.start(vec![coder("s1")], setup.agents(20)).await;
    setup.server.requests_arrived(2, WAIT).await;
    std::fs::write(setup.root.join("src/lib.rs"), "pub fn answer() -> u32 {\n    41 // changed by someone else\n}\n")
        .unwrap();
    gate.notify_one();
    let _ = all_events(events).await;
    let summary = tokio::time::timeout(WAIT, handle.finished).await.unwrap().unwrap();
    assert_eq!(summary.status, PlanStatus::Completed);
    let answer = &tool_answers(&setup.server.requests()[2])[1].1;
    assert!(answer.contains("changed since you last read it"), "{answer}");
    assert!(setup.read("src/lib.rs").contains("41 // changed by someone else"), "the file is untouched");
}

#[tokio::test]
async fn search_respects_gitignore_and_directories_move_and_delete() {
    let setup = Setup::new().await;
    std::fs::create_dir_all(setup.root.join("target")).unwrap();
    std::fs::write(setup.root.join("target/generated.rs"), "fn answer_in_ignored_file() {}\n").unwrap();
    setup.server.push(call("search_in_code", json!({ "query": "fn answer", "file_pattern": "*.rs" })));
    setup.server.push(call("create_directory", json!({ "path": "docs/notes" })));
    setup.server.push(call("write_file", json!({ "path": "docs/notes/a.md", "content": "a\n" })));
    setup.server.push(call("move_file", json!({ "source": "docs/notes/a.md", "destination": "docs/b.md" })));
    setup.server.push(call("delete_file", json!({ "path": "docs/notes" })));
    setup.server.push(complete("tidied"));
    let (summary, _, _) = setup.run(vec![coder("s1")], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed, "{:?}", summary.errors);
    let answers = tool_answers(&setup.server.requests()[5]);
    assert!(answers[0].1.contains("src/lib.rs:1: pub fn answer()"), "{}", answers[0].1);
    assert!(!answers[0].1.contains("ignored_file"), "gitignored files are not searched: {}", answers[0].1);
    assert_eq!(setup.read("docs/b.md"), "a\n");
    assert!(!setup.root.join("docs/notes").exists());
}

#[tokio::test]
async fn an_ask_agent_cannot_write_and_is_told_so() {
    let setup = Setup::new().await;
    setup.server.push(call("write_file", json!({ "path": "x.txt", "content": "x" })));
    setup.server.push(complete("src/lib.rs defines answer()"));
    let mut ask = Subtask::new(SubtaskId::from_raw("q"), "What is in src/lib.rs?".into(), AgentKind::Ask);
    ask.max_attempts = 1;
    let (summary, _, _) = setup.run(vec![ask], setup.agents(20)).await;
    assert_eq!(summary.status, PlanStatus::Completed);
    let requests = setup.server.requests();
    let offered: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tool| tool["function"]["name"].as_str())
        .collect();
    assert!(!offered.contains(&"write_file") && offered.contains(&"read_file"), "{offered:?}");
    assert!(tool_answers(&requests[1])[0].1.contains("the ask agent may not use `write_file`"));
    assert!(!setup.root.join("x.txt").exists());
}
