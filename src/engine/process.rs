//! The only code in the crate that spawns child processes (enforced by `clippy.toml`).
//!
//! [`run_shell`] runs `sh -c <command>` in its own process group with stdin closed, streams
//! stdout and stderr line by line, keeps a bounded head and tail of the output (`output`), and
//! kills the whole group on cancel (SIGTERM, then SIGKILL after a grace), on timeout, when the
//! shell exits (no stragglers) and when the future is dropped. No process a step starts outlives
//! the step: the group leader gets SIGKILL when the server dies (`setpriv --pdeathsig`, where
//! util-linux is installed), and processes that left the group (`setsid`, daemons) are found by
//! the attempt marker in their environment and killed when the step ends (`reaper`). Children
//! never see the variables named by [`hide_env_from_children`] (API keys). It does not know about
//! plans or the store.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::output::{Line, LineSplitter, OutputCapture};
pub use super::output::{OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES, TextTail};
use super::reaper;

/// Bytes of stderr kept for the error message (the tail).
pub const STDERR_TAIL_BYTES: usize = 4 * 1024;
/// After the shell exits, reading stops once the pipes have been quiet this long (a process
/// outside the server's reach may hold them open); a steady stream is read to its end.
const PIPE_IDLE_GRACE: Duration = Duration::from_millis(500);
/// Lines in flight between a pipe reader and the run loop (bounds memory, not the output).
const LINES_IN_FLIGHT: usize = 256;
/// Bytes read from a pipe at a time.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Variables removed from every child's environment (the LLM API key's and the default one).
static HIDDEN_ENV: LazyLock<Mutex<BTreeSet<String>>> =
    LazyLock::new(|| Mutex::new(BTreeSet::from(["OPENAI_API_KEY".to_owned()])));

/// Removes the variable `name` from the environment of every child started from now on (the
/// variable named by `llm.apiKeyEnv`). Names are only added, never forgotten.
pub fn hide_env_from_children(name: &str) {
    if !name.is_empty() {
        HIDDEN_ENV.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(name.to_owned());
    }
}

/// `setpriv`, when installed: it gives the step's group leader a parent-death signal.
static SETPRIV: LazyLock<Option<PathBuf>> =
    LazyLock::new(|| ["/usr/bin/setpriv", "/bin/setpriv"].iter().map(PathBuf::from).find(|path| path.is_file()));

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ShellCommand {
    pub command: String,
    pub working_directory: PathBuf,
    /// Added to the server's environment.
    pub extra_env: Vec<(String, String)>,
    /// Between SIGTERM and SIGKILL on cancel.
    pub kill_grace: Duration,
    pub timeout: Option<Duration>,
    /// A launcher run in front of `sh -c` (the command sandbox: `agents::sandbox`), which execs
    /// the shell in its place; `None` runs the shell directly.
    pub launcher: Option<Vec<std::ffi::OsString>>,
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
    /// The first [`OUTPUT_HEAD_BYTES`] and the last [`OUTPUT_TAIL_BYTES`] of stdout and stderr,
    /// interleaved by line, with `[... N lines (M bytes) dropped ...]` between them when longer.
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
        if let Some(group) = self.group {
            tell_watchdog('-', group);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Kills, once the server is gone, every process group of a step still running and every
/// process carrying this server's marker. It reads `+pgid` / `-pgid` lines (a step's group
/// started / ended) from a pipe only the server holds; the pipe closes however the server ends,
/// even `kill -9`. Groups cover children that cleared their environment; markers cover daemons
/// that left the group.
const WATCHDOG_SCRIPT: &str = r#"groups=" "
while read -r line; do
  case "$line" in
    +*) groups="$groups${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ ${line#-} / /") ;;
  esac
done
for group in $groups; do kill -9 "-$group" 2>/dev/null; done
for round in 1 2 3; do
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    if tr '\0' '\n' 2>/dev/null < "$dir/environ" | grep -qxF "$1"; then kill -9 "$pid" 2>/dev/null; fi
  done
done"#;

/// The marker (`NAME=value`) every step of this server carries, for the watchdog.
static SERVER_MARKER: LazyLock<String> = LazyLock::new(|| format!("{}:{}", std::process::id(), attempt_marker()));

/// The watchdog and the write end of its pipe, held for the life of the server.
struct Watchdog {
    _process: Child,
    pipe: std::fs::File,
}

static WATCHDOG: LazyLock<Mutex<Option<Watchdog>>> = LazyLock::new(|| Mutex::new(start_watchdog()));

#[allow(clippy::disallowed_methods)] // This module is the one place allowed to spawn processes.
fn start_watchdog() -> Option<Watchdog> {
    let marker = format!("{}={}", reaper::SERVER_MARKER, *SERVER_MARKER);
    let spawned = tokio::process::Command::new("sh")
        .args(["-c", WATCHDOG_SCRIPT, "codelab-watchdog", &marker])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut process| {
            let stdin = process.stdin.take().ok_or_else(|| std::io::Error::other("no pipe"))?;
            let pipe = std::fs::File::from(stdin.into_owned_fd()?);
            Ok(Watchdog { _process: process, pipe })
        });
    match spawned {
        Ok(watchdog) => Some(watchdog),
        Err(error) => {
            tracing::warn!(%error, "cannot start the watchdog; steps may outlive a killed server");
            None
        }
    }
}

/// Tells the watchdog that a step's group started (`+`) or ended (`-`).
fn tell_watchdog(sign: char, group: Pid) {
    use std::io::Write;
    let mut watchdog = WATCHDOG.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(watchdog) = watchdog.as_mut() {
        // A short line to a pipe the watchdog keeps reading: it does not block.
        if let Err(error) = writeln!(watchdog.pipe, "{sign}{group}") {
            tracing::warn!(%error, "cannot reach the watchdog");
        }
    }
}

/// A unique marker for one attempt's processes.
fn attempt_marker() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Runs `spec.command` with `sh -c`; `on_line` gets every output line as it arrives.
pub async fn run_shell(
    spec: &ShellCommand,
    cancel: &CancellationToken,
    on_line: &(dyn Fn(String) + Send + Sync),
) -> Result<ShellOutcome, ProcessError> {
    reaper::become_subreaper();
    let marker = attempt_marker();
    let mut child = spawn_shell(spec, &marker)?;
    let group = child.id().and_then(|pid| i32::try_from(pid).ok()).map(Pid::from_raw);
    if let Some(group) = group {
        tell_watchdog('+', group);
    }
    let guard = GroupGuard { group };
    let (line_sender, mut lines) = mpsc::channel(LINES_IN_FLIGHT);
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(forward_lines(stdout, Stream::Stdout, line_sender.clone())));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(forward_lines(stderr, Stream::Stderr, line_sender.clone())));
    }
    drop(line_sender);

    let mut output = OutputCapture::new();
    let mut stderr_tail = TextTail::new(STDERR_TAIL_BYTES);
    let mut record = |stream: Stream, line: Line| {
        if stream == Stream::Stderr {
            stderr_tail.push_line(&line.text);
        }
        on_line(line.text.clone());
        output.push(line);
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
    // No stragglers: background children of the shell die with it, daemons that left the group
    // are found by the attempt marker; then the pipes are read to their end.
    guard.signal(Signal::SIGKILL);
    kill_escaped(marker).await;
    while let Ok(Some((stream, line))) = tokio::time::timeout(PIPE_IDLE_GRACE, lines.recv()).await {
        record(stream, line);
    }
    for reader in readers {
        reader.abort();
    }
    Ok(ShellOutcome { exit, output: output.finish(), stderr_tail: stderr_tail.finish() })
}

/// Kills what carries the attempt `marker` (daemons, stragglers), off the async workers.
async fn kill_escaped(marker: String) {
    let killing = tokio::task::spawn_blocking(move || {
        reaper::kill_marked(reaper::ATTEMPT_MARKER, &marker);
    });
    if let Err(error) = killing.await {
        tracing::warn!(%error, "the search for escaped processes failed");
    }
}

#[allow(clippy::disallowed_methods)] // This module is the one place allowed to spawn processes.
fn spawn_shell(spec: &ShellCommand, marker: &str) -> Result<Child, ProcessError> {
    let mut program: Vec<std::ffi::OsString> = spec.launcher.clone().unwrap_or_default();
    program.extend(["sh".into(), "-c".into(), spec.command.clone().into()]);
    let mut command = match SETPRIV.as_deref() {
        Some(setpriv) => {
            let mut command = tokio::process::Command::new(setpriv);
            command.args(["--pdeathsig", "KILL", "--"]).args(&program);
            command
        }
        None => {
            let mut command = tokio::process::Command::new(&program[0]);
            command.args(&program[1..]);
            command
        }
    };
    command
        .current_dir(&spec.working_directory)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let hidden = HIDDEN_ENV.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    for name in hidden.iter() {
        command.env_remove(name);
    }
    for (name, value) in &spec.extra_env {
        command.env(name, value);
    }
    command.env(reaper::ATTEMPT_MARKER, marker);
    command.env(reaper::SERVER_MARKER, &*SERVER_MARKER);
    command.spawn().map_err(|cause| spawn_error(&spec.working_directory, cause))
}

fn spawn_error(directory: &Path, cause: std::io::Error) -> ProcessError {
    ProcessError::Spawn { directory: directory.to_path_buf(), cause }
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

/// Reads `pipe` to its end in chunks, sending each line (capped) as it completes; waits when
/// the run loop is behind, so memory stays bounded however much the child prints.
async fn forward_lines(mut pipe: impl AsyncRead + Unpin, stream: Stream, sender: mpsc::Sender<(Stream, Line)>) {
    let mut splitter = LineSplitter::default();
    let mut chunk = vec![0; READ_CHUNK_BYTES];
    let mut pending = Vec::new();
    loop {
        let read = match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        splitter.push(&chunk[..read], &mut |line| pending.push(line));
        for line in pending.drain(..) {
            if sender.send((stream, line)).await.is_err() {
                return;
            }
        }
    }
    splitter.finish(&mut |line| pending.push(line));
    for line in pending.drain(..) {
        let _ = sender.send((stream, line)).await;
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
            kill_grace: Duration::from_millis(500),
            timeout: None,
            launcher: None,
        }
    }

    async fn run(spec: &ShellCommand) -> ShellOutcome {
        run_shell(spec, &CancellationToken::new(), &|_| {}).await.expect("shell runs")
    }

    #[tokio::test]
    async fn captures_both_streams_and_the_exit_code() {
        // `cargo test` sets CARGO_PKG_NAME in this process; hidden, no child inherits it.
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some(), "run under cargo test");
        hide_env_from_children("CARGO_PKG_NAME");
        let outcome = run(&shell(
            "echo out; echo err >&2; echo $CODELAB_TEST_VALUE; echo package=${CARGO_PKG_NAME:-unset}; exit 3",
        ))
        .await;
        assert!(outcome.output.contains("package=unset\n"), "a hidden variable is not inherited");
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
    async fn long_output_keeps_head_and_tail_and_the_real_last_line() {
        let outcome = run(&shell("seq 1 2000000")).await;
        assert!(outcome.output.starts_with("1\n2\n3\n"), "{}", &outcome.output[..40]);
        assert!(outcome.output.ends_with("1999999\n2000000\n"), "{}", &outcome.output[outcome.output.len() - 40..]);
        let marker = outcome.output.lines().find(|line| line.starts_with("[... ")).expect("a drop marker");
        let dropped_lines: usize = marker[5..].split(' ').next().unwrap().parse().unwrap();
        assert_eq!(outcome.output.lines().count() - 1 + dropped_lines, 2_000_000, "{marker}");
        assert!(outcome.output.len() < OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 100);
    }

    #[tokio::test]
    async fn the_last_line_after_a_flood_and_an_endless_line_is_kept() {
        let outcome = run(&shell("head -c 30000000 /dev/zero | tr '\\0' x; echo; echo THE-END")).await;
        assert!(
            outcome.output.ends_with("THE-END\n"),
            "{}",
            &outcome.output[outcome.output.len().saturating_sub(80)..]
        );
        assert!(outcome.output.contains("bytes of this line cut]"));
        assert!(outcome.output.len() < OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 100);
    }

    /// Runs a step that starts a `setsid` daemon and then does `then`; returns how the step
    /// ended and whether the daemon is still alive afterwards.
    async fn daemon_after(then: &str, timeout: Option<Duration>, cancel_after_start: bool) -> (ShellExit, bool) {
        let directory = tempfile::tempdir().unwrap();
        let mut spec = shell(&format!(
            "setsid sh -c 'echo $$ > daemon.tmp && mv daemon.tmp daemon.pid; exec sleep 300' >/dev/null 2>&1 </dev/null &
             until [ -f daemon.pid ]; do sleep 0.01; done; {then}"
        ));
        spec.working_directory = directory.path().to_owned();
        spec.timeout = timeout;
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let pid_file = directory.path().join("daemon.pid");
        let on_line = move |_: String| {};
        let watcher = async {
            if cancel_after_start {
                // Polls a file (no event to wait on), with a hard bound.
                let started = async {
                    while !pid_file.exists() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                };
                tokio::time::timeout(Duration::from_secs(20), started).await.expect("the daemon started");
                trigger.cancel();
            }
        };
        let (outcome, ()) = tokio::join!(run_shell(&spec, &cancel, &on_line), watcher);
        let pid: i32 = std::fs::read_to_string(directory.path().join("daemon.pid")).unwrap().trim().parse().unwrap();
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'));
        (outcome.unwrap().exit, alive)
    }

    #[tokio::test]
    async fn a_daemon_started_by_the_step_dies_when_the_step_ends_however_it_ends() {
        assert_eq!(daemon_after("true", None, false).await, (ShellExit::Code(0), false), "completion");
        let timeout = Duration::from_millis(300);
        assert_eq!(daemon_after("sleep 60", Some(timeout), false).await, (ShellExit::TimedOut(timeout), false));
        assert_eq!(daemon_after("sleep 60", None, true).await, (ShellExit::Cancelled, false), "cancel");
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
}
