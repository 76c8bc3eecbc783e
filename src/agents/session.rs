//! One subtask's conversation with the model, for the whole subtask: the turn loop.
//!
//! Each turn: repair the history (every tool call answered once), fit it to the context budget,
//! ask the model (streaming; cancellation drops the request), record usage, run the tool calls
//! in order. It ends deliberately: on `attempt_completion`; on an answer without tools after one
//! nudge; at the tool-call cap; after a call repeated with the same arguments too often; on an
//! error that no retry can fix (authentication). Tool failures are results for the model, not
//! failures of the subtask.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::context::{MODEL_VIEW_BYTES, fit_to_budget, repair_history, truncate_for_model};
use super::prompt::NUDGE;
use super::record;
use super::tools::{ToolEnv, ToolState, ToolStep, kind_of, run_tool, target_of};
use crate::engine::{ActivityPhase, AgentActivity, AgentError, AgentSignal};
use crate::llm::{ChatDelta, ChatMessage, ChatModel, ChatRequest, ChatResponse, LlmError, Role, ToolSpec};

/// How often `thinking` activity is sent at most while a reply streams.
const THINKING_EVERY: Duration = Duration::from_millis(250);
/// The same call (tool and arguments) this many times in a row is refused.
const REPEAT_LIMIT: u32 = 3;
/// Refused repeats before the subtask fails.
const REPEAT_REFUSALS_BEFORE_FAILING: u32 = 2;
/// Rate-limit waits the loop adds on top of the provider's own retries.
const RATE_LIMIT_WAITS: u32 = 3;
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);
/// Bytes of the subtask's result kept at most.
pub const MAX_RESULT_BYTES: usize = 16 * 1024;
/// The answer recorded for a call that never ran.
const NOT_RUN: &str = "not run: the subtask ended before this call";

/// Limits of one conversation.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    pub model: String,
    pub context_tokens: u64,
    pub max_tool_calls: u32,
    pub temperature: Option<f32>,
    pub max_reply_tokens: Option<u32>,
}

/// The conversation and its counters.
pub struct Session<'a> {
    pub model: &'a dyn ChatModel,
    pub limits: &'a SessionLimits,
    pub tools: Vec<ToolSpec>,
    pub env: &'a ToolEnv,
    pub messages: Vec<ChatMessage>,
    state: ToolState,
    tool_calls: u32,
    last_call: Option<(String, String)>,
    repeats: u32,
    repeat_refusals: u32,
}

impl<'a> Session<'a> {
    pub fn new(
        model: &'a dyn ChatModel,
        limits: &'a SessionLimits,
        tools: Vec<ToolSpec>,
        env: &'a ToolEnv,
        messages: Vec<ChatMessage>,
    ) -> Self {
        Self {
            model,
            limits,
            tools,
            env,
            messages,
            state: ToolState::default(),
            tool_calls: 0,
            last_call: None,
            repeats: 0,
            repeat_refusals: 0,
        }
    }

    /// Runs the loop to its end: the subtask's result, or why it failed. Everything it does goes
    /// into the attempt's transcript.
    pub async fn run(mut self) -> Result<String, AgentError> {
        for message in self.messages.iter().filter(|message| message.role == Role::User) {
            record::message(self.env, "user", &message.content);
        }
        let outcome = self.run_turns().await;
        match &outcome {
            Err(AgentError::Cancelled) => record::note(self.env, "cancelled"),
            Err(error) => record::note(self.env, format!("the attempt failed: {error}")),
            Ok(_) => {}
        }
        outcome
    }

    async fn run_turns(&mut self) -> Result<String, AgentError> {
        let mut nudged = false;
        loop {
            let reply = self.ask_model().await?;
            let message = reply.message;
            self.messages.push(message.clone());
            if !message.content.trim().is_empty() {
                record::message(self.env, "assistant", &message.content);
            }
            if message.tool_calls.is_empty() {
                if !nudged {
                    nudged = true;
                    record::note(
                        self.env,
                        "the model answered without calling a tool; it was asked once to finish with attempt_completion",
                    );
                    self.messages.push(ChatMessage::user(NUDGE));
                    continue;
                }
                let answer = message.content.trim();
                if answer.is_empty() {
                    return Err(failed("the model stopped without calling attempt_completion and gave no answer"));
                }
                record::note(self.env, "the model stopped without attempt_completion; its last answer is the result");
                return Ok(bounded_result(self.env.redact(answer.to_owned())));
            }
            if let Some(result) = self.run_calls(&message.tool_calls).await? {
                return Ok(bounded_result(result));
            }
        }
    }

    /// Runs one batch of tool calls, answering each exactly once. `Some` when one completed.
    async fn run_calls(&mut self, calls: &[crate::llm::ToolCall]) -> Result<Option<String>, AgentError> {
        let mut completed = None;
        let mut failure = None;
        for call in calls {
            let (kind, target) = (kind_of(&call.name), target_of(&call.arguments));
            let env = self.env;
            record::tool_call(env, &call.name, kind, target.clone(), &call.arguments);
            let not_run = |text: &str| record::tool_result(env, &call.name, kind, target.clone(), text, "notRun");
            if completed.is_some() || failure.is_some() {
                self.messages.push(ChatMessage::tool(call.id.clone(), NOT_RUN));
                not_run(NOT_RUN);
                continue;
            }
            if call.name != "attempt_completion" {
                self.tool_calls += 1;
                if self.tool_calls > self.limits.max_tool_calls {
                    self.messages.push(ChatMessage::tool(call.id.clone(), NOT_RUN));
                    let limit = self.limits.max_tool_calls;
                    let cap = format!("reached the limit of {limit} tool calls (llm.maxToolCalls)");
                    not_run(&cap);
                    record::note(env, cap.clone());
                    failure = Some(failed(cap));
                    continue;
                }
            }
            if let Some(refusal) = self.repeated(call) {
                not_run(&refusal);
                self.messages.push(ChatMessage::tool(call.id.clone(), refusal));
                if self.repeat_refusals > REPEAT_REFUSALS_BEFORE_FAILING {
                    failure = Some(failed(format!("the model kept repeating the same `{}` call", call.name)));
                }
                continue;
            }
            match run_tool(env, &mut self.state, call).await {
                ToolStep::Result(text) => {
                    let outcome = record::outcome_of(&call.name, &text);
                    record::tool_result(env, &call.name, kind, target, &text, outcome);
                    self.messages.push(ChatMessage::tool(call.id.clone(), truncate_for_model(&text, MODEL_VIEW_BYTES)))
                }
                ToolStep::Complete(result) => {
                    record::tool_result(env, &call.name, kind, target, &result, "ok");
                    self.messages.push(ChatMessage::tool(call.id.clone(), "completed"));
                    completed = Some(result);
                }
                ToolStep::Cancelled => {
                    record::tool_result(env, &call.name, kind, target, "cancelled", "cancelled");
                    return Err(AgentError::Cancelled);
                }
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(completed),
        }
    }

    /// A refusal when `call` repeats the previous call's tool and arguments too often.
    fn repeated(&mut self, call: &crate::llm::ToolCall) -> Option<String> {
        let signature = (call.name.clone(), call.arguments.trim().to_owned());
        if self.last_call.as_ref() == Some(&signature) {
            self.repeats += 1;
        } else {
            self.last_call = Some(signature);
            self.repeats = 1;
        }
        if self.repeats < REPEAT_LIMIT {
            return None;
        }
        self.repeat_refusals += 1;
        Some(format!(
            "error: not run: this is the same `{}` call with the same arguments {} times in a row; the result will not change. Do something else or finish with attempt_completion.",
            call.name, self.repeats
        ))
    }

    /// One model call with the history repaired and inside the budget; rate limits wait.
    async fn ask_model(&mut self) -> Result<ChatResponse, AgentError> {
        let mut waits = 0;
        let mut shrunk = false;
        loop {
            repair_history(&mut self.messages, NOT_RUN);
            let tools_tokens: u64 =
                self.tools.iter().map(|tool| super::context::estimate_tokens(&tool.parameters.to_string()) + 20).sum();
            let reply_reserve = (self.limits.context_tokens / 8).clamp(256, 4096);
            let budget = self.limits.context_tokens.saturating_sub(tools_tokens + reply_reserve);
            let elided = fit_to_budget(&mut self.messages, if shrunk { budget / 2 } else { budget });
            if elided > 0 {
                record::note(
                    self.env,
                    format!(
                        "{elided} earlier messages were cut from what the model sees, to stay inside its context budget"
                    ),
                );
            }
            match self.call_model().await {
                Ok(reply) => return Ok(reply),
                Err(LlmError::Cancelled) => return Err(AgentError::Cancelled),
                Err(error @ (LlmError::Authentication(_) | LlmError::BadRequest(_))) => {
                    return Err(AgentError::Unavailable(self.env.redact(error.to_string())));
                }
                Err(LlmError::ContextTooLong(_)) if !shrunk => {
                    record::note(
                        self.env,
                        "the conversation was too long for the model; it is sent again cut to half the budget",
                    );
                    shrunk = true;
                }
                Err(error @ LlmError::RateLimited { .. }) if waits < RATE_LIMIT_WAITS => {
                    waits += 1;
                    let delay = error.retry_after().unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
                    let waiting = format!("rate limited by the model; waiting {} s", delay.as_secs());
                    record::note(self.env, waiting.clone());
                    self.env.io.output.line(waiting);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.env.io.cancel.cancelled() => return Err(AgentError::Cancelled),
                    }
                }
                Err(error) => return Err(failed(self.env.redact(error.to_string()))),
            }
        }
    }

    async fn call_model(&self) -> Result<ChatResponse, LlmError> {
        let mut request = ChatRequest::new(self.limits.model.clone(), self.messages.clone());
        request.tools = self.tools.clone();
        request.temperature = self.limits.temperature;
        request.max_tokens = self.limits.max_reply_tokens;
        let signals = self.env.io.signals.clone();
        let agent = self.env.agent;
        let meter: Mutex<(Option<Instant>, u64)> = Mutex::new((None, 0));
        let env = self.env;
        let on_delta = move |delta: ChatDelta| {
            let bytes = match &delta {
                ChatDelta::Content(text) => text.len(),
                ChatDelta::ToolCall { arguments, .. } => arguments.len(),
                ChatDelta::Retrying { retry, delay, error } => {
                    let wait = format!("{:.1} s", delay.as_secs_f64());
                    record::note(env, format!("the model call is tried again (retry {retry}, after {wait}): {error}"));
                    return;
                }
            };
            let mut meter = meter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            meter.1 += bytes as u64;
            if meter.0.is_none_or(|last| last.elapsed() >= THINKING_EVERY) {
                meter.0 = Some(Instant::now());
                let tokens = Some(meter.1.div_ceil(4));
                let activity = AgentActivity {
                    agent,
                    phase: ActivityPhase::Thinking,
                    tool: None,
                    kind: None,
                    target: None,
                    tokens,
                };
                signals.send(AgentSignal::Activity(activity));
            }
        };
        let reply = self.model.chat(request, &on_delta, &self.env.io.cancel).await;
        if let Ok(reply) = &reply {
            self.env.io.signals.send(AgentSignal::Usage(reply.usage));
        }
        reply
    }
}

fn failed(message: impl Into<String>) -> AgentError {
    AgentError::Failed { message: message.into(), output: None }
}

fn bounded_result(result: String) -> String {
    truncate_for_model(&result, MAX_RESULT_BYTES)
}
