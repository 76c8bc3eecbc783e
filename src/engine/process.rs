//! The only code in the crate that spawns child processes (enforced by `clippy.toml`), all
//! through one function, [`spawn_child`], which applies the safety settings whatever the caller:
//! a step's process gets the step markers (attempt, server, plan) in its environment, never the
//! variables named by [`hide_env_from_children`] (API keys), a parent-death SIGKILL, and is made a
//! child subreaper so the orphans of its processes stay below it; the watchdog gets an empty
//! environment (it never sees a key) and no parent-death signal (it must outlive the server).
//!
//! [`run_shell`] runs `sh -c <command>` in its own process group with stdin closed, streams
//! stdout and stderr line by line, keeps a bounded head and tail of the output (`output`), and
//! kills the whole group on cancel (SIGTERM, then SIGKILL after a grace), on timeout, when the
//! shell exits (no stragglers) and when the future is dropped. No process a step starts outlives
//! the step: what left the group (`setsid`, daemons, a cleared environment) is found among the
//! server's own children when the step ends (`reaper`); the watchdog kills what is left when the
//! server dies (its cgroup where there is one, `cgroup`). It does not know about plans or the
//! store.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::output::{Line, LineSplitter, OutputCapture};
pub use super::output::{OUTPUT_HEAD_BYTES, OUTPUT_TAIL_BYTES, TextTail};
use super::{cgroup, reaper};
pub use launch::Io;

mod direct;
mod launch;
mod starters;

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

/// What a child is, which decides the settings [`spawn_child`] applies.
#[derive(Debug, Clone)]
pub enum ChildRole {
    /// A step's (or an agent command's) group leader: markers, no hidden variables, a
    /// parent-death SIGKILL, a subreaper for its own orphans.
    Step {
        /// One attempt's marker (`CODELAB_ATTEMPT`).
        attempt: String,
        /// The plan it belongs to (`CODELAB_PLAN_ID`), for what a crashed server left.
        plan_id: Option<String>,
    },
    /// The watchdog: an empty environment but `PATH`, no parent-death signal.
    Watchdog,
}

/// How to start one child: the program, its arguments and where.
#[derive(Debug, Clone)]
pub struct ChildSpec<'a> {
    pub program: &'a str,
    pub args: &'a [&'a str],
    pub working_directory: &'a Path,
    /// Added to the environment (after the hidden variables are removed).
    pub extra_env: &'a [(String, String)],
    /// A program run in front of `program` (the command sandbox's launcher: `agents::sandbox`),
    /// which execs it once its rules apply; empty for none.
    pub launcher: &'a [std::ffi::OsString],
    pub role: ChildRole,
}

/// The one function that starts a child process. Every child runs in its own process group
/// with stdin closed unless piped here; the role decides the rest (see [`ChildRole`]). It is
/// started by `launch` (a `clone` that shares the server's memory until `exec`, so its cost
/// does not grow with the server's size), which sets a step's parent-death signal and subreaper
/// flag in the child before `exec`.
pub fn spawn_child(spec: &ChildSpec<'_>, stdin: Io, stdout: Io, stderr: Io) -> std::io::Result<SpawnedChild> {
    let mut args: Vec<&std::ffi::OsStr> = Vec::new();
    let program = match spec.launcher.split_first() {
        Some((launcher, launcher_args)) => {
            args.extend(launcher_args.iter().map(std::ffi::OsString::as_os_str));
            args.push(std::ffi::OsStr::new(spec.program));
            launcher.as_os_str()
        }
        None => std::ffi::OsStr::new(spec.program),
    };
    args.extend(spec.args.iter().map(std::ffi::OsStr::new));
    let pair = |name: &str, value: &str| (std::ffi::OsString::from(name), std::ffi::OsString::from(value));
    let (environment, tied_to_parent) = match &spec.role {
        ChildRole::Step { attempt, plan_id } => {
            let hidden = HIDDEN_ENV.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let mut markers: Vec<(&str, &str)> =
                vec![(reaper::ATTEMPT_MARKER, attempt.as_str()), (reaper::SERVER_MARKER, SERVER_MARKER.as_str())];
            if let Some(plan_id) = plan_id {
                markers.push((reaper::PLAN_MARKER, plan_id));
            }
            let set_here: BTreeSet<&str> = spec
                .extra_env
                .iter()
                .map(|(name, _)| name.as_str())
                .chain(markers.iter().map(|(name, _)| *name))
                .collect();
            let mut environment: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os()
                .filter(|(name, _)| name.to_str().is_none_or(|name| !hidden.contains(name) && !set_here.contains(name)))
                .collect();
            environment.extend(spec.extra_env.iter().map(|(name, value)| pair(name, value)));
            environment.extend(markers.iter().map(|(name, value)| pair(name, value)));
            (environment, true)
        }
        ChildRole::Watchdog => {
            let mut environment: Vec<_> = spec.extra_env.iter().map(|(name, value)| pair(name, value)).collect();
            environment.push(pair("PATH", "/usr/bin:/bin"));
            environment.sort();
            (environment, false)
        }
    };
    let command = launch::Command {
        program,
        args,
        working_directory: spec.working_directory,
        environment,
        tied_to_parent,
        stdin,
        stdout,
        stderr,
    };
    let kill_on_drop = matches!(spec.role, ChildRole::Step { .. });
    reaper::spawn_registered(|| launch::launch(&command), |launched| launched.pid).map(|launched| SpawnedChild {
        pid: launched.pid,
        pidfd: launched.pidfd,
        waiter: None,
        stdin: launched.stdin,
        stdout: launched.stdout,
        stderr: launched.stderr,
        status: None,
        kill_on_drop,
    })
}

/// A child started by [`spawn_child`]: waited for through its pidfd (no thread, no `SIGCHLD`
/// handler), and killed when dropped before it ended — a step's leader; the watchdog is left to
/// outlive the server.
#[derive(Debug)]
pub struct SpawnedChild {
    pid: i32,
    pidfd: Option<std::os::fd::OwnedFd>,
    waiter: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
    /// The write end of its stdin, when piped.
    pub stdin: Option<std::os::fd::OwnedFd>,
    /// The read end of its stdout, when piped.
    pub stdout: Option<std::os::fd::OwnedFd>,
    /// The read end of its stderr, when piped.
    pub stderr: Option<std::os::fd::OwnedFd>,
    status: Option<std::process::ExitStatus>,
    kill_on_drop: bool,
}

/// How often a child is polled for its end where the kernel has no pidfd (before 5.2).
const POLL_WITHOUT_PIDFD: Duration = Duration::from_millis(5);

impl SpawnedChild {
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.pid)
    }

    /// Waits for the child to end and reaps it. Cancel-safe: call it again after a `select!`.
    pub async fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            if let Some(status) = launch::try_wait(self.pid)? {
                self.status = Some(status);
                continue;
            }
            if self.waiter.is_none()
                && let Some(pidfd) = self.pidfd.take()
            {
                self.waiter = Some(launch::watch_exit(pidfd)?);
            }
            match &self.waiter {
                // Readable once the child has ended; reaped on the next turn.
                Some(waiter) => waiter.readable().await?.retain_ready(),
                None => tokio::time::sleep(POLL_WITHOUT_PIDFD).await,
            }
        }
    }
}

impl Drop for SpawnedChild {
    fn drop(&mut self) {
        if self.kill_on_drop && self.status.is_none() {
            let _ = nix::sys::signal::kill(self.pid(), Signal::SIGKILL);
            // Reaped here when already gone; else it is a zombie among the server's children,
            // which `reaper::kill_escaped` reaps.
            let _ = launch::try_wait(self.pid);
            reaper::forget_child(self.pid);
        }
    }
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct ShellCommand {
    pub command: String,
    pub working_directory: PathBuf,
    /// Added to the server's environment.
    pub extra_env: Vec<(String, String)>,
    /// The plan the command works for: its processes carry the plan marker (set by
    /// [`spawn_child`], never by the caller).
    pub plan_id: Option<String>,
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

/// Kills the process group when dropped.
struct GroupGuard {
    group: Pid,
}

impl GroupGuard {
    fn signal(&self, signal: Signal) {
        // ESRCH (group already empty) is the expected outcome after the shell exits.
        let _ = killpg(self.group, signal);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
        reaper::forget_child(self.group.as_raw());
        tell_watchdog('-', self.group);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Kills, once the server is gone, what is left of its steps. It reads `+pgid` / `-pgid` lines
/// (a step's group started / ended) from a pipe only the server holds, and keeps the list with the
/// shell's own string operations (no process per line: a step costs the watchdog no fork); the pipe closes however
/// the server ends, even `kill -9`. Then: the server's cgroup (`$2`, where there is one) holds
/// every process its steps started, whatever they did to their environment or session — it is
/// killed and removed. Without one, the groups still running are killed, and every process
/// carrying this server's marker (`$1`, daemons that left their group).
const WATCHDOG_SCRIPT: &str = r#"groups=" "
while read -r line; do
  case "$line" in
    +*) groups="$groups${line#+} " ;;
    -*) case "$groups" in *" ${line#-} "*) groups="${groups%% ${line#-} *} ${groups#* ${line#-} }" ;; esac ;;
  esac
done
for group in $groups; do kill -9 "-$group" 2>/dev/null; done
if [ -n "$2" ] && [ -d "$2" ]; then
  for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    echo 1 > "$2/cgroup.kill" 2>/dev/null || for pid in $(cat "$2/cgroup.procs"); do kill -9 "$pid" 2>/dev/null; done
    [ -z "$(find "$2" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
    sleep 0.05
  done
  find "$2" -depth -type d -exec rmdir {} + 2>/dev/null
  exit 0
fi
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
    _process: SpawnedChild,
    pipe: std::fs::File,
}

static WATCHDOG: LazyLock<Mutex<Option<Watchdog>>> = LazyLock::new(|| Mutex::new(start_watchdog()));

/// Starts the watchdog, then (where it may) moves the server into a cgroup of its own that the
/// watchdog, left outside it, kills once the server is gone.
fn start_watchdog() -> Option<Watchdog> {
    reaper::become_subreaper();
    let cgroup = cgroup::create();
    let marker = format!("{}={}", reaper::SERVER_MARKER, *SERVER_MARKER);
    let cgroup_argument = cgroup.as_ref().map(|path| path.display().to_string()).unwrap_or_default();
    let spec = ChildSpec {
        program: "sh",
        args: &["-c", WATCHDOG_SCRIPT, "codelab-watchdog", &marker, &cgroup_argument],
        working_directory: Path::new("/"),
        extra_env: &[],
        launcher: &[],
        role: ChildRole::Watchdog,
    };
    let spawned = spawn_child(&spec, Io::Piped, Io::Null, Io::Null).and_then(|mut process| {
        let stdin = process.stdin.take().ok_or_else(|| std::io::Error::other("no pipe"))?;
        // Never blocks the server: a watchdog that stopped reading costs a warning, not a hang.
        nix::fcntl::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&stdin),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        )?;
        let pipe = std::fs::File::from(stdin);
        Ok(Watchdog { _process: process, pipe })
    });
    match spawned {
        Ok(watchdog) => {
            if let Some(path) = cgroup
                && cgroup::enter(&path)
            {
                tracing::debug!(cgroup = %path.display(), "steps run in the server's cgroup");
            }
            Some(watchdog)
        }
        Err(error) => {
            if let Some(path) = cgroup {
                let _ = std::fs::remove_dir(path);
            }
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
    LazyLock::force(&WATCHDOG);
    let mut child = spawn_shell(spec).await?;
    // The leader's pid is its group's id (`launch` makes it a group of its own).
    let group = child.pid();
    tell_watchdog('+', group);
    let guard = GroupGuard { group };
    let (line_sender, mut lines) = mpsc::channel(LINES_IN_FLIGHT);
    let mut readers = Vec::new();
    for (pipe, stream) in [(child.stdout.take(), Stream::Stdout), (child.stderr.take(), Stream::Stderr)] {
        if let Some(pipe) = pipe {
            let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(pipe)
                .map_err(|cause| spawn_error(&spec.working_directory, cause))?;
            readers.push(tokio::spawn(forward_lines(pipe, stream, line_sender.clone())));
        }
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
    // are among the server's children now; then the pipes are read to their end.
    guard.signal(Signal::SIGKILL);
    kill_escaped().await;
    while let Ok(Some((stream, line))) = tokio::time::timeout(PIPE_IDLE_GRACE, lines.recv()).await {
        record(stream, line);
    }
    for reader in readers {
        reader.abort();
    }
    Ok(ShellOutcome { exit, output: output.finish(), stderr_tail: stderr_tail.finish() })
}

/// Kills what escaped the step's group (see `reaper`); off the async workers only when there
/// is something to kill.
async fn kill_escaped() {
    if !reaper::has_escaped() {
        return;
    }
    if let Err(error) = tokio::task::spawn_blocking(reaper::kill_escaped).await {
        tracing::warn!(%error, "the search for escaped processes failed");
    }
}

/// Starts the step's command on a starter thread (`starters`: the wait for the child's `exec`
/// holds no runtime worker, and starts run side by side): a simple command as itself
/// (`direct`, with `PWD` set as `sh` would), anything else, or a command not found, with `sh -c`
/// (whose error message and exit code the person then sees).
async fn spawn_shell(spec: &ShellCommand) -> Result<SpawnedChild, ProcessError> {
    let spec_owned = spec.clone();
    let started = starters::on_starter_thread(move || {
        let spec = spec_owned;
        let launcher = spec.launcher.as_deref().unwrap_or_default();
        let start = |program: &str, args: &[&str], extra_env: &[(String, String)]| {
            let role = ChildRole::Step { attempt: attempt_marker(), plan_id: spec.plan_id.clone() };
            let working_directory = &spec.working_directory;
            let child = ChildSpec { program, args, working_directory, extra_env, launcher, role };
            spawn_child(&child, Io::Null, Io::Piped, Io::Piped)
        };
        let words = direct::simple_command(&spec.command).filter(|_| launcher.is_empty());
        if let (Some(words), Some(folder)) = (words, spec.working_directory.to_str()) {
            let mut extra_env = spec.extra_env.clone();
            extra_env.push(("PWD".to_owned(), folder.to_owned()));
            match start(words[0], &words[1..], &extra_env) {
                Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {}
                started => return started,
            }
        }
        start("sh", &["-c", &spec.command], &spec.extra_env)
    })
    .await
    .unwrap_or_else(|| Err(std::io::Error::other("starting the shell panicked")));
    started.map_err(|cause| spawn_error(&spec.working_directory, cause))
}

fn spawn_error(directory: &Path, cause: std::io::Error) -> ProcessError {
    ProcessError::Spawn { directory: directory.to_path_buf(), cause }
}

/// SIGTERM to the group, SIGKILL if the shell is still alive after `grace`.
async fn terminate_group(child: &mut SpawnedChild, guard: &GroupGuard, grace: Duration) {
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
            plan_id: None,
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

    /// Runs a step that starts a daemon (`setsid`, and with `clean_env` also `env -i`) and then
    /// does `then`; returns how the step ended and whether the daemon is still alive afterwards.
    async fn daemon_after(
        then: &str,
        timeout: Option<Duration>,
        cancel_after_start: bool,
        clean_env: bool,
    ) -> (ShellExit, bool) {
        let directory = tempfile::tempdir().unwrap();
        let env = if clean_env { "env -i " } else { "" };
        let mut spec = shell(&format!(
            "setsid {env}sh -c 'echo $$ > daemon.tmp && mv daemon.tmp daemon.pid; exec sleep 300' >/dev/null 2>&1 </dev/null &
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
        for clean_env in [false, true] {
            let exit = daemon_after("true", None, false, clean_env).await;
            assert_eq!(exit, (ShellExit::Code(0), false), "completion, env -i: {clean_env}");
            let timeout = Duration::from_millis(300);
            let exit = daemon_after("sleep 60", Some(timeout), false, clean_env).await;
            assert_eq!(exit, (ShellExit::TimedOut(timeout), false), "timeout, env -i: {clean_env}");
            let exit = daemon_after("sleep 60", None, true, clean_env).await;
            assert_eq!(exit, (ShellExit::Cancelled, false), "cancel, env -i: {clean_env}");
        }
    }

    #[tokio::test]
    async fn an_orphan_of_a_running_step_stays_below_the_step() {
        // The subshell exits at once: its `sleep` is an orphan, re-parented to the step's shell
        // (a subreaper), not to this process — so another step ending cannot take it for its own
        // (only the server's own children are looked at).
        let directory = tempfile::tempdir().unwrap();
        let mut spec = shell("(sleep 30 & echo $! > orphan.pid); echo $$ > leader.pid; sleep 30");
        spec.working_directory = directory.path().to_owned();
        let cancel = CancellationToken::new();
        let running = run_shell(&spec, &cancel, &|_| {});
        let checked = async {
            let pid_file = directory.path().join("leader.pid");
            let orphan_file = directory.path().join("orphan.pid");
            let both = async {
                while !(pid_file.exists() && orphan_file.exists()) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(20), both).await.expect("the step started");
            let read = |file: &Path| std::fs::read_to_string(file).unwrap().trim().parse::<i32>().unwrap();
            let (leader, orphan) = (read(&pid_file), read(&orphan_file));
            assert_eq!(parent_of(orphan), Some(leader), "the orphan is the leader's, not the server's");
            cancel.cancel();
            orphan
        };
        let (outcome, orphan) = tokio::join!(running, checked);
        assert_eq!(outcome.unwrap().exit, ShellExit::Cancelled);
        assert!(parent_of(orphan).is_none(), "the orphan died with its step");
    }

    fn parent_of(pid: i32) -> Option<i32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let mut fields = stat.rsplit(')').next()?.split_whitespace();
        (fields.next()? != "Z").then_some(())?;
        fields.next()?.parse().ok()
    }

    /// The environment of a child started a moment ago: `/proc/PID/environ` is empty until its
    /// `execve` has set up the new stack, which may be just after the start returned.
    fn environment_of(pid: Pid) -> Vec<String> {
        let started = std::time::Instant::now();
        let mut environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        while environ.is_empty() && started.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
            environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        }
        environ
            .split(|byte| *byte == 0)
            .filter(|entry| !entry.is_empty())
            .map(|entry| String::from_utf8_lossy(entry).into_owned())
            .collect()
    }

    /// Every role `spawn_child` knows gets its settings whatever the caller: a step its markers,
    /// no hidden variable and a parent-death SIGKILL (it dies with the thread that started it);
    /// the watchdog nothing but `PATH` (so never a key), and the running watchdog is such a child.
    #[test]
    fn every_spawn_path_applies_the_markers_the_hidden_environment_and_the_parent_death_signal() {
        assert!(std::env::var_os("CARGO_PKG_NAME").is_some(), "run under cargo test");
        hide_env_from_children("CARGO_PKG_NAME");
        let roles = [
            ChildRole::Step { attempt: "attempt-7".to_owned(), plan_id: Some("plan-7".to_owned()) },
            ChildRole::Watchdog,
        ];
        for role in roles {
            let is_step = matches!(role, ChildRole::Step { .. });
            let (sender, receiver) = std::sync::mpsc::channel();
            let starter = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let _entered = runtime.enter();
                let extra = [("CODELAB_EXTRA".to_owned(), "x".to_owned())];
                let spec = ChildSpec {
                    program: "sleep",
                    args: &["30"],
                    working_directory: Path::new("/"),
                    extra_env: &extra,
                    launcher: &[],
                    role,
                };
                let child = spawn_child(&spec, Io::Null, Io::Null, Io::Null).unwrap();
                let pid = child.pid();
                sender.send(environment_of(pid)).unwrap();
                std::mem::forget(child); // Not killed on drop: only the parent-death signal may kill it.
                pid
            });
            let environment = receiver.recv_timeout(Duration::from_secs(20)).unwrap();
            let pid = starter.join().unwrap();
            if is_step {
                for entry in ["CODELAB_ATTEMPT=attempt-7", "CODELAB_PLAN_ID=plan-7", "CODELAB_EXTRA=x"] {
                    assert!(environment.iter().any(|item| item == entry), "{entry} in {environment:?}");
                }
                assert!(environment.iter().any(|item| item.starts_with("CODELAB_SERVER=")));
                assert!(!environment.iter().any(|item| item.starts_with("CARGO_PKG_NAME=")), "hidden");
                // The thread that started it has ended: the parent-death signal kills it.
                let (done, waited) = std::sync::mpsc::channel();
                std::thread::spawn(move || done.send(nix::sys::wait::waitpid(pid, None)));
                let status = waited.recv_timeout(Duration::from_secs(20)).expect("the step died with its parent");
                assert_eq!(status.unwrap(), nix::sys::wait::WaitStatus::Signaled(pid, Signal::SIGKILL, false));
            } else {
                assert_eq!(environment, vec!["CODELAB_EXTRA=x".to_owned(), "PATH=/usr/bin:/bin".to_owned()]);
                nix::sys::signal::kill(pid, Signal::SIGKILL).unwrap();
                nix::sys::wait::waitpid(pid, None).unwrap();
            }
        }
        let watchdog = WATCHDOG.lock().unwrap().as_ref().map(|watchdog| watchdog._process.pid()).expect("a watchdog");
        let environment = environment_of(watchdog);
        assert_eq!(environment, vec!["PATH=/usr/bin:/bin".to_owned()], "the watchdog sees no key");
    }

    /// A simple command runs without `sh` (`direct`) and sees what it would have seen through
    /// it: its folder as `PWD`, the markers; one not found, or not executable, gets the
    /// shell's own message and exit code.
    #[tokio::test]
    async fn a_simple_command_runs_as_it_would_through_the_shell() {
        let folder = tempfile::tempdir().unwrap();
        let folder_path = folder.path().canonicalize().unwrap();
        let mut spec = shell("env");
        spec.working_directory = folder_path.clone();
        let outcome = run(&spec).await;
        assert_eq!(outcome.exit, ShellExit::Code(0));
        assert!(
            outcome.output.lines().any(|line| line == format!("PWD={}", folder_path.display())),
            "{}",
            outcome.output
        );
        assert!(outcome.output.contains("CODELAB_TEST_VALUE=forty-two"));
        assert!(outcome.output.contains("CODELAB_ATTEMPT="));

        spec.command = "no-such-program-for-codelab --flag".to_owned();
        let outcome = run(&spec).await;
        assert_eq!(outcome.exit, ShellExit::Code(127));
        assert!(outcome.stderr_tail.contains("not found"), "{}", outcome.stderr_tail);

        std::fs::write(folder_path.join("notes.txt"), "echo no\n").unwrap();
        spec.command = "./notes.txt".to_owned();
        let outcome = run(&spec).await;
        assert_eq!(outcome.exit, ShellExit::Code(126));
        assert!(outcome.stderr_tail.contains("Permission denied"), "{}", outcome.stderr_tail);
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
