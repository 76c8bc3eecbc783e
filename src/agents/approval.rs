//! The approval policy as a pure function: `(action, policy, remembered choices) -> Allow |
//! Confirm | Deny(reason)`, with explicit precedence — hard denies first (commands that destroy
//! the machine, whatever the settings), then the person's "Allow for this plan" choices, then
//! the setting (`approval.tools`). Shell chaining is split before matching, so `ls && rm -rf /`
//! is judged as two commands.
//!
//! No I/O here: asking the person is the tool layer's job (`tools::Toolbox`).

use std::collections::HashSet;

use crate::config::ToolApproval;

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

    /// What "Allow for this plan" remembers: the exact command, or the file.
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

/// A choice the person made for the rest of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Remembered {
    Command(String),
    Path(String),
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

/// The person's answer, parsed. A dismissed question is a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    AllowOnce,
    AllowForPlan,
    Deny,
}

impl Answer {
    pub fn parse(chosen: Option<&str>) -> Self {
        match chosen {
            Some(ALLOW) => Answer::AllowOnce,
            Some(ALLOW_FOR_PLAN) => Answer::AllowForPlan,
            _ => Answer::Deny,
        }
    }

    /// The Agent Client Protocol's permission option kind.
    pub fn acp_kind(self) -> &'static str {
        match self {
            Answer::AllowOnce => "allow_once",
            Answer::AllowForPlan => "allow_always",
            Answer::Deny => "reject_once",
        }
    }
}

/// Decides one action. Precedence: hard deny, remembered allow, setting.
pub fn decide(action: &Action, setting: ToolApproval, remembered: &HashSet<Remembered>) -> Decision {
    if let Action::Execute { command } = action {
        for part in split_commands(command) {
            if let Some(reason) = hard_denied(&part) {
                return Decision::Deny(reason);
            }
        }
    }
    if remembered.contains(&action.remembered_as()) {
        return Decision::Allow;
    }
    match setting {
        ToolApproval::Auto => Decision::Allow,
        ToolApproval::Ask => Decision::Confirm,
    }
}

/// Splits a shell line on `&&`, `||`, `;`, `|`, `&` and newlines (outside quotes).
pub fn split_commands(line: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut characters = line.chars().peekable();
    while let Some(character) = characters.next() {
        match (quote, character) {
            (Some(open), _) if character == open => {
                quote = None;
                current.push(character);
            }
            (Some(_), _) => current.push(character),
            (None, '\'' | '"') => {
                quote = Some(character);
                current.push(character);
            }
            (None, ';' | '\n' | '|' | '&') => {
                if characters.peek() == Some(&character) {
                    characters.next();
                }
                parts.push(std::mem::take(&mut current));
            }
            (None, _) => current.push(character),
        }
    }
    parts.push(current);
    parts.into_iter().map(|part| part.trim().to_owned()).filter(|part| !part.is_empty()).collect()
}

/// Commands refused whatever the settings say.
fn hard_denied(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let program = words.first().copied().unwrap_or_default();
    let program = program.rsplit('/').next().unwrap_or(program);
    let refused = |why: &str| Some(format!("refused: `{command}` {why}"));
    match program {
        "sudo" | "su" | "doas" => return refused("needs elevated privileges"),
        "mkfs" | "shutdown" | "reboot" | "halt" | "poweroff" => return refused("changes the machine"),
        _ if program.starts_with("mkfs.") => return refused("formats a disk"),
        _ => {}
    }
    if program == "rm" {
        let recursive = words.iter().any(|word| word.starts_with('-') && (word.contains('r') || word.contains('R')));
        let targets_root = words.iter().skip(1).any(|word| matches!(*word, "/" | "/*" | "~" | "~/" | "$HOME" | ".."));
        if recursive && targets_root {
            return refused("deletes outside the workspace");
        }
    }
    if program == "dd" && words.iter().any(|word| word.starts_with("of=/dev/")) {
        return refused("writes to a device");
    }
    if command.contains(":(){") || command.contains(":() {") {
        return refused("is a fork bomb");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(command: &str) -> Action {
        Action::Execute { command: command.to_owned() }
    }

    #[test]
    fn hard_denies_win_over_auto_and_remembered_choices() {
        let mut remembered = HashSet::new();
        remembered.insert(run("ls && rm -rf /").remembered_as());
        for command in ["rm -rf /", "ls && rm -rf /", "echo ok; sudo make install", "true | rm -fr ~", "mkfs.ext4 x"] {
            let decision = decide(&run(command), ToolApproval::Auto, &remembered);
            assert!(matches!(decision, Decision::Deny(_)), "{command}: {decision:?}");
        }
    }

    #[test]
    fn remembered_choices_then_the_setting() {
        let mut remembered = HashSet::new();
        assert_eq!(decide(&run("npm install"), ToolApproval::Ask, &remembered), Decision::Confirm);
        assert_eq!(decide(&run("npm install"), ToolApproval::Auto, &remembered), Decision::Allow);
        remembered.insert(run("npm install").remembered_as());
        assert_eq!(decide(&run(" npm install "), ToolApproval::Ask, &remembered), Decision::Allow);
        assert_eq!(decide(&run("npm install left-pad"), ToolApproval::Ask, &remembered), Decision::Confirm);
        let write = Action::Write { path: "src/lib.rs".to_owned() };
        remembered.insert(write.remembered_as());
        assert_eq!(decide(&write, ToolApproval::Ask, &remembered), Decision::Allow);
        let other = Action::Write { path: "src/main.rs".to_owned() };
        assert_eq!(decide(&other, ToolApproval::Ask, &remembered), Decision::Confirm);
    }

    #[test]
    fn shell_chaining_is_split_outside_quotes() {
        assert_eq!(split_commands("ls && rm x || y; z | w & v"), vec!["ls", "rm x", "y", "z", "w", "v"]);
        assert_eq!(split_commands("echo 'a && b'; c"), vec!["echo 'a && b'", "c"]);
        assert_eq!(decide(&run("echo 'rm -rf /'"), ToolApproval::Auto, &HashSet::new()), Decision::Allow);
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
