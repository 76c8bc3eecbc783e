//! Starting a child without copying the server: `clone(CLONE_VM | CLONE_VFORK)`, the way
//! `posix_spawn` does it, plus the settings `posix_spawn` cannot make (a parent-death signal and
//! the subreaper flag, both `prctl` in the child before `exec`). A `fork` copies the server's page
//! tables and makes every page it then writes fault, so its cost grows with the server's memory;
//! this does not (issue 24 measured 5 ms a step in a large process, 1.2 ms in a small one).
//!
//! Everything the child needs (paths, argument and environment arrays, descriptors, signal sets)
//! is prepared here, in the parent, before the clone. The child shares the parent's memory while
//! the calling thread is suspended, runs on a stack of its own, makes only system calls on that
//! prepared data (no allocation, no lock, no panic), and ends in `execve` or `_exit`. An error
//! in the child (a missing folder, a program that cannot run) comes back through [`Launch::error`].
//!
//! The caller gets a [`Launched`]: the pid, a pidfd to wait on without a thread or a `SIGCHLD`
//! handler, and the parent's ends of the pipes. This file holds the crate's only `unsafe` code.

#![allow(unsafe_code)] // The one audited launch: see each SAFETY comment.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use nix::libc;

/// The child's stack: it runs a few system calls in one frame (`execve` is a plain system call).
const CHILD_STACK_BYTES: usize = 64 * 1024;

/// One of the child's standard descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// `/dev/null`.
    Null,
    /// A pipe whose other end the parent keeps ([`Launched`]).
    Piped,
}

/// What to start.
pub struct Command<'a> {
    /// The program: a path, or a name looked up in the child's `PATH`.
    pub program: &'a OsStr,
    /// Every argument after the program's name.
    pub args: Vec<&'a OsStr>,
    pub working_directory: &'a Path,
    /// The whole environment, in order (`NAME`, `value`).
    pub environment: Vec<(OsString, OsString)>,
    /// A parent-death SIGKILL and the subreaper flag, set before `exec`; the start fails if the
    /// parent died before they were armed.
    pub tied_to_parent: bool,
    pub stdin: Io,
    pub stdout: Io,
    pub stderr: Io,
}

/// A started child: its pid, a pidfd (none on a kernel before 5.2), and the parent's pipe ends.
#[derive(Debug)]
pub struct Launched {
    pub pid: i32,
    pub pidfd: Option<OwnedFd>,
    /// The write end of the child's stdin, when piped.
    pub stdin: Option<OwnedFd>,
    /// The read end of the child's stdout, when piped.
    pub stdout: Option<OwnedFd>,
    /// The read end of the child's stderr, when piped.
    pub stderr: Option<OwnedFd>,
}

/// Everything the child reads, prepared by the parent. The raw pointers point into the
/// `CString`s held by the same value, which outlives the child's use of it (the parent is
/// suspended until the child has called `execve` or `_exit`).
struct Launch {
    program: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    working_directory: CString,
    /// The descriptors to become 0, 1 and 2.
    standard: [RawFd; 3],
    tied_to_parent: bool,
    parent: libc::pid_t,
    /// The empty signal set (the child's mask) and the default action.
    empty_mask: libc::sigset_t,
    default_action: libc::sigaction,
    /// The child's errno when it could not `execve`, 0 otherwise.
    error: AtomicI32,
}

/// Starts `command`. The child runs in a process group of its own (its pid).
pub fn launch(command: &Command<'_>) -> io::Result<Launched> {
    let program = resolve(command.program, &command.environment)?;
    let null = if [command.stdin, command.stdout, command.stderr].contains(&Io::Null) {
        Some(OwnedFd::from(std::fs::File::options().read(true).write(true).open("/dev/null")?))
    } else {
        None
    };
    // (child's end, parent's end) per standard descriptor; pipes are close-on-exec on both ends.
    let mut ends: Vec<(Option<OwnedFd>, Option<OwnedFd>)> = Vec::with_capacity(3);
    for (index, io) in [command.stdin, command.stdout, command.stderr].into_iter().enumerate() {
        ends.push(match io {
            Io::Null => (None, None),
            Io::Piped => {
                let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
                if index == 0 { (Some(read), Some(write)) } else { (Some(write), Some(read)) }
            }
        });
    }
    let null_fd = null.as_ref().map_or(-1, AsRawFd::as_raw_fd);
    let standard: [RawFd; 3] = std::array::from_fn(|index| ends[index].0.as_ref().map_or(null_fd, AsRawFd::as_raw_fd));

    let mut strings = Vec::with_capacity(command.args.len() + command.environment.len() + 1);
    let c_string = |bytes: &[u8], what: &str| {
        CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{what} holds a NUL byte")))
    };
    strings.push(c_string(command.program.as_bytes(), "the program's name")?);
    for argument in &command.args {
        strings.push(c_string(argument.as_bytes(), "an argument")?);
    }
    let arguments = strings.len();
    for (name, value) in &command.environment {
        let mut entry = name.as_bytes().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_bytes());
        strings.push(c_string(&entry, "an environment variable")?);
    }
    let pointers = |slice: &[CString]| {
        slice.iter().map(|text| text.as_ptr()).chain(std::iter::once(std::ptr::null())).collect::<Vec<_>>()
    };
    let argv = pointers(&strings[..arguments]);
    let envp = pointers(&strings[arguments..]);
    let launch = Launch {
        program: c_string(program.as_os_str().as_bytes(), "the program's path")?,
        argv,
        envp,
        _strings: strings,
        working_directory: c_string(command.working_directory.as_os_str().as_bytes(), "the working folder")?,
        standard,
        tied_to_parent: command.tied_to_parent,
        parent: std::process::id().try_into().unwrap_or(libc::pid_t::MAX),
        empty_mask: empty_signal_set(),
        default_action: default_action(),
        error: AtomicI32::new(0),
    };
    let (pid, pidfd) = clone_and_exec(&launch)?;
    let error = launch.error.load(Ordering::SeqCst);
    if error != 0 {
        // The child has exited (`_exit(127)`): reap it, so no zombie is left.
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        return Err(io::Error::from_raw_os_error(error));
    }
    drop(launch);
    let mut parent_ends = ends.into_iter().map(|(_, parent)| parent);
    Ok(Launched {
        pid,
        pidfd,
        stdin: parent_ends.next().flatten(),
        stdout: parent_ends.next().flatten(),
        stderr: parent_ends.next().flatten(),
    })
}

/// The child's exit status when it has ended (and reaps it), `None` while it runs.
pub fn try_wait(pid: i32) -> io::Result<Option<std::process::ExitStatus>> {
    use std::os::unix::process::ExitStatusExt;
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waitpid writes the status into the local it is given.
        let waited = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
        match waited {
            0 => return Ok(None),
            waited if waited == pid => return Ok(Some(std::process::ExitStatus::from_raw(status))),
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}

/// Registers a child's pidfd with the runtime: it turns readable once the child has ended.
pub fn watch_exit(pidfd: OwnedFd) -> io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: the `AsyncFd` owns the descriptor; nothing else closes or replaces it while it is
    // registered (it is closed when the `AsyncFd` is dropped, after deregistering).
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }
        .map_err(io::Error::from)
}

/// `program` itself when it holds a `/`, else the first executable file of that name in the
/// child's `PATH` (the system's default path when it has none), as `execvp` would pick it.
fn resolve(program: &OsStr, environment: &[(OsString, OsString)]) -> io::Result<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = environment
        .iter()
        .rev()
        .find(|(name, _)| name == "PATH")
        .map_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"), |(_, value)| value.clone());
    let key = (path, program.to_os_string());
    let mut cache = RESOLVED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((found, when)) = cache.get(&key)
        && when.elapsed() < RESOLVED_FRESH_FOR
        && is_executable(found)
    {
        return Ok(found.clone());
    }
    let found = std::env::split_paths(&key.0)
        .map(|folder| folder.join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{} not found in PATH", Path::new(program).display()))
        })?;
    if cache.len() >= RESOLVED_ENTRIES {
        cache.clear();
    }
    cache.insert(key, (found.clone(), std::time::Instant::now()));
    Ok(found)
}

/// Programs found in `PATH` lately, by (`PATH`, name): a step's `sh` is looked up once a second
/// instead of once per folder per step. A program installed in an earlier folder is picked up
/// within [`RESOLVED_FRESH_FOR`]; one removed is looked up again at once.
#[allow(clippy::type_complexity)]
static RESOLVED: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<(OsString, OsString), (PathBuf, std::time::Instant)>>,
> = std::sync::LazyLock::new(Default::default);
const RESOLVED_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(1);
const RESOLVED_ENTRIES: usize = 64;

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

fn empty_signal_set() -> libc::sigset_t {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the whole set it is given.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

fn default_action() -> libc::sigaction {
    // SAFETY: an all-zero sigaction is a valid value (no flags, an empty mask, handler 0 = SIG_DFL).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    action
}

/// Clones the calling thread into a child sharing its memory, suspended until the child has
/// called `execve` or `_exit`; every signal is blocked around the clone, so no handler of the
/// server can run on the child's stack. Returns the pid and the pidfd.
fn clone_and_exec(launch: &Launch) -> io::Result<(i32, Option<OwnedFd>)> {
    // Uninitialised (the child writes before it reads); it grows down from its aligned end.
    let mut stack: Vec<std::mem::MaybeUninit<u8>> = Vec::with_capacity(CHILD_STACK_BYTES);
    let top = (stack.spare_capacity_mut().as_mut_ptr() as usize + CHILD_STACK_BYTES) & !15;
    let mut all = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    let mut previous = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    let mut pidfd: libc::c_int = -1;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD;
    // SAFETY: `all` and `previous` are initialised by sigfillset / pthread_sigmask before use.
    // The clone runs `child` on `stack`, which stays alive (and unused by the parent) until the
    // clone returns, which with CLONE_VFORK is after the child's `execve` or `_exit`. `launch`
    // is borrowed for that whole time and `child` only reads it (and stores the atomic). The
    // child's signal handlers are reset before anything can unblock a signal in it.
    let pid = unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), previous.as_mut_ptr());
        let argument = std::ptr::from_ref(launch).cast_mut().cast::<libc::c_void>();
        let stack_top = top as *mut libc::c_void;
        let mut pid = libc::clone(child, stack_top, flags | libc::CLONE_PIDFD, argument, &raw mut pidfd);
        if pid < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
            // A kernel before 5.2 knows no CLONE_PIDFD: wait by polling the pid instead.
            pidfd = -1;
            pid = libc::clone(child, stack_top, flags, argument);
        }
        let error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, previous.as_ptr(), std::ptr::null_mut());
        if pid < 0 {
            return Err(error);
        }
        pid
    };
    drop(stack);
    // SAFETY: a CLONE_PIDFD clone stored a new descriptor that nothing else owns.
    let pidfd = (pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    Ok((pid, pidfd))
}

/// The child: runs on its own stack in the parent's memory. Only system calls on `launch`.
extern "C" fn child(argument: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `argument` is the `&Launch` the parent passed and keeps alive (see
    // `clone_and_exec`); it is only read here, the atomic aside.
    let launch = unsafe { &*argument.cast::<Launch>() };
    let fail = |launch: &Launch| -> libc::c_int {
        // SAFETY: errno is readable in any thread; `_exit` ends this process only, at once.
        unsafe {
            let errno = *libc::__errno_location();
            launch.error.store(if errno == 0 { libc::ECHILD } else { errno }, Ordering::SeqCst);
            libc::_exit(127)
        }
    };
    // SAFETY: each call is a plain system call on values prepared by the parent; the child has
    // its own copy of the signal handlers (no CLONE_SIGHAND), so resetting them here does not
    // touch the server's.
    unsafe {
        for signal in 1..=64 {
            if signal == libc::SIGKILL || signal == libc::SIGSTOP {
                continue;
            }
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &raw mut current) == 0
                && (current.sa_sigaction != libc::SIG_IGN || signal == libc::SIGPIPE)
                && current.sa_sigaction != libc::SIG_DFL
            {
                libc::sigaction(signal, &raw const launch.default_action, std::ptr::null_mut());
            }
        }
        if libc::setpgid(0, 0) != 0 {
            return fail(launch);
        }
        if launch.tied_to_parent {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
                || libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) != 0
            {
                return fail(launch);
            }
            if libc::getppid() != launch.parent {
                *libc::__errno_location() = libc::ESRCH;
                return fail(launch);
            }
        }
        for (target, &source) in launch.standard.iter().enumerate() {
            let target = target as libc::c_int;
            if source == target {
                // Already in place: only the close-on-exec flag must go.
                if libc::fcntl(source, libc::F_SETFD, 0) != 0 {
                    return fail(launch);
                }
            } else if source < 0 || libc::dup2(source, target) < 0 {
                return fail(launch);
            }
        }
        if libc::chdir(launch.working_directory.as_ptr()) != 0 {
            return fail(launch);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &raw const launch.empty_mask, std::ptr::null_mut());
        libc::execve(launch.program.as_ptr(), launch.argv.as_ptr(), launch.envp.as_ptr());
    }
    fail(launch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command<'a>(program: &'a str, args: &'a [&'a str], environment: Vec<(OsString, OsString)>) -> Command<'a> {
        Command {
            program: OsStr::new(program),
            args: args.iter().map(OsStr::new).collect(),
            working_directory: Path::new("/"),
            environment,
            tied_to_parent: false,
            stdin: Io::Null,
            stdout: Io::Piped,
            stderr: Io::Null,
        }
    }

    fn read_all(fd: OwnedFd) -> String {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::from(fd).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn the_child_gets_its_arguments_environment_folder_and_group() {
        let path = (OsString::from("PATH"), OsString::from("/usr/bin:/bin"));
        let environment = vec![path, (OsString::from("ONLY_THIS"), OsString::from("été"))];
        let mut spec = command(
            "sh",
            &["-c", "echo \"$0|$1|$ONLY_THIS|$(pwd)|$(env | wc -l)\"; cut -d' ' -f5 /proc/$$/stat", "x y"],
            environment,
        );
        let folder = tempfile::tempdir().unwrap();
        spec.working_directory = folder.path();
        let launched = launch(&spec).unwrap();
        let text = read_all(launched.stdout.unwrap());
        let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(launched.pid), None).unwrap();
        assert_eq!(status, nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(launched.pid), 0));
        let mut lines = text.lines();
        let folder = folder.path().canonicalize().unwrap();
        // sh adds PWD (and may add SHLVL / _): at least the two given, nothing inherited.
        let first = lines.next().unwrap();
        let expected = format!("x y||été|{}|", folder.display());
        assert!(first.starts_with(&expected), "{first}");
        let count: usize = first.rsplit('|').next().unwrap().trim().parse().unwrap();
        assert!(count <= 5, "only the given environment (and what sh adds): {count}");
        assert_eq!(lines.next().unwrap().trim(), launched.pid.to_string(), "a group of its own");
    }

    #[test]
    fn a_missing_folder_or_program_is_an_error_and_leaves_no_child() {
        let path = vec![(OsString::from("PATH"), OsString::from("/usr/bin:/bin"))];
        let mut spec = command("true", &[], path.clone());
        spec.working_directory = Path::new("/no/such/folder");
        let error = launch(&spec).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound, "{error}");
        let error = launch(&command("no-such-program-here", &[], path.clone())).unwrap_err();
        assert!(error.to_string().contains("no-such-program-here not found in PATH"), "{error}");
        let folder = tempfile::tempdir().unwrap();
        let not_executable = folder.path().join("notes.txt");
        std::fs::write(&not_executable, "echo no\n").unwrap();
        let error = launch(&command(not_executable.to_str().unwrap(), &[], path)).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EACCES), "{error}");
    }
}
