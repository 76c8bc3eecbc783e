//! The LLM classifier: one structured call that says whether a task is atomic, which agent takes
//! it, how sure the model is and why. The reply is checked, not trusted: the invariant
//! (`isAtomic == false` ⇔ `agent == "plan"`) is enforced and a reason is required; a reply that
//! breaks either is an error, and the caller falls back to the keyword classifier with the
//! reason. Also: when to ask at all (`llm.classify`), and the cache key of a task.
//!
//! No I/O of its own: the caller holds the model and the store (the cache).

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::json::parse_json_object;
use super::{ChatMessage, ChatModel, ChatRequest, JsonSchemaFormat, LlmError, Usage};
use crate::config::LlmClassify;
use crate::model::{Classification, ClassifyMethod, Confidence, RouteAgent};

/// Why the model's classification was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    #[error(transparent)]
    Model(#[from] LlmError),
    /// The reply was not the JSON object asked for, or broke a rule.
    #[error("the model's classification is unusable: {0}")]
    Invalid(String),
}

/// Whether the model is asked, given the keyword classifier's verdict and `llm.classify`.
pub fn should_ask_model(mode: LlmClassify, keywords: &Classification) -> bool {
    match mode {
        LlmClassify::Always => true,
        LlmClassify::Never => false,
        LlmClassify::WhenUnsure => keywords.confidence != Confidence::High,
    }
}

/// The cache key of a task: lower case, whitespace collapsed.
pub fn normalise_task(task: &str) -> String {
    task.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// The JSON schema of the classification fields (shared with the planner's combined reply).
pub fn classification_properties() -> Value {
    json!({
        "isAtomic": { "type": "boolean", "description": "true when one agent can do the task in one go" },
        "agent": {
            "type": "string",
            "enum": RouteAgent::ALL.iter().map(|agent| agent.as_str()).collect::<Vec<_>>(),
            "description": "code, debug or explain for an atomic task; plan (and only plan) for a complex one",
        },
        "confidence": { "type": "string", "enum": Confidence::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() },
        "reason": { "type": "string", "minLength": 1, "description": "one short sentence: why" },
    })
}

const CLASSIFY_SYSTEM: &str = "You classify coding tasks for a planner. A task is atomic when one agent can do it \
in one go (a small fix, one question, one focused change); it is complex when it needs several steps that depend on \
each other. Atomic tasks go to agent code (write or change code), debug (find and fix a failure) or explain (answer \
a question); complex tasks go to agent plan, and only complex tasks do. Always give a short reason.";

/// The request for classifying `task` with `model`.
pub fn classification_request(task: &str, model: &str) -> ChatRequest {
    let mut schema = json!({ "type": "object", "additionalProperties": false,
        "required": ["isAtomic", "agent", "confidence", "reason"] });
    schema["properties"] = classification_properties();
    let mut request =
        ChatRequest::new(model, vec![ChatMessage::system(CLASSIFY_SYSTEM), ChatMessage::user(format!("Task: {task}"))]);
    request.response_format = Some(JsonSchemaFormat { name: "classification".into(), schema });
    request.temperature = Some(0.0);
    request.max_tokens = Some(200);
    request
}

/// Reads the classification fields of a reply object (method `llm`).
pub fn classification_from_json(object: &Value) -> Result<Classification, ClassifyError> {
    let invalid = |message: String| ClassifyError::Invalid(message);
    let is_atomic = object
        .get("isAtomic")
        .and_then(Value::as_bool)
        .ok_or_else(|| invalid("isAtomic: missing or not a boolean".into()))?;
    let agent_text = object.get("agent").and_then(Value::as_str).unwrap_or_default();
    let agent = RouteAgent::parse(agent_text.trim())
        .ok_or_else(|| invalid(format!("agent: {agent_text:?} is not one of {}", RouteAgent::expected())))?;
    let confidence_text = object.get("confidence").and_then(Value::as_str).unwrap_or("medium");
    let confidence = Confidence::parse(confidence_text.trim()).unwrap_or(Confidence::Medium);
    let reason = object.get("reason").and_then(Value::as_str).map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Err(invalid("reason: missing or empty (a reason is required)".into()));
    }
    match (is_atomic, agent) {
        (false, RouteAgent::Plan) => Ok(Classification::complex(confidence, reason.to_owned(), ClassifyMethod::Llm)),
        (false, other) => Err(invalid(format!("isAtomic is false but agent is {other} (a complex task goes to plan)"))),
        (true, RouteAgent::Plan) => {
            Err(invalid("isAtomic is true but agent is plan (plan is for complex tasks)".into()))
        }
        (true, agent) => Ok(Classification::atomic(agent, confidence, reason.to_owned(), ClassifyMethod::Llm)),
    }
}

/// Asks the model once. Returns the classification and the tokens spent (also on failure, when
/// the model answered).
pub async fn classify_with_model(
    model: &dyn ChatModel,
    model_name: &str,
    task: &str,
    cancel: &CancellationToken,
) -> (Result<Classification, ClassifyError>, Usage) {
    let response = match model.chat(classification_request(task, model_name), &|_| {}, cancel).await {
        Ok(response) => response,
        Err(error) => return (Err(error.into()), Usage::default()),
    };
    let usage = response.usage;
    let parsed = parse_json_object(&response.message.content).map_err(ClassifyError::Invalid);
    (parsed.and_then(|object| classification_from_json(&object)), usage)
}

/// The keyword verdict with a note on why the model's was not used.
pub fn keyword_fallback(keywords: Classification, why: &str) -> Classification {
    let mut classification = keywords;
    classification.reason = format!("{}; language model not used: {why}", classification.reason);
    classification
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invariant_and_the_reason_are_enforced() {
        let ok = classification_from_json(
            &json!({"isAtomic": false, "agent": "plan", "confidence": "high", "reason": "many steps"}),
        );
        assert_eq!(ok.unwrap().method, ClassifyMethod::Llm);
        let atomic =
            classification_from_json(&json!({"isAtomic": true, "agent": "debug", "reason": "one bug"})).unwrap();
        assert_eq!((atomic.agent(), atomic.confidence), (RouteAgent::Debug, Confidence::Medium));
        for broken in [
            json!({"isAtomic": false, "agent": "code", "reason": "x"}),
            json!({"isAtomic": true, "agent": "plan", "reason": "x"}),
            json!({"isAtomic": true, "agent": "code", "reason": "  "}),
            json!({"isAtomic": "yes", "agent": "code", "reason": "x"}),
            json!({"isAtomic": true, "agent": "architect", "reason": "x"}),
        ] {
            assert!(classification_from_json(&broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn when_to_ask_and_the_cache_key() {
        let sure = Classification::complex(Confidence::High, "x".into(), ClassifyMethod::Keywords);
        let unsure = Classification::complex(Confidence::Low, "x".into(), ClassifyMethod::Keywords);
        assert!(!should_ask_model(LlmClassify::WhenUnsure, &sure));
        assert!(should_ask_model(LlmClassify::WhenUnsure, &unsure));
        assert!(should_ask_model(LlmClassify::Always, &sure));
        assert!(!should_ask_model(LlmClassify::Never, &unsure));
        assert_eq!(normalise_task("  Fix   the BUG\n now "), "fix the bug now");
    }
}
