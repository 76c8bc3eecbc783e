//! The approval policy as a pure function: `(action, policy, remembered choices, what the
//! command reaches) -> Allow | Confirm | Deny(reason)`, with explicit precedence — hard denies
//! first (commands that destroy the machine or the person's files, whatever the settings), then
//! what must always be asked (a risky command; a command that leaves the workspace when no
//! sandbox confines it — even under `approval.tools = "auto"`), then the person's "Allow for this
//! plan" choices, then the setting. What a command reaches is judged by `reach` (chaining,
//! quoting, `sh -c` nesting, wrappers and `$HOME` / `~` are looked through).
//!
//! No I/O here: asking the person is the tool layer's job (`tools::approve`).

use std::collections::HashSet;

use super::reach::Reach;
use crate::config::ToolApproval;
use crate::model::ToolKind;

/// What a mutating tool is about to do (read-only tools never reach the policy).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    Write { path: String },
    Delete { path: String },
    Move { from: String, to: String },
    CreateDirectory { path: String },
    Execute { command: String },
}

impl Action {
    /// The question put to the person: "Allow coder to run `npm install`?"
    pub fn question(&self, agent: &str) -> String {
        match self {
            Action::Write { path } => format!("Allow {agent} to edit `{path}`?"),
            Action::Delete { path } => format!("Allow {agent} to delete `{path}`?"),
            Action::Move { from, to } => format!("Allow {agent} to move `{from}` to `{to}`?"),
            Action::CreateDirectory { path } => format!("Allow {agent} to create the directory `{path}`?"),
            Action::Execute { command } => format!("Allow {agent} to run `{command}`?"),
        }
    }

    /// The Agent Client Protocol's kind of the tool call: what "Allow for this plan" covers.
    pub fn kind(&self) -> ToolKind {
        match self {
            Action::Write { .. } | Action::CreateDirectory { .. } => ToolKind::Edit,
            Action::Delete { .. } => ToolKind::Delete,
            Action::Move { .. } => ToolKind::Move,
            Action::Execute { .. } => ToolKind::Execute,
        }
    }

    /// The exact command or file: what alone covers a command that is always asked about.
    pub fn remembered_as(&self) -> Remembered {
        match self {
            Action::Execute { command } => Remembered::Command(command.trim().to_owned()),
            Action::Write { path } | Action::Delete { path } | Action::CreateDirectory { path } => {
                Remembered::Path(path.clone())
            }
            Action::Move { from, to } => Remembered::Path(format!("{from} -> {to}")),
        }
    }
}

/// A choice the person made for the rest of the plan. "Allow for this plan" remembers the
/// tool kind (every edit, or every command, as ACP's `allow_always`) and the exact command or
/// file; a command that is always asked about (risky, or leaving the workspace unsandboxed) is
/// covered only by its exact text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Remembered {
    Command(String),
    Path(String),
    Kind(ToolKind),
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Ask the person first.
    Confirm,
    Deny(String),
}

/// The three answers offered to the person, in order (ACP: allow_once, allow_always, reject_once).
pub const ALLOW: &str = "Allow";
pub const ALLOW_FOR_PLAN: &str = "Allow for this plan";
pub const DENY: &str = "Deny";

/// The person's answer (the domain's; its ACP names are there).
pub use crate::model::Answer;

impl Answer {
    /// The answer an action title of the editor's message stands for. A dismissed question (or
    /// any other title) is a denial.
    pub fn parse(chosen: Option<&str>) -> Self {
        match chosen {
            Some(ALLOW) => Answer::AllowOnce,
            Some(ALLOW_FOR_PLAN) => Answer::AllowForPlan,
            _ => Answer::Deny,
        }
    }

    /// The action title the editor's message shows for it.
    pub fn title(self) -> &'static str {
        match self {
            Answer::AllowOnce => ALLOW,
            Answer::AllowForPlan => ALLOW_FOR_PLAN,
            Answer::Deny => DENY,
        }
    }
}

/// What is known about a command beyond its text: what it reaches, and whether the command
/// sandbox confines its writes to the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFacts {
    pub reach: Reach,
    pub sandboxed: bool,
}

impl CommandFacts {
    /// What the person is told about the command beyond its text, if anything.
    pub fn note(&self) -> Option<String> {
        match &self.reach {
            Reach::Risky(reason) => Some(format!("It {reason}.")),
            Reach::Outside(reason) if !self.sandboxed => Some(format!("It {reason}.")),
            _ => None,
        }
    }
}

/// Decides one action. Precedence: hard deny, must-ask, remembered allow, setting.
pub fn decide(
    action: &Action,
    setting: ToolApproval,
    remembered: &HashSet<Remembered>,
    command: Option<&CommandFacts>,
) -> Decision {
    let remembered_allow = remembered.contains(&action.remembered_as());
    let kind_allow = remembered.contains(&Remembered::Kind(action.kind()));
    if let (Action::Execute { command: text }, Some(facts)) = (action, command) {
        match &facts.reach {
            Reach::Refused(reason) => return Decision::Deny(format!("refused: `{text}` {reason}")),
            Reach::Risky(_) => return if remembered_allow { Decision::Allow } else { Decision::Confirm },
            Reach::Outside(_) if !facts.sandboxed => {
                return if remembered_allow { Decision::Allow } else { Decision::Confirm };
            }
            Reach::Outside(_) | Reach::Inside => {}
        }
    }
    if remembered_allow || kind_allow {
        return Decision::Allow;
    }
    match setting {
        ToolApproval::Auto => Decision::Allow,
        ToolApproval::Ask => Decision::Confirm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &str) -> Action {
        Action::Execute { command: command.to_owned() }
    }

    fn facts(command: &str, sandboxed: bool) -> CommandFacts {
        let surroundings = crate::agents::reach::Surroundings {
            workspace_root: std::path::Path::new("/work/project"),
            cwd: std::path::Path::new("/work/project"),
            home: Some(std::path::Path::new("/home/person")),
            temporary: std::path::Path::new("/tmp"),
        };
        CommandFacts { reach: crate::agents::reach::assess(command, &surroundings), sandboxed }
    }

    fn decide_command(
        command: &str,
        setting: ToolApproval,
        remembered: &HashSet<Remembered>,
        sandboxed: bool,
    ) -> Decision {
        decide(&run(command), setting, remembered, Some(&facts(command, sandboxed)))
    }

    #[test]
    fn hard_denies_win_over_auto_and_remembered_choices() {
        let mut remembered = HashSet::new();
        remembered.insert(run("ls && rm -rf /").remembered_as());
        for command in ["rm -rf /", "ls && rm -rf /", "echo ok; sudo make install", "true | rm -fr ~", "mkfs.ext4 x"] {
            for sandboxed in [true, false] {
                let decision = decide_command(command, ToolApproval::Auto, &remembered, sandboxed);
                assert!(matches!(decision, Decision::Deny(_)), "{command}: {decision:?}");
            }
        }
    }

    #[test]
    fn leaving_the_workspace_asks_under_auto_unless_the_sandbox_confines_it() {
        let none = HashSet::new();
        let outside = "echo x > /etc/hosts";
        assert_eq!(decide_command(outside, ToolApproval::Auto, &none, false), Decision::Confirm);
        assert_eq!(decide_command(outside, ToolApproval::Auto, &none, true), Decision::Allow);
        assert_eq!(decide_command("git push --force", ToolApproval::Auto, &none, true), Decision::Confirm);
        assert_eq!(decide_command("cargo test", ToolApproval::Auto, &none, false), Decision::Allow);
        let mut remembered = HashSet::new();
        remembered.insert(run(outside).remembered_as());
        assert_eq!(decide_command(outside, ToolApproval::Auto, &remembered, false), Decision::Allow);
        assert_eq!(facts(outside, false).note().as_deref(), Some("It writes outside the workspace (/etc/hosts)."));
        assert_eq!(facts(outside, true).note(), None);
    }

    #[test]
    fn remembered_choices_then_the_setting() {
        let mut remembered = HashSet::new();
        assert_eq!(decide_command("npm install", ToolApproval::Ask, &remembered, true), Decision::Confirm);
        assert_eq!(decide_command("npm install", ToolApproval::Auto, &remembered, true), Decision::Allow);
        remembered.insert(run("npm install").remembered_as());
        assert_eq!(decide_command(" npm install ", ToolApproval::Ask, &remembered, true), Decision::Allow);
        assert_eq!(decide_command("npm install left-pad", ToolApproval::Ask, &remembered, true), Decision::Confirm);
        let write = Action::Write { path: "src/lib.rs".to_owned() };
        remembered.insert(write.remembered_as());
        assert_eq!(decide(&write, ToolApproval::Ask, &remembered, None), Decision::Allow);
        let other = Action::Write { path: "src/main.rs".to_owned() };
        assert_eq!(decide(&other, ToolApproval::Ask, &remembered, None), Decision::Confirm);
    }

    #[test]
    fn allow_for_this_plan_covers_the_tool_kind_but_not_a_risky_command() {
        let mut remembered = HashSet::new();
        remembered.insert(Remembered::Kind(ToolKind::Edit));
        let other_file = Action::Write { path: "docs/guide.md".to_owned() };
        assert_eq!(decide(&other_file, ToolApproval::Ask, &remembered, None), Decision::Allow);
        let folder = Action::CreateDirectory { path: "docs".to_owned() };
        assert_eq!(decide(&folder, ToolApproval::Ask, &remembered, None), Decision::Allow);
        let delete = Action::Delete { path: "docs/guide.md".to_owned() };
        assert_eq!(
            decide(&delete, ToolApproval::Ask, &remembered, None),
            Decision::Confirm,
            "a deletion is its own kind"
        );
        assert_eq!(decide_command("cargo test", ToolApproval::Ask, &remembered, true), Decision::Confirm);
        remembered.insert(Remembered::Kind(ToolKind::Execute));
        assert_eq!(decide_command("cargo test", ToolApproval::Ask, &remembered, true), Decision::Allow);
        assert_eq!(decide_command("git push --force", ToolApproval::Ask, &remembered, true), Decision::Confirm);
    }

    #[test]
    fn quoted_text_is_not_a_command() {
        assert_eq!(decide_command("echo 'rm -rf /'", ToolApproval::Auto, &HashSet::new(), false), Decision::Allow);
    }

    #[test]
    fn answers_map_to_acp_kinds_and_dismissal_is_denial() {
        assert_eq!(Answer::parse(Some(ALLOW)).acp_kind(), "allow_once");
        assert_eq!(Answer::parse(Some(ALLOW_FOR_PLAN)).acp_kind(), "allow_always");
        assert_eq!(Answer::parse(None), Answer::Deny);
        assert_eq!(Answer::parse(Some("something else")).acp_kind(), "reject_once");
        assert_eq!(run("npm install").question("coder"), "Allow coder to run `npm install`?");
    }
}
