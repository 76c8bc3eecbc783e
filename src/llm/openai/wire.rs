//! The chat-completions wire format: the request body built from a [`ChatRequest`], and the
//! reply read back — either one JSON completion or a stream of SSE chunks, whose content and
//! tool-call deltas [`ReplyAssembler`] puts together by index.
//!
//! Pure: no HTTP, no clock, no environment. The client in `openai.rs` does the I/O.

use serde_json::{Map, Value, json};

use crate::llm::{
    ChatDelta, ChatMessage, ChatRequest, ChatResponse, FinishReason, JsonSchemaFormat, LlmError, Role, ToolCall, Usage,
};

/// How structured output is asked for, best first. An endpoint that refuses one mode gets the
/// next one (remembered per endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StructuredMode {
    /// `response_format: { type: "json_schema", ... }` (OpenAI, Ollama, vLLM, LM Studio).
    ResponseFormat,
    /// `response_format: { type: "json_object", schema }` plus the schema in a system message
    /// (llama-cpp-python constrains the output to the schema with a grammar).
    JsonObject,
    /// The schema goes into a system message and the caller parses the text.
    Prompt,
}

impl StructuredMode {
    /// The mode to try after this one was refused.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::ResponseFormat => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::Prompt),
            Self::Prompt => None,
        }
    }

    pub fn from_index(index: u8) -> Self {
        match index {
            0 => Self::ResponseFormat,
            1 => Self::JsonObject,
            _ => Self::Prompt,
        }
    }

    pub fn index(self) -> u8 {
        self as u8
    }
}

/// The JSON body of one `POST …/chat/completions`.
pub fn request_body(request: &ChatRequest, mode: StructuredMode) -> Value {
    let mut messages: Vec<Value> = request.messages.iter().map(message_json).collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({ "include_usage": true }));
    if let Some(format) = &request.response_format {
        match mode {
            StructuredMode::ResponseFormat => {
                body.insert("response_format".into(), response_format_json(format));
            }
            StructuredMode::JsonObject => {
                body.insert("response_format".into(), json!({ "type": "json_object", "schema": format.schema }));
                messages.push(json!({ "role": "system", "content": schema_prompt(format) }));
            }
            StructuredMode::Prompt => messages.push(json!({ "role": "system", "content": schema_prompt(format) })),
        }
    }
    body.insert("messages".into(), Value::Array(messages));
    if !request.tools.is_empty() {
        let tools = request.tools.iter().map(|tool| {
            json!({
                "type": "function",
                "function": { "name": tool.name, "description": tool.description, "parameters": tool.parameters },
            })
        });
        body.insert("tools".into(), Value::Array(tools.collect()));
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(max_tokens) = request.max_tokens {
        body.insert("max_tokens".into(), json!(max_tokens));
    }
    Value::Object(body)
}

fn response_format_json(format: &JsonSchemaFormat) -> Value {
    json!({
        "type": "json_schema",
        "json_schema": { "name": format.name, "schema": format.schema, "strict": true },
    })
}

/// The system message that replaces `response_format` on endpoints that refuse it.
pub fn schema_prompt(format: &JsonSchemaFormat) -> String {
    format!(
        "Reply with one JSON object and nothing else (no prose, no code fence). It must match this JSON schema:\n{}",
        format.schema
    )
}

fn message_json(message: &ChatMessage) -> Value {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut object = Map::new();
    object.insert("role".into(), json!(role));
    if message.role == Role::Assistant && !message.tool_calls.is_empty() {
        let content = if message.content.is_empty() { Value::Null } else { json!(message.content) };
        object.insert("content".into(), content);
        let calls = message.tool_calls.iter().map(|call| {
            json!({
                "id": call.id,
                "type": "function",
                "function": { "name": call.name, "arguments": call.arguments },
            })
        });
        object.insert("tool_calls".into(), Value::Array(calls.collect()));
    } else {
        object.insert("content".into(), json!(message.content));
    }
    if let Some(tool_call_id) = &message.tool_call_id {
        object.insert("tool_call_id".into(), json!(tool_call_id));
    }
    Value::Object(object)
}

/// A tool call being put together from deltas.
#[derive(Debug, Default)]
struct PartialToolCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Puts a reply together from stream chunks (or from one whole completion).
#[derive(Debug, Default)]
pub struct ReplyAssembler {
    content: String,
    tool_calls: Vec<PartialToolCall>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    /// Whether anything reached the caller's sink (a retry would repeat it).
    pub delivered: bool,
}

impl ReplyAssembler {
    /// Reads one SSE `data:` payload (not `[DONE]`), sending its deltas to `on_delta`.
    pub fn push_chunk(&mut self, data: &str, on_delta: &dyn Fn(ChatDelta)) -> Result<(), LlmError> {
        let chunk: Value = serde_json::from_str(data)
            .map_err(|error| LlmError::Malformed(format!("stream chunk is not JSON: {error}")))?;
        if let Some(error) = chunk.get("error") {
            return Err(LlmError::Server { status: 200, message: error_message(error) });
        }
        self.read_usage(&chunk);
        let Some(choice) = chunk.get("choices").and_then(Value::as_array).and_then(|choices| choices.first()) else {
            return Ok(());
        };
        self.read_finish_reason(choice);
        let Some(delta) = choice.get("delta") else { return Ok(()) };
        if let Some(text) = delta.get("content").and_then(Value::as_str).filter(|text| !text.is_empty()) {
            self.content.push_str(text);
            self.delivered = true;
            on_delta(ChatDelta::Content(text.to_owned()));
        }
        for call in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            self.push_tool_call_delta(call, on_delta);
        }
        Ok(())
    }

    fn push_tool_call_delta(&mut self, call: &Value, on_delta: &dyn Fn(ChatDelta)) {
        let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let index = match call.get("index").and_then(Value::as_u64) {
            Some(index) => index as usize,
            // No index: a new call when it names a new id, else more of the last one.
            None => match (id, self.tool_calls.last()) {
                (Some(id), Some(last)) if last.id.as_deref() == Some(id) => self.tool_calls.len() - 1,
                (None, Some(_)) => self.tool_calls.len() - 1,
                _ => self.tool_calls.len(),
            },
        };
        if index > self.tool_calls.len() + 64 {
            return; // A nonsense index must not allocate without bound.
        }
        while self.tool_calls.len() <= index {
            self.tool_calls.push(PartialToolCall::default());
        }
        let partial = &mut self.tool_calls[index];
        if let (Some(id), None) = (id, &partial.id) {
            partial.id = Some(id.to_owned());
        }
        let function = call.get("function");
        let name = function.and_then(|function| function.get("name")).and_then(Value::as_str).filter(|n| !n.is_empty());
        let first_name = name.filter(|_| partial.name.is_empty()).map(str::to_owned);
        if let Some(name) = &first_name {
            partial.name.push_str(name);
        }
        let arguments = function.and_then(|function| function.get("arguments"));
        let arguments = match arguments {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(), // Some servers send an object, not a string.
        };
        partial.arguments.push_str(&arguments);
        self.delivered = true;
        on_delta(ChatDelta::ToolCall { index, name: first_name, arguments });
    }

    fn read_usage(&mut self, chunk: &Value) {
        let Some(usage) = chunk.get("usage").filter(|usage| usage.is_object()) else { return };
        let count = |field: &str| usage.get(field).and_then(Value::as_u64).unwrap_or(0);
        self.usage = Some(Usage {
            prompt_tokens: count("prompt_tokens"),
            completion_tokens: count("completion_tokens"),
            calls: 1,
        });
    }

    fn read_finish_reason(&mut self, choice: &Value) {
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(match reason {
                "stop" => FinishReason::Stop,
                "tool_calls" | "function_call" => FinishReason::ToolCalls,
                "length" => FinishReason::Length,
                other => FinishReason::Other(other.to_owned()),
            });
        }
    }

    /// Reads a whole (non-streamed) completion, as an endpoint that ignores `stream` sends it.
    pub fn push_completion(&mut self, body: &str, on_delta: &dyn Fn(ChatDelta)) -> Result<(), LlmError> {
        let completion: Value =
            serde_json::from_str(body).map_err(|error| LlmError::Malformed(format!("reply is not JSON: {error}")))?;
        self.read_usage(&completion);
        let choice = completion
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|choices| choices.first())
            .ok_or_else(|| LlmError::Malformed("reply has no choices".into()))?;
        self.read_finish_reason(choice);
        let message = choice.get("message").ok_or_else(|| LlmError::Malformed("reply has no message".into()))?;
        // The same path as streamed deltas, so both shapes assemble alike.
        let delta = json!({ "choices": [{ "delta": message }] });
        self.push_chunk(&delta.to_string(), on_delta)
    }

    /// The assembled reply. Tool calls without an id get a generated one.
    pub fn finish(self) -> Result<ChatResponse, LlmError> {
        let mut tool_calls = Vec::with_capacity(self.tool_calls.len());
        for partial in self.tool_calls {
            if partial.name.is_empty() {
                return Err(LlmError::Malformed("a tool call has no name".into()));
            }
            let id = partial.id.unwrap_or_else(|| format!("call_{}", ulid::Ulid::new()));
            tool_calls.push(ToolCall { id, name: partial.name, arguments: partial.arguments });
        }
        let finish_reason = match self.finish_reason {
            Some(reason) => reason,
            None if !tool_calls.is_empty() => FinishReason::ToolCalls,
            None => FinishReason::Stop,
        };
        let usage = self.usage.unwrap_or(Usage { prompt_tokens: 0, completion_tokens: 0, calls: 1 });
        Ok(ChatResponse { message: ChatMessage::assistant(self.content, tool_calls), finish_reason, usage })
    }
}

/// The `message` of an OpenAI-style `{"error": {...}}` (or the value itself when it is text),
/// cut short: error bodies can be long, and they are shown to people.
pub fn error_message(error: &Value) -> String {
    let text = match error {
        Value::String(text) => text.clone(),
        Value::Object(object) => match object.get("message") {
            Some(Value::String(message)) => message.clone(),
            Some(other) => other.to_string(),
            None => error.to_string(),
        },
        other => other.to_string(),
    };
    truncate(&text, 300)
}

/// The readable part of an error body: its `error.message` when it is JSON, else the text.
pub fn error_body_message(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(value) => match value.get("error").or_else(|| value.get("detail")) {
            Some(error) => error_message(error),
            None => truncate(body, 300),
        },
        Err(_) => truncate(body.trim(), 300),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Whether a 4xx error body says the prompt does not fit the context window.
pub fn is_context_length_error(message: &str) -> bool {
    let message = message.to_lowercase();
    ["context length", "context_length", "maximum context", "context window", "too many tokens", "exceeds the context"]
        .iter()
        .any(|needle| message.contains(needle))
}

/// Whether a 4xx error body says the endpoint does not take `response_format` / `json_schema`.
pub fn is_response_format_refusal(message: &str) -> bool {
    let message = message.to_lowercase();
    ["response_format", "json_schema", "response format", "structured output"]
        .iter()
        .any(|needle| message.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn assemble(chunks: &[Value]) -> (ChatResponse, Vec<ChatDelta>) {
        let seen = Mutex::new(Vec::new());
        let sink = |delta: ChatDelta| seen.lock().unwrap().push(delta);
        let mut assembler = ReplyAssembler::default();
        for chunk in chunks {
            assembler.push_chunk(&chunk.to_string(), &sink).unwrap();
        }
        (assembler.finish().unwrap(), seen.into_inner().unwrap())
    }

    #[test]
    fn tool_call_deltas_are_assembled_by_index_and_missing_ids_generated() {
        let (response, deltas) = assemble(&[
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "read", "arguments": "{\"pa"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"name": "list", "arguments": "{}"}}]}}]}),
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "th\":1}"}}]}, "finish_reason": "tool_calls"}]}),
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}),
        ]);
        let calls = &response.message.tool_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (calls[0].id.as_str(), calls[0].name.as_str(), calls[0].arguments.as_str()),
            ("a", "read", "{\"path\":1}")
        );
        assert_eq!((calls[1].name.as_str(), calls[1].arguments.as_str()), ("list", "{}"));
        assert!(calls[1].id.starts_with("call_"));
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(response.usage, Usage { prompt_tokens: 7, completion_tokens: 3, calls: 1 });
        assert_eq!(deltas[0], ChatDelta::ToolCall { index: 0, name: Some("read".into()), arguments: "{\"pa".into() });
        assert_eq!(deltas[2], ChatDelta::ToolCall { index: 0, name: None, arguments: "th\":1}".into() });
    }

    #[test]
    fn response_format_or_schema_prompt() {
        let mut request = ChatRequest::new("m", vec![ChatMessage::user("hi")]);
        request.response_format = Some(JsonSchemaFormat { name: "plan".into(), schema: json!({"type": "object"}) });
        let with_format = request_body(&request, StructuredMode::ResponseFormat);
        assert_eq!(with_format["response_format"]["type"], "json_schema");
        assert_eq!(with_format["messages"].as_array().unwrap().len(), 1);
        let json_object = request_body(&request, StructuredMode::JsonObject);
        assert_eq!(json_object["response_format"], json!({"type": "json_object", "schema": {"type": "object"}}));
        assert_eq!(StructuredMode::ResponseFormat.next(), Some(StructuredMode::JsonObject));
        let prompted = request_body(&request, StructuredMode::Prompt);
        assert!(prompted.get("response_format").is_none());
        assert!(prompted["messages"][1]["content"].as_str().unwrap().contains("JSON schema"));
    }

    #[test]
    fn error_bodies_are_classified() {
        assert!(is_context_length_error("This model's maximum context length is 4096 tokens"));
        assert!(is_response_format_refusal(&error_body_message(
            r#"{"error":{"message":"Unknown field response_format"}}"#
        )));
        assert_eq!(error_body_message("plain failure"), "plain failure");
    }
}
