//! Processes that escape a step's process group: daemons (`setsid sleep 300 &`, with or without
//! their environment), stragglers of a step whose server was killed, children re-parented to the
//! server.
//!
//! The server is a child subreaper ([`become_subreaper`]) and so is every step's group leader
//! (set in `process` before it runs): while a step runs, the orphans of its processes are
//! re-parented to its leader; when the leader exits, to the server. So when a step ends, what it
//! left behind is among the server's own children — found in `/proc/self/task/*/children`, not by
//! reading every process on the machine — and [`kill_escaped`] kills it with its group, whatever
//! its environment or session. Children the server did not start as steps are told apart by
//! their process group: a step's processes never share the server's own group (each step starts
//! a group of its own), so a child in the server's group is someone else's and is left alone.
//!
//! What a crashed server left of a plan is found by the plan marker in the environment
//! ([`kill_plan_leftovers`], only at start-up and before a retry) and, where cgroup v2 is
//! writable, by its server's cgroup (`cgroup`). Linux only (`/proc`); it spawns nothing.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, MutexGuard, RwLock, RwLockWriteGuard};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::waitpid;
use nix::unistd::{Pid, getpgrp, getpid};

/// How many rounds a kill makes (a killed daemon's own children come to the server in the next).
const KILL_ROUNDS: usize = 16;

/// Pids of the server's children it started and waits for itself (step leaders, the watchdog):
/// never treated as escaped.
static OWN_CHILDREN: LazyLock<Mutex<HashSet<i32>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// Held shared by every start in progress and exclusively by a search for escaped processes: a
/// child being started (not yet in [`OWN_CHILDREN`]) is never taken for an escaped one, and
/// starts run side by side (each may wait for its child to reach `exec`).
static STARTING: RwLock<()> = RwLock::new(());

fn own_children() -> MutexGuard<'static, HashSet<i32>> {
    OWN_CHILDREN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The exclusive side of [`STARTING`], with the set of the server's own children.
fn no_start_in_progress() -> (RwLockWriteGuard<'static, ()>, MutexGuard<'static, HashSet<i32>>) {
    let starts = STARTING.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    (starts, own_children())
}

/// Starts a child the server will wait for itself and records it before any search for escaped
/// processes can run: a step being started is never taken for an escaped one.
pub(crate) fn spawn_registered<T>(
    spawn: impl FnOnce() -> std::io::Result<T>,
    pid_of: impl Fn(&T) -> i32,
) -> std::io::Result<T> {
    let _starting = STARTING.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    let spawned = spawn()?;
    own_children().insert(pid_of(&spawned));
    Ok(spawned)
}

/// Forgets a child once it was waited for.
pub(crate) fn forget_child(pid: i32) {
    own_children().remove(&pid);
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
    group: i32,
    zombie: bool,
}

fn process_info(pid: i32) -> Option<ProcessInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    let _parent = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some(ProcessInfo { pid: Pid::from_raw(pid), group, zombie: state == "Z" })
}

/// The server's children. Orphans are re-parented to the subreaper's first live thread, which
/// is the main thread while it lives: its `children` list holds every escaped process (and the
/// steps it started itself). Only when it has ended are all threads' lists read.
fn children_of_this_process() -> Vec<i32> {
    let parse = |list: String| list.split_whitespace().filter_map(|pid| pid.parse::<i32>().ok()).collect::<Vec<_>>();
    let main_thread = getpid().as_raw();
    if let Ok(list) = std::fs::read_to_string(format!("/proc/self/task/{main_thread}/children")) {
        return parse(list);
    }
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let mut children = Vec::new();
    for task in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            children.extend(parse(list));
        }
    }
    children
}

/// The server's children that escaped a step: not started by the server itself (`own`, whose
/// lock the caller holds) and not in its own process group.
fn escaped_children(own: &HashSet<i32>) -> Vec<ProcessInfo> {
    let own_group = getpgrp().as_raw();
    children_of_this_process()
        .into_iter()
        .filter(|pid| !own.contains(pid))
        .filter_map(process_info)
        .filter(|process| process.group != own_group)
        .collect()
}

/// Kills every process that escaped an ended step (see the module's comment) with its group,
/// in rounds until none is left, and reaps them. Returns how many it killed. Cheap when there
/// is none: a few small `/proc/self` reads.
pub fn kill_escaped() -> usize {
    let own_group = getpgrp().as_raw();
    let me = getpid().as_raw();
    let mut killed = 0;
    for _ in 0..KILL_ROUNDS {
        let (starts, own) = no_start_in_progress();
        let escaped = escaped_children(&own);
        if escaped.is_empty() {
            break;
        }
        for process in &escaped {
            if !process.zombie {
                if process.group > 1 && process.group != own_group && process.group != me {
                    let _ = killpg(Pid::from_raw(process.group), Signal::SIGKILL);
                }
                let _ = kill(process.pid, Signal::SIGKILL);
                killed += 1;
            }
        }
        drop((own, starts));
        for process in &escaped {
            // Sent SIGKILL (or already dead): the wait is short.
            let _ = waitpid(process.pid, None);
        }
    }
    killed
}

/// True when a step ended and something of it may still be among the server's children. Waits
/// for no start: a child being started may look escaped here ([`kill_escaped`] then looks again
/// with starts held off).
pub fn has_escaped() -> bool {
    !escaped_children(&own_children()).is_empty()
}

/// The environment entry that marks a plan's processes (for [`kill_plan_leftovers`]).
pub const PLAN_MARKER: &str = "CODELAB_PLAN_ID";
/// The environment entry that marks every step process of one server (for its watchdog).
pub const SERVER_MARKER: &str = "CODELAB_SERVER";
/// The environment entry that marks one attempt's processes.
pub const ATTEMPT_MARKER: &str = "CODELAB_ATTEMPT";

fn all_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok()).collect()
}

fn has_env_entry(pid: i32, entry: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|environ| environ.split(|byte| *byte == 0).any(|item| item == entry))
}

/// Kills whatever a previous server left running of `plan_id` (its steps carry the plan marker
/// in their environment, inherited across `setsid`), and what dead servers left in their
/// cgroups. Reads every process's environment: only at start-up and before a retry, on a
/// blocking thread, never per step.
pub fn kill_plan_leftovers(plan_id: &str) -> usize {
    let entry = format!("{PLAN_MARKER}={plan_id}").into_bytes();
    let me = getpid().as_raw();
    let own_group = getpgrp().as_raw();
    let mut killed = super::cgroup::kill_abandoned();
    for _ in 0..KILL_ROUNDS {
        let marked: Vec<ProcessInfo> = all_pids()
            .into_iter()
            .filter(|&pid| pid != me && has_env_entry(pid, &entry))
            .filter_map(process_info)
            .filter(|process| !process.zombie)
            .collect();
        if marked.is_empty() {
            break;
        }
        for process in &marked {
            if process.group > 1 && process.group != own_group {
                let _ = killpg(Pid::from_raw(process.group), Signal::SIGKILL);
            }
            let _ = kill(process.pid, Signal::SIGKILL);
        }
        killed += marked.len();
        kill_escaped();
    }
    if killed > 0 {
        tracing::warn!(plan = plan_id, killed, "killed processes left running by a previous server");
    }
    killed
}
