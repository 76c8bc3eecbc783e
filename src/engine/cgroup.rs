//! A cgroup v2 per server, where the server may create one below its own (the hierarchy is
//! delegated to its user, or it runs as root): the server moves itself into
//! `codelab-planner-<pid>-<start>`, so every step and everything a step starts is born in it,
//! whatever it does to its environment or session. The watchdog stays outside and, once the
//! server is gone (even `kill -9`), kills the whole cgroup and removes it. A server that finds an
//! abandoned sibling (its owner dead and its watchdog too) kills and removes it.
//!
//! Nothing else depends on it: where no cgroup can be made, the process groups, the subreaper
//! and the markers (`reaper`) do the same work, with the limit `docs` state. No controllers are
//! enabled, so resource accounting is unchanged. Linux only; it spawns nothing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The prefix of every server's cgroup.
const PREFIX: &str = "codelab-planner-";

/// The cgroup this process was in before it made its own (where siblings are looked for).
static PARENT: OnceLock<PathBuf> = OnceLock::new();

/// This process's cgroup v2 directory, from `/proc/self/cgroup` and the cgroup2 mount.
fn current_cgroup() -> Option<PathBuf> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let relative = membership.lines().find_map(|line| line.strip_prefix("0::"))?.trim();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mounts.lines().find_map(|line| {
        let (fields, rest) = line.split_once(" - ")?;
        if !rest.starts_with("cgroup2 ") {
            return None;
        }
        let mut fields = fields.split(' ');
        let root = fields.nth(3)?;
        let mount_point = fields.next()?;
        let inside = relative.strip_prefix(root).unwrap_or(relative).trim_start_matches('/');
        Some(Path::new(mount_point).join(inside))
    })
}

/// `<pid>-<start time in clock ticks>`: names a process for as long as it lives.
fn identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let start = stat[stat.rfind(')')? + 1..].split_whitespace().nth(19)?.to_owned();
    Some(format!("{pid}-{start}"))
}

/// Creates this server's cgroup (not entered yet); `None` where that is not allowed.
pub(super) fn create() -> Option<PathBuf> {
    let parent = current_cgroup()?;
    if !parent.join("cgroup.procs").exists() {
        return None;
    }
    let path = parent.join(format!("{PREFIX}{}", identity(std::process::id())?));
    match std::fs::create_dir(&path) {
        Ok(()) => {
            let _ = PARENT.set(parent);
            Some(path)
        }
        Err(error) => {
            tracing::debug!(%error, "no cgroup for this server's steps");
            None
        }
    }
}

/// Moves this whole process into `path`; on failure removes it again.
pub(super) fn enter(path: &Path) -> bool {
    match std::fs::write(path.join("cgroup.procs"), std::process::id().to_string()) {
        Ok(()) => true,
        Err(error) => {
            tracing::debug!(%error, "cannot enter the server's cgroup");
            let _ = std::fs::remove_dir(path);
            false
        }
    }
}

/// Kills every process in `path` and below, and removes the directories once empty.
fn kill_and_remove(path: &Path) -> usize {
    let mut killed = 0;
    for _ in 0..20 {
        let pids = pids_below(path);
        if pids.is_empty() {
            break;
        }
        killed = killed.max(pids.len());
        if std::fs::write(path.join("cgroup.kill"), "1").is_err() {
            for pid in pids {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    remove_tree(path);
    killed
}

fn pids_below(path: &Path) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_to_string(path.join("cgroup.procs"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect();
    for child in subdirectories(path) {
        pids.extend(pids_below(&child));
    }
    pids
}

fn subdirectories(path: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(path) else { return Vec::new() };
    entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.path())
        .collect()
}

fn remove_tree(path: &Path) {
    for child in subdirectories(path) {
        remove_tree(&child);
    }
    let _ = std::fs::remove_dir(path);
}

/// Kills and removes the cgroups of servers that are gone (siblings of this server's cgroup
/// whose owner no longer lives); returns how many processes were in them.
pub fn kill_abandoned() -> usize {
    let Some(parent) = PARENT.get() else { return 0 };
    let mut killed = 0;
    for directory in subdirectories(parent) {
        let Some(name) = directory.file_name().and_then(|name| name.to_str()) else { continue };
        let Some(owner) = name.strip_prefix(PREFIX) else { continue };
        let alive = owner
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
            .and_then(identity)
            .is_some_and(|current| current == owner);
        if !alive {
            killed += kill_and_remove(&directory);
        }
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_cgroup_path_or_none_and_an_identity() {
        let identity = identity(std::process::id()).expect("own identity");
        assert!(identity.starts_with(&format!("{}-", std::process::id())));
        if let Some(path) = current_cgroup() {
            assert!(path.is_absolute(), "{}", path.display());
        }
    }
}
