//! The OpenAI-compatible provider against the scripted server on 127.0.0.1: streaming, tool-call
//! assembly, usage, structured output and its fallback, typed errors, which errors are retried,
//! timeouts, and cancellation closing the connection.

#[path = "support/fake_openai.rs"]
mod fake_openai;

use std::sync::Mutex;
use std::time::Duration;

use codelab_planner::config::LlmSettings;
use codelab_planner::llm::openai::{ApiKey, OpenAiCompatible, OpenAiConfig, RetryPolicy, StructuredMode};
use codelab_planner::llm::{
    ChatDelta, ChatMessage, ChatModel, ChatRequest, ChatResponse, FinishReason, JsonSchemaFormat, LlmError, Usage,
};
use fake_openai::{FakeOpenAi, Reply, StreamEnd};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(20);

fn config(server: &FakeOpenAi) -> OpenAiConfig {
    OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new("sk-test-secret")),
        timeout: Duration::from_secs(20),
        retry: RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(5), max_delay: Duration::from_secs(2) },
    }
}

fn model(server: &FakeOpenAi) -> OpenAiCompatible {
    OpenAiCompatible::new(config(server)).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::new("test-model", vec![ChatMessage::system("be brief"), ChatMessage::user("hello")])
}

/// Calls the model, returning the result and every delta it streamed.
async fn call(model: &dyn ChatModel, request: ChatRequest) -> (Result<ChatResponse, LlmError>, Vec<ChatDelta>) {
    let deltas = Mutex::new(Vec::new());
    let sink = |delta: ChatDelta| deltas.lock().unwrap().push(delta);
    let cancel = CancellationToken::new();
    let result = model.chat(request, &sink, &cancel).await;
    (result, deltas.into_inner().unwrap())
}

#[tokio::test]
async fn streams_text_and_reads_usage_from_the_stream() {
    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["Hel", "lo"]).with_usage(12, 2));
    let (result, deltas) = call(&model(&server), request()).await;
    let response = result.unwrap();
    assert_eq!(response.message.content, "Hello");
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(response.usage, Usage { prompt_tokens: 12, completion_tokens: 2, calls: 1 });
    assert_eq!(deltas, vec![ChatDelta::Content("Hel".into()), ChatDelta::Content("lo".into())]);

    let sent = &server.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(sent.body["model"], "test-model");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    assert_eq!(sent.body["messages"][1], json!({"role": "user", "content": "hello"}));
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test-secret"));
}

#[tokio::test]
async fn tool_call_deltas_are_assembled_with_generated_ids() {
    let server = FakeOpenAi::start();
    server.push(Reply::tool_calls(&[("read_file", r#"{"path":"src/main.rs"}"#), ("list", "{}")]));
    let (result, deltas) = call(&model(&server), request()).await;
    let response = result.unwrap();
    assert_eq!(response.finish_reason, FinishReason::ToolCalls);
    let calls = &response.message.tool_calls;
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("call_0", "read_file"));
    assert_eq!(calls[0].arguments, r#"{"path":"src/main.rs"}"#);
    assert_eq!((calls[1].name.as_str(), calls[1].arguments.as_str()), ("list", "{}"));
    assert!(!calls[1].id.is_empty() && calls[1].id != calls[0].id);
    assert_eq!(deltas.len(), 4);
    assert_eq!(response.usage.calls, 1);
}

#[tokio::test]
async fn a_whole_completion_is_read_when_the_endpoint_does_not_stream() {
    let server = FakeOpenAi::start();
    server.push(Reply::completion("not streamed").with_usage(3, 4));
    let (result, deltas) = call(&model(&server), request()).await;
    let response = result.unwrap();
    assert_eq!(response.message.content, "not streamed");
    assert_eq!(response.usage, Usage { prompt_tokens: 3, completion_tokens: 4, calls: 1 });
    assert_eq!(deltas, vec![ChatDelta::Content("not streamed".into())]);
}

#[tokio::test]
async fn rate_limit_and_server_errors_are_retried_honouring_retry_after() {
    let server = FakeOpenAi::start();
    server.push(Reply::rate_limited("0.05"));
    server.push(Reply::status(503, "overloaded"));
    server.push(Reply::text("finally"));
    let (result, deltas) = call(&model(&server), request()).await;
    assert_eq!(result.unwrap().message.content, "finally");
    assert_eq!(server.requests().len(), 3);
    let retries: Vec<(u32, String)> = deltas
        .iter()
        .filter_map(|delta| match delta {
            ChatDelta::Retrying { retry, error, .. } => Some((*retry, error.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries,
        [
            (1, "language model rate limited, retry after 0 s".to_owned()),
            (2, "language model server error 503: overloaded".to_owned())
        ],
        "each retry is told to the caller"
    );
}

#[tokio::test]
async fn retries_stop_after_the_policy_and_return_the_last_error() {
    let server = FakeOpenAi::start();
    for _ in 0..3 {
        server.push(Reply::status(500, "boom"));
    }
    let (result, _) = call(&model(&server), request()).await;
    assert_eq!(result.unwrap_err(), LlmError::Server { status: 500, message: "boom".into() });
    assert_eq!(server.requests().len(), 3, "one try and max_retries = 2 retries");
}

#[tokio::test]
async fn a_rate_limit_asking_for_longer_than_max_delay_is_returned_not_waited() {
    let server = FakeOpenAi::start();
    server.push(Reply::rate_limited("120"));
    let (result, _) = call(&model(&server), request()).await;
    assert_eq!(result.unwrap_err(), LlmError::RateLimited { retry_after: Some(Duration::from_secs(120)) });
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn permanent_errors_are_typed_and_never_retried() {
    let cases = [
        (Reply::status(401, "invalid api key"), "authentication"),
        (Reply::status(400, "This model's maximum context length is 2048 tokens"), "context"),
        (Reply::status(400, "messages: field required"), "bad request"),
        (Reply::malformed(), "malformed"),
        (Reply::malformed_stream(), "malformed"),
    ];
    for (reply, expected) in cases {
        let server = FakeOpenAi::start();
        server.push(reply);
        server.push(Reply::text("must not be reached"));
        let (result, _) = call(&model(&server), request()).await;
        let error = result.unwrap_err();
        let kind = match &error {
            LlmError::Authentication(_) => "authentication",
            LlmError::ContextTooLong(_) => "context",
            LlmError::BadRequest(_) => "bad request",
            LlmError::Malformed(_) => "malformed",
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(kind, expected, "{error}");
        assert!(!error.to_string().contains("sk-test-secret"));
        assert_eq!(server.requests().len(), 1, "{expected} must not be retried");
    }
}

#[tokio::test]
async fn a_connection_dropped_before_any_delta_is_retried_but_not_after() {
    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["lost"]).drop_after(0));
    server.push(Reply::text("second try"));
    let (result, _) = call(&model(&server), request()).await;
    assert_eq!(result.unwrap().message.content, "second try");

    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["half", "way"]).drop_after(1));
    server.push(Reply::text("must not be reached"));
    let (result, deltas) = call(&model(&server), request()).await;
    assert!(matches!(result, Err(LlmError::Unreachable(_))), "{result:?}");
    assert_eq!(deltas, vec![ChatDelta::Content("half".into())]);
    assert_eq!(server.requests().len(), 1, "streamed deltas must not be sent twice");
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_still_a_reply() {
    let server = FakeOpenAi::start();
    server.push(Reply::text("no done marker").ending(StreamEnd::EndWithoutDone));
    let (result, _) = call(&model(&server), request()).await;
    assert_eq!(result.unwrap().message.content, "no done marker");
}

fn structured_request() -> ChatRequest {
    let mut request = request();
    let schema = json!({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]});
    request.response_format = Some(JsonSchemaFormat { name: "answer".into(), schema });
    request
}

#[tokio::test]
async fn structured_output_uses_response_format_when_the_endpoint_takes_it() {
    let server = FakeOpenAi::start();
    server.push(Reply::json(&json!({"answer": "yes"})));
    let model = model(&server);
    let (result, _) = call(&model, structured_request()).await;
    assert_eq!(result.unwrap().message.content, r#"{"answer":"yes"}"#);
    let sent = &server.requests()[0];
    assert_eq!(sent.body["response_format"]["type"], "json_schema");
    assert_eq!(sent.body["response_format"]["json_schema"]["name"], "answer");
    assert_eq!(model.structured_mode(), StructuredMode::ResponseFormat);
}

#[tokio::test]
async fn a_refused_response_format_falls_back_to_the_prompt_and_is_remembered() {
    let server = FakeOpenAi::start();
    server.refuse_response_format(true);
    server.push(Reply::json(&json!({"answer": "one"})));
    server.push(Reply::json(&json!({"answer": "two"})));
    let model = model(&server);
    let (first, _) = call(&model, structured_request()).await;
    assert_eq!(first.unwrap().message.content, r#"{"answer":"one"}"#);
    let (second, _) = call(&model, structured_request()).await;
    assert_eq!(second.unwrap().message.content, r#"{"answer":"two"}"#);

    let requests = server.requests();
    assert_eq!(requests.len(), 4, "json_schema and json_object refused once each, then two calls without");
    assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
    assert_eq!(requests[1].body["response_format"]["type"], "json_object");
    for retried in &requests[2..] {
        assert!(retried.body.get("response_format").is_none());
        assert!(retried.prompt_text().contains("\"answer\""), "the schema goes into the prompt");
    }
    assert_eq!(model.structured_mode(), StructuredMode::Prompt);
}

#[tokio::test]
async fn a_json_schema_refused_with_a_500_falls_back_to_json_object() {
    let server = FakeOpenAi::start();
    server.push(Reply::status(500, "Input should be 'text' or 'json_object' (body.response_format.type)"));
    server.push(Reply::json(&json!({"answer": "grammar"})));
    let model = model(&server);
    let (result, _) = call(&model, structured_request()).await;
    assert_eq!(result.unwrap().message.content, r#"{"answer":"grammar"}"#);
    let requests = server.requests();
    assert_eq!(requests[1].body["response_format"]["type"], "json_object");
    assert_eq!(requests[1].body["response_format"]["schema"]["required"], json!(["answer"]));
    assert_eq!(model.structured_mode(), StructuredMode::JsonObject);
}

#[tokio::test]
async fn cancelling_drops_the_request_and_closes_the_connection() {
    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["thinking"]).hang_after(1));
    let model = model(&server);
    let cancel = CancellationToken::new();
    let (first_delta, first_delta_seen) = tokio::sync::oneshot::channel();
    let first_delta = Mutex::new(Some(first_delta));
    let sink = |_delta: ChatDelta| {
        if let Some(sender) = first_delta.lock().unwrap().take() {
            let _ = sender.send(());
        }
    };
    let chat = model.chat(request(), &sink, &cancel);
    let canceller = async {
        first_delta_seen.await.unwrap();
        cancel.cancel();
    };
    let (result, ()) = tokio::join!(chat, canceller);
    assert_eq!(result.unwrap_err(), LlmError::Cancelled);
    server.streams_closed_early(1, WAIT).await;
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_silent_endpoint_times_out_as_unreachable() {
    let server = FakeOpenAi::start();
    server.push(Reply::text_pieces(&["a"]).hang_after(0));
    let mut config = config(&server);
    config.timeout = Duration::from_secs(1);
    config.retry.max_retries = 0;
    let (result, _) = call(&OpenAiCompatible::new(config).unwrap(), request()).await;
    assert!(matches!(&result, Err(LlmError::Unreachable(message)) if message.contains("within 1 s")), "{result:?}");
}

#[tokio::test]
async fn an_endpoint_nobody_listens_on_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = config(&FakeOpenAi::start());
    config.base_url = format!("http://127.0.0.1:{port}/v1");
    config.retry.max_retries = 1;
    let (result, _) = call(&OpenAiCompatible::new(config).unwrap(), request()).await;
    assert!(matches!(&result, Err(LlmError::Unreachable(message)) if !message.contains("sk-test")), "{result:?}");
}

#[tokio::test]
async fn from_settings_builds_a_model_only_for_a_base_url() {
    assert!(codelab_planner::llm::from_settings(&LlmSettings::default()).is_none());
    let server = FakeOpenAi::start();
    server.push(Reply::text("configured"));
    let settings = LlmSettings {
        base_url: Some(server.base_url.clone()),
        api_key_env: "CODELAB_PLANNER_TEST_UNSET_KEY".into(),
        ..LlmSettings::default()
    };
    let model = codelab_planner::llm::from_settings(&settings).unwrap();
    assert_eq!(model.endpoint(), server.base_url);
    let (result, _) = call(model.as_ref(), request()).await;
    assert_eq!(result.unwrap().message.content, "configured");
    assert_eq!(server.requests()[0].header("authorization"), None, "no key in the environment, no header");
}

#[tokio::test]
async fn a_key_file_gives_the_key_without_the_environment_and_wins_over_the_variable() {
    let directory = tempfile::tempdir().unwrap();
    let key_file = directory.path().join("llm-key");
    std::fs::write(&key_file, "sk-from-a-file\n# the first line only\n").unwrap();
    let server = FakeOpenAi::start();
    server.push(Reply::text("configured"));
    server.push(Reply::text("again"));
    let settings = LlmSettings {
        base_url: Some(server.base_url.clone()),
        api_key_env: "PATH".into(), // set, but the file wins
        api_key_file: Some(key_file.clone()),
        ..LlmSettings::default()
    };
    let model = codelab_planner::llm::from_settings(&settings).unwrap();
    let (result, _) = call(model.as_ref(), request()).await;
    assert_eq!(result.unwrap().message.content, "configured");
    assert_eq!(server.requests()[0].header("authorization"), Some("Bearer sk-from-a-file"));

    std::fs::remove_file(&key_file).unwrap();
    let without = codelab_planner::llm::from_settings(&settings).unwrap();
    let (result, _) = call(without.as_ref(), request()).await;
    assert_eq!(result.unwrap().message.content, "again");
    assert_eq!(server.requests()[1].header("authorization"), None, "an unreadable file gives no key");
}
