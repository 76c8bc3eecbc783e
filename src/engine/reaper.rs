//! Processes that escape a step's process group: daemons (`setsid sleep 300 &`), stragglers of a
//! step whose server was killed, children re-parented to the server.
//!
//! Every step's processes carry marker variables in their environment (the attempt, the plan;
//! see `process`), which children inherit across `setsid` and re-parenting. When a step ends,
//! [`kill_marked`] kills every process carrying its attempt marker; the server is a child
//! subreaper ([`become_subreaper`]), so orphans of its steps are re-parented to it, not to init,
//! and it reaps those it killed. At start-up and before a retry, the same scan kills what a
//! crashed server left of a plan. Linux only (`/proc`); it spawns nothing, signals only marked
//! processes (of the server's own user) and never waits for a child it did not adopt.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, MutexGuard};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpgrp, getpid};

/// How many rounds a kill scan makes (a killed daemon's own children show up in the next one).
const KILL_ROUNDS: usize = 8;
/// Pause before the second look of a scan that found nothing (runs on a blocking thread).
const SECOND_LOOK_AFTER: std::time::Duration = std::time::Duration::from_millis(2);

/// Marked processes seen re-parented to this process and not reaped yet.
static ADOPTED: LazyLock<Mutex<HashSet<i32>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

fn adopted() -> MutexGuard<'static, HashSet<i32>> {
    ADOPTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Makes this process a child subreaper (once): orphans of its steps are re-parented to it, not
/// to init, so they stay within reach (and are reaped here).
pub fn become_subreaper() {
    static DONE: LazyLock<bool> = LazyLock::new(|| match nix::sys::prctl::set_child_subreaper(true) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "cannot become a child subreaper");
            false
        }
    });
    let _ = *DONE;
}

/// One process seen in `/proc`.
struct ProcessInfo {
    pid: Pid,
    parent: i32,
    group: i32,
    zombie: bool,
}

fn process_info(pid: i32) -> Option<ProcessInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some(ProcessInfo { pid: Pid::from_raw(pid), parent, group, zombie: state == "Z" })
}

fn all_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).collect()
}

fn has_env_entry(pid: i32, entry: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|environ| environ.split(|byte| *byte == 0).any(|item| item == entry))
}

/// SIGKILLs `process` and its group (unless the group is the server's own).
fn kill_with_group(process: &ProcessInfo) {
    if process.group > 1 && process.group != getpgrp().as_raw() {
        let _ = killpg(Pid::from_raw(process.group), Signal::SIGKILL);
    }
    let _ = kill(process.pid, Signal::SIGKILL);
}

/// Kills every process (and its group) whose environment holds `NAME=value`, in rounds until
/// none is left, and reaps those that were re-parented to this process. Returns how many it
/// killed. Only marked processes are touched: children the server started otherwise are not.
pub fn kill_marked(name: &str, value: &str) -> usize {
    let entry = format!("{name}={value}").into_bytes();
    let me = getpid().as_raw();
    let mut killed = 0;
    let mut quiet_scans = 0;
    for _ in 0..KILL_ROUNDS {
        let marked: Vec<ProcessInfo> = all_pids()
            .into_iter()
            .filter(|&pid| pid != me && has_env_entry(pid, &entry))
            .filter_map(process_info)
            .filter(|process| !process.zombie)
            .collect();
        if marked.is_empty() {
            // A process in the middle of `exec` may briefly show no environment: look twice.
            quiet_scans += 1;
            if quiet_scans == 2 {
                break;
            }
            std::thread::sleep(SECOND_LOOK_AFTER);
            continue;
        }
        quiet_scans = 0;
        for process in &marked {
            if process.parent == me {
                adopted().insert(process.pid.as_raw());
            }
            kill_with_group(process);
        }
        killed += marked.len();
        reap_adopted(true);
    }
    killed
}

/// Reaps the adopted processes that have ended; with `block`, waits for them (only called after
/// they were sent SIGKILL, so the wait is short).
fn reap_adopted(block: bool) {
    let pids: Vec<i32> = adopted().iter().copied().collect();
    for pid in pids {
        let flags = if block { None } else { Some(WaitPidFlag::WNOHANG) };
        match waitpid(Pid::from_raw(pid), flags) {
            Ok(WaitStatus::StillAlive) => {}
            _ => {
                adopted().remove(&pid);
            }
        }
    }
}

/// The environment entry that marks a plan's processes (for [`kill_marked`]).
pub const PLAN_MARKER: &str = "CODELAB_PLAN_ID";
/// The environment entry that marks every step process of one server (for its watchdog).
pub const SERVER_MARKER: &str = "CODELAB_SERVER";
/// The environment entry that marks one attempt's processes.
pub const ATTEMPT_MARKER: &str = "CODELAB_ATTEMPT";

/// Kills whatever a previous server left running of `plan_id` (its steps carry the plan marker).
pub fn kill_plan_leftovers(plan_id: &str) -> usize {
    let killed = kill_marked(PLAN_MARKER, plan_id);
    if killed > 0 {
        tracing::warn!(plan = plan_id, killed, "killed processes left running by a previous server");
    }
    killed
}
