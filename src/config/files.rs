//! The settings files: `codelab-planner.toml` at the workspace root (shareable: no secrets, and
//! nothing that chooses which secret is sent) and the user's
//! `$XDG_CONFIG_HOME/codelab-planner/config.toml` (else `~/.config/…`). Both hold the editor's
//! keys (`config::keys`), as TOML tables or dotted keys. [`load`] is the one function every face
//! calls: defaults, then the user file, then the workspace file; an editor's settings go on top
//! (`lsp::config`). Every refused key is a [`FileProblem`] naming the file, line and key; the key
//! keeps the value of the layer below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use toml_edit::{ImDocument, Item, TableLike};

use super::Settings;
use super::keys::{GROUPS, KEYS, KeyError, apply_key, names_a_secret};
use crate::planfile::line_and_column;
use crate::textfile::{TextFileError, read_text};

/// The workspace's settings file, at its root.
pub const WORKSPACE_FILE: &str = "codelab-planner.toml";
/// The user's settings file, under the configuration folder.
pub const USER_FILE: &str = "codelab-planner/config.toml";
/// A settings file larger than this is refused.
pub const MAX_SETTINGS_FILE_BYTES: u64 = 256 * 1024;

/// Keys that choose which secret is sent where: the user's to set, never a shared file's (a
/// cloned repository could otherwise send a key or a file of the user's to its own server).
const USER_ONLY_KEYS: &[&str] = &["llm.apiKeyEnv", "llm.apiKeyFile"];

/// Where a setting in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    UserFile {
        path: PathBuf,
        line: usize,
    },
    WorkspaceFile {
        path: PathBuf,
        line: usize,
    },
    /// An editor's settings (`initializationOptions`, `workspace/configuration`).
    Editor,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => formatter.write_str("default"),
            Origin::UserFile { path, line } | Origin::WorkspaceFile { path, line } => {
                write!(formatter, "{}:{line}", path.display())
            }
            Origin::Editor => formatter.write_str("editor settings"),
        }
    }
}

/// A refused settings file or key: `file:line:column: key: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {}{message}", .file.display(), .key.as_ref().map(|key| format!("{key}: ")).unwrap_or_default())]
pub struct FileProblem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: Option<String>,
    pub message: String,
}

/// The settings the files give, where each key came from, and what was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedSettings {
    pub settings: Settings,
    /// Keys set by a file (others are defaults).
    pub origins: BTreeMap<&'static str, Origin>,
    pub problems: Vec<FileProblem>,
    /// The files looked at, in the order applied: `(path, whether it exists)`.
    pub files: Vec<(PathBuf, bool)>,
}

impl LoadedSettings {
    /// Where `key` came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    /// Whether `settings` (the ones in force) take their `database` from the user's own file:
    /// that one may name a place outside the workspace, as `--db` may.
    pub fn database_is_the_users(&self, settings: &Settings) -> bool {
        matches!(self.origin("database"), Origin::UserFile { .. }) && settings.database == self.settings.database
    }
}

/// The user's settings file: `$XDG_CONFIG_HOME/codelab-planner/config.toml`, else
/// `$HOME/.config/codelab-planner/config.toml`; `None` without either.
pub fn user_file_path() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|path| path.is_absolute());
    absolute("XDG_CONFIG_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".config")))
        .map(|folder| folder.join(USER_FILE))
}

/// Reads the user's and the workspace's settings files over the defaults.
pub async fn load(workspace_root: &Path) -> LoadedSettings {
    let mut loaded = LoadedSettings {
        settings: Settings::default(),
        origins: BTreeMap::new(),
        problems: Vec::new(),
        files: Vec::new(),
    };
    let user = user_file_path().map(|path| (path, Layer::User));
    let workspace = Some((workspace_root.join(WORKSPACE_FILE), Layer::Workspace));
    for (path, layer) in user.into_iter().chain(workspace) {
        let text = match read_text(&path, MAX_SETTINGS_FILE_BYTES).await {
            Ok(text) => text,
            Err(TextFileError::NotFound) => {
                loaded.files.push((path, false));
                continue;
            }
            Err(error) => {
                let (line, column) = error.position().unwrap_or((1, 1));
                loaded.problems.push(FileProblem {
                    file: path.clone(),
                    line,
                    column,
                    key: None,
                    message: error.to_string(),
                });
                loaded.files.push((path, true));
                continue;
            }
        };
        apply_file(&mut loaded, &path, layer, &text);
        loaded.files.push((path, true));
    }
    loaded
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    User,
    Workspace,
}

/// One key of a file: its dotted name, its value as JSON, and where it is.
struct Entry {
    key: String,
    value: Value,
    line: usize,
    column: usize,
}

/// Applies one file's keys onto `loaded` (the layer below is what `loaded` holds).
fn apply_file(loaded: &mut LoadedSettings, path: &Path, layer: Layer, text: &str) {
    let problem = |line: usize, column: usize, key: Option<&str>, message: String| FileProblem {
        file: path.to_path_buf(),
        line,
        column,
        key: key.map(str::to_owned),
        message,
    };
    let document = match ImDocument::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let (line, column) = line_and_column(text, error.span().map_or(0, |span| span.start));
            let message = error.message().lines().next().unwrap_or("invalid toml").trim().to_owned();
            loaded.problems.push(problem(line, column, None, format!("toml: {message}")));
            return;
        }
    };
    let mut entries = Vec::new();
    collect(document.as_table(), "", text, &mut entries);
    for entry in entries {
        let at = |message: String| problem(entry.line, entry.column, Some(&entry.key), message);
        if layer == Layer::Workspace && USER_ONLY_KEYS.contains(&entry.key.as_str()) {
            loaded.problems.push(at(format!(
                "not allowed in the shared {WORKSPACE_FILE}: it chooses which secret is sent; set it in your user \
                 file (~/.config/{USER_FILE}) or your editor's settings"
            )));
            continue;
        }
        if names_a_secret(&entry.key) {
            loaded.problems.push(at(
                "keys do not belong in settings files: put the key in the environment variable llm.apiKeyEnv names \
                 (OPENAI_API_KEY by default) or in the file llm.apiKeyFile names (in your user file)"
                    .to_owned(),
            ));
            continue;
        }
        let below = loaded.settings.clone();
        match apply_key(&mut loaded.settings, &below, &entry.key, &entry.value) {
            Ok(()) => {
                let Some(key) = KEYS.iter().copied().find(|known| *known == entry.key) else { continue };
                let (path, line) = (path.to_path_buf(), entry.line);
                let origin = match layer {
                    Layer::User => Origin::UserFile { path, line },
                    Layer::Workspace => Origin::WorkspaceFile { path, line },
                };
                loaded.origins.insert(key, origin);
            }
            Err(KeyError::Unknown) => loaded.problems.push(at("unknown setting".to_owned())),
            Err(KeyError::Bad(message)) => loaded.problems.push(at(message)),
        }
    }
}

/// The leaf keys of `table` (groups' tables and inline tables become dotted keys).
fn collect(table: &dyn TableLike, prefix: &str, text: &str, out: &mut Vec<Entry>) {
    for (name, item) in table.iter() {
        let key = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
        let start = table.get_key_value(name).and_then(|(key, _)| key.span()).map_or(0, |span| span.start);
        let (line, column) = line_and_column(text, start);
        match item.as_table_like() {
            Some(inner) if GROUPS.contains(&key.as_str()) => collect(inner, &key, text, out),
            _ => out.push(Entry { key, value: json_of(item), line, column }),
        }
    }
}

/// A TOML item as the JSON value the key parsers take (a table as an object, a date as text).
fn json_of(item: &Item) -> Value {
    use toml_edit::Value as Toml;
    let Some(value) = item.as_value() else {
        return match item.as_table_like() {
            Some(table) => Value::Object(table.iter().map(|(name, item)| (name.to_owned(), json_of(item))).collect()),
            None => Value::Null,
        };
    };
    match value {
        Toml::String(text) => Value::String(text.value().clone()),
        Toml::Integer(number) => Value::from(*number.value()),
        Toml::Float(number) => serde_json::Number::from_f64(*number.value()).map_or(Value::Null, Value::Number),
        Toml::Boolean(flag) => Value::Bool(*flag.value()),
        Toml::Datetime(date) => Value::String(date.value().to_string()),
        Toml::Array(array) => Value::Array(array.iter().map(|value| json_of(&Item::Value(value.clone()))).collect()),
        Toml::InlineTable(table) => Value::Object(
            table.iter().map(|(name, value)| (name.to_owned(), json_of(&Item::Value(value.clone())))).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(layer: Layer, text: &str) -> LoadedSettings {
        let mut loaded = LoadedSettings {
            settings: Settings::default(),
            origins: BTreeMap::new(),
            problems: Vec::new(),
            files: Vec::new(),
        };
        apply_file(&mut loaded, Path::new("codelab-planner.toml"), layer, text);
        loaded
    }

    #[test]
    fn tables_dotted_keys_and_inline_tables_give_the_editor_keys() {
        let text = "maxParallel = 3\napproval.tools = \"auto\"\n[llm]\nbaseUrl = \"http://127.0.0.1:9/v1\"\n\
                    roles = { plan = \"big\" }\n";
        let loaded = apply(Layer::Workspace, text);
        assert_eq!(loaded.problems, vec![]);
        assert_eq!(loaded.settings.max_parallel, 3);
        assert_eq!(loaded.settings.tool_approval, crate::config::ToolApproval::Auto);
        assert_eq!(loaded.settings.llm.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(loaded.settings.llm.roles.plan.as_deref(), Some("big"));
        assert_eq!(loaded.origin("llm.baseUrl").to_string(), "codelab-planner.toml:4");
        assert_eq!(loaded.origin("llm.model"), Origin::Default);
    }

    #[test]
    fn a_bad_key_or_value_names_the_file_line_and_key_and_keeps_the_layer_below() {
        let loaded = apply(Layer::User, "maxParallel = 2\n\n[llm]\ntimeoutSecs = -1\ncolour = \"blue\"\n");
        let shown: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "codelab-planner.toml:4:1: llm.timeoutSecs: expected a positive integer, got -1",
                "codelab-planner.toml:5:1: llm.colour: unknown setting",
            ]
        );
        assert_eq!(loaded.settings.llm.timeout_secs, Settings::default().llm.timeout_secs);
        assert_eq!(loaded.settings.max_parallel, 2);
        let broken = apply(Layer::User, "maxParallel = \n");
        assert!(broken.problems[0].to_string().starts_with("codelab-planner.toml:1:"), "{:?}", broken.problems);
    }

    #[test]
    fn a_key_in_a_settings_file_is_refused_without_repeating_it() {
        let loaded = apply(Layer::Workspace, "[llm]\napiKey = \"sk-live-abcdef\"\napiKeyFile = \"~/.llm-key\"\n");
        let shown: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("codelab-planner.toml:2:1: llm.apiKey: keys do not belong"), "{shown:?}");
        assert!(shown[0].contains("llm.apiKeyFile") && !shown[0].contains("sk-live"), "{shown:?}");
        assert!(shown[1].contains("llm.apiKeyFile: not allowed in the shared"), "{shown:?}");
        let users = apply(Layer::User, "llm.apiKeyFile = \"/run/keys/llm\"\n");
        assert_eq!(users.problems, vec![]);
        assert_eq!(users.settings.llm.api_key_file, Some(PathBuf::from("/run/keys/llm")));
    }
}
