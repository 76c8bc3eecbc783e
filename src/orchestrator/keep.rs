//! `planning/update` keeps what a client leaves out: a subtask that keeps its id takes every
//! optional field the client did not send from the stored plan. A pure step before validation.
//!
//! When the agent changes, the fields that belong to the old agent (`command` and `cwd` for a
//! shell step; `timeoutSecs` and `maxAttempts`, whose stored values may be the old agent's
//! defaults) are not kept: the new agent's rules and defaults apply.

use crate::model::validate::SubtaskDraft;
use crate::model::{AgentKind, Subtask};

/// The optional fields of one draft its client left out (absent, as opposed to given or
/// cleared with `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OmittedFields {
    pub description: bool,
    pub command: bool,
    pub cwd: bool,
    pub depends_on: bool,
    pub timeout_secs: bool,
    pub max_attempts: bool,
    pub estimate_secs: bool,
    pub role: bool,
}

/// Fills in, for each draft whose id names a stored subtask, the fields `omitted` says were
/// left out. Drafts without an `omitted` entry (callers that send whole subtasks) are unchanged.
pub fn keep_omitted_fields(drafts: &mut [SubtaskDraft], omitted: &[OmittedFields], stored: &[Subtask]) {
    for (draft, omitted) in drafts.iter_mut().zip(omitted) {
        let Some(id) = draft.id.as_deref() else { continue };
        let Some(old) = stored.iter().find(|subtask| subtask.id.as_str() == id) else { continue };
        let same_agent = AgentKind::parse(&draft.agent) == Some(old.agent);
        if omitted.description {
            draft.description = Some(old.description.clone()).filter(|text| !text.is_empty());
        }
        if omitted.depends_on {
            draft.depends_on = old.depends_on.iter().map(|id| id.as_str().to_owned()).collect();
        }
        if omitted.estimate_secs {
            draft.estimate_secs = old.estimate_secs;
        }
        if !same_agent {
            continue;
        }
        if omitted.command {
            draft.command.clone_from(&old.command);
        }
        if omitted.cwd {
            draft.cwd.clone_from(&old.cwd);
        }
        if omitted.timeout_secs {
            draft.timeout_secs = old.timeout_secs.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX));
        }
        if omitted.max_attempts {
            draft.max_attempts = Some(i64::from(old.max_attempts));
        }
        if omitted.role {
            draft.role = old.is_baseline().then(|| old.role.as_str().to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SubtaskId;

    fn stored_shell() -> Subtask {
        let mut subtask = Subtask::new(SubtaskId::from_raw("build"), "Build".into(), AgentKind::Shell);
        subtask.description = "Build it all".into();
        subtask.command = Some("make".into());
        subtask.cwd = Some("backend".into());
        subtask.timeout_secs = Some(90);
        subtask.max_attempts = 4;
        subtask.estimate_secs = Some(30);
        subtask.depends_on = vec![SubtaskId::from_raw("fetch")];
        subtask.role = crate::model::SubtaskRole::Baseline;
        subtask
    }

    fn draft(agent: &str) -> SubtaskDraft {
        SubtaskDraft {
            id: Some("build".into()),
            title: "Build again".into(),
            agent: agent.into(),
            ..Default::default()
        }
    }

    const ALL_OMITTED: OmittedFields = OmittedFields {
        description: true,
        command: true,
        cwd: true,
        depends_on: true,
        timeout_secs: true,
        max_attempts: true,
        estimate_secs: true,
        role: true,
    };

    #[test]
    fn a_kept_id_keeps_every_field_left_out() {
        let mut drafts = [draft("shell")];
        keep_omitted_fields(&mut drafts, &[ALL_OMITTED], &[stored_shell()]);
        let kept = &drafts[0];
        assert_eq!(kept.title, "Build again");
        assert_eq!(kept.description.as_deref(), Some("Build it all"));
        assert_eq!((kept.command.as_deref(), kept.cwd.as_deref()), (Some("make"), Some("backend")));
        assert_eq!((kept.timeout_secs, kept.max_attempts, kept.estimate_secs), (Some(90), Some(4), Some(30)));
        assert_eq!(kept.depends_on, ["fetch"]);
        assert_eq!(kept.role.as_deref(), Some("baseline"));
    }

    #[test]
    fn given_and_cleared_fields_win_and_a_new_agent_drops_the_old_ones() {
        let mut cleared = draft("shell");
        cleared.command = Some("make all".into());
        let omitted = OmittedFields { cwd: false, command: false, ..ALL_OMITTED };
        let mut drafts = [cleared, draft("coder")];
        drafts[1].id = Some("build".into());
        keep_omitted_fields(&mut drafts, &[omitted, ALL_OMITTED], &[stored_shell()]);
        assert_eq!((drafts[0].command.as_deref(), drafts[0].cwd.as_deref()), (Some("make all"), None));
        assert_eq!((drafts[1].command.as_deref(), drafts[1].timeout_secs, drafts[1].max_attempts), (None, None, None));
        assert_eq!(drafts[1].description.as_deref(), Some("Build it all"));
        assert_eq!(drafts[1].role, None, "a baseline is a shell step: a new agent drops the role");
    }

    #[test]
    fn new_ids_and_callers_without_omissions_are_untouched() {
        let mut fresh = draft("shell");
        fresh.id = Some("new".into());
        let mut whole = draft("shell");
        let before = (fresh.clone(), whole.clone());
        keep_omitted_fields(std::slice::from_mut(&mut fresh), &[ALL_OMITTED], &[stored_shell()]);
        keep_omitted_fields(std::slice::from_mut(&mut whole), &[], &[stored_shell()]);
        assert_eq!((fresh, whole), before);
    }
}
