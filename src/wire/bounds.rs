//! The bounds of every text, list and token a client sends: the one place they are defined.
//!
//! A bounded field has a bounded type ([`Text`], [`List`], or a token checked by
//! [`bounded_token`]), so the bound is checked while the params deserialise (the `-32602` message
//! names the field: `result: too long (10485760 characters, at most 65536)`) and appears in the
//! generated schema as `maxLength` / `maxItems`. Lengths count characters (Unicode scalar values),
//! as JSON Schema's `maxLength` does. Where the domain validator already bounds a field, the bound
//! here is the validator's constant, so there is one number for each field.
//!
//! Values the server builds itself (`Text::from`) are not cut: a bound is a promise about what
//! the server accepts.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tower_lsp_server::ls_types::{NumberOrString, ProgressToken};

use crate::model::validate;

/// The bounds, by field. Every bounded type of the wire takes its number from here.
pub mod max {
    use super::validate;

    /// `planId`, `sessionId`, `runId`, `requestId`: ULIDs and UUIDs, with room to spare.
    pub const ID: usize = 128;
    /// A subtask id: `[A-Za-z0-9_.-]{1,64}` (the validator checks the shape).
    pub const SUBTASK_ID: usize = validate::SUBTASK_ID_MAX_CHARS;
    /// Plan and subtask titles.
    pub const TITLE: usize = validate::TITLE_MAX_CHARS;
    /// The task text (a plan's goal).
    pub const TASK: usize = validate::GOAL_MAX_CHARS;
    pub const DESCRIPTION: usize = validate::DESCRIPTION_MAX_CHARS;
    pub const COMMAND: usize = validate::COMMAND_MAX_CHARS;
    pub const CWD: usize = validate::CWD_MAX_CHARS;
    /// `context.notes`.
    pub const NOTES: usize = validate::GOAL_MAX_CHARS;
    /// A file path (`context.files[i]`, `planning/import`'s `path`).
    pub const PATH: usize = 4_096;
    /// How many `context.files` (the planner reads the first few).
    pub const CONTEXT_FILES: usize = 100;
    /// `planning/list`'s `cursor`.
    pub const CURSOR: usize = 256;
    /// Reject and revise feedback.
    pub const FEEDBACK: usize = 10_000;
    /// A cancel reason.
    pub const REASON: usize = 2_000;
    /// What a person reports with `planning/complete` (stored with the step).
    pub const RESULT: usize = 64 * 1024;
    /// `workDoneToken`, `partialResultToken`: repeated in every `$/progress`, so short.
    pub const TOKEN: usize = 256;
    /// Subtasks of one plan (and dependencies of one subtask, and ids named by `planning/retry`).
    pub const SUBTASKS: usize = validate::MAX_SUBTASKS;
}

/// A string of at most `MAX` characters. Deserialising a longer one fails with
/// `too long (N characters, at most MAX)`.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> std::ops::Deref for Text<MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, formatter)
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl<const MAX: usize> From<String> for Text<MAX> {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl<const MAX: usize> From<&str> for Text<MAX> {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(text: Text<MAX>) -> Self {
        text.0
    }
}

impl<const MAX: usize> PartialEq<str> for Text<MAX> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl<const MAX: usize> PartialEq<&str> for Text<MAX> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// `Err(message)` when `text` is longer than `max` characters.
pub fn check_length(text: &str, max: usize) -> Result<(), String> {
    // Bytes bound characters from above: most texts are decided without counting.
    if text.len() <= max {
        return Ok(());
    }
    let characters = text.chars().count();
    if characters <= max { Ok(()) } else { Err(format!("too long ({characters} characters, at most {max})")) }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        check_length(&text, MAX).map_err(D::Error::custom)?;
        Ok(Self(text))
    }
}

impl<const MAX: usize> JsonSchema for Text<MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Text{MAX}").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": MAX })
    }
}

/// A list of at most `MAX` items.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T, const MAX: usize> std::ops::Deref for List<T, MAX> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const MAX: usize> fmt::Debug for List<T, MAX> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, formatter)
    }
}

impl<T, const MAX: usize> From<Vec<T>> for List<T, MAX> {
    fn from(items: Vec<T>) -> Self {
        Self(items)
    }
}

impl<T, const MAX: usize> FromIterator<T> for List<T, MAX> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        Self(items.into_iter().collect())
    }
}

impl<'a, T, const MAX: usize> IntoIterator for &'a List<T, MAX> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize, const MAX: usize> Serialize for List<T, MAX> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(BoundedSeq::<T, MAX>(std::marker::PhantomData))
    }
}

/// Stops reading at item `MAX + 1`, so an oversized list is refused before it is all built.
struct BoundedSeq<T, const MAX: usize>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> serde::de::Visitor<'de> for BoundedSeq<T, MAX> {
    type Value = List<T, MAX>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "a list of at most {MAX} items")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX));
        while let Some(item) = seq.next_element()? {
            if items.len() == MAX {
                return Err(A::Error::custom(format!("too many items (at most {MAX})")));
            }
            items.push(item);
        }
        Ok(List(items))
    }
}

impl<T: JsonSchema, const MAX: usize> JsonSchema for List<T, MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("List{MAX}_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "items": generator.subschema_for::<T>(), "maxItems": MAX })
    }
}

/// For `#[serde(deserialize_with)]` on an `Option<ProgressToken>`: a string token longer than
/// [`max::TOKEN`] characters is refused (it would be repeated in every `$/progress`).
pub fn bounded_token<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ProgressToken>, D::Error> {
    let token = Option::<ProgressToken>::deserialize(deserializer)?;
    if let Some(NumberOrString::String(text)) = &token {
        check_length(text, max::TOKEN).map_err(D::Error::custom)?;
    }
    Ok(token)
}

/// The schema of a progress token (`#[schemars(with = "Token")]`): an integer or a short string.
pub struct Token;

impl JsonSchema for Token {
    fn schema_name() -> Cow<'static, str> {
        "ProgressToken".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An LSP progress token: an integer or a string.",
            "anyOf": [{ "type": "integer" }, { "type": "string", "maxLength": max::TOKEN }]
        })
    }
}

/// For `#[serde(deserialize_with)]` on an `Option<Option<T>>` field: absent stays `None` (with
/// `#[serde(default)]`), `null` is `Some(None)`, a value is `Some(Some(value))`.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

// Texts by field. Their bounds are in [`max`].
pub type IdText = Text<{ max::ID }>;
pub type SubtaskIdText = Text<{ max::SUBTASK_ID }>;
pub type TitleText = Text<{ max::TITLE }>;
pub type TaskText = Text<{ max::TASK }>;
pub type DescriptionText = Text<{ max::DESCRIPTION }>;
pub type CommandText = Text<{ max::COMMAND }>;
pub type CwdText = Text<{ max::CWD }>;
pub type NotesText = Text<{ max::NOTES }>;
pub type PathText = Text<{ max::PATH }>;
pub type CursorText = Text<{ max::CURSOR }>;
pub type FeedbackText = Text<{ max::FEEDBACK }>;
pub type ReasonText = Text<{ max::REASON }>;
pub type ResultText = Text<{ max::RESULT }>;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_refuses_more_characters_than_its_bound_and_counts_characters_not_bytes() {
        assert!(serde_json::from_value::<Text<3>>(json!("abc")).is_ok());
        assert!(serde_json::from_value::<Text<3>>(json!("ёжи")).is_ok(), "6 bytes, 3 characters");
        let refused = serde_json::from_value::<Text<3>>(json!("abcd")).unwrap_err();
        assert_eq!(refused.to_string(), "too long (4 characters, at most 3)");
        assert_eq!(serde_json::to_value(Text::<3>::from("x")).unwrap(), json!("x"));
    }

    #[test]
    fn list_refuses_one_item_too_many() {
        assert_eq!(serde_json::from_value::<List<u8, 2>>(json!([1, 2])).unwrap().len(), 2);
        let refused = serde_json::from_value::<List<u8, 2>>(json!([1, 2, 3])).unwrap_err();
        assert_eq!(refused.to_string(), "too many items (at most 2)");
    }

    #[test]
    fn tokens_are_short_strings_or_numbers() {
        #[derive(Deserialize)]
        struct Params {
            #[serde(default, deserialize_with = "bounded_token")]
            token: Option<ProgressToken>,
        }
        let number: Params = serde_json::from_value(json!({ "token": 7 })).unwrap();
        assert_eq!(number.token, Some(NumberOrString::Number(7)));
        let absent: Params = serde_json::from_value(json!({})).unwrap();
        assert_eq!(absent.token, None);
        let long = "t".repeat(max::TOKEN + 1);
        assert!(serde_json::from_value::<Params>(json!({ "token": long })).is_err());
    }

    #[test]
    fn present_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Patch {
            #[serde(default, deserialize_with = "present")]
            cwd: Option<Option<String>>,
        }
        let absent: Patch = serde_json::from_value(json!({})).unwrap();
        let null: Patch = serde_json::from_value(json!({ "cwd": null })).unwrap();
        let given: Patch = serde_json::from_value(json!({ "cwd": "a" })).unwrap();
        assert_eq!((absent.cwd, null.cwd, given.cwd), (None, Some(None), Some(Some("a".to_owned()))));
    }
}
