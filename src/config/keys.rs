//! The settings keys, once for every source: an editor's JSON (`lsp::config`), the workspace's
//! `codelab-planner.toml` and the user's `config.toml` (`files`). Each key's value is checked
//! and applied onto [`Settings`]; a refused value names what was expected. `null` takes the
//! value of the layer below (the caller's `fallback`), so an editor that sends every key with
//! `null` for the unset ones leaves the files' values alone.
//!
//! Path settings (`database`, `llm.apiKeyFile`) expand a leading `~` to the home folder or are
//! refused (`~user`, no home): a literal `~` folder is never made. Messages never quote a value
//! that could be a secret (`llm.apiKeyEnv`, `llm.apiKeyFile`).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{LlmClassify, PlanApproval, SandboxCommands, Settings, ToolApproval, WithoutModel};
use crate::model::FailurePolicy;

/// Every key, in the order `codelab-planner config` prints them.
pub const KEYS: &[&str] = &[
    "database",
    "maxParallel",
    "failurePolicy",
    "approval.plans",
    "approval.tools",
    "llm.baseUrl",
    "llm.model",
    "llm.apiKeyEnv",
    "llm.apiKeyFile",
    "llm.timeoutSecs",
    "llm.roles.classify",
    "llm.roles.plan",
    "llm.roles.agent",
    "llm.contextTokens",
    "llm.maxToolCalls",
    "llm.classify",
    "agents.withoutModel",
    "sandbox.commands",
];

/// The groups whose nested objects (or TOML tables) become dotted keys.
pub const GROUPS: &[&str] = &["approval", "llm", "llm.roles", "agents", "sandbox"];

const PLAN_APPROVAL: &[(&str, PlanApproval)] =
    &[("complex", PlanApproval::Complex), ("always", PlanApproval::Always), ("never", PlanApproval::Never)];
const TOOL_APPROVAL: &[(&str, ToolApproval)] = &[("ask", ToolApproval::Ask), ("auto", ToolApproval::Auto)];
const LLM_CLASSIFY: &[(&str, LlmClassify)] =
    &[("always", LlmClassify::Always), ("whenUnsure", LlmClassify::WhenUnsure), ("never", LlmClassify::Never)];
const WITHOUT_MODEL: &[(&str, WithoutModel)] = &[("manual", WithoutModel::Manual), ("fail", WithoutModel::Fail)];
const SANDBOX_COMMANDS: &[(&str, SandboxCommands)] =
    &[("workspace", SandboxCommands::Workspace), ("off", SandboxCommands::Off)];

/// Why a key was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Unknown,
    /// The value was refused; the message says what was expected.
    Bad(String),
}

/// Whether an unknown key's name says it would hold a secret (an API key, a token, a password):
/// such keys are refused with where the key belongs instead.
pub fn names_a_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase().replace(['_', '-'], "");
    !KEYS.contains(&key) && ["apikey", "secret", "password", "token", "bearer"].iter().any(|word| lower.contains(word))
}

/// Nested objects of the known groups become dotted keys; everything else is kept as is.
pub fn flatten(object: &Map<String, Value>, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (key, value) in object {
        let full_key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner) if GROUPS.contains(&full_key.as_str()) => flatten(inner, &full_key, out),
            _ => out.push((full_key, value.clone())),
        }
    }
}

/// Checks `value` for `key` and sets it on `settings`; `null` takes `fallback`'s value. A refused
/// value leaves `settings` unchanged.
pub fn apply_key(settings: &mut Settings, fallback: &Settings, key: &str, value: &Value) -> Result<(), KeyError> {
    if value.is_null() {
        return if copy_key(settings, fallback, key) { Ok(()) } else { Err(KeyError::Unknown) };
    }
    let llm = &mut settings.llm;
    let result = match key {
        "database" => path_setting(value).map(|path| settings.database = path),
        "maxParallel" => {
            positive(value).map(|count| settings.max_parallel = usize::try_from(count).unwrap_or(usize::MAX))
        }
        "failurePolicy" => string(value, &FailurePolicy::expected())
            .and_then(|text| {
                FailurePolicy::parse(&text).ok_or_else(|| unknown_value(&text, &FailurePolicy::expected()))
            })
            .map(|policy| settings.failure_policy = policy),
        "approval.plans" => choice(value, PLAN_APPROVAL).map(|approval| settings.plan_approval = approval),
        "approval.tools" => choice(value, TOOL_APPROVAL).map(|approval| settings.tool_approval = approval),
        "llm.baseUrl" => optional_string(value).map(|url| llm.base_url = url),
        "llm.model" => optional_string(value).map(|model| llm.model = model),
        "llm.apiKeyEnv" => variable_name(value).map(|name| llm.api_key_env = name),
        "llm.apiKeyFile" => path_setting(value).map(|path| llm.api_key_file = path),
        "llm.timeoutSecs" => positive(value).map(|seconds| llm.timeout_secs = seconds),
        "llm.roles.classify" => optional_string(value).map(|model| llm.roles.classify = model),
        "llm.roles.plan" => optional_string(value).map(|model| llm.roles.plan = model),
        "llm.roles.agent" => optional_string(value).map(|model| llm.roles.agent = model),
        "llm.contextTokens" => positive(value).map(|tokens| llm.context_tokens = tokens),
        "llm.maxToolCalls" => {
            positive(value).map(|calls| llm.max_tool_calls = u32::try_from(calls).unwrap_or(u32::MAX))
        }
        "llm.classify" => choice(value, LLM_CLASSIFY).map(|mode| llm.classify = mode),
        "agents.withoutModel" => choice(value, WITHOUT_MODEL).map(|mode| settings.without_model = mode),
        "sandbox.commands" => choice(value, SANDBOX_COMMANDS).map(|mode| settings.sandbox_commands = mode),
        _ => return Err(KeyError::Unknown),
    };
    result.map_err(KeyError::Bad)
}

/// Sets `key` on `settings` to its value in `from`; false for an unknown key.
pub fn copy_key(settings: &mut Settings, from: &Settings, key: &str) -> bool {
    let (llm, source) = (&mut settings.llm, &from.llm);
    match key {
        "database" => settings.database = from.database.clone(),
        "maxParallel" => settings.max_parallel = from.max_parallel,
        "failurePolicy" => settings.failure_policy = from.failure_policy,
        "approval.plans" => settings.plan_approval = from.plan_approval,
        "approval.tools" => settings.tool_approval = from.tool_approval,
        "llm.baseUrl" => llm.base_url = source.base_url.clone(),
        "llm.model" => llm.model = source.model.clone(),
        "llm.apiKeyEnv" => llm.api_key_env = source.api_key_env.clone(),
        "llm.apiKeyFile" => llm.api_key_file = source.api_key_file.clone(),
        "llm.timeoutSecs" => llm.timeout_secs = source.timeout_secs,
        "llm.roles.classify" => llm.roles.classify = source.roles.classify.clone(),
        "llm.roles.plan" => llm.roles.plan = source.roles.plan.clone(),
        "llm.roles.agent" => llm.roles.agent = source.roles.agent.clone(),
        "llm.contextTokens" => llm.context_tokens = source.context_tokens,
        "llm.maxToolCalls" => llm.max_tool_calls = source.max_tool_calls,
        "llm.classify" => llm.classify = source.classify,
        "agents.withoutModel" => settings.without_model = from.without_model,
        "sandbox.commands" => settings.sandbox_commands = from.sandbox_commands,
        _ => return false,
    }
    true
}

/// The value of `key` in `settings` as TOML would write it (`not set` for an absent optional
/// value); `None` for an unknown key.
pub fn show_key(settings: &Settings, key: &str) -> Option<String> {
    let quoted = |text: &str| Value::String(text.to_owned()).to_string();
    let optional = |text: &Option<String>| text.as_deref().map_or_else(|| "not set".to_owned(), quoted);
    let path = |path: &Option<PathBuf>| optional(&path.as_ref().map(|path| path.display().to_string()));
    let llm = &settings.llm;
    Some(match key {
        "database" => path(&settings.database),
        "maxParallel" => settings.max_parallel.to_string(),
        "failurePolicy" => quoted(settings.failure_policy.as_str()),
        "approval.plans" => quoted(name_of(PLAN_APPROVAL, settings.plan_approval)),
        "approval.tools" => quoted(name_of(TOOL_APPROVAL, settings.tool_approval)),
        "llm.baseUrl" => optional(&llm.base_url),
        "llm.model" => optional(&llm.model),
        "llm.apiKeyEnv" => quoted(&llm.api_key_env),
        "llm.apiKeyFile" => path(&llm.api_key_file),
        "llm.timeoutSecs" => llm.timeout_secs.to_string(),
        "llm.roles.classify" => optional(&llm.roles.classify),
        "llm.roles.plan" => optional(&llm.roles.plan),
        "llm.roles.agent" => optional(&llm.roles.agent),
        "llm.contextTokens" => llm.context_tokens.to_string(),
        "llm.maxToolCalls" => llm.max_tool_calls.to_string(),
        "llm.classify" => quoted(name_of(LLM_CLASSIFY, llm.classify)),
        "agents.withoutModel" => quoted(name_of(WITHOUT_MODEL, settings.without_model)),
        "sandbox.commands" => quoted(name_of(SANDBOX_COMMANDS, settings.sandbox_commands)),
        _ => return None,
    })
}

/// `~` or `~/rest` with `home`; any other path as written. `~user` and a `~` without a home
/// folder are refused.
pub fn expand_home(text: &str, home: Option<&Path>) -> Result<PathBuf, String> {
    let Some(rest) = text.strip_prefix('~') else { return Ok(PathBuf::from(text)) };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return Err("\"~user\" paths are not expanded: write the full path".to_owned());
    }
    let home = home.filter(|home| home.is_absolute()).ok_or("\"~\" cannot be expanded: HOME is not set")?;
    Ok(home.join(rest.trim_start_matches('/')))
}

fn home_folder() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from)
}

fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 { format!("{}…", text.chars().take(60).collect::<String>()) } else { text }
}

fn unknown_value(text: &str, expected: &str) -> String {
    format!("unknown value {} (expected {expected})", describe(&Value::String(text.to_owned())))
}

fn string(value: &Value, expected: &str) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        other => Err(format!("expected one of {expected}, got {}", describe(other))),
    }
}

fn optional_string(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(format!("expected a string, got {}", describe(other))),
    }
}

fn path_setting(value: &Value) -> Result<Option<PathBuf>, String> {
    match optional_string(value)? {
        Some(text) => expand_home(&text, home_folder().as_deref()).map(Some),
        None => Ok(None),
    }
}

/// The name of an environment variable; the value is not quoted back (it may be a key pasted
/// into the wrong setting).
fn variable_name(value: &Value) -> Result<String, String> {
    let refused = || "expected the name of an environment variable (letters, digits and _), not the key itself";
    let Value::String(name) = value else { return Err(refused().to_owned()) };
    let mut characters = name.chars();
    let first_ok = characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    if first_ok && characters.all(|character| character.is_ascii_alphanumeric() || character == '_') {
        Ok(name.clone())
    } else {
        Err(refused().to_owned())
    }
}

fn positive(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(number) => match number.as_u64() {
            Some(count) if count >= 1 => Ok(count),
            _ => Err(format!("expected a positive integer, got {number}")),
        },
        other => Err(format!("expected a positive integer, got {}", describe(other))),
    }
}

fn expected_names<T>(table: &[(&str, T)]) -> String {
    table.iter().map(|(name, _)| format!("\"{name}\"")).collect::<Vec<_>>().join(", ")
}

fn choice<T: Copy>(value: &Value, table: &[(&str, T)]) -> Result<T, String> {
    let text = string(value, &expected_names(table))?;
    table
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| unknown_value(&text, &expected_names(table)))
}

fn name_of<T: PartialEq>(table: &[(&'static str, T)], wanted: T) -> &'static str {
    table.iter().find(|(_, choice)| *choice == wanted).map_or("", |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_vs_code_extension_offers_and_sends_exactly_these_keys() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("package.json")).unwrap()).unwrap();
        let properties = manifest["contributes"]["configuration"]["properties"].as_object().unwrap();
        let mut offered: Vec<&str> = properties
            .keys()
            .filter_map(|name| name.strip_prefix("codelabPlanner."))
            .filter(|name| !matches!(*name, "server.path" | "trace.server"))
            .collect();
        offered.sort_unstable();
        let mut known = KEYS.to_vec();
        known.sort_unstable();
        assert_eq!(offered, known, "package.json's settings are the server's keys");
        let sender = std::fs::read_to_string(root.join("src/settings.ts")).unwrap();
        let list = &sender[sender.find("SERVER_KEYS = [").unwrap()..];
        let sent: Vec<&str> = list[..list.find("]").unwrap()].split('"').skip(1).step_by(2).collect();
        assert_eq!(sent, KEYS, "settings.ts sends every key, in this order");
    }

    #[test]
    fn a_leading_tilde_is_the_home_folder_or_refused() {
        let home = Path::new("/home/ada");
        assert_eq!(expand_home("~/x.db", Some(home)).unwrap(), PathBuf::from("/home/ada/x.db"));
        assert_eq!(expand_home("~", Some(home)).unwrap(), PathBuf::from("/home/ada"));
        assert_eq!(expand_home("state/x.db", Some(home)).unwrap(), PathBuf::from("state/x.db"));
        assert_eq!(expand_home("a/~/x.db", None).unwrap(), PathBuf::from("a/~/x.db"), "only a leading ~");
        assert!(expand_home("~bob/x.db", Some(home)).unwrap_err().contains("~user"));
        assert!(expand_home("~/x.db", None).unwrap_err().contains("HOME"));
        assert!(expand_home("~/x.db", Some(Path::new("relative"))).is_err());
    }

    #[test]
    fn every_key_is_shown_copied_and_applied() {
        let changed = Settings { max_parallel: 9, ..Settings::default() };
        for key in KEYS {
            assert!(show_key(&Settings::default(), key).is_some(), "{key} is shown");
            let mut settings = Settings::default();
            assert!(copy_key(&mut settings, &changed, key), "{key} is copied");
            assert_eq!(apply_key(&mut settings, &changed, key, &Value::Null), Ok(()), "{key}: null falls back");
        }
        let mut settings = Settings::default();
        apply_key(&mut settings, &changed, "maxParallel", &Value::Null).unwrap();
        assert_eq!(settings.max_parallel, 9, "null takes the fallback's value");
        assert_eq!(apply_key(&mut settings, &changed, "colour", &json!(1)), Err(KeyError::Unknown));
    }

    #[test]
    fn an_api_key_pasted_as_the_variable_name_is_refused_without_quoting_it() {
        let mut settings = Settings::default();
        let refused = apply_key(&mut settings, &Settings::default(), "llm.apiKeyEnv", &json!("sk-live-123"));
        let Err(KeyError::Bad(message)) = refused else { panic!("{refused:?}") };
        assert!(!message.contains("sk-live"), "{message}");
        assert!(apply_key(&mut settings, &Settings::default(), "llm.apiKeyEnv", &json!("MY_KEY_2")).is_ok());
        assert_eq!(settings.llm.api_key_env, "MY_KEY_2");
        assert!(names_a_secret("llm.apiKey") && names_a_secret("llm.api_key") && names_a_secret("token"));
        assert!(!names_a_secret("llm.apiKeyEnv") && !names_a_secret("llm.contextTokens"));
    }
}
