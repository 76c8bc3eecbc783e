//! Language models: the one seam every caller uses ([`ChatModel`]), its wire-neutral message
//! types, and the closed error enum. Token usage is the domain's (`crate::model::Usage`), re-exported
//! here because every reply reports it.
//!
//! This module says *what* a chat model does; the OpenAI-compatible client (and any later wire
//! format, such as Anthropic Messages or Ollama's native API) implements it. Callers — the LLM
//! classifier, the LLM planner and the agents — only ever hold an `Arc<dyn ChatModel>`, so a new
//! provider never touches them. Nothing here reads the API key: a provider gets it from the
//! environment variable named by `llm.apiKeyEnv`, and it never reaches a log, the database or
//! an error message.

pub mod classify;
pub mod json;
pub mod openai;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::LlmSettings;
pub use crate::model::Usage;

/// The chat model the settings configure: the OpenAI-compatible client for `llm.baseUrl`, with
/// the key from the variable named by `llm.apiKeyEnv`. `None` when no base URL is set, or when it
/// is unusable (logged, without any secret).
pub fn from_settings(settings: &LlmSettings) -> Option<Arc<dyn ChatModel>> {
    let config = openai::OpenAiConfig::from_settings(settings)?;
    match openai::OpenAiCompatible::new(config) {
        Ok(model) => Some(Arc::new(model)),
        Err(error) => {
            tracing::warn!(%error, "no language model");
            None
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of one tool call (`tool_call_id` names it).
    Tool,
}

/// A tool call the model asked for. `arguments` is the raw JSON text as the model wrote it
/// (possibly malformed: the caller parses it and reports bad JSON back to the model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// Never empty: a provider generates one when the endpoint sends none.
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Assistant messages only.
    pub tool_calls: Vec<ToolCall>,
    /// Tool messages only: the call this message answers.
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self { role: Role::System, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self { role: Role::User, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }

    pub fn assistant(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Self { role: Role::Assistant, content: content.into(), tool_calls, tool_call_id: None }
    }

    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: Role::Tool,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: Some(tool_call_id.into()),
        }
    }
}

/// A tool offered to the model: a name, what it does, and a JSON schema of its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Structured output: the reply must be a JSON object matching `schema`. A provider whose
/// endpoint refuses `response_format` falls back to putting the schema in the prompt (and
/// remembers that per endpoint); either way the caller parses [`ChatResponse::message`]'s content.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonSchemaFormat {
    pub name: String,
    pub schema: Value,
}

/// One call to a chat model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The model name sent to the endpoint (per role: `llm.roles.*`, else `llm.model`).
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub response_format: Option<JsonSchemaFormat>,
}

impl ChatRequest {
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            tools: Vec::new(),
            temperature: None,
            max_tokens: None,
            response_format: None,
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    ToolCalls,
    /// `max_tokens` or the context window was reached.
    Length,
    Other(String),
}

/// A complete reply: the assistant message (tool-call deltas already assembled) and its usage
/// (`calls == 1`; token counts are 0 when the endpoint sends none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatResponse {
    pub message: ChatMessage,
    pub finish_reason: FinishReason,
    pub usage: Usage,
}

/// A piece of a reply as it streams in. Sent to the caller's sink in order; cheap and never
/// blocking on the caller's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatDelta {
    /// More assistant text.
    Content(String),
    /// More of tool call `index` (its name the first time it is known).
    ToolCall { index: usize, name: Option<String>, arguments: String },
    /// The call failed before any reply reached the sink and is tried again (`retry`, from 1)
    /// after `delay`; `error` says why (never with the key).
    Retrying { retry: u32, delay: std::time::Duration, error: String },
}

/// Where streamed deltas go.
pub type DeltaSink<'a> = &'a (dyn Fn(ChatDelta) + Send + Sync);

/// Why a call failed. Closed: callers decide on the variant, never on message text. Messages
/// never carry the API key or the request body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// Connection refused, DNS, TLS, timeout, or the stream dropped (transient).
    #[error("language model unreachable: {0}")]
    Unreachable(String),
    /// 401 / 403: the key is missing or wrong (never retried).
    #[error("language model refused the credentials: {0}")]
    Authentication(String),
    /// 429 (transient; `retry_after` from the `Retry-After` header when sent).
    #[error("language model rate limited{}", retry_after.map(|delay| format!(", retry after {} s", delay.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx (transient).
    #[error("language model server error {status}: {message}")]
    Server { status: u16, message: String },
    /// The prompt does not fit the model's context (never retried).
    #[error("prompt too long for the model's context: {0}")]
    ContextTooLong(String),
    /// Any other 4xx: the request was refused as malformed (never retried).
    #[error("language model refused the request: {0}")]
    BadRequest(String),
    /// The reply could not be understood (not JSON, no choices, broken stream).
    #[error("malformed reply from the language model: {0}")]
    Malformed(String),
    /// The caller's cancellation token fired; the HTTP request was dropped.
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// Connection errors, 429 and 5xx: worth another try.
    pub fn is_transient(&self) -> bool {
        matches!(self, LlmError::Unreachable(_) | LlmError::RateLimited { .. } | LlmError::Server { .. })
    }

    /// The delay the endpoint asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// A chat model. Implementations retry transient failures themselves (with backoff and jitter)
/// and race every await against `cancel`: when it fires, the HTTP request is dropped (the
/// connection closes, so the endpoint stops generating) and the call returns
/// [`LlmError::Cancelled`].
pub trait ChatModel: Send + Sync {
    /// Sends `request`, streaming deltas to `on_delta`, and returns the assembled reply.
    fn chat<'a>(
        &'a self,
        request: ChatRequest,
        on_delta: DeltaSink<'a>,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>>;

    /// A short, secret-free description of the endpoint for logs and notes (`http://host:port/v1`).
    fn endpoint(&self) -> String;
}
