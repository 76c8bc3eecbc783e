//! Reading JSON out of model replies: the whole object (tolerating a code fence or prose around
//! it, as prompt-and-parse replies have), and — while a reply still streams — the elements of one
//! array that are already complete ([`complete_array_elements`]), so a planner can show subtasks
//! before the reply ends.
//!
//! A small scanner, not a JSON parser: it only tracks strings, escapes and nesting to find where
//! complete values start and end, and hands each complete slice to `serde_json`.

use serde_json::Value;

/// The JSON object in `text`: the whole text, or the span from its first `{` to its last `}`
/// (a code fence or a sentence around it is ignored). The error says what is wrong, briefly.
pub fn parse_json_object(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let candidate = match (trimmed.find('{'), trimmed.rfind('}')) {
        (Some(start), Some(end)) if start < end => &trimmed[start..=end],
        _ => return Err(format!("no JSON object in the reply ({})", describe(trimmed))),
    };
    match serde_json::from_str::<Value>(candidate) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err("the reply is not a JSON object".into()),
        Err(error) => Err(format!("the reply is not valid JSON: {error}")),
    }
}

fn describe(text: &str) -> String {
    if text.is_empty() {
        return "it was empty".into();
    }
    let head: String = text.chars().take(60).collect();
    let more = if text.chars().count() > 60 { "…" } else { "" };
    format!("it began {head:?}{more}")
}

/// The complete elements, so far, of the array under the top-level key `key` in a JSON object
/// that may still be arriving (`{"title": "x", "subtasks": [{...}, {...}, {"id": "s3", "ti`
/// gives the first two). Elements that are complete but not valid JSON are skipped.
pub fn complete_array_elements(partial: &str, key: &str) -> Vec<Value> {
    let mut scanner = Scanner::default();
    let mut elements = Vec::new();
    let mut last_string: Option<(usize, usize)> = None;
    let mut array_depth: Option<usize> = None;
    let mut element_start: Option<usize> = None;
    let mut expecting_array = false;
    for (index, byte) in partial.bytes().enumerate() {
        let event = scanner.step(index, byte);
        let was_expecting = std::mem::take(&mut expecting_array);
        match event {
            Step::InString => expecting_array = was_expecting,
            Step::Other if byte.is_ascii_whitespace() => expecting_array = was_expecting,
            Step::StringEnd { start } => last_string = Some((start, index)),
            Step::Colon => {
                expecting_array = scanner.depth == 1
                    && array_depth.is_none()
                    && last_string.is_some_and(|(start, end)| &partial[start + 1..end] == key);
            }
            Step::Open(b'[') if was_expecting => array_depth = Some(scanner.depth),
            Step::Open(_) if array_depth.is_some_and(|depth| scanner.depth == depth + 1) => {
                element_start = Some(index);
            }
            Step::Close(_) if array_depth.is_some_and(|depth| scanner.depth == depth) => {
                if let Some(start) = element_start.take()
                    && let Ok(value) = serde_json::from_str(&partial[start..=index])
                {
                    elements.push(value);
                }
            }
            Step::Close(_) if array_depth.is_some_and(|depth| scanner.depth < depth) => break,
            _ => {}
        }
    }
    elements
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    StringEnd { start: usize },
    Colon,
    Open(u8),
    Close(u8),
    InString,
    Other,
}

/// Tracks strings and nesting; `depth` counts open `{`/`[` after the byte just stepped.
#[derive(Debug, Default)]
struct Scanner {
    depth: usize,
    string_start: Option<usize>,
    escaped: bool,
}

impl Scanner {
    fn step(&mut self, index: usize, byte: u8) -> Step {
        if let Some(start) = self.string_start {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.string_start = None;
                return Step::StringEnd { start };
            }
            return Step::InString;
        }
        match byte {
            b'"' => {
                self.string_start = Some(index);
                Step::InString
            }
            b'{' | b'[' => {
                self.depth += 1;
                Step::Open(byte)
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                Step::Close(byte)
            }
            b':' => Step::Colon,
            _ => Step::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_is_found_inside_a_fence_or_prose() {
        assert_eq!(parse_json_object("```json\n{\"a\": 1}\n```").unwrap(), json!({"a": 1}));
        assert_eq!(parse_json_object("Here it is: {\"a\": {\"b\": 2}} hope it helps").unwrap()["a"]["b"], 2);
        assert!(parse_json_object("").unwrap_err().contains("empty"));
        assert!(parse_json_object("{\"a\": }").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn complete_elements_are_found_while_the_reply_streams() {
        let full = r#"{"title": "x [y]", "note": {"subtasks": [9]}, "subtasks": [{"id": "s1", "title": "a \"}]\" b", "dependsOn": []}, {"id": "s2", "dependsOn": ["s1"]}], "after": [{"id": "no"}]}"#;
        let mut seen = Vec::new();
        for end in 0..=full.len() {
            let found = complete_array_elements(&full[..end], "subtasks");
            assert!(found.len() >= seen.len(), "never shrinks");
            seen = found;
        }
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0]["title"], "a \"}]\" b");
        assert_eq!(seen[1]["dependsOn"], json!(["s1"]));
        let cut = full.find("{\"id\": \"s2\"").unwrap() + 5;
        assert_eq!(complete_array_elements(&full[..cut], "subtasks").len(), 1);
    }
}
