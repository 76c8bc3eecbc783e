//! Where the `database` setting leads: `--db` anywhere; the user's own file anywhere too (as
//! `--db`); a workspace's file or an editor's settings only inside the workspace, by the one
//! confinement (a shared file may not choose where outside it the planner writes). A change
//! while a planner runs is announced, since the file is opened at start only.

use std::path::{Path, PathBuf};

use super::{Settings, default_database_path};

/// The database `settings` ask for (`None`: the default), and why their choice was refused: a
/// workspace's settings may not choose where outside it the server writes (only `--db` and the
/// user's own file, `users_own`, may; `--db` overrides them). A refused choice falls back to
/// the default (the language server warns and goes on).
pub fn resolve_database(
    database_override: Option<&Path>,
    workspace_root: &Path,
    settings: &Settings,
    users_own: bool,
) -> (Option<PathBuf>, Option<String>) {
    match checked_database(database_override, workspace_root, settings, users_own) {
        Ok(database) => (database, None),
        Err(why) => (
            Some(default_database_path(workspace_root)),
            Some(format!("{why}; using the default (start the server with --db to choose another place)")),
        ),
    }
}

/// Like [`resolve_database`], but a refused choice is an error (the command line stops on it).
pub fn checked_database(
    database_override: Option<&Path>,
    workspace_root: &Path,
    settings: &Settings,
    users_own: bool,
) -> Result<Option<PathBuf>, String> {
    let anywhere = |path: &Path| if path.is_relative() { workspace_root.join(path) } else { path.to_path_buf() };
    match (database_override, &settings.database) {
        (Some(path), _) => Ok(Some(anywhere(path))),
        (None, Some(requested)) if users_own => Ok(Some(anywhere(requested))),
        (None, Some(requested)) => confined_database(workspace_root, requested).map(Some),
        (None, None) => Ok(None),
    }
}

/// What to tell the person when `settings` name another database than `in_use`, the one the
/// running planner opened (it opens one at start only); `None` when the setting did not change
/// or still names that file.
pub fn database_change_notice(
    database_override: Option<&Path>,
    workspace_root: &Path,
    previous: &Settings,
    settings: &Settings,
    users_own: bool,
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
    let (wanted, _) = resolve_database(None, workspace_root, settings, users_own);
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
pub fn confined_database(workspace_root: &Path, requested: &Path) -> std::result::Result<PathBuf, String> {
    let refused =
        |why: String| format!("the database setting {} is outside the workspace ({why})", requested.display());
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let notice = database_change_notice(None, root.path(), &before, &moved, false, &in_use).unwrap();
        assert!(notice.contains("moved.db") && notice.contains("until the server restarts"), "{notice}");
        let same = Settings { database: Some(PathBuf::from(".codelab/planner.db")), ..Settings::default() };
        assert_eq!(database_change_notice(None, root.path(), &before, &same, false, &in_use), None);
        assert_eq!(database_change_notice(None, root.path(), &moved, &moved, false, &in_use), None);
        let ignored =
            database_change_notice(Some(Path::new("/x.db")), root.path(), &before, &moved, false, &in_use).unwrap();
        assert!(ignored.contains("--db"), "{ignored}");
    }

    #[test]
    fn the_users_own_file_may_choose_a_database_outside_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        let outside = Settings { database: Some(PathBuf::from("/var/tmp/plans.db")), ..Settings::default() };
        let (shared, refused) = resolve_database(None, root.path(), &outside, false);
        assert_eq!(shared, Some(default_database_path(root.path())));
        assert!(refused.unwrap().contains("outside the workspace"));
        let (users, refused) = resolve_database(None, root.path(), &outside, true);
        assert_eq!((users, refused), (Some(PathBuf::from("/var/tmp/plans.db")), None));
        let (overridden, _) = resolve_database(Some(Path::new("/x.db")), root.path(), &outside, true);
        assert_eq!(overridden, Some(PathBuf::from("/x.db")), "--db wins");
    }
}
