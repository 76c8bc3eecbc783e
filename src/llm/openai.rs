//! The OpenAI-compatible chat-completions client (Ollama, llama.cpp's server, vLLM, LM Studio,
//! OpenAI, OpenRouter, LiteLLM): one [`ChatModel`] over `reqwest` (rustls) with SSE read by
//! `eventsource-stream`.
//!
//! What it does beyond one POST: retries transient failures (connection, 429, 5xx) with
//! exponential backoff and jitter, honouring `Retry-After`; falls back from `response_format`
//! to a schema in the prompt when the endpoint refuses it, and remembers that for the endpoint;
//! races every await against the caller's cancellation token, so cancelling drops the request
//! and closes the connection. It is not a wire-format parser — that is `wire.rs`.
//!
//! The API key is read once from the variable named by `llm.apiKeyEnv`, sent only as a
//! sensitive `Authorization` header, and never reaches a log, an error or `Debug` output.

mod wire;

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use futures::future::BoxFuture;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::config::LlmSettings;
use crate::llm::{ChatModel, ChatRequest, ChatResponse, DeltaSink, LlmError};

use wire::{ReplyAssembler, error_body_message, is_context_length_error, is_response_format_refusal, request_body};
pub use wire::{StructuredMode, schema_prompt};

/// An API key. Its `Debug` says only whether it is set.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The first line of the file at `path` (`llm.apiKeyFile`); `None`, logged without any of its
    /// content, when it cannot be read or is blank. Read as every named file is (`textfile`: a
    /// regular file, at most 16 KiB, never a FIFO).
    pub fn from_file(path: &std::path::Path) -> Option<Self> {
        match crate::textfile::read_text_blocking(path, 16 * 1024) {
            Ok(text) => {
                text.lines().next().map(str::trim).filter(|key| !key.is_empty()).map(|key| Self(key.to_owned()))
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot read llm.apiKeyFile");
                None
            }
        }
    }

    /// The key in the environment variable `name`, when it is set and not blank.
    pub fn from_env(name: &str) -> Option<Self> {
        std::env::var(name).ok().filter(|key| !key.trim().is_empty()).map(|key| Self(key.trim().to_owned()))
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ApiKey(<redacted>)")
    }
}

/// When and how long to wait before another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries after the first one.
    pub max_retries: u32,
    /// The first backoff; doubled each retry, then jittered.
    pub base_delay: Duration,
    /// No backoff is longer; a `Retry-After` longer than this is not waited for (the error is returned).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 3, base_delay: Duration::from_millis(500), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// How long to wait before retry number `retry` (0-based) after `error`, or `None` for "do not".
    fn delay(&self, retry: u32, error: &LlmError) -> Option<Duration> {
        if !error.is_transient() || retry >= self.max_retries {
            return None;
        }
        if let Some(asked) = error.retry_after() {
            // Honour the endpoint's delay, plus up to 10 % so clients do not return in step.
            return (asked <= self.max_delay).then(|| asked + asked.mul_f64(rand::thread_rng().gen_range(0.0..0.1)));
        }
        let exponential = self.base_delay.saturating_mul(1 << retry.min(16)).min(self.max_delay);
        // "Equal jitter": between half and all of the exponential delay.
        Some(exponential.mul_f64(rand::thread_rng().gen_range(0.5..=1.0)))
    }
}

/// Everything the client needs; [`OpenAiConfig::from_settings`] fills it from the settings.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// The API root, such as `http://127.0.0.1:11434/v1`; requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// Bounds connecting, waiting for the reply's headers, and each silence inside a stream.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl OpenAiConfig {
    /// `None` when `llm.baseUrl` is not set.
    pub fn from_settings(settings: &LlmSettings) -> Option<Self> {
        let base_url = settings.base_url.as_deref().map(str::trim).filter(|url| !url.is_empty())?;
        Some(Self {
            base_url: base_url.to_owned(),
            api_key: match &settings.api_key_file {
                Some(path) => ApiKey::from_file(path),
                None => ApiKey::from_env(&settings.api_key_env),
            },
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            retry: RetryPolicy::default(),
        })
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiConfigError {
    #[error("llm.baseUrl is not an http(s) URL: {0}")]
    BadBaseUrl(String),
    #[error("http client: {0}")]
    Client(String),
}

/// One HTTP client per connect timeout for the whole process: building one (TLS roots, a
/// connection pool) costs far more than a request, and its pool keeps connections to the
/// endpoint open across runs and planning calls. `reqwest::Client` is a shared handle.
fn shared_client(connect_timeout: Duration) -> Result<reqwest::Client, OpenAiConfigError> {
    static CLIENTS: std::sync::Mutex<Vec<(Duration, reqwest::Client)>> = std::sync::Mutex::new(Vec::new());
    let mut clients = CLIENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, client)) = clients.iter().find(|(timeout, _)| *timeout == connect_timeout) {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(connect_timeout)
        .build()
        .map_err(|error| OpenAiConfigError::Client(error.to_string()))?;
    clients.push((connect_timeout, client.clone()));
    Ok(client)
}

/// The OpenAI-compatible [`ChatModel`].
#[derive(Debug)]
pub struct OpenAiCompatible {
    client: reqwest::Client,
    completions_url: reqwest::Url,
    endpoint: String,
    api_key: Option<ApiKey>,
    timeout: Duration,
    retry: RetryPolicy,
    /// The best [`StructuredMode`] the endpoint has not refused (its index).
    structured_mode: AtomicU8,
}

impl OpenAiCompatible {
    pub fn new(config: OpenAiConfig) -> Result<Self, OpenAiConfigError> {
        let mut base = reqwest::Url::parse(config.base_url.trim())
            .map_err(|error| OpenAiConfigError::BadBaseUrl(error.to_string()))?;
        base.set_query(None);
        base.set_fragment(None);
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(OpenAiConfigError::BadBaseUrl(format!("scheme {} has no host", base.scheme())));
        }
        let completions_url = reqwest::Url::parse(&format!("{}/chat/completions", base.as_str().trim_end_matches('/')))
            .map_err(|error| OpenAiConfigError::BadBaseUrl(error.to_string()))?;
        let client = shared_client(config.timeout)?;
        Ok(Self {
            client,
            endpoint: secret_free_endpoint(&base),
            completions_url,
            api_key: config.api_key,
            timeout: config.timeout,
            retry: config.retry,
            structured_mode: AtomicU8::new(StructuredMode::ResponseFormat.index()),
        })
    }

    /// How structured output is asked for now: `json_schema` until the endpoint refuses it.
    pub fn structured_mode(&self) -> StructuredMode {
        StructuredMode::from_index(self.structured_mode.load(Ordering::Relaxed))
    }

    async fn chat_with_retries(
        &self,
        request: ChatRequest,
        on_delta: DeltaSink<'_>,
        cancel: &CancellationToken,
    ) -> Result<ChatResponse, LlmError> {
        let mut retry = 0;
        loop {
            let mode = self.structured_mode();
            let mut assembler = ReplyAssembler::default();
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled() => Err(LlmError::Cancelled),
                outcome = self.attempt(&request, mode, &mut assembler, on_delta) => outcome,
            };
            let error = match outcome {
                Ok(()) => return assembler.finish(),
                Err(error) => error,
            };
            // llama-cpp-python answers 500 to a `json_schema` it cannot validate, so any status counts.
            let refused_format = matches!(&error,
                LlmError::BadRequest(message) | LlmError::Server { message, .. } if is_response_format_refusal(message));
            if let (true, Some(_), Some(next)) = (refused_format, &request.response_format, mode.next()) {
                tracing::info!(endpoint = %self.endpoint, ?mode, ?next, "endpoint refuses this structured output; using the next mode from now on");
                let (from, to) = (mode.index(), next.index());
                let _ = self.structured_mode.compare_exchange(from, to, Ordering::Relaxed, Ordering::Relaxed);
                continue;
            }
            // A retry after deltas reached the caller would send them twice.
            let delay = if assembler.delivered { None } else { self.retry.delay(retry, &error) };
            let Some(delay) = delay else { return Err(error) };
            retry += 1;
            tracing::warn!(endpoint = %self.endpoint, %error, retry, delay_ms = delay.as_millis() as u64, "retrying the language model");
            on_delta(super::ChatDelta::Retrying { retry, delay, error: error.to_string() });
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(LlmError::Cancelled),
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One HTTP exchange. Dropping this future drops the request and its connection.
    async fn attempt(
        &self,
        request: &ChatRequest,
        mode: StructuredMode,
        assembler: &mut ReplyAssembler,
        on_delta: DeltaSink<'_>,
    ) -> Result<(), LlmError> {
        let mut builder = self.client.post(self.completions_url.clone()).json(&request_body(request, mode));
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(&key.0); // reqwest marks the header sensitive.
        }
        let response = tokio::time::timeout(self.timeout, builder.send())
            .await
            .map_err(|_| self.silent_for())?
            .map_err(|error| LlmError::Unreachable(describe_transport_error(&error)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.status_error(response).await);
        }
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|content_type| content_type.contains("text/event-stream"));
        if !is_stream {
            let body = tokio::time::timeout(self.timeout, response.text())
                .await
                .map_err(|_| self.silent_for())?
                .map_err(|error| LlmError::Unreachable(describe_transport_error(&error)))?;
            return assembler.push_completion(&body, on_delta);
        }
        let mut events = response.bytes_stream().eventsource();
        loop {
            let next = tokio::time::timeout(self.timeout, events.next()).await.map_err(|_| self.silent_for())?;
            match next {
                None => return Ok(()),
                Some(Err(error)) => return Err(LlmError::Unreachable(format!("the reply stream broke: {error}"))),
                Some(Ok(event)) => {
                    let data = event.data.trim();
                    if data == "[DONE]" {
                        return Ok(());
                    }
                    if !data.is_empty() {
                        assembler.push_chunk(data, on_delta)?;
                    }
                }
            }
        }
    }

    fn silent_for(&self) -> LlmError {
        LlmError::Unreachable(format!("no answer from {} within {} s", self.endpoint, self.timeout.as_secs()))
    }

    async fn status_error(&self, response: reqwest::Response) -> LlmError {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(|seconds| Duration::from_secs_f64(seconds.min(86_400.0)));
        let body =
            tokio::time::timeout(self.timeout, response.text()).await.ok().and_then(Result::ok).unwrap_or_default();
        let message = error_body_message(&body);
        match status {
            401 | 403 => LlmError::Authentication(format!("status {status}: {message}")),
            429 => LlmError::RateLimited { retry_after },
            413 => LlmError::ContextTooLong(message),
            400..=499 if is_context_length_error(&message) => LlmError::ContextTooLong(message),
            400..=499 => LlmError::BadRequest(format!("status {status}: {message}")),
            500..=599 => LlmError::Server { status, message },
            _ => LlmError::Malformed(format!("unexpected status {status}")),
        }
    }
}

impl ChatModel for OpenAiCompatible {
    fn chat<'a>(
        &'a self,
        request: ChatRequest,
        on_delta: DeltaSink<'a>,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(self.chat_with_retries(request, on_delta, cancel))
    }

    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
}

/// `scheme://host:port/path` with no user info and no query (either may hold a secret).
fn secret_free_endpoint(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("?");
    let port = url.port().map(|port| format!(":{port}")).unwrap_or_default();
    format!("{}://{host}{port}{}", url.scheme(), url.path().trim_end_matches('/'))
}

/// A transport error without its URL's query (reqwest prints the URL it failed on).
fn describe_transport_error(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the reply broke off"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_stops_on_permanent_errors() {
        let policy =
            RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        let unreachable = LlmError::Unreachable("x".into());
        let first = policy.delay(0, &unreachable).unwrap();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let third = policy.delay(2, &unreachable).unwrap();
        assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
        assert_eq!(policy.delay(3, &unreachable), None);
        assert_eq!(policy.delay(0, &LlmError::Authentication("no".into())), None);
        assert_eq!(policy.delay(0, &LlmError::ContextTooLong("long".into())), None);
        let asked = LlmError::RateLimited { retry_after: Some(Duration::from_millis(300)) };
        assert!(policy.delay(0, &asked).unwrap() >= Duration::from_millis(300));
        let too_long = LlmError::RateLimited { retry_after: Some(Duration::from_secs(60)) };
        assert_eq!(policy.delay(0, &too_long), None);
    }

    #[test]
    fn endpoint_and_key_never_show_secrets() {
        let config = OpenAiConfig {
            base_url: "http://user:pw@127.0.0.1:9/v1/?key=s3cret".into(),
            api_key: Some(ApiKey::new("sk-secret")),
            timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
        };
        let model = OpenAiCompatible::new(config).unwrap();
        assert_eq!(model.endpoint(), "http://127.0.0.1:9/v1");
        assert!(!format!("{model:?}").contains("sk-secret"));
        let bad = OpenAiConfig {
            base_url: "ftp://x".into(),
            ..OpenAiConfig::from_settings(&with_url("http://a/v1")).unwrap()
        };
        assert!(OpenAiCompatible::new(bad).unwrap_err().to_string().contains("llm.baseUrl"));
    }

    fn with_url(url: &str) -> LlmSettings {
        LlmSettings { base_url: Some(url.into()), ..LlmSettings::default() }
    }
}
