//! A small JSON reader that keeps the byte range of every value (what `serde_json` does not),
//! so a Taskmaster `tasks.json` can be checked and ticked in place. Strict JSON (RFC 8259); the
//! first syntax error is returned with its offset. Nesting is bounded.

use super::Span;

/// Deepest nesting read.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    /// The number as written.
    Number(String),
    String(String),
    Array(Vec<Spanned>),
    /// Members in order, each key with its span.
    Object(Vec<(String, Span, Spanned)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spanned {
    pub value: Json,
    pub span: Span,
}

impl Spanned {
    pub fn get(&self, key: &str) -> Option<&Spanned> {
        match &self.value {
            Json::Object(members) => members.iter().find(|(name, _, _)| name == key).map(|(_, _, value)| value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Spanned]> {
        match &self.value {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A string, or a number as written.
    pub fn as_key(&self) -> Option<String> {
        match &self.value {
            Json::String(text) => Some(text.clone()),
            Json::Number(number) => Some(number.clone()),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.value {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// A syntax error: what, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JsonError {
    pub message: String,
    pub span: Span,
}

pub(super) fn parse(text: &str) -> Result<Spanned, JsonError> {
    let mut reader = Reader { text, bytes: text.as_bytes(), at: 0 };
    reader.skip_space();
    let value = reader.value(0)?;
    reader.skip_space();
    if reader.at < reader.bytes.len() {
        return Err(reader.error("unexpected text after the JSON value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> JsonError {
        let end = (self.at + 1).min(self.bytes.len()).max(self.at);
        let end = (end..=self.bytes.len()).find(|end| self.text.is_char_boundary(*end)).unwrap_or(self.bytes.len());
        JsonError { message: message.to_owned(), span: self.at..end }
    }

    fn skip_space(&mut self) {
        while self.at < self.bytes.len() && matches!(self.bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let start = self.at;
        let value = match self.bytes.get(self.at) {
            None => return Err(self.error("unexpected end of the text: a value was expected")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Json::String(self.string()?),
            Some(b't') => self.word("true", Json::Bool(true))?,
            Some(b'f') => self.word("false", Json::Bool(false))?,
            Some(b'n') => self.word("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("a value was expected here")),
        };
        Ok(Spanned { value, span: start..self.at })
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("a value was expected here"))
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.at;
        if self.bytes[self.at] == b'-' {
            self.at += 1;
        }
        let digits = |reader: &mut Self| {
            let from = reader.at;
            while reader.at < reader.bytes.len() && reader.bytes[reader.at].is_ascii_digit() {
                reader.at += 1;
            }
            reader.at > from
        };
        if !digits(self) {
            return Err(self.error("a digit was expected"));
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("a digit was expected after the decimal point"));
            }
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("a digit was expected in the exponent"));
            }
        }
        Ok(Json::Number(self.text[start..self.at].to_owned()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            let Some(&byte) = self.bytes.get(self.at) else {
                return Err(self.error("a string is not closed"));
            };
            match byte {
                b'"' => {
                    self.at += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.at += 1;
                    let escaped = match self.bytes.get(self.at) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let character = self.unicode_escape()?;
                            out.push(character);
                            continue;
                        }
                        _ => return Err(self.error("an unknown escape in a string")),
                    };
                    out.push(escaped);
                    self.at += 1;
                }
                0..=0x1f => return Err(self.error("a control character in a string (write it escaped)")),
                _ => {
                    let rest = &self.text[self.at..];
                    let end = rest.find(['"', '\\']).unwrap_or(rest.len());
                    let chunk = &rest[..end];
                    if let Some(control) = chunk.bytes().position(|byte| byte < 0x20) {
                        self.at += control;
                        return Err(self.error("a control character in a string (write it escaped)"));
                    }
                    out.push_str(chunk);
                    self.at += end;
                }
            }
        }
    }

    /// After `\u`: four hex digits (and a second `\uXXXX` for a surrogate pair).
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.text[self.at..].starts_with("\\u") {
                self.at += 2;
                let second = self.hex4()?;
                if (0xDC00..0xE000).contains(&second) {
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(code).ok_or_else(|| self.error("an invalid \\u escape"));
                }
            }
            return Ok(char::REPLACEMENT_CHARACTER);
        }
        Ok(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.text.get(self.at..self.at + 4).ok_or_else(|| self.error("four hex digits were expected"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.error("four hex digits were expected"))?;
        self.at += 4;
        Ok(code)
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value(depth + 1)?);
            self.skip_space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("`,` or `]` was expected")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.at += 1;
        let mut members = Vec::new();
        self.skip_space();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_space();
            if self.bytes.get(self.at) != Some(&b'"') {
                return Err(self.error("a member name in double quotes was expected"));
            }
            let key_start = self.at;
            let key = self.string()?;
            let key_span = key_start..self.at;
            self.skip_space();
            if self.bytes.get(self.at) != Some(&b':') {
                return Err(self.error("`:` was expected after the member name"));
            }
            self.at += 1;
            self.skip_space();
            let value = self.value(depth + 1)?;
            members.push((key, key_span, value));
            self.skip_space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("`,` or `}` was expected")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_spans() {
        let text = r#"{ "a": [1, "x\"y", true, null], "b": {"c": -2.5e3} }"#;
        let value = parse(text).unwrap();
        let a = value.get("a").unwrap();
        let items = a.as_array().unwrap();
        assert_eq!(&text[items[1].span.clone()], r#""x\"y""#);
        assert_eq!(items[1].as_str(), Some("x\"y"));
        assert_eq!(items[0].as_key().as_deref(), Some("1"));
        assert_eq!(&text[value.get("b").unwrap().get("c").unwrap().span.clone()], "-2.5e3");
    }

    #[test]
    fn escapes_and_errors() {
        assert_eq!(parse(r#""\u00e9\ud83d\ude00""#).unwrap().as_str(), Some("é😀"));
        let error = parse("{\"a\": [1, 2}").unwrap_err();
        assert_eq!((error.message.as_str(), error.span.start), ("`,` or `]` was expected", 11));
        assert!(parse("{\"a\": 1} x").is_err());
        assert!(parse(&"[".repeat(200)).unwrap_err().message.contains("deeply"));
    }
}
