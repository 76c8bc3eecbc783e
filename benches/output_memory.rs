//! Benchmark: the server's peak resident memory while a step floods its output.
//!
//! `cargo bench --bench output_memory` runs the real binary (bench profile) with a minimal stdio
//! client that reads and drops every notification, and for each case runs one shell step
//! printing 300 MB, then reads the server's `VmHWM` (peak RSS) and `VmRSS` from `/proc`.
//! Cases: 300 MB of 100-byte lines, and one 300 MB line without a newline. Each case runs three
//! times on a fresh server; the table prints the median with min and max.
//!
//! Target: peak RSS under 64 MiB in every case (issue 9: 539 MB and 973 MB before).
#![allow(clippy::disallowed_methods)] // It starts the server binary.

#[path = "support/stats.rs"]
mod stats;

use stats::spread;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RUNS_PER_CASE: usize = 3;
const TARGET_MIB: f64 = 64.0;

struct Client {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
}

fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
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
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    fn start(workspace: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_codelab-planner"))
            .current_dir(workspace)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take().expect("stdin");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut reader) {
                // Output chatter is read and dropped here, as an editor would render and forget it.
                let keep = message["params"]["event"]["kind"] != "subtaskOutput";
                if keep && sender.send(message).is_err() {
                    return;
                }
            }
        });
        let mut client = Self { child, stdin, incoming, next_id: 1 };
        let uri = format!("file://{}", workspace.display());
        client.call("initialize", json!({ "processId": null, "rootUri": uri, "capabilities": {} }));
        client.send(json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.incoming.recv_timeout(Duration::from_secs(60)).expect("a reply");
            if message["id"] == id && message.get("method").is_none() {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    fn wait_finished(&mut self, run_id: &str) -> Value {
        loop {
            let message = self.incoming.recv_timeout(Duration::from_secs(600)).expect("the run ends");
            if message["params"]["runId"] == run_id && message["params"]["event"]["kind"] == "planFinished" {
                return message["params"]["event"].clone();
            }
        }
    }

    fn memory_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        self.call("shutdown", Value::Null);
        self.send(json!({ "jsonrpc": "2.0", "method": "exit", "params": null }));
        let _ = self.child.wait();
    }
}

struct Sample {
    peak_mib: f64,
    after_mib: f64,
    seconds: f64,
}

fn run_case(command: &str) -> Sample {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut client = Client::start(dir.path());
    let subtasks = json!([{ "id": "flood", "title": "flood", "agent": "shell", "command": command }]);
    let created =
        client.call("planning/create", json!({ "task": "print a lot", "mode": "plan", "subtasks": subtasks }));
    let plan_id = created["plan"]["id"].as_str().expect("plan id").to_owned();
    client.call("planning/approve", json!({ "planId": plan_id }));
    let started = Instant::now();
    let run = client.call("planning/execute", json!({ "planId": plan_id }));
    let finished = client.wait_finished(run["runId"].as_str().expect("run id"));
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(finished["status"], "completed", "{finished}");
    let plan = client.call("planning/get", json!({ "planId": plan_id }));
    let result = plan["subtasks"][0]["result"].as_str().unwrap_or_default();
    assert!(result.ends_with("THE-END\n"), "the stored result ends with the real last line");
    let sample = Sample {
        peak_mib: client.memory_kib("VmHWM:") as f64 / 1024.0,
        after_mib: client.memory_kib("VmRSS:") as f64 / 1024.0,
        seconds,
    };
    client.stop();
    sample
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let line = "x".repeat(99);
    let cases = [
        ("300 MB of 100-byte lines", format!("yes {line} | head -c 300000000; echo THE-END")),
        ("one 300 MB line, no newline", "head -c 300000000 /dev/zero | tr '\\0' x; echo; echo THE-END".to_owned()),
    ];
    println!("\n{:<32} {:>4} {:>22} {:>22} {:>18}", "case", "n", "peak RSS MiB (min-max)", "RSS after MiB", "wall s");
    let mut worst: f64 = 0.0;
    for (name, command) in &cases {
        let samples: Vec<Sample> = (0..RUNS_PER_CASE).map(|_| run_case(command)).collect();
        let (peak, peak_min, peak_max) = spread(samples.iter().map(|sample| sample.peak_mib).collect());
        let (after, _, _) = spread(samples.iter().map(|sample| sample.after_mib).collect());
        let (seconds, seconds_min, seconds_max) = spread(samples.iter().map(|sample| sample.seconds).collect());
        worst = worst.max(peak_max);
        println!(
            "{name:<32} {:>4} {:>8.1} ({peak_min:.1}-{peak_max:.1}) {after:>22.1} {seconds:>6.2} ({seconds_min:.2}-{seconds_max:.2})",
            samples.len(),
            peak
        );
    }
    println!(
        "target: peak RSS < {TARGET_MIB} MiB — worst seen {worst:.1} MiB: {}",
        if worst < TARGET_MIB { "met" } else { "MISSED" }
    );
}
