//! A scripted OpenAI-compatible chat-completions server on 127.0.0.1 — the one fake the project
//! allows, at the network edge. A real HTTP/1.1 server (hyper) on its own thread and runtime, so
//! it serves synchronous end-to-end tests and `#[tokio::test]`s alike.
//!
//! Each test scripts it: a queue of [`Reply`]s, taken one per request (streamed SSE or one JSON
//! completion; text, tool-call deltas, usage, any status with `Retry-After`, malformed JSON, a
//! connection dropped mid-stream, a delay, a stream that hangs until the client goes away). It
//! records every request it got and counts streams the client closed before their end. When the
//! queue is empty it answers the fallback reply, else 500 "no scripted reply left", so a test that
//! calls more than it scripted fails loudly. It is not a model: it never looks at the prompt
//! (except that [`FakeOpenAi::refuse_response_format`] makes it answer 400 to `response_format`).
//!
//! Include it with `#[path = "support/fake_openai.rs"] mod fake_openai;`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

/// How often a waiting stream writes an SSE comment, which is how it notices a closed connection.
const HEARTBEAT: Duration = Duration::from_millis(20);

/// How a streamed reply ends after its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// `data: [DONE]` and a clean end.
    Done,
    /// The connection is cut without an end (the client sees a broken body).
    DropConnection,
    /// Nothing more is sent until the client closes the connection.
    Hang,
    /// The body ends cleanly but without `[DONE]`.
    EndWithoutDone,
}

#[derive(Debug, Clone)]
enum ReplyBody {
    /// One body sent whole with `application/json` (may be deliberately not JSON).
    Whole(String),
    /// SSE `data:` payloads, `gap` apart, then `end`.
    Stream { events: Vec<String>, gap: Duration, end: StreamEnd },
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    delay: Duration,
    gate: Option<Arc<Notify>>,
    body: ReplyBody,
}

impl Reply {
    fn stream_of(events: Vec<Value>) -> Self {
        let events = events.into_iter().map(|event| event.to_string()).collect();
        Self {
            status: 200,
            headers: Vec::new(),
            delay: Duration::ZERO,
            gate: None,
            body: ReplyBody::Stream { events, gap: Duration::ZERO, end: StreamEnd::Done },
        }
    }

    /// A streamed reply of raw chunk objects (see [`chunk_text`], [`chunk_tool_call`], ...).
    pub fn stream(chunks: Vec<Value>) -> Self {
        Self::stream_of(chunks)
    }

    /// Streamed text, one chunk per piece, then `finish_reason: "stop"`.
    pub fn text_pieces(pieces: &[&str]) -> Self {
        let mut chunks: Vec<Value> = pieces.iter().map(|piece| chunk_text(piece)).collect();
        chunks.push(chunk_finish("stop"));
        Self::stream_of(chunks)
    }

    /// Streamed text, cut into pieces of about 16 characters.
    pub fn text(text: &str) -> Self {
        let characters: Vec<char> = text.chars().collect();
        let pieces: Vec<String> = characters.chunks(16).map(|piece| piece.iter().collect()).collect();
        Self::text_pieces(&pieces.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// A JSON value as streamed text (what a structured-output reply looks like).
    pub fn json(value: &Value) -> Self {
        Self::text(&value.to_string())
    }

    /// Streamed tool calls `(name, arguments)`: each call's arguments arrive in two deltas,
    /// the first call has id `call_0`, the others none (the client must generate them).
    pub fn tool_calls(calls: &[(&str, &str)]) -> Self {
        let mut chunks = Vec::new();
        for (index, (name, arguments)) in calls.iter().enumerate() {
            let id = (index == 0).then(|| "call_0".to_owned());
            let middle = arguments.char_indices().nth(arguments.chars().count() / 2).map_or(0, |(at, _)| at);
            chunks.push(chunk_tool_call(index, id.as_deref(), Some(name), &arguments[..middle]));
            chunks.push(chunk_tool_call(index, None, None, &arguments[middle..]));
        }
        chunks.push(chunk_finish("tool_calls"));
        Self::stream_of(chunks)
    }

    /// One whole (non-streamed) completion with `text` as the assistant's content.
    pub fn completion(text: &str) -> Self {
        let body = json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" }],
        });
        Self::whole(200, body.to_string())
    }

    /// An error status with an OpenAI-style `{"error": {"message": ...}}` body.
    pub fn status(status: u16, message: &str) -> Self {
        Self::whole(status, json!({ "error": { "message": message, "type": "fake_error" } }).to_string())
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(retry_after_seconds: &str) -> Self {
        Self::status(429, "rate limited").header("retry-after", retry_after_seconds)
    }

    /// 200 `application/json` whose body is not JSON.
    pub fn malformed() -> Self {
        Self::whole(200, "{\"choices\": [{\"message\": ".to_owned())
    }

    /// A stream whose second event is not JSON.
    pub fn malformed_stream() -> Self {
        let mut reply = Self::stream_of(vec![chunk_text("ok")]);
        if let ReplyBody::Stream { events, .. } = &mut reply.body {
            events.push("{not json".to_owned());
        }
        reply
    }

    /// A body sent whole with any status.
    pub fn whole(status: u16, body: String) -> Self {
        Self { status, headers: Vec::new(), delay: Duration::ZERO, gate: None, body: ReplyBody::Whole(body) }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits until `gate` is notified before answering (a slow model the test releases).
    pub fn held_until(mut self, gate: Arc<Notify>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Streams: waits `gap` between events.
    pub fn with_gap(mut self, gap: Duration) -> Self {
        if let ReplyBody::Stream { gap: stream_gap, .. } = &mut self.body {
            *stream_gap = gap;
        }
        self
    }

    /// Streams: a final chunk with usage (as `stream_options.include_usage` asks); completions: a `usage` field.
    pub fn with_usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Self {
        let usage = json!({ "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens });
        match &mut self.body {
            ReplyBody::Stream { events, .. } => events.push(json!({ "choices": [], "usage": usage }).to_string()),
            ReplyBody::Whole(body) => {
                if let Ok(mut value) = serde_json::from_str::<Value>(body) {
                    value["usage"] = usage;
                    *body = value.to_string();
                }
            }
        }
        self
    }

    /// Streams: sends the first `events` events, then cuts the connection.
    pub fn drop_after(self, events: usize) -> Self {
        self.truncated(events, StreamEnd::DropConnection)
    }

    /// Streams: sends the first `events` events, then sends nothing until the client goes away.
    pub fn hang_after(self, events: usize) -> Self {
        self.truncated(events, StreamEnd::Hang)
    }

    /// Streams: how the stream ends.
    pub fn ending(self, end: StreamEnd) -> Self {
        self.truncated(usize::MAX, end)
    }

    fn truncated(mut self, keep: usize, new_end: StreamEnd) -> Self {
        if let ReplyBody::Stream { events, end, .. } = &mut self.body {
            events.truncate(keep);
            *end = new_end;
        }
        self
    }
}

/// A stream chunk with more assistant text.
pub fn chunk_text(text: &str) -> Value {
    json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": { "content": text } }] })
}

/// A stream chunk with part of tool call `index`.
pub fn chunk_tool_call(index: usize, id: Option<&str>, name: Option<&str>, arguments: &str) -> Value {
    let mut call = json!({ "index": index, "function": { "arguments": arguments } });
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": { "tool_calls": [call] } }] })
}

/// A stream chunk that ends the choice.
pub fn chunk_finish(reason: &str) -> Value {
    json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": {}, "finish_reason": reason }] })
}

/// One request as the server got it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::Null` when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The text of every message, joined (to check what a prompt carried).
    pub fn prompt_text(&self) -> String {
        let messages = self.body["messages"].as_array().cloned().unwrap_or_default();
        messages.iter().filter_map(|message| message["content"].as_str()).collect::<Vec<_>>().join("\n")
    }
}

#[derive(Default)]
struct Record {
    queue: VecDeque<Reply>,
    fallback: Option<Reply>,
    requests: Vec<RecordedRequest>,
    closed_early: usize,
}

struct Shared {
    record: Mutex<Record>,
    changed: Condvar,
    changed_async: Notify,
    refuse_response_format: AtomicBool,
    open_streams: AtomicUsize,
}

impl Shared {
    fn update(&self, change: impl FnOnce(&mut Record)) {
        change(&mut self.record.lock().unwrap());
        self.changed.notify_all();
        self.changed_async.notify_waiters();
    }
}

/// The running server. Dropping it stops it.
pub struct FakeOpenAi {
    /// `http://127.0.0.1:PORT/v1`, what `llm.baseUrl` takes.
    pub base_url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeOpenAi {
    /// Starts a server on a free 127.0.0.1 port, on its own thread.
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            record: Mutex::new(Record::default()),
            changed: Condvar::new(),
            changed_async: Notify::new(),
            refuse_response_format: AtomicBool::new(false),
            open_streams: AtomicUsize::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server_shared = shared.clone();
        std::thread::Builder::new()
            .name("fake-openai".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(serve(listener, server_shared, stopped));
            })
            .unwrap();
        Self { base_url, shared, stop: Some(stop) }
    }

    /// Adds a reply to the end of the queue.
    pub fn push(&self, reply: Reply) -> &Self {
        self.shared.update(|record| record.queue.push_back(reply));
        self
    }

    /// The reply used once the queue is empty (default: 500 "no scripted reply left").
    pub fn set_fallback(&self, reply: Reply) {
        self.shared.update(|record| record.fallback = Some(reply));
    }

    /// Makes every request carrying `response_format` get 400 (without taking a queued reply).
    pub fn refuse_response_format(&self, refuse: bool) {
        self.shared.refuse_response_format.store(refuse, Ordering::SeqCst);
    }

    /// Replies still queued.
    pub fn pending(&self) -> usize {
        self.shared.record.lock().unwrap().queue.len()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.record.lock().unwrap().requests.clone()
    }

    /// Streams the client closed before their end (cancelled calls).
    pub fn closed_early(&self) -> usize {
        self.shared.record.lock().unwrap().closed_early
    }

    /// Blocks until at least `count` requests arrived; panics after `timeout`.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        self.wait_until(timeout, &format!("{count} requests"), |record| record.requests.len() >= count);
        self.requests()
    }

    /// Blocks until at least `count` streams were closed early; panics after `timeout`.
    pub fn wait_closed_early(&self, count: usize, timeout: Duration) {
        self.wait_until(timeout, &format!("{count} connections closed early"), |record| record.closed_early >= count);
    }

    fn wait_until(&self, timeout: Duration, what: &str, done: impl Fn(&Record) -> bool) {
        let deadline = Instant::now() + timeout;
        let mut record = self.shared.record.lock().unwrap();
        while !done(&record) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "fake_openai: timed out waiting for {what}; got {} requests",
                record.requests.len()
            );
            record = self.shared.changed.wait_timeout(record, left).unwrap().0;
        }
    }

    /// Async twin of [`FakeOpenAi::wait_for_requests`], for `#[tokio::test]`s.
    pub async fn requests_arrived(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        self.arrived(timeout, |record| record.requests.len() >= count).await;
        self.requests()
    }

    /// Async twin of [`FakeOpenAi::wait_closed_early`].
    pub async fn streams_closed_early(&self, count: usize, timeout: Duration) {
        self.arrived(timeout, |record| record.closed_early >= count).await;
    }

    async fn arrived(&self, timeout: Duration, done: impl Fn(&Record) -> bool) {
        let wait = async {
            loop {
                let notified = self.shared.changed_async.notified();
                if done(&self.shared.record.lock().unwrap()) {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.expect("fake_openai: timed out waiting");
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small SSE writes must not wait for the client's delayed ACK (Nagle).
                    let _ = stream.set_nodelay(true);
                    stream
                }
                Err(_) => continue,
            },
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

type FakeBody = BoxBody<Bytes, std::io::Error>;

async fn answer(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<FakeBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let refused = shared.refuse_response_format.load(Ordering::SeqCst) && body.get("response_format").is_some();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
            .collect(),
        body,
    };
    let mut reply = None;
    shared.update(|record| {
        record.requests.push(recorded);
        reply = Some(if refused {
            Reply::status(400, "response_format is not supported by this server")
        } else {
            record
                .queue
                .pop_front()
                .or_else(|| record.fallback.clone())
                .unwrap_or_else(|| Reply::status(500, "fake_openai: no scripted reply left"))
        });
    });
    let reply = reply.unwrap();
    if let Some(gate) = &reply.gate {
        gate.notified().await;
    }
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    Ok(respond(shared, reply))
}

fn respond(shared: Arc<Shared>, reply: Reply) -> Response<FakeBody> {
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    let body = match reply.body {
        ReplyBody::Whole(text) => {
            builder = builder.header("content-type", "application/json");
            Full::new(Bytes::from(text)).map_err(|never| match never {}).boxed()
        }
        ReplyBody::Stream { events, gap, end } => {
            builder = builder.header("content-type", "text/event-stream").header("cache-control", "no-cache");
            let (sender, receiver) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
            tokio::spawn(write_stream(shared, sender, events, gap, end));
            let frames = futures::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|frame| (frame, receiver))
            });
            StreamBody::new(frames).boxed()
        }
    };
    builder.body(body).unwrap()
}

type FrameSender = mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>;

/// Writes a stream's events; counts it as closed early when the client goes away first.
async fn write_stream(shared: Arc<Shared>, sender: FrameSender, events: Vec<String>, gap: Duration, end: StreamEnd) {
    shared.open_streams.fetch_add(1, Ordering::SeqCst);
    let finished = write_events(&sender, &events, gap, end).await;
    shared.open_streams.fetch_sub(1, Ordering::SeqCst);
    if !finished {
        shared.update(|record| record.closed_early += 1);
    }
}

/// `false` when the client closed the connection before the end.
async fn write_events(sender: &FrameSender, events: &[String], gap: Duration, end: StreamEnd) -> bool {
    for (position, event) in events.iter().enumerate() {
        if position > 0 && !gap.is_zero() && !wait_open(sender, Some(gap)).await {
            return false;
        }
        if !send(sender, format!("data: {event}\n\n")).await {
            return false;
        }
    }
    match end {
        StreamEnd::Done => send(sender, "data: [DONE]\n\n".to_owned()).await,
        StreamEnd::EndWithoutDone => true,
        StreamEnd::DropConnection => {
            let _ = sender.send(Err(std::io::Error::other("fake_openai: connection dropped"))).await;
            true
        }
        StreamEnd::Hang => wait_open(sender, None).await,
    }
}

async fn send(sender: &FrameSender, text: String) -> bool {
    sender.send(Ok(Frame::data(Bytes::from(text)))).await.is_ok()
}

/// Waits `duration` (or forever), writing SSE comments so a closed connection shows; `false`
/// once the client has gone.
async fn wait_open(sender: &FrameSender, duration: Option<Duration>) -> bool {
    let deadline = duration.map(|duration| tokio::time::Instant::now() + duration);
    loop {
        let step = match deadline {
            Some(deadline) => deadline.saturating_duration_since(tokio::time::Instant::now()).min(HEARTBEAT),
            None => HEARTBEAT,
        };
        if step.is_zero() {
            return true;
        }
        tokio::time::sleep(step).await;
        if !send(sender, ": keep-alive\n\n".to_owned()).await {
            return false;
        }
    }
}
