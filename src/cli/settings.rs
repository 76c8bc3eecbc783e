//! The settings every command runs with, and `codelab-planner config`, which prints them. They
//! come from `config::load` (defaults < the user's `config.toml` < the workspace's
//! `codelab-planner.toml`; there is no editor here). A refused file or key is bad input (exit 2),
//! as is a `database` a shared file names outside the workspace; the user's own file and `--db`
//! may name any place.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{CliError, CliOptions, EXIT_OK, EXIT_USAGE};
use crate::config::keys::{KEYS, show_key};
use crate::config::{FileProblem, LoadedSettings, Origin, checked_database};

/// The files' settings, or every problem they have.
pub(super) async fn load(workspace_root: &Path) -> Result<LoadedSettings, CliError> {
    let loaded = crate::config::load(workspace_root).await;
    if loaded.problems.is_empty() { Ok(loaded) } else { Err(CliError::Settings(loaded.problems)) }
}

/// The database to open: `--db`, else the setting (checked), else `None` (the default).
pub(super) fn database(
    workspace_root: &Path,
    database_override: Option<&Path>,
    loaded: &LoadedSettings,
) -> Result<Option<PathBuf>, CliError> {
    let users_own = loaded.database_is_the_users(&loaded.settings);
    match checked_database(database_override, workspace_root, &loaded.settings, users_own) {
        Ok(database) => Ok(database),
        Err(why) => {
            let (file, line) = match loaded.origin("database") {
                Origin::UserFile { path, line } | Origin::WorkspaceFile { path, line } => (path, line),
                Origin::Default | Origin::Editor => (PathBuf::from("settings"), 1),
            };
            let message = format!(
                "{why}: a shared settings file may not choose where plans are written outside the workspace; \
                 set it in your user file or pass --db"
            );
            Err(CliError::Settings(vec![FileProblem {
                file,
                line,
                column: 1,
                key: Some("database".to_owned()),
                message,
            }]))
        }
    }
}

/// `codelab-planner config`: every key, its value in force and where it came from; the files'
/// problems on stderr (exit 2).
pub(super) async fn show(options: &CliOptions) -> i32 {
    let workspace_root = match std::env::current_dir() {
        Ok(folder) => folder,
        Err(cause) => {
            eprintln!("codelab-planner: current folder: {cause}");
            return super::EXIT_FAILED;
        }
    };
    let loaded = crate::config::load(&workspace_root).await;
    let rows: Vec<(&str, String, String)> = KEYS
        .iter()
        .map(|key| {
            let value = show_key(&loaded.settings, key).unwrap_or_default();
            match (*key, &options.database) {
                ("database", Some(path)) => (*key, json!(path.display().to_string()).to_string(), "--db".to_owned()),
                _ => (*key, value, loaded.origin(key).to_string()),
            }
        })
        .collect();
    if options.json {
        let settings: Vec<_> = rows
            .iter()
            .map(|(key, value, origin)| json!({ "key": key, "value": typed(value), "source": origin }))
            .collect();
        let files: Vec<_> = loaded
            .files
            .iter()
            .map(|(path, exists)| json!({ "path": path.display().to_string(), "exists": exists }))
            .collect();
        let problems: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        super::print_line(&json!({ "settings": settings, "files": files, "problems": problems }).to_string());
    } else {
        for (path, exists) in &loaded.files {
            let state = if *exists { "read" } else { "not found" };
            super::print_line(&format!("# {} ({state})", path.display()));
        }
        let width = rows.iter().map(|(key, value, _)| key.len() + value.chars().count()).max().unwrap_or(0) + 4;
        for (key, value, origin) in &rows {
            let pair = format!("{key} = {value}");
            super::print_line(&format!("{pair:<width$}# {origin}"));
        }
    }
    for problem in &loaded.problems {
        eprintln!("codelab-planner: {problem}");
    }
    if loaded.problems.is_empty() { EXIT_OK } else { EXIT_USAGE }
}

/// A shown value as JSON: a string, a number, or `null` for one not set.
fn typed(shown: &str) -> serde_json::Value {
    serde_json::from_str(shown).unwrap_or(serde_json::Value::Null)
}
