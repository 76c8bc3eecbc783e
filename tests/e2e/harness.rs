//! A test client that drives the REAL `codelab-planner` binary over stdio: JSON-RPC framing, a
//! reader thread, requests with a hard timeout, waiting for notifications by predicate, automatic
//! answers to server → client requests, and a check that no server message was left unconsumed.
//!
//! Every message in both directions is kept in a log that is printed (with the server's stderr)
//! when a test fails. No sleeps for synchronisation: everything waits on messages with a timeout.
//! It starts the server binary itself, so it is allowed what `clippy.toml` reserves for
//! `engine::process` in the product.
#![allow(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_codelab-planner")
}

/// How to start a server.
#[derive(Clone)]
pub struct ServerSetup {
    pub workspace: PathBuf,
    /// Advertise `window.workDoneProgress`.
    pub work_done_progress: bool,
    /// What `workspace/configuration` answers for `codelabPlanner` (`None` = no capability).
    pub configuration: Option<Value>,
    pub initialization_options: Value,
    /// Extra environment variables of the server process; an empty value removes the variable.
    pub env: Vec<(String, String)>,
    /// Extra `capabilities.workspace` entries (e.g. `codeLens.refreshSupport`).
    pub workspace_capabilities: Value,
    /// Advertise `workspace.applyEdit` (with `documentChanges` and `create`) and answer every
    /// `workspace/applyEdit` with `applied: true`.
    pub apply_edit: bool,
    /// The action title `window/showMessageRequest` is answered with (`None` = dismissed).
    pub message_answer: Option<String>,
    /// `false`: `window/showMessageRequest` is never answered (a person who is away).
    pub answer_message_requests: bool,
    /// `false`: `workspace/applyEdit` is never answered (an editor that hangs).
    pub answer_apply_edits: bool,
}

impl ServerSetup {
    pub fn new(workspace: &Path) -> Self {
        Self {
            workspace: workspace.to_owned(),
            work_done_progress: true,
            configuration: Some(json!({})),
            initialization_options: json!({}),
            env: Vec::new(),
            workspace_capabilities: json!({}),
            apply_edit: false,
            message_answer: None,
            answer_message_requests: true,
            answer_apply_edits: true,
        }
    }
}

/// An error reply.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Value,
}

pub struct TestServer {
    pub setup: ServerSetup,
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Server messages received but not yet consumed by the test.
    unconsumed: VecDeque<Value>,
    /// `window/logMessage` notifications (informational, never required to be consumed).
    pub log_messages: Vec<String>,
    transcript: Vec<String>,
    stderr_path: PathBuf,
    next_id: i64,
    finished: bool,
}

fn write_frame(stdin: &mut ChildStdin, message: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(stdin, "Content-Length: {}\r\n\r\n", body.len())?;
    stdin.write_all(&body)?;
    stdin.flush()
}

fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut content_length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            content_length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; content_length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl TestServer {
    /// Spawns the binary without initializing.
    pub fn spawn_raw(setup: ServerSetup, extra_arguments: &[&str]) -> Self {
        let stderr_path = setup.workspace.join(format!("server-stderr-{}.log", ulid_like()));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr log file");
        let mut command = Command::new(binary());
        command.args(extra_arguments).current_dir(&setup.workspace).env("CODELAB_PLANNER_LOG", "debug");
        // No user settings file unless a test writes one (the developer's own is never read).
        command.env("XDG_CONFIG_HOME", setup.workspace.join(".test-user-config"));
        for (name, value) in &setup.env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(stderr).spawn().expect("spawn codelab-planner");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Self {
            setup,
            child,
            stdin,
            incoming,
            unconsumed: VecDeque::new(),
            log_messages: Vec::new(),
            transcript: Vec::new(),
            stderr_path,
            next_id: 1,
            finished: false,
        }
    }

    /// Spawns, sends `initialize` and `initialized`; returns the server and the initialize result.
    pub fn start(setup: ServerSetup) -> (Self, Value) {
        let mut server = Self::spawn_raw(setup, &[]);
        let result = server.initialize();
        (server, result)
    }

    pub fn initialize(&mut self) -> Value {
        let uri = format!("file://{}", self.setup.workspace.display());
        let mut capabilities = json!({ "window": { "workDoneProgress": self.setup.work_done_progress } });
        if self.setup.configuration.is_some() {
            capabilities["workspace"] = json!({ "configuration": true });
        }
        if let Some(extra) = self.setup.workspace_capabilities.as_object().filter(|extra| !extra.is_empty()) {
            if !capabilities["workspace"].is_object() {
                capabilities["workspace"] = json!({});
            }
            for (key, value) in extra {
                capabilities["workspace"][key] = value.clone();
            }
        }
        if self.setup.apply_edit {
            if !capabilities["workspace"].is_object() {
                capabilities["workspace"] = json!({});
            }
            capabilities["workspace"]["applyEdit"] = json!(true);
            capabilities["workspace"]["workspaceEdit"] =
                json!({ "documentChanges": true, "resourceOperations": ["create"] });
        }
        let params = json!({
            "processId": std::process::id(),
            "rootUri": uri,
            "workspaceFolders": [{ "uri": uri, "name": "workspace" }],
            "capabilities": capabilities,
            "initializationOptions": self.setup.initialization_options,
        });
        let result = self.request("initialize", params).expect("initialize succeeds");
        self.notify("initialized", json!({}));
        result
    }

    #[allow(dead_code, reason = "used by benches/stdio.rs")]
    pub fn process_id(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, message: Value) {
        self.transcript.push(format!("--> {message}"));
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write_frame(stdin, &message).expect("write to server");
    }

    /// Writes `bytes` to the server's stdin as they are (a frame of the test's making).
    #[allow(dead_code, reason = "not every test binary module uses it")]
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.transcript.push(format!("--> (raw) {}", String::from_utf8_lossy(bytes)));
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).and_then(|()| stdin.flush()).expect("write to server");
    }

    /// Closes the server's stdin (end of input).
    #[allow(dead_code, reason = "not every test binary module uses it")]
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and waits (at most [`REQUEST_TIMEOUT`]) for its response.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let message =
                self.receive(deadline).unwrap_or_else(|| self.fail(&format!("no response to {method} in time")));
            if message.is_null() {
                continue;
            }
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return match message.get("error") {
                    Some(error) => Err(RpcError {
                        code: error["code"].as_i64().unwrap_or(0),
                        message: error["message"].as_str().unwrap_or("").to_owned(),
                        data: error.get("data").cloned().unwrap_or(Value::Null),
                    }),
                    None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
            self.unconsumed.push_back(message);
        }
    }

    /// Sends a request without waiting for its response; see [`TestServer::response_to`].
    #[allow(dead_code, reason = "used by tests/llm_e2e.rs")]
    pub fn start_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// Waits (at most [`REQUEST_TIMEOUT`]) for the response to a request sent with
    /// [`TestServer::start_request`]; other messages stay unconsumed.
    #[allow(dead_code, reason = "used by tests/llm_e2e.rs")]
    pub fn response_to(&mut self, id: i64) -> Result<Value, RpcError> {
        let response = self.wait_for("a response", REQUEST_TIMEOUT, |message| {
            message.get("id") == Some(&json!(id)) && message.get("method").is_none()
        });
        match response.get("error") {
            Some(error) => Err(RpcError {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("").to_owned(),
                data: error.get("data").cloned().unwrap_or(Value::Null),
            }),
            None => Ok(response.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Whether the response to `id` has already arrived (and waits unconsumed).
    #[allow(dead_code, reason = "used by tests/llm_e2e.rs")]
    pub fn has_response_to(&self, id: i64) -> bool {
        self.unconsumed.iter().any(|message| message.get("id") == Some(&json!(id)) && message.get("method").is_none())
    }

    /// Whether a message matching `predicate` has arrived and waits unconsumed.
    pub fn has_unconsumed(&self, predicate: impl Fn(&Value) -> bool) -> bool {
        self.unconsumed.iter().any(predicate)
    }

    /// A request that must succeed.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        match self.request(method, params) {
            Ok(result) => result,
            Err(error) => self.fail(&format!("{method} failed: {error:?}")),
        }
    }

    /// A request that must fail.
    pub fn call_err(&mut self, method: &str, params: Value) -> RpcError {
        match self.request(method, params) {
            Ok(result) => self.fail(&format!("{method} unexpectedly succeeded: {result}")),
            Err(error) => error,
        }
    }

    /// Next server message before `deadline`. Server → client requests are answered at once and
    /// returned as `{ serverRequest, params }`; log messages are filed in `log_messages` and
    /// returned as `null` (callers skip it). `None` at the deadline or when the server closed stdout.
    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = match self.incoming.recv_timeout(left) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        };
        self.transcript.push(format!("<-- {message}"));
        match (message.get("method").and_then(Value::as_str), message.get("id")) {
            (Some(method), Some(id)) => {
                let (method, id) = (method.to_owned(), id.clone());
                self.answer_server_request(&method, id.clone(), &message);
                Some(json!({ "serverRequest": method, "params": message["params"], "id": id }))
            }
            (Some("window/logMessage"), None) => {
                self.log_messages.push(message["params"]["message"].as_str().unwrap_or("").to_owned());
                Some(Value::Null)
            }
            _ => Some(message),
        }
    }

    fn answer_server_request(&mut self, method: &str, id: Value, message: &Value) {
        if (method == "window/showMessageRequest" && !self.setup.answer_message_requests)
            || (method == "workspace/applyEdit" && !self.setup.answer_apply_edits)
        {
            return;
        }
        let result = match method {
            "window/workDoneProgress/create" => Value::Null,
            "workspace/configuration" => {
                let items = message["params"]["items"].as_array().cloned().unwrap_or_default();
                let value = self.setup.configuration.clone().unwrap_or(Value::Null);
                Value::Array(items.iter().map(|_| value.clone()).collect())
            }
            "workspace/applyEdit" => json!({ "applied": self.setup.apply_edit }),
            "window/showMessageRequest" => match &self.setup.message_answer {
                Some(title) => json!({ "title": title }),
                None => Value::Null,
            },
            _ => Value::Null,
        };
        self.send(json!({ "jsonrpc": "2.0", "id": id, "result": result }));
    }

    /// Removes and returns the first message (in arrival order) matching `predicate`, waiting
    /// for it at most `timeout`.
    pub fn wait_for(&mut self, what: &str, timeout: Duration, predicate: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.unconsumed.iter().position(&predicate) {
            return self.unconsumed.remove(index).unwrap_or(Value::Null);
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.receive(deadline) {
                Some(Value::Null) => {}
                Some(message) if predicate(&message) => return message,
                Some(message) => self.unconsumed.push_back(message),
                None => self.fail(&format!("timed out waiting for {what}")),
            }
        }
    }

    pub fn wait_for_notification(
        &mut self,
        method: &str,
        timeout: Duration,
        predicate: impl Fn(&Value) -> bool,
    ) -> Value {
        let wanted = method.to_owned();
        self.wait_for(method, timeout, move |message| {
            message.get("method").and_then(Value::as_str) == Some(wanted.as_str()) && predicate(&message["params"])
        })["params"]
            .clone()
    }

    /// Every `planning/progress` event of `run_id`, in order, up to and including `planFinished`.
    pub fn collect_run_events(&mut self, run_id: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let params =
                self.wait_for_notification("planning/progress", RUN_TIMEOUT, |params| params["runId"] == run_id);
            let event = params["event"].clone();
            let finished = event["kind"] == "planFinished";
            events.push(event);
            if finished {
                return events;
            }
        }
    }

    /// Every `$/progress` value of `token`, in order, up to and including `end`.
    pub fn collect_work_done(&mut self, token: &Value) -> Vec<Value> {
        let mut values = Vec::new();
        loop {
            let params = self.wait_for_notification("$/progress", RUN_TIMEOUT, |params| &params["token"] == token);
            let value = params["value"].clone();
            let ended = value["kind"] == "end";
            values.push(value);
            if ended {
                return values;
            }
        }
    }

    /// Waits until a `window/logMessage` containing `needle` has arrived; returns it.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.log_messages.iter().find(|message| message.contains(needle)) {
                return found.clone();
            }
            match self.receive(deadline) {
                Some(Value::Null) => {}
                Some(message) => self.unconsumed.push_back(message),
                None => self.fail(&format!("timed out waiting for a log message containing {needle:?}")),
            }
        }
    }

    /// What the server wrote to stderr so far (its log).
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Consumes the server request `method` the harness already answered.
    pub fn take_server_request(&mut self, method: &str) -> Value {
        let wanted = method.to_owned();
        self.wait_for(method, REQUEST_TIMEOUT, move |message| message["serverRequest"] == wanted.as_str())["params"]
            .clone()
    }

    /// Consumes the server request `method` (one the harness was told not to answer); returns
    /// its id, for [`TestServer::respond`], and its params.
    #[allow(dead_code, reason = "not every test binary module uses it")]
    pub fn take_unanswered_request(&mut self, method: &str) -> (Value, Value) {
        let wanted = method.to_owned();
        let request =
            self.wait_for(method, REQUEST_TIMEOUT, move |message| message["serverRequest"] == wanted.as_str());
        (request["id"].clone(), request["params"].clone())
    }

    /// Answers a server → client request the test took with [`TestServer::take_unanswered_request`].
    #[allow(dead_code, reason = "not every test binary module uses it")]
    pub fn respond(&mut self, id: Value, result: Value) {
        self.send(json!({ "jsonrpc": "2.0", "id": id, "result": result }));
    }

    /// Drops every message matching `predicate` received so far (e.g. output chatter).
    pub fn discard(&mut self, predicate: impl Fn(&Value) -> bool) {
        self.unconsumed.retain(|message| !predicate(message));
    }

    /// Drops every message matching `predicate` received so far; returns how many.
    #[allow(dead_code, reason = "not every test binary module uses it")]
    pub fn discard_count(&mut self, predicate: impl Fn(&Value) -> bool) -> usize {
        let before = self.unconsumed.len();
        self.discard(predicate);
        before - self.unconsumed.len()
    }

    /// Fails if a server message was left unconsumed.
    pub fn assert_all_consumed(&mut self) {
        if !self.unconsumed.is_empty() {
            let left: Vec<String> = self.unconsumed.iter().map(ToString::to_string).collect();
            self.fail(&format!("{} server message(s) left unconsumed:\n{}", left.len(), left.join("\n")));
        }
    }

    /// `shutdown` (params null) + `exit`; returns the exit status. Checks nothing was left unconsumed.
    pub fn shutdown_and_exit(mut self) -> ExitStatus {
        let result = self.request("shutdown", Value::Null).unwrap_or_else(|error| self.fail(&format!("{error:?}")));
        assert_eq!(result, Value::Null);
        self.discard(|message| message.get("serverRequest").is_some());
        self.assert_all_consumed();
        self.notify("exit", Value::Null);
        self.wait_exit(REQUEST_TIMEOUT)
    }

    /// Waits for the process to end (stdin stays open); fails after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.finished = true;
                    return status;
                }
                Ok(None) if Instant::now() < deadline => {
                    // Poll the exit status: a process exit has no channel to wait on here.
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => self.fail("server did not exit in time"),
            }
        }
    }

    /// SIGKILL, no clean-up (a crash).
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.finished = true;
    }

    pub fn fail(&self, message: &str) -> ! {
        let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
        panic!(
            "{message}\n--- transcript ({} messages) ---\n{}\n--- server stderr (tail) ---\n{}",
            self.transcript.len(),
            self.transcript.iter().map(|line| truncate(line, 600)).collect::<Vec<_>>().join("\n"),
            tail.join("\n")
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
            let lines: Vec<String> = self.transcript.iter().map(|line| truncate(line, 600)).collect();
            eprintln!("--- transcript ---\n{}\n--- server stderr ---\n{}", lines.join("\n"), truncate(&stderr, 20_000));
        }
        if !self.finished {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
}

fn ulid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A fresh workspace directory.
pub fn workspace() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// True when `pid` no longer runs (gone, or a zombie waiting to be reaped).
pub fn process_is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

/// Polls a condition outside the protocol (a file written or a process gone) until it holds.
pub fn eventually(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `path` holds a pid and returns it.
pub fn read_pid_file(path: &Path) -> i32 {
    let mut pid = 0;
    eventually(&format!("{} holds a pid", path.display()), REQUEST_TIMEOUT, || {
        pid = std::fs::read_to_string(path).ok().and_then(|text| text.trim().parse().ok()).unwrap_or(0);
        pid > 0
    });
    pid
}

/// A shell subtask input.
pub fn shell(id: &str, command: &str, depends_on: &[&str]) -> Value {
    json!({ "id": id, "title": format!("step {id}"), "agent": "shell", "command": command, "dependsOn": depends_on })
}

/// Creates a complex (`mode: plan`) draft with these subtasks; returns the plan.
pub fn create_plan(server: &mut TestServer, task: &str, subtasks: Vec<Value>) -> Value {
    server.call("planning/create", json!({ "task": task, "mode": "plan", "subtasks": subtasks }))["plan"].clone()
}

/// Creates, approves and executes; returns `(plan id, run id)`.
pub fn create_and_execute(
    server: &mut TestServer,
    task: &str,
    subtasks: Vec<Value>,
    execute_extra: Value,
) -> (String, String) {
    let plan = create_plan(server, task, subtasks);
    let plan_id = plan["id"].as_str().expect("plan id").to_owned();
    server.call("planning/approve", json!({ "planId": plan_id }));
    let mut params = json!({ "planId": plan_id });
    if let (Some(target), Some(extra)) = (params.as_object_mut(), execute_extra.as_object()) {
        target.extend(extra.clone());
    }
    let started = server.call("planning/execute", params);
    assert_eq!(started["status"], "running");
    (plan_id, started["runId"].as_str().expect("run id").to_owned())
}
