//! The LLM planner (the seed's architect `create_plan`, in one call): for a task it asks the model
//! once for the classification *and* the plan together, as structured output; while the reply
//! streams, complete subtasks go to the caller as they arrive. The reply is checked with the
//! same validator as user input (`model::validate::build_subtasks`); when it fails, the problems
//! go back to the model in **one** repair round trip; when that fails too, the caller uses the
//! template planner and the [`PlannerFailure`] says why (`plan.plannerNote`).
//!
//! Revising works the same way with the current plan and the feedback in the prompt.
//! No I/O but the model call: the workspace context is gathered by `context.rs` beforehand.

use std::sync::Mutex;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::context::PlanningContext;
use crate::llm::classify::{ClassifyError, classification_from_json, classification_properties};
use crate::llm::json::{complete_array_elements, parse_json_object};
use crate::llm::{ChatDelta, ChatMessage, ChatModel, ChatRequest, JsonSchemaFormat, LlmError, Usage};
use crate::model::validate::{SubtaskDraft, build_subtasks};
use crate::model::{AgentKind, Classification, Subtask};

/// Most subtasks the model is asked for.
pub const MAX_LLM_SUBTASKS: usize = 12;
/// Longest `context.notes` put into a prompt, in characters.
const MAX_NOTES_CHARS: usize = 2_000;

/// The model and how to call it.
#[derive(Clone, Copy)]
pub struct LlmPlanner<'a> {
    pub model: &'a dyn ChatModel,
    pub model_name: &'a str,
    pub cancel: &'a CancellationToken,
    /// Receives the subtasks parsed so far, each time one more is complete.
    pub on_subtasks: &'a (dyn Fn(Vec<SubtaskDraft>) + Send + Sync),
}

/// What the model planned (already validated).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmPlan {
    /// The model's classification (method `llm`); `None` for a revision.
    pub classification: Option<Classification>,
    pub title: Option<String>,
    /// Empty when the model found the task atomic.
    pub subtasks: Vec<SubtaskDraft>,
}

/// Why the model's plan was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlannerFailure {
    #[error("{0}")]
    Model(LlmError),
    /// The reply stayed unusable after one repair round trip.
    #[error("the model's plan was unusable after one repair: {0}")]
    Unusable(String),
}

impl PlannerFailure {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, PlannerFailure::Model(LlmError::Cancelled))
    }
}

/// What a planning call needs to know.
pub struct PlanInput<'a> {
    pub task: &'a str,
    pub notes: Option<&'a str>,
    pub context: &'a PlanningContext,
    /// The task is known to be complex (a plan is required, `isAtomic` must be false).
    pub require_plan: bool,
}

impl LlmPlanner<'_> {
    /// Classifies and plans `input.task` in one call (plus at most one repair).
    pub async fn plan(&self, input: &PlanInput<'_>) -> (Result<LlmPlan, PlannerFailure>, Usage) {
        let messages = vec![ChatMessage::system(system_prompt(true)), ChatMessage::user(task_prompt(input))];
        self.converse(messages, true, input.require_plan).await
    }

    /// Re-plans `current` with the user's `feedback`.
    pub async fn revise(
        &self,
        input: &PlanInput<'_>,
        current: &[Subtask],
        feedback: &str,
    ) -> (Result<LlmPlan, PlannerFailure>, Usage) {
        let current_json = json!(current.iter().map(subtask_json).collect::<Vec<_>>());
        let prompt = format!(
            "{}\n\nThe current plan:\n{current_json}\n\nThe user's feedback on it:\n{feedback}\n\nReply with the whole revised plan.",
            task_prompt(input)
        );
        self.converse(vec![ChatMessage::system(system_prompt(false)), ChatMessage::user(prompt)], false, true).await
    }

    async fn converse(
        &self,
        mut messages: Vec<ChatMessage>,
        classify: bool,
        require_plan: bool,
    ) -> (Result<LlmPlan, PlannerFailure>, Usage) {
        let mut usage = Usage::default();
        let mut last_problem = String::new();
        for round in 0..2 {
            let (reply, spent) = self.call(messages.clone(), plan_schema(classify, require_plan)).await;
            usage.add(spent);
            let content = match reply {
                Ok(content) => content,
                Err(error) => return (Err(PlannerFailure::Model(error)), usage),
            };
            match read_reply(&content, classify, require_plan) {
                Ok(plan) => return (Ok(plan), usage),
                Err(problem) => {
                    tracing::info!(round, %problem, "the model's plan was refused");
                    messages.push(ChatMessage::assistant(content, Vec::new()));
                    messages.push(ChatMessage::user(format!(
                        "That reply cannot be used: {problem}. Reply again with the corrected JSON object only."
                    )));
                    last_problem = problem;
                }
            }
        }
        (Err(PlannerFailure::Unusable(last_problem)), usage)
    }

    /// One streamed call; forwards complete subtasks as they arrive.
    async fn call(&self, messages: Vec<ChatMessage>, schema: Value) -> (Result<String, LlmError>, Usage) {
        let mut request = ChatRequest::new(self.model_name, messages);
        request.response_format = Some(JsonSchemaFormat { name: "plan".into(), schema });
        request.temperature = Some(0.2);
        request.max_tokens = Some(2_000);
        let text = Mutex::new(String::new());
        let forwarded = Mutex::new(0_usize);
        let sink = |delta: ChatDelta| {
            let ChatDelta::Content(piece) = delta else { return };
            let mut text = text.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            text.push_str(&piece);
            let elements = complete_array_elements(&text, "subtasks");
            let mut forwarded = forwarded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if elements.len() > *forwarded {
                *forwarded = elements.len();
                (self.on_subtasks)(elements.iter().map(draft_from_json).collect());
            }
        };
        match self.model.chat(request, &sink, self.cancel).await {
            Ok(response) => (Ok(response.message.content), response.usage),
            Err(error) => (Err(error), Usage::default()),
        }
    }
}

/// Parses and validates one reply; the error is what the repair message tells the model.
fn read_reply(content: &str, classify: bool, require_plan: bool) -> Result<LlmPlan, String> {
    let object = parse_json_object(content)?;
    // When a plan is required the task is already known to be complex: the model's classification
    // fields are not used, so a wrong one does not cost a repair.
    let classification = if classify && !require_plan {
        let classification = classification_from_json(&object).map_err(|error| match error {
            ClassifyError::Invalid(message) => message,
            ClassifyError::Model(error) => error.to_string(),
        })?;
        if classification.is_atomic() {
            return Ok(LlmPlan { classification: Some(classification), title: None, subtasks: Vec::new() });
        }
        Some(classification)
    } else {
        None
    };
    let items = object.get("subtasks").and_then(Value::as_array).ok_or("subtasks: missing or not an array")?;
    if items.is_empty() {
        return Err("subtasks: empty (a plan needs at least one subtask)".into());
    }
    if items.len() > MAX_LLM_SUBTASKS {
        return Err(format!("subtasks: {} given, at most {MAX_LLM_SUBTASKS}", items.len()));
    }
    let drafts: Vec<SubtaskDraft> = items.iter().map(draft_from_json).collect();
    if let Err(errors) = build_subtasks(&drafts, "subtasks") {
        return Err(errors.messages().join("; "));
    }
    let title = object.get("title").and_then(Value::as_str).map(str::trim).filter(|title| !title.is_empty());
    Ok(LlmPlan { classification, title: title.map(str::to_owned), subtasks: drafts })
}

/// A draft from one subtask object, as leniently as the validator allows (it reports the rest).
pub fn draft_from_json(item: &Value) -> SubtaskDraft {
    let text = |field: &str| match item.get(field) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let depends_on = match item.get("dependsOn") {
        Some(Value::Array(ids)) => {
            ids.iter().map(|id| id.as_str().map(str::to_owned).unwrap_or_else(|| id.to_string())).collect()
        }
        Some(Value::String(id)) if !id.trim().is_empty() => vec![id.clone()],
        _ => Vec::new(),
    };
    SubtaskDraft {
        id: text("id"),
        title: text("title").unwrap_or_default(),
        description: text("description"),
        agent: text("agent").unwrap_or_default(),
        command: text("command").filter(|command| !command.trim().is_empty()),
        cwd: text("cwd").filter(|cwd| !cwd.trim().is_empty()),
        depends_on,
        timeout_secs: None,
        max_attempts: None,
        estimate_secs: item.get("estimateSecs").and_then(Value::as_u64),
        role: text("role").filter(|role| !role.trim().is_empty()),
    }
}

fn subtask_json(subtask: &Subtask) -> Value {
    json!({
        "id": subtask.id.as_str(), "title": subtask.title, "description": subtask.description,
        "agent": subtask.agent.as_str(), "command": subtask.command,
        "dependsOn": subtask.depends_on.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        "estimateSecs": subtask.estimate_secs,
    })
}

/// The reply's JSON schema: classification fields (when `classify`), a title and the subtasks
/// (at least one when `require_plan`: a grammar-constrained endpoint then cannot answer with none).
pub fn plan_schema(classify: bool, require_plan: bool) -> Value {
    let agents: Vec<&str> = AgentKind::ALL.iter().map(|agent| agent.as_str()).collect();
    let subtask = json!({
        "type": "object",
        "required": ["id", "title", "description", "agent", "dependsOn"],
        "properties": {
            "id": { "type": "string", "description": "short and unique: s1, s2, ..." },
            "title": { "type": "string", "maxLength": 200 },
            "description": { "type": "string" },
            "agent": { "type": "string", "enum": agents },
            "command": { "type": "string", "description": "the shell command; only for agent shell" },
            "dependsOn": { "type": "array", "items": { "type": "string" } },
            "estimateSecs": { "type": "integer", "minimum": 0 },
        },
    });
    let mut properties = if classify { classification_properties() } else { json!({}) };
    properties["title"] = json!({ "type": "string", "maxLength": 200 });
    properties["subtasks"] = json!({ "type": "array", "maxItems": MAX_LLM_SUBTASKS, "items": subtask });
    if require_plan {
        properties["subtasks"]["minItems"] = json!(1);
    }
    let required = if classify {
        vec!["isAtomic", "agent", "confidence", "reason", "title", "subtasks"]
    } else {
        vec!["title", "subtasks"]
    };
    json!({ "type": "object", "required": required, "properties": properties })
}

fn system_prompt(classify: bool) -> String {
    let agents = AgentKind::ALL.iter().map(|agent| agent.as_str()).collect::<Vec<_>>().join(", ");
    let classify_part = if classify {
        "First classify the task: isAtomic is true when one agent can do it in one go (agent code, debug or explain, \
         and then subtasks may be empty); otherwise isAtomic is false and agent is plan. Always give a short reason. "
    } else {
        ""
    };
    format!(
        "You are the planner of a coding assistant. {classify_part}For a complex task, write a plan: at most \
         {MAX_LLM_SUBTASKS} subtasks, each with a short unique id (s1, s2, ...), a title, a description of what \
         to do, an agent ({agents}; shell needs a command and only shell has one), dependsOn (ids of subtasks \
         that must finish first; no cycles) and estimateSecs. Use the workspace's own build and test commands \
         for shell steps. Reply with one JSON object only."
    )
}

/// The user message: the task, the notes, and the bounded workspace context.
fn task_prompt(input: &PlanInput<'_>) -> String {
    let context = input.context;
    let mut prompt = format!("Task:\n{}\n", input.task);
    if let Some(notes) = input.notes.filter(|notes| !notes.trim().is_empty()) {
        let notes: String = notes.chars().take(MAX_NOTES_CHARS).collect();
        prompt.push_str(&format!("\nNotes from the user:\n{notes}\n"));
    }
    if input.require_plan {
        prompt.push_str("\nThis task is complex: isAtomic must be false and agent plan.\n");
    }
    if !context.languages.is_empty() {
        prompt.push_str(&format!("\nLanguages: {}\n", context.languages.join(", ")));
    }
    for command in &context.facts.commands {
        prompt.push_str(&format!("{}: `{}`\n", command.title, command.command));
    }
    if !context.file_tree.is_empty() {
        let more = if context.tree_truncated { "\n…" } else { "" };
        prompt.push_str(&format!("\nFiles:\n{}{more}\n", context.file_tree.join("\n")));
    }
    if let Some(readme) = &context.readme_head {
        prompt.push_str(&format!("\nREADME (head):\n{readme}\n"));
    }
    for file in &context.files {
        prompt.push_str(&format!("\nFile {}:\n{}\n", file.path, file.text));
    }
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(subtasks: Value) -> String {
        json!({"isAtomic": false, "agent": "plan", "confidence": "high", "reason": "steps", "title": "T",
            "subtasks": subtasks})
        .to_string()
    }

    #[test]
    fn replies_are_validated_like_user_input() {
        let good = reply(json!([
            {"id": "s1", "title": "Write it", "description": "d", "agent": "coder", "dependsOn": []},
            {"id": "s2", "title": "Test it", "description": "d", "agent": "shell", "command": "cargo test", "dependsOn": ["s1"]},
        ]));
        let plan = read_reply(&good, true, false).unwrap();
        assert_eq!(plan.subtasks.len(), 2);
        assert_eq!(plan.title.as_deref(), Some("T"));

        let cyclic = reply(json!([
            {"id": "a", "title": "A", "agent": "coder", "dependsOn": ["b"]},
            {"id": "b", "title": "B", "agent": "coder", "dependsOn": ["a"]},
        ]));
        assert!(read_reply(&cyclic, true, false).unwrap_err().contains("a -> b -> a"));
        let no_command = reply(json!([{"id": "a", "title": "A", "agent": "shell", "dependsOn": []}]));
        assert!(read_reply(&no_command, true, false).unwrap_err().contains("subtasks[0].command"));
        let atomic = json!({"isAtomic": true, "agent": "debug", "reason": "one bug", "title": "", "subtasks": []});
        assert!(read_reply(&atomic.to_string(), true, false).unwrap().subtasks.is_empty());
        assert!(read_reply(&atomic.to_string(), true, true).is_err());
        assert!(read_reply("I think you should", true, false).unwrap_err().contains("no JSON object"));
    }

    #[test]
    fn the_prompt_is_bounded_and_carries_the_context() {
        let context = PlanningContext {
            languages: vec!["Rust".into()],
            file_tree: vec!["src/".into(), "src/main.rs".into()],
            ..PlanningContext::default()
        };
        let notes = "n".repeat(10_000);
        let input = PlanInput { task: "Add a cache", notes: Some(&notes), context: &context, require_plan: false };
        let prompt = task_prompt(&input);
        assert!(prompt.contains("Languages: Rust") && prompt.contains("src/main.rs"));
        assert!(prompt.chars().count() < 3_000);
    }
}
