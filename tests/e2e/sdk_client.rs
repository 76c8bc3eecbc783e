//! Drives a real SDK client — the official MCP client (`@modelcontextprotocol/sdk`) or the ACP SDK
//! (`@agentclientprotocol/sdk`) — through a small node script in `tests/clients/` that speaks one
//! JSON object a line with this test: requests `{"id": n, "op": ...}` answered by `{"id": n,
//! "result" | "error"}` (in the order they finish, so requests can overlap), and whatever the
//! server sends on its own as `{"event": ...}` lines. The script starts the real binary itself.
//! No sleeps: everything waits on lines with a hard timeout. Installed by `tests/setup/clients.sh`.
#![allow(clippy::disallowed_methods)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::binary;

/// How long one answer or event may take.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub struct SdkClient {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    answers: HashMap<i64, Value>,
    events: VecDeque<Value>,
    transcript: Vec<String>,
    stderr_path: PathBuf,
    next_id: i64,
}

fn clients_folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("clients")
}

impl SdkClient {
    /// `node tests/clients/SCRIPT <binary> ARGUMENTS...` in `workspace`; waits for its ready line
    /// (the client connected and initialized).
    pub fn start(script: &str, workspace: &Path, arguments: &[&str], env: &[(&str, &str)]) -> Self {
        let folder = clients_folder();
        assert!(
            folder.join("node_modules").is_dir(),
            "the SDK clients are not installed: run tests/setup.sh (tests/setup/clients.sh)"
        );
        let stderr_path = workspace.join(format!("{script}-{}.stderr", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut command = Command::new("node");
        command.arg(folder.join(script)).arg(binary()).args(arguments).current_dir(workspace);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child =
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(stderr).spawn().expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or_else(|_| json!({ "event": { "unparsed": line } }));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut client = Self {
            child,
            stdin,
            incoming,
            answers: HashMap::new(),
            events: VecDeque::new(),
            transcript: Vec::new(),
            stderr_path,
            next_id: 1,
        };
        client.answer(0);
        client
    }

    /// Sends a request; returns its id (answered later: [`Self::answer`]).
    pub fn send(&mut self, mut request: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        request["id"] = json!(id);
        let line = format!("{request}\n");
        self.transcript.push(format!("→ {}", line.trim_end()));
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).and_then(|()| stdin.flush()).expect("write to the client");
        id
    }

    /// The answer to request `id`: its result (an `error` answer fails the test).
    pub fn answer(&mut self, id: i64) -> Value {
        let answer = self.answer_or_error(id);
        match answer.get("error") {
            Some(error) => self.fail(&format!("request {id} failed: {error}")),
            None => answer["result"].clone(),
        }
    }

    /// The whole answer line of request `id`: `{"id", "result"}` or `{"id", "error"}`.
    pub fn answer_or_error(&mut self, id: i64) -> Value {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            if let Some(answer) = self.answers.remove(&id) {
                return answer;
            }
            self.receive(deadline, &format!("the answer to request {id}"));
        }
    }

    pub fn request(&mut self, request: Value) -> Value {
        let id = self.send(request);
        self.answer(id)
    }

    /// The first event (in arrival order) matching `predicate`, removed from the queue.
    pub fn event(&mut self, what: &str, predicate: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            if let Some(index) = self.events.iter().position(&predicate) {
                return self.events.remove(index).unwrap_or(Value::Null);
            }
            self.receive(deadline, what);
        }
    }

    /// Every event received so far, removed from the queue.
    pub fn drain_events(&mut self) -> Vec<Value> {
        while let Ok(line) = self.incoming.try_recv() {
            self.file(line);
        }
        self.events.drain(..).collect()
    }

    fn receive(&mut self, deadline: Instant, what: &str) {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(line) => self.file(line),
            Err(RecvTimeoutError::Timeout) => self.fail(&format!("timed out waiting for {what}")),
            Err(RecvTimeoutError::Disconnected) => self.fail(&format!("the client ended while waiting for {what}")),
        }
    }

    fn file(&mut self, line: Value) {
        self.transcript.push(format!("← {line}"));
        match line.get("id").and_then(Value::as_i64) {
            Some(id) if line.get("event").is_none() => {
                self.answers.insert(id, line);
            }
            _ => self.events.push_back(line["event"].clone()),
        }
    }

    /// Closes the client's input (it closes its connection) and waits for it to end.
    pub fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                self.fail("the client did not end after its input closed");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn fail(&self, message: &str) -> ! {
        let stderr = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let tail: Vec<&String> = self.transcript.iter().rev().take(60).collect::<Vec<_>>().into_iter().rev().collect();
        let transcript: Vec<&str> = tail.iter().map(|line| line.as_str()).collect();
        panic!("{message}\n--- transcript (last 60) ---\n{}\n--- stderr ---\n{stderr}", transcript.join("\n"));
    }
}

impl Drop for SdkClient {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
