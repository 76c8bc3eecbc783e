//! Parsing of the client's `codelabPlanner` settings object (from `initializationOptions`,
//! `workspace/configuration` or `workspace/didChangeConfiguration`) into [`Settings`], on top of
//! what the settings files give (`config::files`): editor settings > workspace file > user file >
//! defaults. The keys themselves are `config::keys`', shared with the files.
//!
//! Accepts nested objects (`{"approval": {"plans": "always"}}`) and dotted keys
//! (`{"approval.plans": "always"}`). An unknown key is a warning; a bad value is refused with a
//! message naming the key and the value, and the previous value of that key is kept. A key that
//! is absent takes its `initializationOptions` value, else the files' value; `null` takes the
//! files' value (else the default). The API key itself is never read here, only the name of the
//! variable or file that holds it, so nothing secret can reach a log.

use serde_json::Value;

use crate::config::Settings;
use crate::config::keys::{KeyError, apply_key, copy_key, flatten};

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

/// Parses `value` over `files` (what the settings files give): either the `codelabPlanner`
/// object itself or an object that holds it under `codelabPlanner`. Returns `None` when `value`
/// is not an object (nothing to apply).
pub fn parse_settings(value: &Value, files: &Settings) -> Option<ParsedSettings> {
    parse_settings_over(value, files, files, files)
}

/// Like [`parse_settings`], on top of `base` (the settings `initializationOptions` gave over the
/// files): a key `value` leaves out keeps its `base` value, so an editor's
/// `workspace/configuration` answer and the plugin's `initializationOptions` combine (a key given
/// only in either is applied); a `null` key takes its value in `files`, and a refused one keeps
/// `previous`.
pub fn parse_settings_over(
    value: &Value,
    base: &Settings,
    previous: &Settings,
    files: &Settings,
) -> Option<ParsedSettings> {
    let object = value.as_object()?;
    let section = match object.get(SECTION) {
        Some(Value::Object(inner)) => inner,
        _ => object,
    };
    let mut flat = Vec::new();
    flatten(section, "", &mut flat);
    let mut parsed = ParsedSettings { settings: base.clone(), warnings: Vec::new(), errors: Vec::new() };
    for (key, value) in flat {
        match apply_key(&mut parsed.settings, files, &key, &value) {
            Ok(()) => {}
            Err(KeyError::Unknown) => parsed.warnings.push(format!("unknown setting \"{SECTION}.{key}\" ignored")),
            Err(KeyError::Bad(message)) => {
                copy_key(&mut parsed.settings, previous, &key);
                parsed.errors.push(format!("{key}: {message}"));
            }
        }
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::config::{LlmClassify, LlmSettings, PlanApproval, SandboxCommands, ToolApproval, WithoutModel};
    use crate::model::FailurePolicy;

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
    fn keys_left_out_keep_the_base_and_null_takes_the_default() {
        let base = parse(json!({"database": "state/plans.db", "maxParallel": 3})).settings;
        let over = parse_settings_over(&json!({"failurePolicy": "failFast"}), &base, &base, &Settings::default())
            .unwrap()
            .settings;
        assert_eq!(over.database, Some(PathBuf::from("state/plans.db")), "left out: the base value");
        assert_eq!((over.max_parallel, over.failure_policy), (3, FailurePolicy::FailFast));
        let cleared =
            parse_settings_over(&json!({"database": null}), &base, &base, &Settings::default()).unwrap().settings;
        assert_eq!(cleared.database, None, "null: the default");
        let only_there =
            parse_settings_over(&json!({"database": "x.db"}), &Settings::default(), &base, &Settings::default())
                .unwrap();
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
