//! Conversions between domain values and column values: error mapping, closed-enum names,
//! integer ranges, and the JSON texts (`depends_on`, the subtask lists of `plan_versions`).
//!
//! Decoding never guesses: an unknown name, an out-of-range number or bad JSON is a
//! `StoreError::Corrupt` naming the table, the column and the value. No SQL lives here.

use std::path::Path;

use serde_json::{Map, Value};

use super::StoreError;
use crate::model::{AgentKind, Subtask, SubtaskId, SubtaskRole, SubtaskStatus, Timestamp};

/// Maps a rusqlite error to `Corrupt` (damaged file) or `Sqlite` (anything else).
pub(crate) fn sqlite_error(path: &Path, error: rusqlite::Error) -> StoreError {
    let mistyped = matches!(
        error,
        rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
    );
    let damaged = matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    );
    if mistyped || damaged {
        StoreError::Corrupt { path: path.to_path_buf(), cause: error.to_string() }
    } else {
        StoreError::Sqlite { path: path.to_path_buf(), cause: error.to_string() }
    }
}

/// A value in a row that this server cannot read.
pub(crate) fn corrupt_value(path: &Path, table: &str, column: &str, value: &str, why: &str) -> StoreError {
    StoreError::Corrupt { path: path.to_path_buf(), cause: format!("{table}.{column} holds {why} {value:?}") }
}

/// Parses a closed-enum name read from `table.column`.
pub(crate) fn parse_name<T>(
    path: &Path,
    table: &str,
    column: &str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt_value(path, table, column, text, "an unknown name"))
}

/// A stored `INTEGER` as `u64`; negative values are corrupt.
pub(crate) fn to_u64(path: &Path, table: &str, column: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt_value(path, table, column, &value.to_string(), "an out-of-range number"))
}

/// A stored `INTEGER` as `u32`; negative or too large values are corrupt.
pub(crate) fn to_u32(path: &Path, table: &str, column: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt_value(path, table, column, &value.to_string(), "an out-of-range number"))
}

/// A `u64` to write; values above `i64::MAX` cannot be stored and are refused.
pub(crate) fn from_u64(path: &Path, field: &str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Sqlite {
        path: path.to_path_buf(),
        cause: format!("{field} {value} is too large to store"),
    })
}

pub(crate) fn optional_u64(path: &Path, field: &str, value: Option<u64>) -> Result<Option<i64>, StoreError> {
    value.map(|value| from_u64(path, field, value)).transpose()
}

pub(crate) fn millis(value: Option<Timestamp>) -> Option<i64> {
    value.map(Timestamp::as_millis)
}

/// `depends_on` as a JSON array of strings.
pub(crate) fn depends_on_to_json(depends_on: &[SubtaskId]) -> String {
    Value::Array(depends_on.iter().map(|id| Value::String(id.as_str().to_owned())).collect()).to_string()
}

pub(crate) fn depends_on_from_json(path: &Path, table: &str, text: &str) -> Result<Vec<SubtaskId>, StoreError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| corrupt_value(path, table, "depends_on", text, &format!("bad json ({error})")))?;
    depends_on_from_value(&value).ok_or_else(|| corrupt_value(path, table, "depends_on", text, "a non-string-array"))
}

fn depends_on_from_value(value: &Value) -> Option<Vec<SubtaskId>> {
    value.as_array()?.iter().map(|item| item.as_str().map(SubtaskId::from_raw)).collect()
}

/// A subtask list as JSON text, every field kept (for `plan_versions.subtasks`).
pub(crate) fn subtasks_to_json(subtasks: &[Subtask]) -> String {
    Value::Array(subtasks.iter().map(subtask_to_value).collect()).to_string()
}

fn subtask_to_value(subtask: &Subtask) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), subtask.id.as_str().into());
    object.insert("title".into(), subtask.title.clone().into());
    object.insert("description".into(), subtask.description.clone().into());
    object.insert("agent".into(), subtask.agent.as_str().into());
    object.insert("command".into(), subtask.command.clone().into());
    if let Some(cwd) = &subtask.cwd {
        object.insert("cwd".into(), cwd.clone().into());
    }
    if subtask.is_baseline() {
        object.insert("role".into(), subtask.role.as_str().into());
    }
    let depends_on = subtask.depends_on.iter().map(|id| Value::String(id.as_str().to_owned())).collect();
    object.insert("dependsOn".into(), Value::Array(depends_on));
    object.insert("status".into(), subtask.status.as_str().into());
    object.insert("attempts".into(), subtask.attempts.into());
    object.insert("maxAttempts".into(), subtask.max_attempts.into());
    object.insert("timeoutSecs".into(), subtask.timeout_secs.into());
    object.insert("estimateSecs".into(), subtask.estimate_secs.into());
    object.insert("result".into(), subtask.result.clone().into());
    object.insert("error".into(), subtask.error.clone().into());
    object.insert("startedAt".into(), millis(subtask.started_at).into());
    object.insert("finishedAt".into(), millis(subtask.finished_at).into());
    if subtask.usage.calls > 0 {
        object.insert("promptTokens".into(), subtask.usage.prompt_tokens.into());
        object.insert("completionTokens".into(), subtask.usage.completion_tokens.into());
        object.insert("llmCalls".into(), subtask.usage.calls.into());
    }
    Value::Object(object)
}

/// Reads back [`subtasks_to_json`]; anything missing or mistyped is corrupt.
pub(crate) fn subtasks_from_json(path: &Path, text: &str) -> Result<Vec<Subtask>, StoreError> {
    let bad = |why: String| corrupt_value(path, "plan_versions", "subtasks", &shorten(text), &why);
    let value: Value = serde_json::from_str(text).map_err(|error| bad(format!("bad json ({error})")))?;
    let items = value.as_array().ok_or_else(|| bad("a non-array".into()))?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| subtask_from_value(item).map_err(|field| bad(format!("a bad [{index}].{field} in"))))
        .collect()
}

/// Decodes one subtask object; the error is the name of the first bad field.
fn subtask_from_value(value: &Value) -> Result<Subtask, &'static str> {
    let object = value.as_object().ok_or("object")?;
    let text = |field: &'static str| object.get(field).and_then(Value::as_str).map(str::to_owned).ok_or(field);
    let optional_text = |field: &'static str| match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(field),
    };
    let optional_number = |field: &'static str| match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(number) => number.as_u64().map(Some).ok_or(field),
    };
    let optional_millis = |field: &'static str| match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(number) => number.as_i64().map(|millis| Some(Timestamp::from_millis(millis))).ok_or(field),
    };
    let count = |field: &'static str| {
        let number = object.get(field).and_then(Value::as_u64).ok_or(field)?;
        u32::try_from(number).map_err(|_| field)
    };
    Ok(Subtask {
        id: SubtaskId::from_raw(text("id")?),
        title: text("title")?,
        description: text("description")?,
        agent: AgentKind::parse(&text("agent")?).ok_or("agent")?,
        role: match optional_text("role")? {
            Some(role) => SubtaskRole::parse(&role).ok_or("role")?,
            None => SubtaskRole::Step,
        },
        command: optional_text("command")?,
        cwd: optional_text("cwd")?,
        depends_on: object.get("dependsOn").and_then(depends_on_from_value).ok_or("dependsOn")?,
        status: SubtaskStatus::parse(&text("status")?).ok_or("status")?,
        attempts: count("attempts")?,
        max_attempts: count("maxAttempts")?,
        timeout_secs: optional_number("timeoutSecs")?,
        estimate_secs: optional_number("estimateSecs")?,
        result: optional_text("result")?,
        error: optional_text("error")?,
        started_at: optional_millis("startedAt")?,
        finished_at: optional_millis("finishedAt")?,
        usage: crate::model::Usage {
            prompt_tokens: optional_number("promptTokens")?.unwrap_or(0),
            completion_tokens: optional_number("completionTokens")?.unwrap_or(0),
            calls: optional_number("llmCalls")?.map(u32::try_from).transpose().map_err(|_| "llmCalls")?.unwrap_or(0),
        },
        pending_approval: None,
        changes: None,
    })
}

/// At most 80 characters of a value for an error message.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 80 { text.to_owned() } else { text.chars().take(80).collect::<String>() + "…" }
}
