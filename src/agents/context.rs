//! Keeping an agent's conversation inside `llm.contextTokens`, as pure functions over messages.
//!
//! - [`truncate_for_model`]: one tool result cut to head and tail with "[… N lines omitted …]".
//! - [`fit_to_budget`]: when the conversation is over budget, the oldest tool results are elided
//!   first (their message stays, so every `tool_call_id` is still answered exactly once), then the
//!   oldest assistant texts; the system prompt and the task message are never touched.
//! - [`repair_history`]: before each request, every tool call gets exactly one answer
//!   (a synthesised "cancelled" one where it has none; extras are dropped).
//!
//! Token counts are estimates (about four bytes per token): no tokenizer is loaded.

use std::collections::HashSet;

use crate::llm::{ChatMessage, Role};

/// Bytes of one tool result the model sees at most.
pub const MODEL_VIEW_BYTES: usize = 10 * 1024;
/// Replaces an elided tool result.
pub const ELIDED_NOTE: &str = "[elided to stay inside the context budget; call the tool again if you need it]";

/// Estimated tokens of a text: bytes / 4, rounded up, plus a small per-message overhead.
pub fn estimate_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

pub fn conversation_tokens(messages: &[ChatMessage]) -> u64 {
    messages
        .iter()
        .map(|message| {
            let calls: u64 = message
                .tool_calls
                .iter()
                .map(|call| estimate_tokens(&call.name) + estimate_tokens(&call.arguments))
                .sum();
            4 + estimate_tokens(&message.content) + calls
        })
        .sum()
}

/// Cuts `text` to at most about `limit` bytes: the head and the tail, whole lines, with a note
/// of what was left out in between.
pub fn truncate_for_model(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    let half = limit / 2;
    let (mut head_bytes, mut head) = (0, 0);
    while head < lines.len() && head_bytes + lines[head].len() < half {
        head_bytes += lines[head].len() + 1;
        head += 1;
    }
    let (mut tail_bytes, mut tail) = (0, 0);
    while tail < lines.len() - head && tail_bytes + lines[lines.len() - 1 - tail].len() < half {
        tail_bytes += lines[lines.len() - 1 - tail].len() + 1;
        tail += 1;
    }
    let omitted = lines.len() - head - tail;
    if omitted == 0 || (head == 0 && tail == 0) {
        return format!("{}\n[… {} bytes omitted …]", cut_at_char(text, limit), text.len().saturating_sub(limit));
    }
    let mut out = lines[..head].join("\n");
    out.push_str(&format!("\n[… {omitted} lines omitted …]\n"));
    out.push_str(&lines[lines.len() - tail..].join("\n"));
    out
}

fn cut_at_char(text: &str, limit: usize) -> &str {
    let mut end = limit.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Elides oldest-first until the conversation fits `budget` tokens; returns how many messages
/// were elided. Messages 0 and 1 (system prompt and task) are kept whole.
pub fn fit_to_budget(messages: &mut [ChatMessage], budget: u64) -> usize {
    let mut elided = 0;
    for pass in [Role::Tool, Role::Assistant, Role::User] {
        for index in 2..messages.len() {
            if conversation_tokens(messages) <= budget {
                return elided;
            }
            // The newest message stays whole: the model needs the latest result to go on.
            if index + 1 == messages.len() {
                break;
            }
            let message = &mut messages[index];
            if message.role == pass && message.content != ELIDED_NOTE && message.content.len() > ELIDED_NOTE.len() {
                message.content = ELIDED_NOTE.to_owned();
                elided += 1;
            }
        }
    }
    elided
}

/// Makes every assistant tool call answered exactly once, right after its assistant message:
/// missing answers become `missing_answer`, answers to unknown or already answered calls are
/// dropped.
pub fn repair_history(messages: &mut Vec<ChatMessage>, missing_answer: &str) {
    let mut repaired = Vec::with_capacity(messages.len());
    let mut pending: Vec<String> = Vec::new();
    let mut answered: HashSet<String> = HashSet::new();
    let flush = |pending: &mut Vec<String>, repaired: &mut Vec<ChatMessage>, answered: &mut HashSet<String>| {
        for id in pending.drain(..) {
            if answered.insert(id.clone()) {
                repaired.push(ChatMessage::tool(id, missing_answer));
            }
        }
    };
    for message in messages.drain(..) {
        match message.role {
            Role::Tool => {
                let id = message.tool_call_id.clone().unwrap_or_default();
                if let Some(position) = pending.iter().position(|waiting| *waiting == id) {
                    pending.remove(position);
                    answered.insert(id);
                    repaired.push(message);
                }
            }
            _ => {
                flush(&mut pending, &mut repaired, &mut answered);
                pending = message.tool_calls.iter().map(|call| call.id.clone()).collect();
                repaired.push(message);
            }
        }
    }
    flush(&mut pending, &mut repaired, &mut answered);
    *messages = repaired;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolCall;

    fn call(id: &str) -> ToolCall {
        ToolCall { id: id.to_owned(), name: "read_file".to_owned(), arguments: "{}".to_owned() }
    }

    #[test]
    fn long_results_keep_head_and_tail_with_a_note() {
        let text: String = (0..1000).map(|line| format!("line {line}\n")).collect();
        let cut = truncate_for_model(&text, 200);
        assert!(cut.starts_with("line 0\n"), "{cut}");
        assert!(cut.ends_with("line 999"), "{cut}");
        assert!(cut.contains("lines omitted …]"), "{cut}");
        assert!(cut.len() < 260);
        assert_eq!(truncate_for_model("short", 200), "short");
        let one_line = "x".repeat(500);
        assert!(truncate_for_model(&one_line, 100).contains("bytes omitted"));
    }

    #[test]
    fn the_oldest_tool_results_are_elided_first_and_answers_stay() {
        let mut messages = vec![ChatMessage::system("system"), ChatMessage::user("task")];
        for id in ["a", "b", "c"] {
            messages.push(ChatMessage::assistant("", vec![call(id)]));
            messages.push(ChatMessage::tool(id, "x".repeat(4000)));
        }
        let before = conversation_tokens(&messages);
        let elided = fit_to_budget(&mut messages, before - 1500);
        assert_eq!(elided, 2);
        assert_eq!(messages[3].content, ELIDED_NOTE);
        assert_eq!(messages[5].content, ELIDED_NOTE);
        assert_eq!(messages[7].content.len(), 4000);
        assert_eq!(messages.iter().filter(|message| message.role == Role::Tool).count(), 3);
        assert_eq!(messages[1].content, "task");
    }

    #[test]
    fn repair_answers_every_call_exactly_once() {
        let mut messages = vec![
            ChatMessage::system("s"),
            ChatMessage::assistant("", vec![call("1"), call("2")]),
            ChatMessage::tool("1", "ok"),
            ChatMessage::tool("1", "duplicate"),
            ChatMessage::tool("9", "unknown"),
            ChatMessage::user("go on"),
            ChatMessage::assistant("", vec![call("3")]),
        ];
        repair_history(&mut messages, "cancelled");
        let tool_answers: Vec<(String, String)> = messages
            .iter()
            .filter(|message| message.role == Role::Tool)
            .map(|message| (message.tool_call_id.clone().unwrap(), message.content.clone()))
            .collect();
        assert_eq!(
            tool_answers,
            vec![
                ("1".to_owned(), "ok".to_owned()),
                ("2".to_owned(), "cancelled".to_owned()),
                ("3".to_owned(), "cancelled".to_owned())
            ]
        );
        assert_eq!(messages[4].role, Role::User);
    }
}
