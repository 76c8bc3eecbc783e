//! The stdio transport in front of tower-lsp-server's `Server`: a validating framing layer.
//!
//! tower-lsp-server stops reading its input after the first body it cannot decode, which would
//! end the server (and its runs) on one bad message. So every frame read from stdin is checked
//! here first: a body that is not UTF-8, not JSON, nested too deep, or not a JSON-RPC 2.0 message
//! (batch arrays, `"jsonrpc":"1.0"`, an integer `method`, an object `id`, ...) is answered here
//! with -32700 / -32600 and never reaches the server; well-formed frames are forwarded
//! unchanged. Both the server's output and these replies go to stdout through one writer task,
//! a whole frame at a time, so they never interleave.
//!
//! Only a framing error that cannot be recovered (no `Content-Length`, a header line that is not
//! a header) ends the input; the caller then leaves runs `interrupted`. This module does not know
//! any planning method.

use std::io;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc;

/// The longest header line accepted.
const MAX_HEADER_LINE_BYTES: u64 = 8 * 1024;
/// The largest body forwarded; a larger one is skipped and refused (-32600).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The deepest nesting of arrays and objects accepted; LSP messages need a handful of levels.
pub const MAX_NESTING: usize = 64;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// One frame read from a stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// Announced more than [`MAX_BODY_BYTES`]; the body was read and dropped.
    TooLarge(usize),
}

/// Why the input stream cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error("cannot read the input: {0}")]
    Io(#[from] io::Error),
    #[error("bad header: {0}")]
    BadHeader(String),
    #[error("a message without Content-Length")]
    MissingContentLength,
}

/// How the input side ended.
#[derive(Debug)]
pub enum InputEnd {
    /// End of input.
    Eof,
    /// The server stopped reading (after `exit`).
    ServerGone,
    /// An unrecoverable framing error.
    Framing(FramingError),
}

/// Reads the next frame; `Ok(None)` at a clean end of input (between frames).
pub async fn read_frame<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Option<Frame>, FramingError> {
    let mut content_length = None;
    let mut first_line = true;
    loop {
        let mut line = Vec::new();
        let read = (&mut *reader).take(MAX_HEADER_LINE_BYTES).read_until(b'\n', &mut line).await?;
        if read == 0 {
            return if first_line { Ok(None) } else { Err(FramingError::BadHeader("end of input in headers".into())) };
        }
        if line.last() != Some(&b'\n') {
            return Err(FramingError::BadHeader("header line too long or unterminated".into()));
        }
        first_line = false;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(FramingError::BadHeader(format!("not a header: {}", prefix(text, 40))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let length = value.trim().parse::<usize>().map_err(|_| {
                FramingError::BadHeader(format!("Content-Length is not a number: {}", prefix(value.trim(), 40)))
            })?;
            content_length = Some(length);
        }
    }
    let length = content_length.ok_or(FramingError::MissingContentLength)?;
    if length > MAX_BODY_BYTES {
        let skipped = tokio::io::copy(&mut (&mut *reader).take(length as u64), &mut tokio::io::sink()).await?;
        if skipped < length as u64 {
            return Err(FramingError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        return Ok(Some(Frame::TooLarge(length)));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Frame::Body(body)))
}

/// What tower-lsp-server decodes: a response or a request/notification.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code, reason = "only whether it decodes matters")]
enum Incoming {
    Response(jsonrpc::Response),
    Request(jsonrpc::Request),
}

/// Checks one body: `None` when it may go to the server, else the error reply to send back.
/// A reply carries the request's id whenever the id can be read, whatever else is wrong (a lone
/// surrogate escape, a byte that is not UTF-8, a body cut short or nested too deep after the id):
/// a client waits for the reply to its id.
pub fn check_body(body: &[u8]) -> Option<Value> {
    let Ok(text) = std::str::from_utf8(body) else {
        let message = "parse error: the message is not valid utf-8";
        return Some(error_reply(readable_id(body), PARSE_ERROR, message));
    };
    if text.trim().is_empty() {
        return Some(error_reply(Value::Null, PARSE_ERROR, "parse error: the message is empty"));
    }
    if nesting_depth(text) > MAX_NESTING {
        let message = format!("parse error: the message is nested deeper than {MAX_NESTING} levels");
        return Some(error_reply(readable_id(body), PARSE_ERROR, &message));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return Some(error_reply(readable_id(body), PARSE_ERROR, &format!("parse error: {error}")));
        }
    };
    if value.is_array() {
        return Some(error_reply(Value::Null, INVALID_REQUEST, "invalid request: batches are not supported"));
    }
    if serde_json::from_str::<Incoming>(text).is_ok() {
        return None;
    }
    Some(error_reply(reply_id(&value), INVALID_REQUEST, &invalid_request_reason(&value)))
}

/// The id to answer with: the request's own when it is a number or a string, else null.
fn reply_id(value: &Value) -> Value {
    match value.get("id") {
        Some(id) => usable_id(id),
        None => Value::Null,
    }
}

/// Longest string id answered with (a longer one is answered with `null`).
const MAX_ID_BYTES: usize = 256;

fn usable_id(id: &Value) -> Value {
    match id {
        Value::Number(_) => id.clone(),
        Value::String(text) if text.len() <= MAX_ID_BYTES => id.clone(),
        _ => Value::Null,
    }
}

/// The id of a body that does not parse as a whole: the top-level members are walked one by one,
/// each value skipped by its brackets and quotes without being decoded, and the `"id"` member's
/// value alone is parsed. Stops at the first thing that is not JSON syntax; `null` when no usable
/// id came before it. Iterative, so a deep body costs no stack.
pub fn readable_id(body: &[u8]) -> Value {
    let mut scanner = Scanner { body, at: 0 };
    let mut found = Value::Null;
    if !scanner.eat(b'{') {
        return found;
    }
    loop {
        if scanner.eat(b'}') {
            return found;
        }
        let Some(key) = scanner.string() else { return found };
        if !scanner.eat(b':') {
            return found;
        }
        scanner.skip_whitespace();
        let value_start = scanner.at;
        if !scanner.skip_value() {
            return found;
        }
        if is_id_key(key) {
            found = serde_json::from_slice::<Value>(&body[value_start..scanner.at])
                .map_or(Value::Null, |id| usable_id(&id));
        }
        if !scanner.eat(b',') {
            return found;
        }
    }
}

/// `"id"`, also when written with escapes (`"\u0069d"`).
fn is_id_key(quoted: &[u8]) -> bool {
    quoted == b"\"id\"" || serde_json::from_slice::<String>(quoted).is_ok_and(|key| key == "id")
}

/// A cursor over a JSON body that only finds where things end.
struct Scanner<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn skip_whitespace(&mut self) {
        while self.body.get(self.at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skips whitespace and `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.body.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    /// The next string with its quotes, as written.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.skip_whitespace();
        let start = self.at;
        (self.body.get(self.at) == Some(&b'"')).then_some(())?;
        self.at += 1;
        while let Some(byte) = self.body.get(self.at) {
            self.at += 1;
            match byte {
                b'\\' => self.at += 1,
                b'"' => return Some(&self.body[start..self.at]),
                _ => {}
            }
        }
        None
    }

    /// Skips one value (a string, a bracketed value, or a scalar); false when the body ends first.
    fn skip_value(&mut self) -> bool {
        match self.body.get(self.at) {
            None => false,
            Some(b'"') => self.string().is_some(),
            Some(b'{' | b'[') => {
                let mut depth = 0_usize;
                while let Some(byte) = self.body.get(self.at) {
                    match byte {
                        b'"' => {
                            if self.string().is_none() {
                                return false;
                            }
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
                false
            }
            Some(_) => {
                let start = self.at;
                while self
                    .body
                    .get(self.at)
                    .is_some_and(|byte| !matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                {
                    self.at += 1;
                }
                self.at > start
            }
        }
    }
}

fn invalid_request_reason(value: &Value) -> String {
    let Some(object) = value.as_object() else {
        return "invalid request: expected a JSON object".to_owned();
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return "invalid request: jsonrpc must be \"2.0\"".to_owned();
    }
    match object.get("id") {
        Some(Value::Number(_) | Value::String(_) | Value::Null) | None => {}
        Some(_) => return "invalid request: id must be a number, a string or null".to_owned(),
    }
    match object.get("method") {
        Some(Value::String(_)) => "invalid request: malformed params".to_owned(),
        Some(_) => "invalid request: method must be a string".to_owned(),
        None => "invalid request: neither a request nor a response".to_owned(),
    }
}

fn error_reply(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// The deepest nesting of `[`/`{` outside strings (a scan, so a deep body is never parsed).
pub fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0_usize, 0_usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn prefix(text: &str, limit: usize) -> &str {
    let mut end = text.len().min(limit);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Writes one frame (header and body) and flushes.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, body: &[u8]) -> io::Result<()> {
    // One write per frame: stdout writes each go through a blocking thread.
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    writer.write_all(&frame).await?;
    writer.flush().await
}

/// What the writer task puts on stdout, in the order it arrives.
#[derive(Debug)]
pub enum Outgoing {
    /// A whole message body (from the server or an error reply from here).
    Body(Vec<u8>),
    /// The server's output has ended: write what is queued, then stop.
    ServerEnded,
}

/// Reads frames from `input`, forwards the well-formed ones to `server` and queues an error
/// reply on `out` for every other one. Returns how the input ended (dropping `server` ends it).
pub async fn pump_input<R, W>(input: R, mut server: W, out: mpsc::Sender<Outgoing>) -> InputEnd
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    loop {
        let body = match read_frame(&mut reader).await {
            Ok(None) => return InputEnd::Eof,
            Err(error) => return InputEnd::Framing(error),
            Ok(Some(Frame::TooLarge(length))) => {
                tracing::warn!(length, "refused a message larger than {MAX_BODY_BYTES} bytes");
                let message = format!("invalid request: the message is larger than {MAX_BODY_BYTES} bytes");
                let _ = out
                    .send(Outgoing::Body(error_reply(Value::Null, INVALID_REQUEST, &message).to_string().into_bytes()))
                    .await;
                continue;
            }
            Ok(Some(Frame::Body(body))) => body,
        };
        if let Some(reply) = check_body(&body) {
            tracing::warn!(reply = %reply["error"]["message"], "refused a malformed message");
            let _ = out.send(Outgoing::Body(reply.to_string().into_bytes())).await;
            continue;
        }
        if write_frame(&mut server, &body).await.is_err() {
            return InputEnd::ServerGone;
        }
    }
}

/// Queues every frame the server writes on `out`, then [`Outgoing::ServerEnded`].
pub async fn pump_server_output<R: AsyncRead + Unpin>(server_output: R, out: mpsc::Sender<Outgoing>) {
    let mut reader = BufReader::with_capacity(64 * 1024, server_output);
    loop {
        match read_frame(&mut reader).await {
            Ok(Some(Frame::Body(body))) => {
                if out.send(Outgoing::Body(body)).await.is_err() {
                    return;
                }
            }
            Ok(Some(Frame::TooLarge(_))) => tracing::error!("the server wrote an oversized message; dropped"),
            Ok(None) | Err(_) => break,
        }
    }
    let _ = out.send(Outgoing::ServerEnded).await;
}

/// Writes each queued body as one frame until the server's output has ended, then what is left.
pub async fn write_output<W: AsyncWrite + Unpin>(mut output: W, mut queue: mpsc::Receiver<Outgoing>) {
    let mut write = async |body: Vec<u8>| {
        if let Err(error) = write_frame(&mut output, &body).await {
            tracing::warn!(%error, "cannot write to the client");
        }
    };
    while let Some(outgoing) = queue.recv().await {
        match outgoing {
            Outgoing::Body(body) => write(body).await,
            Outgoing::ServerEnded => break,
        }
    }
    while let Ok(Outgoing::Body(body)) = queue.try_recv() {
        write(body).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(body: &str) -> Option<i64> {
        check_body(body.as_bytes()).map(|reply| reply["error"]["code"].as_i64().unwrap())
    }

    #[test]
    fn well_formed_messages_pass_and_malformed_ones_get_their_code() {
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":1,"method":"planning/list","params":{}}"#), None);
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#), None);
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":3,"result":null}"#), None);
        assert_eq!(code_of("{bad json"), Some(PARSE_ERROR));
        assert_eq!(check_body(b"{\"a\":\"\xff\"}").unwrap()["error"]["code"], PARSE_ERROR);
        assert_eq!(code_of(&format!("{}{}", "[".repeat(127), "]".repeat(127))), Some(PARSE_ERROR));
        assert_eq!(code_of(r#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#), Some(INVALID_REQUEST));
        assert_eq!(code_of(r#"{"jsonrpc":"1.0","id":1,"method":"x"}"#), Some(INVALID_REQUEST));
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":1,"method":7}"#), Some(INVALID_REQUEST));
        assert_eq!(code_of(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#), Some(INVALID_REQUEST));
        assert_eq!(code_of("  "), Some(PARSE_ERROR));
    }

    #[test]
    fn the_reply_keeps_a_usable_id_only() {
        let reply = check_body(br#"{"jsonrpc":"1.0","id":9,"method":"x"}"#).unwrap();
        assert_eq!(reply["id"], 9);
        assert_eq!(reply["error"]["message"], "invalid request: jsonrpc must be \"2.0\"");
        let reply = check_body(br#"{"jsonrpc":"2.0","id":{"a":1},"method":"x"}"#).unwrap();
        assert_eq!(reply["id"], Value::Null);
    }

    #[test]
    fn a_readable_id_gets_its_reply_whatever_else_is_wrong() {
        let cases: [(&[u8], Value); 9] = [
            (br#"{"jsonrpc":"2.0","id":7,"method":"planning/get","params":{"planId":"\ud800"}}"#, json!(7)),
            (br#"{"params":{"a":["\udc00",{"b":"]}"}]},"id":"req-8","method":"x"}"#, json!("req-8")),
            (b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"\xff\xfe\"}", json!(9)),
            (br#"{"jsonrpc":"2.0","id":10,"method":"planning/get","params":{"#, json!(10)),
            (br#"{"\u0069d": 11, "method": "\ud800"}"#, json!(11)),
            (br#"{"id":"\ud800","method":"x","params":{"a":"\ud800"}}"#, Value::Null),
            (br#"{"method":"x","params":{"a":"\ud800"}}"#, Value::Null),
            (br#"{bad, "id": 12}"#, Value::Null),
            (br#"[{"id": 13}"#, Value::Null),
        ];
        for (body, id) in cases {
            let reply = check_body(body).expect("refused");
            assert_eq!(reply["id"], id, "{}", String::from_utf8_lossy(body));
            assert_eq!(reply["error"]["code"], PARSE_ERROR);
        }
        let deep = format!(r#"{{"id":14,"params":{}{}}}"#, "[".repeat(200), "]".repeat(200));
        assert_eq!(check_body(deep.as_bytes()).unwrap()["id"], 14);
        let long_id = format!(r#"{{"id":"{}","params":"\ud800"}}"#, "i".repeat(MAX_ID_BYTES + 1));
        assert_eq!(check_body(long_id.as_bytes()).unwrap()["id"], Value::Null);
    }

    #[test]
    fn nesting_ignores_brackets_inside_strings() {
        assert_eq!(nesting_depth(r#"{"a":"[[[[\"{{"}"#), 1);
        assert_eq!(nesting_depth(r#"[[1],[[2]]]"#), 3);
    }

    #[tokio::test]
    async fn frames_are_read_one_by_one_and_garbage_headers_are_fatal() {
        let input = b"Content-Length: 2\r\n\r\n{}content-length:3\n\n[1]".to_vec();
        let mut reader = BufReader::new(&input[..]);
        assert_eq!(read_frame(&mut reader).await.unwrap(), Some(Frame::Body(b"{}".to_vec())));
        assert_eq!(read_frame(&mut reader).await.unwrap(), Some(Frame::Body(b"[1]".to_vec())));
        assert_eq!(read_frame(&mut reader).await.unwrap(), None);
        let mut garbage = BufReader::new(&b"hello\r\n\r\n"[..]);
        assert!(matches!(read_frame(&mut garbage).await, Err(FramingError::BadHeader(_))));
        let mut no_length = BufReader::new(&b"Content-Type: x\r\n\r\n{}"[..]);
        assert!(matches!(read_frame(&mut no_length).await, Err(FramingError::MissingContentLength)));
    }
}
