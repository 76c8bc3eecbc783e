//! Which process owns a running plan. A claim records this process's token (`pid:start time`);
//! on open, a `running` plan whose owner is another process that is still alive is left alone —
//! only runs whose process is gone were left by a crash. The start time (from `/proc`) guards
//! against a recycled pid.

use std::sync::LazyLock;

static CURRENT: LazyLock<String> =
    LazyLock::new(|| token_of(std::process::id()).unwrap_or_else(|| format!("{}:0", std::process::id())));

/// This process's owner token.
pub(crate) fn current_token() -> &'static str {
    &CURRENT
}

/// True when `token` names a live process other than this one.
pub(crate) fn is_other_live_process(token: &str) -> bool {
    if token == current_token() {
        return false;
    }
    let Some((pid, _)) = token.split_once(':') else { return false };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    token_of(pid).as_deref() == Some(token)
}

/// `pid:start time` of a live process, from `/proc/<pid>/stat` (field 22, counted after the
/// parenthesised command name, which may itself hold spaces).
fn token_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_time = after_name.split_whitespace().nth(19)?;
    Some(format!("{pid}:{start_time}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_not_another_live_process() {
        assert!(current_token().starts_with(&format!("{}:", std::process::id())));
        assert!(!is_other_live_process(current_token()));
    }

    #[test]
    fn a_live_parent_counts_and_a_recycled_pid_does_not() {
        let parent = std::os::unix::process::parent_id();
        let parent_token = token_of(parent).expect("the parent is alive");
        assert!(is_other_live_process(&parent_token));
        let (pid, _) = parent_token.split_once(':').unwrap();
        assert!(!is_other_live_process(&format!("{pid}:1")), "same pid, other start time");
        assert!(!is_other_live_process("garbage"));
        assert!(!is_other_live_process("4194399:5"), "no such pid");
    }
}
