//! What the model is told about each tool (name, description, JSON schema of its arguments),
//! the argument types the calls are parsed into, and each tool's ACP kind. No behaviour here.

use serde::Deserialize;
use serde_json::{Value, json};

use super::Role;
use crate::engine::ToolKind;
use crate::llm::ToolSpec;

const TOOLS: &[(&str, ToolKind)] = &[
    ("read_file", ToolKind::Read),
    ("list_files", ToolKind::Read),
    ("search_in_code", ToolKind::Search),
    ("write_file", ToolKind::Edit),
    ("edit_file", ToolKind::Edit),
    ("create_directory", ToolKind::Edit),
    ("delete_file", ToolKind::Delete),
    ("move_file", ToolKind::Move),
    ("execute_command", ToolKind::Execute),
    ("attempt_completion", ToolKind::Think),
    ("ask_followup_question", ToolKind::Other),
];

pub fn is_known(name: &str) -> bool {
    TOOLS.iter().any(|(known, _)| *known == name)
}

pub fn kind_of(name: &str) -> ToolKind {
    TOOLS.iter().find(|(known, _)| *known == name).map_or(ToolKind::Other, |(_, kind)| *kind)
}

/// The file or command a call works on, for activity events (best effort, never fails).
pub fn target_of(arguments: &str) -> Option<String> {
    let value: Value = serde_json::from_str(arguments).ok()?;
    ["path", "source", "command", "query"].iter().find_map(|key| {
        value.get(key)?.as_str().map(|text| {
            let text: String = text.chars().take(120).collect();
            text
        })
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    pub path: String,
    #[serde(default)]
    pub start_line: Option<usize>,
    #[serde(default)]
    pub end_line: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub recursive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    pub query: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub file_pattern: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteArgs {
    pub path: String,
    pub content: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBlock {
    pub search: String,
    pub replace: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditArgs {
    pub path: String,
    pub edits: Vec<EditBlock>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathArgs {
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveArgs {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandArgs {
    pub command: String,
    #[serde(default)]
    pub cwd: Option<String>,
    /// Seconds; default 60, at most 300.
    #[serde(default)]
    pub timeout: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct CompletionArgs {
    pub result: String,
}

#[derive(Debug, Deserialize)]
pub struct QuestionArgs {
    pub question: String,
    #[serde(default)]
    pub suggestions: Vec<String>,
}

fn spec(name: &str, description: &str, parameters: Value) -> ToolSpec {
    ToolSpec { name: name.to_owned(), description: description.to_owned(), parameters }
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

/// The tools offered to `role`, in a stable order.
pub fn tool_specs(role: Role) -> Vec<ToolSpec> {
    let path = json!({ "type": "string", "description": "path relative to the workspace root" });
    let all = vec![
        spec(
            "read_file",
            "Read a text file (up to 1 MB), optionally only lines start_line..=end_line (1-based).",
            object(
                json!({ "path": path, "start_line": { "type": "integer" }, "end_line": { "type": "integer" } }),
                &["path"],
            ),
        ),
        spec(
            "list_files",
            "List files and directories (respecting .gitignore); recursive lists the whole tree.",
            object(json!({ "path": path, "recursive": { "type": "boolean" } }), &[]),
        ),
        spec(
            "search_in_code",
            "Search file contents with a regular expression (respecting .gitignore); shows path:line: text.",
            object(
                json!({ "query": { "type": "string" }, "path": path, "file_pattern": { "type": "string", "description": "glob such as *.rs" } }),
                &["query"],
            ),
        ),
        spec(
            "write_file",
            "Create a new file, or replace a whole file. To change part of a file use edit_file.",
            object(json!({ "path": path, "content": { "type": "string" } }), &["path", "content"]),
        ),
        spec(
            "edit_file",
            "Change a file with search-and-replace blocks. Each search must match exactly one place (copy it from read_file); include enough lines to be unique.",
            object(
                json!({ "path": path, "edits": { "type": "array", "items": object(json!({ "search": { "type": "string" }, "replace": { "type": "string" } }), &["search", "replace"]) } }),
                &["path", "edits"],
            ),
        ),
        spec("create_directory", "Create a directory and its parents.", object(json!({ "path": path }), &["path"])),
        spec("delete_file", "Delete a file or an empty directory.", object(json!({ "path": path }), &["path"])),
        spec(
            "move_file",
            "Move or rename a file; the destination must not exist.",
            object(json!({ "source": path, "destination": path }), &["source", "destination"]),
        ),
        spec(
            "execute_command",
            "Run a shell command in the workspace (timeout in seconds: default 60, at most 300). Output is bounded.",
            object(
                json!({ "command": { "type": "string" }, "cwd": path, "timeout": { "type": "integer" } }),
                &["command"],
            ),
        ),
        spec(
            "attempt_completion",
            "Finish the subtask: result says what was done (or the answer to the question).",
            object(json!({ "result": { "type": "string" } }), &["result"]),
        ),
        spec(
            "ask_followup_question",
            "Ask the person a question, with up to five suggested answers.",
            object(
                json!({ "question": { "type": "string" }, "suggestions": { "type": "array", "items": { "type": "string" } } }),
                &["question"],
            ),
        ),
    ];
    all.into_iter().filter(|spec| role.allows(&spec.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_see_only_their_tools() {
        let names = |role| tool_specs(role).into_iter().map(|spec| spec.name).collect::<Vec<_>>();
        assert_eq!(names(Role::Coder).len(), TOOLS.len());
        let ask = names(Role::Ask);
        assert!(
            !ask.iter()
                .any(|name| ["write_file", "edit_file", "execute_command", "delete_file"].contains(&name.as_str()))
        );
        let debug = names(Role::Debug);
        assert!(debug.contains(&"execute_command".to_owned()) && !debug.contains(&"write_file".to_owned()));
        assert!(names(Role::Architect).contains(&"write_file".to_owned()));
        assert!(!names(Role::Architect).contains(&"execute_command".to_owned()));
    }

    #[test]
    fn targets_come_from_the_usual_argument_names() {
        assert_eq!(target_of(r#"{"path":"src/lib.rs"}"#).as_deref(), Some("src/lib.rs"));
        assert_eq!(target_of(r#"{"command":"cargo test"}"#).as_deref(), Some("cargo test"));
        assert_eq!(target_of("not json"), None);
    }
}
