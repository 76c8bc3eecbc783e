//! The sandbox launcher: the server binary run as `codelab-planner __sandboxed-command --write DIR
//! … --protect PATH … -- PROGRAM ARGS…` (by `engine::process`, as the child it spawns). In that
//! child, before anything else runs:
//!
//! 1. in a new user and mount namespace, each existing `--protect` path is bind-mounted read-only
//!    onto itself (the parent-death signal is set again: entering the namespace clears it);
//! 2. a Landlock ruleset allows reading and executing everywhere, and writing only below the
//!    `--write` folders (and `/dev/null`, `/dev/tty`); without the namespace, only below their
//!    entries other than the protected ones;
//! 3. `PROGRAM ARGS…` is exec'd in place (same process, same group, same environment).
//!
//! A sandbox that cannot be applied fails closed: nothing is run, exit code 126, one line on
//! stderr. `main` calls [`run`] before the async runtime starts: user namespaces can only be
//! entered by a single-threaded process.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use landlock::{ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus, path_beneath_rules};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};

/// The hidden subcommand.
pub const SUBCOMMAND: &str = "__sandboxed-command";

/// The exit code when the sandbox could not be applied (as a shell's "cannot execute").
const CANNOT_SANDBOX: i32 = 126;

/// The access rights handled: ABI 3's (writes, `Refer`, `Truncate`); newer kernels enforce them
/// all, older ones what they know. Device ioctls (ABI 5) stay allowed, as for any process.
const RULES_ABI: ABI = ABI::V3;

struct Request {
    writable: Vec<PathBuf>,
    protected: Vec<PathBuf>,
    command: Vec<OsString>,
}

fn parse(arguments: &[OsString]) -> Result<Request, String> {
    let mut request = Request { writable: Vec::new(), protected: Vec::new(), command: Vec::new() };
    let mut words = arguments.iter();
    while let Some(word) = words.next() {
        match word.to_str() {
            Some("--write") => request.writable.push(PathBuf::from(words.next().ok_or("--write needs a folder")?)),
            Some("--protect") => request.protected.push(PathBuf::from(words.next().ok_or("--protect needs a path")?)),
            Some("--") => {
                request.command = words.cloned().collect();
                break;
            }
            _ => return Err(format!("unexpected argument {}", word.to_string_lossy())),
        }
    }
    if request.command.is_empty() {
        return Err("no command after --".to_owned());
    }
    Ok(request)
}

/// Applies the sandbox and execs the command; returns only on failure, with the exit code.
pub fn run(arguments: &[OsString]) -> i32 {
    match sandbox_and_exec(arguments) {
        Ok(never) => match never {},
        Err(message) => {
            eprintln!("codelab-planner: the command sandbox could not be applied, nothing was run: {message}");
            CANNOT_SANDBOX
        }
    }
}

enum Never {}

fn sandbox_and_exec(arguments: &[OsString]) -> Result<Never, String> {
    let request = parse(arguments)?;
    let protected: Vec<PathBuf> = request.protected.iter().filter(|path| path.exists()).cloned().collect();
    let writable = match protect_with_mounts(&protected) {
        Ok(()) => request.writable.clone(),
        Err(why) => {
            eprintln!(
                "[codelab-planner sandbox: {why}; .git and .codelab stay protected, but new files at the workspace's top level are refused]"
            );
            super::writable_without_mounts(&request.writable, &request.protected)
        }
    };
    restrict(&writable)?;
    let program = c_string(&request.command[0])?;
    let arguments: Vec<CString> = request.command.iter().map(c_string).collect::<Result<_, _>>()?;
    match nix::unistd::execvp(&program, &arguments) {
        Ok(never) => match never {},
        Err(error) => Err(format!("cannot run {}: {error}", request.command[0].to_string_lossy())),
    }
}

fn c_string(word: &OsString) -> Result<CString, String> {
    CString::new(word.as_bytes()).map_err(|_| "an argument contains NUL".to_owned())
}

/// Makes each path read-only with a bind mount, in a new user and mount namespace of its own.
fn protect_with_mounts(paths: &[PathBuf]) -> Result<(), String> {
    let (user, group) = (nix::unistd::getuid(), nix::unistd::getgid());
    let death_signal = nix::sys::prctl::get_pdeathsig().ok().flatten();
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)
        .map_err(|error| format!("no user namespace here ({error})"))?;
    if let Some(signal) = death_signal {
        nix::sys::prctl::set_pdeathsig(signal).map_err(|error| format!("parent-death signal: {error}"))?;
    }
    let write = |file: &str, text: String| std::fs::write(file, text).map_err(|error| format!("{file}: {error}"));
    if let Err(why) = write("/proc/self/setgroups", "deny".to_owned()) {
        // Kernels before 3.19 have no setgroups file; the maps below still work there.
        if std::path::Path::new("/proc/self/setgroups").exists() {
            return Err(why);
        }
    }
    write("/proc/self/uid_map", format!("{user} {user} 1\n"))?;
    write("/proc/self/gid_map", format!("{group} {group} 1\n"))?;
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|error| format!("cannot make mounts private ({error})"))?;
    for path in paths {
        mount(Some(path.as_path()), path.as_path(), none, MsFlags::MS_BIND | MsFlags::MS_REC, none)
            .map_err(|error| format!("cannot bind {} ({error})", path.display()))?;
        // A remount must keep the flags the mount below was locked with.
        let kept = statvfs(path.as_path()).map(|status| locked_flags(status.flags())).unwrap_or(MsFlags::empty());
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | kept;
        mount(none, path.as_path(), none, flags, none)
            .map_err(|error| format!("cannot make {} read-only ({error})", path.display()))?;
    }
    Ok(())
}

fn locked_flags(flags: FsFlags) -> MsFlags {
    let mut kept = MsFlags::empty();
    for (status, mount) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if flags.contains(status) {
            kept |= mount;
        }
    }
    kept
}

/// Restricts this process (and what it execs) with Landlock: read and execute everywhere,
/// write only below `writable`.
fn restrict(writable: &[PathBuf]) -> Result<(), String> {
    let failed = |error: landlock::RulesetError| format!("Landlock: {error}");
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(RULES_ABI))
        .map_err(failed)?
        .create()
        .map_err(failed)?
        .add_rules(path_beneath_rules(["/"], AccessFs::from_read(RULES_ABI)))
        .map_err(failed)?
        .add_rules(path_beneath_rules(writable, AccessFs::from_all(RULES_ABI)))
        .map_err(failed)?
        .add_rules(path_beneath_rules(["/dev/null", "/dev/tty"], AccessFs::from_all(RULES_ABI)))
        .map_err(failed)?
        .restrict_self()
        .map_err(failed)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err("the kernel does not enforce Landlock".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_parsed_up_to_the_command() {
        let words: Vec<OsString> = ["--write", "/w", "--protect", "/w/.git", "--", "sh", "-c", "echo --write"]
            .iter()
            .map(OsString::from)
            .collect();
        let request = parse(&words).unwrap();
        assert_eq!(request.writable, [PathBuf::from("/w")]);
        assert_eq!(request.protected, [PathBuf::from("/w/.git")]);
        assert_eq!(request.command, ["sh", "-c", "echo --write"]);
        assert!(parse(&[OsString::from("--write")]).is_err());
        assert!(parse(&[OsString::from("--")]).is_err());
        assert!(parse(&[OsString::from("--bogus")]).is_err());
    }
}
