//! Parsing of the client's `codelabPlanner` settings object (from `initializationOptions`,
//! `workspace/configuration` or `workspace/didChangeConfiguration`) into [`Settings`], and where
//! the `database` setting leads (confined to the workspace; a change while the planner runs is
//! announced, since the file is opened at start only).
//!
//! Accepts nested objects (`{"approval": {"plans": "always"}}`) and dotted keys
//! (`{"approval.plans": "always"}`). An unknown key is a warning; a bad value is refused with a
//! message naming the key and the value, and the previous value of that key is kept. A key that
//! is absent takes its `initializationOptions` value, else its default; `null` takes its default. The API key itself is never read here, only the name
//! of the variable that holds it, so nothing secret can reach a log.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::config::{
    LlmClassify, LlmSettings, PlanApproval, SandboxCommands, Settings, ToolApproval, WithoutModel,
    default_database_path, default_max_parallel,
};
use crate::model::FailurePolicy;

/// The configuration section name.
pub const SECTION: &str = "codelabPlanner";

/// The result of parsing: the settings to use and what the user should be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSettings {
    pub settings: Settings,
    /// Unknown keys.
    pub warnings: Vec<String>,
    /// Refused values (the previous value was kept).
    pub errors: Vec<String>,
}

/// Parses `value`: either the `codelabPlanner` object itself or an object that holds it under
/// `codelabPlanner`. Returns `None` when `value` is not an object (nothing to apply).
pub fn parse_settings(value: &Value, previous: &Settings) -> Option<ParsedSettings> {
    parse_settings_over(value, &Settings::default(), previous)
}

/// Like [`parse_settings`], on top of `base` (the settings `initializationOptions` gave): a key
/// `value` leaves out keeps its `base` value, so an editor's `workspace/configuration` answer
/// and the plugin's `initializationOptions` combine (a key given only in either is applied); a
/// `null` key still takes its default, and a refused one keeps `previous`.
pub fn parse_settings_over(value: &Value, base: &Settings, previous: &Settings) -> Option<ParsedSettings> {
    let object = value.as_object()?;
    let section = match object.get(SECTION) {
        Some(Value::Object(inner)) => inner,
        _ => object,
    };
    let mut flat = Vec::new();
    flatten(section, "", &mut flat);
    let mut parsed = ParsedSettings { settings: base.clone(), warnings: Vec::new(), errors: Vec::new() };
    for (key, value) in flat {
        if let Err(message) = apply_key(&mut parsed.settings, previous, &key, &value) {
            match message {
                KeyError::Unknown => parsed.warnings.push(format!("unknown setting \"{SECTION}.{key}\" ignored")),
                KeyError::Bad(message) => parsed.errors.push(format!("{key}: {message}")),
            }
        }
    }
    Some(parsed)
}

/// The database `settings` ask for (`None`: the default), and why their choice was refused: a
/// workspace's settings may not choose where outside it the server writes (only `--db` may, and
/// it overrides them).
pub fn resolve_database(
    database_override: Option<&Path>,
    workspace_root: &Path,
    settings: &Settings,
) -> (Option<PathBuf>, Option<String>) {
    let mut refused = None;
    let database = match (database_override, &settings.database) {
        (Some(path), _) => Some(if path.is_relative() { workspace_root.join(path) } else { path.to_path_buf() }),
        (None, Some(requested)) => match confined_database(workspace_root, requested) {
            Ok(path) => Some(path),
            Err(why) => {
                refused = Some(why);
                Some(default_database_path(workspace_root))
            }
        },
        (None, None) => None,
    };
    (database, refused)
}

/// What to tell the person when `settings` name another database than `in_use`, the one the
/// running planner opened (it opens one at start only); `None` when the setting did not change
/// or still names that file.
pub fn database_change_notice(
    database_override: Option<&Path>,
    workspace_root: &Path,
    previous: &Settings,
    settings: &Settings,
    in_use: &Path,
) -> Option<String> {
    if previous.database == settings.database {
        return None;
    }
    if database_override.is_some() {
        return Some(format!(
            "codelab-planner: the database setting is ignored: the server was started with --db {}",
            in_use.display()
        ));
    }
    let (wanted, _) = resolve_database(None, workspace_root, settings);
    let wanted = wanted.unwrap_or_else(|| default_database_path(workspace_root));
    (real_path(&wanted) != real_path(in_use)).then(|| {
        format!(
            "codelab-planner: the database setting now names {}; plans stay in {} until the server restarts \
             (restart it to use the new file)",
            wanted.display(),
            in_use.display()
        )
    })
}

/// The `database` setting resolved inside `workspace_root` by the one confinement (symlinks
/// followed where the path exists), or why it is refused.
fn confined_database(workspace_root: &Path, requested: &Path) -> std::result::Result<PathBuf, String> {
    let refused = |why: String| {
        format!(
            "the database setting {} is outside the workspace ({why}); using the default (start the server with --db to choose another place)",
            requested.display()
        )
    };
    let workspace = crate::confine::Workspace::new(workspace_root).map_err(|error| refused(error.to_string()))?;
    workspace.resolve_setting(requested).map(|inside| inside.absolute).map_err(|error| refused(error.to_string()))
}

/// `path` with `.` and `..` resolved and the longest existing prefix canonicalized (to compare
/// two spellings of one file; what is inside the workspace is `confine`'s question).
fn real_path(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                normal.pop();
            }
            std::path::Component::CurDir => {}
            other => normal.push(other),
        }
    }
    let mut existing = normal.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else { return normal };
        rest.push(name.to_owned());
        existing = parent;
    }
    let mut resolved = existing.canonicalize().unwrap_or_else(|_| existing.to_path_buf());
    resolved.extend(rest.iter().rev());
    resolved
}

/// Nested objects of the known groups become dotted keys; everything else is kept as is.
fn flatten(object: &Map<String, Value>, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (key, value) in object {
        let full_key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner)
                if matches!(full_key.as_str(), "approval" | "llm" | "llm.roles" | "agents" | "sandbox") =>
            {
                flatten(inner, &full_key, out)
            }
            _ => out.push((full_key, value.clone())),
        }
    }
}

enum KeyError {
    Unknown,
    Bad(String),
}

fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 { format!("{}…", text.chars().take(60).collect::<String>()) } else { text }
}

fn apply_key(settings: &mut Settings, previous: &Settings, key: &str, value: &Value) -> Result<(), KeyError> {
    let result = match key {
        "database" => parse_optional_string(value).map(|path| settings.database = path.map(PathBuf::from)),
        "maxParallel" => parse_positive(value, default_max_parallel() as u64)
            .map(|count| settings.max_parallel = usize::try_from(count).unwrap_or(usize::MAX)),
        "failurePolicy" => {
            parse_choice(value, FailurePolicy::Continue, FailurePolicy::parse, &FailurePolicy::expected())
                .map(|policy| settings.failure_policy = policy)
        }
        "approval.plans" => {
            parse_choice(value, PlanApproval::Complex, parse_plan_approval, "\"complex\", \"always\", \"never\"")
                .map(|approval| settings.plan_approval = approval)
        }
        "approval.tools" => parse_choice(value, ToolApproval::Ask, parse_tool_approval, "\"ask\", \"auto\"")
            .map(|approval| settings.tool_approval = approval),
        "llm.baseUrl" => parse_optional_string(value).map(|url| settings.llm.base_url = url),
        "llm.model" => parse_optional_string(value).map(|model| settings.llm.model = model),
        "llm.apiKeyEnv" => parse_optional_string(value)
            .map(|name| settings.llm.api_key_env = name.unwrap_or_else(|| LlmSettings::default().api_key_env)),
        "llm.apiKeyFile" => parse_optional_string(value)
            .map(|path| settings.llm.api_key_file = path.filter(|path| !path.trim().is_empty()).map(Into::into)),
        "llm.timeoutSecs" => parse_positive(value, LlmSettings::default().timeout_secs)
            .map(|seconds| settings.llm.timeout_secs = seconds),
        "llm.roles.classify" => parse_optional_string(value).map(|model| settings.llm.roles.classify = model),
        "llm.roles.plan" => parse_optional_string(value).map(|model| settings.llm.roles.plan = model),
        "llm.roles.agent" => parse_optional_string(value).map(|model| settings.llm.roles.agent = model),
        "llm.contextTokens" => parse_positive(value, LlmSettings::default().context_tokens)
            .map(|tokens| settings.llm.context_tokens = tokens),
        "llm.maxToolCalls" => parse_positive(value, u64::from(LlmSettings::default().max_tool_calls))
            .map(|calls| settings.llm.max_tool_calls = u32::try_from(calls).unwrap_or(u32::MAX)),
        "llm.classify" => {
            parse_choice(value, LlmClassify::WhenUnsure, parse_llm_classify, "\"always\", \"whenUnsure\", \"never\"")
                .map(|mode| settings.llm.classify = mode)
        }
        "agents.withoutModel" => parse_choice(value, WithoutModel::Manual, parse_without_model, "\"manual\", \"fail\"")
            .map(|mode| settings.without_model = mode),
        "sandbox.commands" => {
            parse_choice(value, SandboxCommands::Workspace, parse_sandbox_commands, "\"workspace\", \"off\"")
                .map(|mode| settings.sandbox_commands = mode)
        }
        _ => return Err(KeyError::Unknown),
    };
    result.map_err(|message| {
        keep_previous(settings, previous, key);
        KeyError::Bad(message)
    })
}

fn keep_previous(settings: &mut Settings, previous: &Settings, key: &str) {
    match key {
        "database" => settings.database = previous.database.clone(),
        "maxParallel" => settings.max_parallel = previous.max_parallel,
        "failurePolicy" => settings.failure_policy = previous.failure_policy,
        "approval.plans" => settings.plan_approval = previous.plan_approval,
        "approval.tools" => settings.tool_approval = previous.tool_approval,
        "llm.baseUrl" => settings.llm.base_url = previous.llm.base_url.clone(),
        "llm.model" => settings.llm.model = previous.llm.model.clone(),
        "llm.apiKeyEnv" => settings.llm.api_key_env = previous.llm.api_key_env.clone(),
        "llm.apiKeyFile" => settings.llm.api_key_file = previous.llm.api_key_file.clone(),
        "llm.timeoutSecs" => settings.llm.timeout_secs = previous.llm.timeout_secs,
        "llm.roles.classify" => settings.llm.roles.classify = previous.llm.roles.classify.clone(),
        "llm.roles.plan" => settings.llm.roles.plan = previous.llm.roles.plan.clone(),
        "llm.roles.agent" => settings.llm.roles.agent = previous.llm.roles.agent.clone(),
        "llm.contextTokens" => settings.llm.context_tokens = previous.llm.context_tokens,
        "llm.maxToolCalls" => settings.llm.max_tool_calls = previous.llm.max_tool_calls,
        "llm.classify" => settings.llm.classify = previous.llm.classify,
        "agents.withoutModel" => settings.without_model = previous.without_model,
        "sandbox.commands" => settings.sandbox_commands = previous.sandbox_commands,
        _ => {}
    }
}

fn parse_optional_string(value: &Value) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(format!("expected a string, got {}", describe(other))),
    }
}

fn parse_positive(value: &Value, default: u64) -> Result<u64, String> {
    match value {
        Value::Null => Ok(default),
        Value::Number(number) => match number.as_u64() {
            Some(count) if count >= 1 => Ok(count),
            _ => Err(format!("expected a positive integer, got {number}")),
        },
        other => Err(format!("expected a positive integer, got {}", describe(other))),
    }
}

fn parse_choice<T>(value: &Value, default: T, parse: fn(&str) -> Option<T>, expected: &str) -> Result<T, String> {
    match value {
        Value::Null => Ok(default),
        Value::String(text) => parse(text).ok_or_else(|| format!("unknown value \"{text}\" (expected {expected})")),
        other => Err(format!("expected one of {expected}, got {}", describe(other))),
    }
}

fn parse_plan_approval(text: &str) -> Option<PlanApproval> {
    match text {
        "complex" => Some(PlanApproval::Complex),
        "always" => Some(PlanApproval::Always),
        "never" => Some(PlanApproval::Never),
        _ => None,
    }
}

fn parse_llm_classify(text: &str) -> Option<LlmClassify> {
    match text {
        "always" => Some(LlmClassify::Always),
        "whenUnsure" => Some(LlmClassify::WhenUnsure),
        "never" => Some(LlmClassify::Never),
        _ => None,
    }
}

fn parse_without_model(text: &str) -> Option<WithoutModel> {
    match text {
        "manual" => Some(WithoutModel::Manual),
        "fail" => Some(WithoutModel::Fail),
        _ => None,
    }
}

fn parse_sandbox_commands(text: &str) -> Option<SandboxCommands> {
    match text {
        "workspace" => Some(SandboxCommands::Workspace),
        "off" => Some(SandboxCommands::Off),
        _ => None,
    }
}

fn parse_tool_approval(text: &str) -> Option<ToolApproval> {
    match text {
        "ask" => Some(ToolApproval::Ask),
        "auto" => Some(ToolApproval::Auto),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> ParsedSettings {
        parse_settings(&value, &Settings::default()).unwrap()
    }

    #[test]
    fn empty_object_gives_defaults_and_non_objects_give_nothing() {
        assert_eq!(parse(json!({})).settings, Settings::default());
        assert!(parse_settings(&Value::Null, &Settings::default()).is_none());
        assert!(parse_settings(&json!([1]), &Settings::default()).is_none());
    }

    #[test]
    fn database_is_a_path_or_null() {
        assert_eq!(parse(json!({"database": "/tmp/x.db"})).settings.database, Some(PathBuf::from("/tmp/x.db")));
        assert_eq!(parse(json!({"database": null})).settings.database, None);
        assert_eq!(parse(json!({"database": 3})).errors, vec!["database: expected a string, got 3".to_owned()]);
    }

    #[test]
    fn max_parallel_must_be_positive_and_keeps_the_previous_value() {
        assert_eq!(parse(json!({"maxParallel": 7})).settings.max_parallel, 7);
        let previous = Settings { max_parallel: 5, ..Settings::default() };
        let parsed = parse_settings(&json!({"maxParallel": -3}), &previous).unwrap();
        assert_eq!(parsed.errors, vec!["maxParallel: expected a positive integer, got -3".to_owned()]);
        assert_eq!(parsed.settings.max_parallel, 5);
        assert_eq!(parse(json!({"maxParallel": 0})).errors.len(), 1);
        assert_eq!(parse(json!({"maxParallel": "4"})).errors.len(), 1);
    }

    #[test]
    fn failure_policy_names() {
        assert_eq!(parse(json!({"failurePolicy": "failFast"})).settings.failure_policy, FailurePolicy::FailFast);
        let parsed = parse(json!({"failurePolicy": "stop"}));
        assert!(parsed.errors[0].starts_with("failurePolicy: unknown value \"stop\""), "{:?}", parsed.errors);
        assert_eq!(parsed.settings.failure_policy, FailurePolicy::Continue);
    }

    #[test]
    fn approval_nested_and_dotted() {
        let nested = parse(json!({"approval": {"plans": "always", "tools": "auto"}})).settings;
        assert_eq!((nested.plan_approval, nested.tool_approval), (PlanApproval::Always, ToolApproval::Auto));
        let dotted = parse(json!({"approval.plans": "never", "approval.tools": "ask"})).settings;
        assert_eq!((dotted.plan_approval, dotted.tool_approval), (PlanApproval::Never, ToolApproval::Ask));
        assert_eq!(parse(json!({"approval": {"plans": "sometimes"}})).errors.len(), 1);
        assert_eq!(parse(json!({"approval.tools": true})).errors.len(), 1);
    }

    #[test]
    fn the_command_sandbox_is_on_unless_turned_off() {
        assert_eq!(parse(json!({})).settings.sandbox_commands, SandboxCommands::Workspace);
        assert_eq!(parse(json!({"sandbox": {"commands": "off"}})).settings.sandbox_commands, SandboxCommands::Off);
        let bad = parse(json!({"sandbox.commands": "none"}));
        assert!(bad.errors[0].contains("sandbox.commands"), "{:?}", bad.errors);
        assert_eq!(bad.settings.sandbox_commands, SandboxCommands::Workspace);
    }

    #[test]
    fn llm_keys() {
        let settings = parse(json!({"llm": {"baseUrl": "http://127.0.0.1:9/v1", "model": "m", "apiKeyEnv": "MY_KEY", "timeoutSecs": 30}})).settings;
        assert_eq!(settings.llm.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(settings.llm.model.as_deref(), Some("m"));
        assert_eq!(settings.llm.api_key_env, "MY_KEY");
        let from_file = parse(json!({"llm": {"apiKeyFile": "/run/user/1000/llm-key"}})).settings;
        assert_eq!(from_file.llm.api_key_file.as_deref(), Some(std::path::Path::new("/run/user/1000/llm-key")));
        assert_eq!(settings.llm.timeout_secs, 30);
        let dotted = parse(json!({"llm.timeoutSecs": -1, "llm.apiKeyEnv": null}));
        assert_eq!(dotted.errors, vec!["llm.timeoutSecs: expected a positive integer, got -1".to_owned()]);
        assert_eq!(dotted.settings.llm, LlmSettings::default());
    }

    #[test]
    fn second_wave_keys_nested_and_dotted() {
        let settings = parse(json!({
            "llm": {"roles": {"plan": "big", "agent": "small"}, "contextTokens": 4096, "maxToolCalls": 7, "classify": "always"},
            "agents": {"withoutModel": "fail"},
            "llm.roles.classify": "tiny"
        }))
        .settings;
        assert_eq!(settings.llm.roles.plan.as_deref(), Some("big"));
        assert_eq!(settings.llm.roles.agent.as_deref(), Some("small"));
        assert_eq!(settings.llm.roles.classify.as_deref(), Some("tiny"));
        assert_eq!((settings.llm.context_tokens, settings.llm.max_tool_calls), (4096, 7));
        assert_eq!(settings.llm.classify, LlmClassify::Always);
        assert_eq!(settings.without_model, WithoutModel::Fail);
        let bad = parse(json!({"llm.classify": "sometimes", "agents.withoutModel": 1}));
        assert_eq!(bad.errors.len(), 2, "{:?}", bad.errors);
        assert_eq!(bad.settings.without_model, WithoutModel::Manual);
    }

    #[test]
    fn the_database_setting_is_confined_to_the_workspace_symlinks_included() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        let real_root = root.path().canonicalize().unwrap();
        let inside = confined_database(root.path(), Path::new("state/plans.db")).unwrap();
        assert_eq!(inside, real_root.join("state/plans.db"));
        assert!(confined_database(root.path(), Path::new("a/../b.db")).is_ok());
        assert!(confined_database(root.path(), Path::new("../escape.db")).is_err());
        assert!(confined_database(root.path(), &outside.path().join("x.db")).is_err());
        assert!(confined_database(root.path(), Path::new(".")).is_err(), "the root itself is not a file");
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        let refused = confined_database(root.path(), Path::new("link/escape.db")).unwrap_err();
        assert!(refused.contains("outside the workspace"), "{refused}");
    }

    #[test]
    fn a_changed_database_is_announced_unless_it_names_the_same_file() {
        let root = tempfile::tempdir().unwrap();
        let in_use = default_database_path(root.path());
        let before = Settings::default();
        let moved = Settings { database: Some(PathBuf::from("moved.db")), ..Settings::default() };
        let notice = database_change_notice(None, root.path(), &before, &moved, &in_use).unwrap();
        assert!(notice.contains("moved.db") && notice.contains("until the server restarts"), "{notice}");
        let same = Settings { database: Some(PathBuf::from(".codelab/planner.db")), ..Settings::default() };
        assert_eq!(database_change_notice(None, root.path(), &before, &same, &in_use), None);
        assert_eq!(database_change_notice(None, root.path(), &moved, &moved, &in_use), None);
        let ignored = database_change_notice(Some(Path::new("/x.db")), root.path(), &before, &moved, &in_use).unwrap();
        assert!(ignored.contains("--db"), "{ignored}");
    }

    #[test]
    fn keys_left_out_keep_the_base_and_null_takes_the_default() {
        let base = parse(json!({"database": "state/plans.db", "maxParallel": 3})).settings;
        let over = parse_settings_over(&json!({"failurePolicy": "failFast"}), &base, &base).unwrap().settings;
        assert_eq!(over.database, Some(PathBuf::from("state/plans.db")), "left out: the base value");
        assert_eq!((over.max_parallel, over.failure_policy), (3, FailurePolicy::FailFast));
        let cleared = parse_settings_over(&json!({"database": null}), &base, &base).unwrap().settings;
        assert_eq!(cleared.database, None, "null: the default");
        let only_there = parse_settings_over(&json!({"database": "x.db"}), &Settings::default(), &base).unwrap();
        assert_eq!(only_there.settings.database, Some(PathBuf::from("x.db")));
    }

    #[test]
    fn unknown_keys_are_warnings_and_the_section_wrapper_is_accepted() {
        let parsed = parse(json!({"codelabPlanner": {"maxParallel": 3, "colour": "blue", "llm": {"temperature": 1}}}));
        assert_eq!(parsed.settings.max_parallel, 3);
        assert_eq!(
            parsed.warnings,
            vec![
                "unknown setting \"codelabPlanner.colour\" ignored".to_owned(),
                "unknown setting \"codelabPlanner.llm.temperature\" ignored".to_owned()
            ]
        );
        assert!(parsed.errors.is_empty());
    }
}
