//! The only code in the crate that spawns child processes (enforced by `clippy.toml`).
//!
//! [`run_shell`] runs `sh -c <command>` in its own process group with stdin closed, streams
//! stdout and stderr line by line, keeps a bounded tail of the output, and kills the whole group
//! on cancel (SIGTERM, then SIGKILL after a grace), on timeout, when the shell exits (no
//! stragglers) and when the future is dropped. It does not know about plans or the store.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Bytes of interleaved stdout+stderr kept as the result (the tail).
pub const OUTPUT_TAIL_BYTES: usize = 64 * 1024;
/// Bytes of stderr kept for the error message (the tail).
pub const STDERR_TAIL_BYTES: usize = 4 * 1024;
/// How long pipes are still read after the shell exits and its group is killed.
const PIPE_DRAIN_GRACE: Duration = Duration::from_millis(200);

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ShellCommand {
    pub command: String,
    pub working_directory: PathBuf,
    /// Added to the server's environment.
    pub extra_env: Vec<(String, String)>,
    /// Removed from the server's environment (the API key's variable, for agent commands).
    pub removed_env: Vec<String>,
    /// Between SIGTERM and SIGKILL on cancel.
    pub kill_grace: Duration,
    pub timeout: Option<Duration>,
}

/// How the shell ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellExit {
    Code(i32),
    Signal(Signal),
    /// Stopped by the cancellation token; the group is gone.
    Cancelled,
    /// Ran longer than the timeout; the group is gone.
    TimedOut(Duration),
}

/// The end of a run: how it exited and what it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellOutcome {
    pub exit: ShellExit,
    /// The last [`OUTPUT_TAIL_BYTES`] of stdout and stderr, interleaved by line, prefixed with
    /// `[... N bytes dropped]` when longer.
    pub output: String,
    /// The last [`STDERR_TAIL_BYTES`] of stderr.
    pub stderr_tail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start sh in {directory}: {cause}")]
    Spawn { directory: PathBuf, cause: std::io::Error },
    #[error("cannot wait for the shell: {0}")]
    Wait(std::io::Error),
}

/// A bounded tail of text: keeps the last `limit` bytes and counts what it dropped.
#[derive(Debug, Clone)]
pub struct TextTail {
    text: String,
    limit: usize,
    dropped_bytes: u64,
}

impl TextTail {
    pub fn new(limit: usize) -> Self {
        Self { text: String::new(), limit, dropped_bytes: 0 }
    }

    pub fn push_line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.text.len() > self.limit.saturating_mul(2) {
            self.trim();
        }
    }

    fn trim(&mut self) {
        if self.text.len() <= self.limit {
            return;
        }
        let mut cut = self.text.len() - self.limit;
        while !self.text.is_char_boundary(cut) {
            cut += 1;
        }
        self.text.drain(..cut);
        self.dropped_bytes += cut as u64;
    }

    /// The kept text, with a `[... N bytes dropped]` line first when anything was dropped.
    pub fn finish(mut self) -> String {
        self.trim();
        if self.dropped_bytes == 0 {
            self.text
        } else {
            format!("[... {} bytes dropped]\n{}", self.dropped_bytes, self.text)
        }
    }
}

/// Kills the process group when dropped, unless disarmed (the group is known to be gone).
struct GroupGuard {
    group: Option<Pid>,
}

impl GroupGuard {
    fn signal(&self, signal: Signal) {
        if let Some(group) = self.group {
            // ESRCH (group already empty) is the expected outcome after the shell exits.
            let _ = killpg(group, signal);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Runs `spec.command` with `sh -c`; `on_line` gets every output line as it arrives.
pub async fn run_shell(
    spec: &ShellCommand,
    cancel: &CancellationToken,
    on_line: &(dyn Fn(String) + Send + Sync),
) -> Result<ShellOutcome, ProcessError> {
    let mut child = spawn_shell(spec)?;
    let guard = GroupGuard { group: child.id().and_then(|pid| i32::try_from(pid).ok()).map(Pid::from_raw) };
    let (line_sender, mut lines) = mpsc::unbounded_channel();
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(forward_lines(stdout, Stream::Stdout, line_sender.clone())));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(forward_lines(stderr, Stream::Stderr, line_sender.clone())));
    }
    drop(line_sender);

    let mut output = TextTail::new(OUTPUT_TAIL_BYTES);
    let mut stderr_tail = TextTail::new(STDERR_TAIL_BYTES);
    let mut record = |stream: Stream, line: String| {
        output.push_line(&line);
        if stream == Stream::Stderr {
            stderr_tail.push_line(&line);
        }
        on_line(line);
    };
    let deadline = async {
        match spec.timeout {
            Some(timeout) => tokio::time::sleep(timeout).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut lines_open = true;
    let exit = loop {
        tokio::select! {
            status = child.wait() => break exit_of(status.map_err(ProcessError::Wait)?),
            () = cancel.cancelled() => {
                terminate_group(&mut child, &guard, spec.kill_grace).await;
                break ShellExit::Cancelled;
            }
            () = &mut deadline => {
                guard.signal(Signal::SIGKILL);
                let _ = child.wait().await;
                break ShellExit::TimedOut(spec.timeout.unwrap_or_default());
            }
            line = lines.recv(), if lines_open => match line {
                Some((stream, line)) => record(stream, line),
                None => lines_open = false,
            },
        }
    };
    // No stragglers: background children of the shell die with it and release the pipes.
    guard.signal(Signal::SIGKILL);
    let drain = async {
        while let Some((stream, line)) = lines.recv().await {
            record(stream, line);
        }
    };
    let _ = tokio::time::timeout(PIPE_DRAIN_GRACE, drain).await;
    for reader in readers {
        reader.abort();
    }
    Ok(ShellOutcome { exit, output: output.finish(), stderr_tail: stderr_tail.finish() })
}

#[allow(clippy::disallowed_methods)] // This module is the one place allowed to spawn processes.
fn spawn_shell(spec: &ShellCommand) -> Result<Child, ProcessError> {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(&spec.command)
        .current_dir(&spec.working_directory)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for name in &spec.removed_env {
        command.env_remove(name);
    }
    for (name, value) in &spec.extra_env {
        command.env(name, value);
    }
    command.spawn().map_err(|cause| ProcessError::Spawn { directory: spec.working_directory.clone(), cause })
}

/// SIGTERM to the group, SIGKILL if the shell is still alive after `grace`.
async fn terminate_group(child: &mut Child, guard: &GroupGuard, grace: Duration) {
    guard.signal(Signal::SIGTERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        guard.signal(Signal::SIGKILL);
        let _ = child.wait().await;
    }
}

fn exit_of(status: std::process::ExitStatus) -> ShellExit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ShellExit::Code(code),
        (None, Some(signal)) => Signal::try_from(signal).map_or(ShellExit::Code(128 + signal), ShellExit::Signal),
        (None, None) => ShellExit::Code(-1),
    }
}

async fn forward_lines(pipe: impl AsyncRead + Unpin, stream: Stream, sender: mpsc::UnboundedSender<(Stream, String)>) {
    let mut reader = BufReader::new(pipe);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while buffer.last().is_some_and(|byte| *byte == b'\n' || *byte == b'\r') {
                    buffer.pop();
                }
                let line = String::from_utf8_lossy(&buffer).into_owned();
                if sender.send((stream, line)).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(command: &str) -> ShellCommand {
        ShellCommand {
            command: command.to_owned(),
            working_directory: std::env::temp_dir(),
            extra_env: vec![("CODELAB_TEST_VALUE".to_owned(), "forty-two".to_owned())],
            removed_env: vec!["HOME".to_owned()],
            kill_grace: Duration::from_millis(500),
            timeout: None,
        }
    }

    async fn run(spec: &ShellCommand) -> ShellOutcome {
        run_shell(spec, &CancellationToken::new(), &|_| {}).await.expect("shell runs")
    }

    #[tokio::test]
    async fn captures_both_streams_and_the_exit_code() {
        let outcome =
            run(&shell("echo out; echo err >&2; echo $CODELAB_TEST_VALUE; echo home=${HOME:-unset}; exit 3")).await;
        assert!(outcome.output.contains("home=unset\n"), "a removed variable is not inherited");
        assert_eq!(outcome.exit, ShellExit::Code(3));
        assert!(outcome.output.contains("out\n") && outcome.output.contains("err\n"));
        assert!(outcome.output.contains("forty-two"));
        assert_eq!(outcome.stderr_tail, "err\n");
    }

    #[tokio::test]
    async fn streams_lines_and_replaces_invalid_utf8() {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let on_line = move |line: String| sink.lock().unwrap().push(line);
        let spec = shell("printf 'a\\n\\377b\\n'");
        let outcome = run_shell(&spec, &CancellationToken::new(), &on_line).await.unwrap();
        assert_eq!(outcome.exit, ShellExit::Code(0));
        assert_eq!(*seen.lock().unwrap(), vec!["a".to_owned(), "\u{FFFD}b".to_owned()]);
    }

    #[tokio::test]
    async fn long_output_keeps_the_tail_and_counts_dropped_bytes() {
        let outcome = run(&shell(
            "i=0; while [ $i -lt 3000 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done",
        ))
        .await;
        assert!(outcome.output.starts_with("[... "), "{}", &outcome.output[..40]);
        assert!(outcome.output.ends_with("line-2999-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"));
        assert!(outcome.output.len() < OUTPUT_TAIL_BYTES + 64);
    }

    #[tokio::test]
    async fn a_signal_is_reported() {
        let outcome = run(&shell("kill -9 $$")).await;
        assert_eq!(outcome.exit, ShellExit::Signal(Signal::SIGKILL));
    }

    #[tokio::test]
    async fn a_background_grandchild_holding_the_pipe_does_not_hang_the_run() {
        let outcome = tokio::time::timeout(Duration::from_secs(20), run(&shell("sleep 60 & echo started"))).await;
        assert!(matches!(outcome, Ok(ShellOutcome { exit: ShellExit::Code(0), .. })));
    }

    #[tokio::test]
    async fn timeout_kills_the_group() {
        let mut spec = shell("sleep 60");
        spec.timeout = Some(Duration::from_millis(100));
        let outcome = tokio::time::timeout(Duration::from_secs(20), run(&spec)).await.expect("returns");
        assert_eq!(outcome.exit, ShellExit::TimedOut(Duration::from_millis(100)));
    }

    #[test]
    fn text_tail_cuts_on_a_char_boundary() {
        let mut tail = TextTail::new(5);
        tail.push_line("ééééé");
        let text = tail.finish();
        assert!(text.starts_with("[... "));
        assert!(text.ends_with("é\n"));
    }
}
