//! Opening the database file safely and migrating its schema.
//!
//! Order matters: the file is checked (SQLite header, `PRAGMA quick_check`, schema version)
//! before anything is written to it, so a file that is not ours is refused byte-identical.
//! Migrations are tracked in `PRAGMA user_version` and applied in one `BEGIN IMMEDIATE`
//! transaction; a newer version is refused, never rebuilt. No queries on plans live here.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::StoreError;

/// The schema version this server writes; `MIGRATIONS[n]` moves a database from `n` to `n + 1`.
pub const SCHEMA_VERSION: i64 = 9;

/// How long a statement waits for another connection's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

const MIGRATIONS: &[&str] = &[
    MIGRATION_1_INITIAL,
    MIGRATION_2_RUN_OWNER,
    MIGRATION_3_SUBTASK_CWD,
    MIGRATION_4_PLAN_SOURCE_FILE,
    super::planning::MIGRATION_PLANNING,
    MIGRATION_6_SUBTASK_USAGE,
    super::claims::MIGRATION_7_CLAIMS,
    MIGRATION_8_SUBTASK_ROLE,
    super::record::MIGRATION_RECORD,
];

/// What a subtask is for: `baseline` (a check run before the change) or `NULL` (a step).
const MIGRATION_8_SUBTASK_ROLE: &str = "ALTER TABLE subtasks ADD COLUMN role TEXT;";

/// Language-model tokens spent per subtask (over every attempt); plans roll them up when read.
const MIGRATION_6_SUBTASK_USAGE: &str = "
ALTER TABLE subtasks ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subtasks ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subtasks ADD COLUMN llm_calls INTEGER NOT NULL DEFAULT 0;";

/// The process that claimed a running plan (`pid:start time`), so that opening the database
/// from a second server process does not mistake a live run for a crashed one.
const MIGRATION_2_RUN_OWNER: &str = "ALTER TABLE plans ADD COLUMN run_owner TEXT;";

/// The workspace-relative directory a shell subtask runs in (`NULL` = the workspace root), so a
/// monorepo's build and test steps run in each project's own directory.
const MIGRATION_3_SUBTASK_CWD: &str = "ALTER TABLE subtasks ADD COLUMN cwd TEXT;";

/// The plan file (`*.plan.toml`) a plan was made from, looked up for editor lenses and hover.
const MIGRATION_4_PLAN_SOURCE_FILE: &str = "
ALTER TABLE plans ADD COLUMN source_file TEXT;
CREATE INDEX plans_by_source_file ON plans (source_file, seq DESC) WHERE source_file IS NOT NULL;
";

const MIGRATION_1_INITIAL: &str = "
CREATE TABLE plans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    title TEXT NOT NULL,
    goal TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    class_is_atomic INTEGER,
    class_agent TEXT,
    class_confidence TEXT,
    class_reason TEXT,
    class_method TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    approved_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    error TEXT,
    run_id TEXT,
    feedback TEXT
);
CREATE INDEX plans_by_session ON plans (session_id, seq DESC);
CREATE INDEX plans_by_status ON plans (status, seq DESC);
CREATE INDEX plans_by_session_status ON plans (session_id, status, seq DESC);

CREATE TABLE subtasks (
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    agent TEXT NOT NULL,
    command TEXT,
    depends_on TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    timeout_secs INTEGER,
    estimate_secs INTEGER,
    result TEXT,
    error TEXT,
    started_at INTEGER,
    finished_at INTEGER,
    UNIQUE (plan_seq, subtask_id)
);
CREATE INDEX subtasks_by_position ON subtasks (plan_seq, position);

CREATE TABLE plan_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    run_id TEXT,
    subtask_id TEXT,
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT
);
CREATE INDEX plan_events_by_plan ON plan_events (plan_seq, seq);

CREATE TABLE plan_versions (
    plan_seq INTEGER NOT NULL REFERENCES plans (seq) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    subtasks TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (plan_seq, version)
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE session_transitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    event TEXT NOT NULL,
    to_state TEXT NOT NULL,
    plan_id TEXT,
    detail TEXT
);
CREATE INDEX session_transitions_by_session ON session_transitions (session_id, seq);
";

/// Opens `path` for reading and writing, creating the folder and the file (mode 0600) when
/// absent, refusing a file that is not a healthy SQLite database of a supported version, and
/// bringing the schema up to [`SCHEMA_VERSION`]. Connection settings: WAL, `synchronous=NORMAL`,
/// `foreign_keys=ON`, [`BUSY_TIMEOUT`].
pub(crate) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    prepare_file(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut connection = Connection::open_with_flags(path, flags).map_err(|error| open_error(path, error))?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(|error| open_error(path, error))?;
    check_integrity(&connection, path)?;
    let found = read_user_version(&connection, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    configure(&connection, path)?;
    if found < SCHEMA_VERSION {
        migrate(&mut connection, path)?;
    }
    Ok(connection)
}

/// Creates the parent folder and an empty 0600 file if needed; refuses an existing file whose
/// first bytes are not the SQLite header (an empty file is a new database).
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    let open_failed = |cause: String| StoreError::Open { path: path.to_path_buf(), cause };
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|error| open_failed(format!("cannot create folder {}: {error}", parent.display())))?;
        ignore_state_folder(parent);
    }
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
        Err(error) => return Err(open_failed(format!("cannot create file: {error}"))),
    }
    let mut file = OpenOptions::new().read(true).open(path).map_err(|error| open_failed(error.to_string()))?;
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    (&mut file)
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(|error| open_failed(format!("cannot read file: {error}")))?;
    if header.is_empty() || header == SQLITE_HEADER {
        Ok(())
    } else {
        Err(StoreError::Corrupt { path: path.to_path_buf(), cause: "not a sqlite database (bad file header)".into() })
    }
}

/// The server's own folder (`.codelab`) holds local state, never meant for version control: it
/// gets a `.gitignore` ignoring everything in it, unless it already has one.
fn ignore_state_folder(folder: &Path) {
    if folder.file_name().is_none_or(|name| name != ".codelab") {
        return;
    }
    let ignore = folder.join(".gitignore");
    let created = OpenOptions::new().write(true).create_new(true).open(&ignore).and_then(|mut file| {
        std::io::Write::write_all(
            &mut file,
            b"# codelab-planner's local state (database, logs): not for version control\n*\n",
        )
    });
    match created {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
        Err(error) => tracing::warn!(path = %ignore.display(), %error, "cannot write .gitignore"),
    }
}

/// `PRAGMA quick_check` must answer exactly `ok`; reading does not modify the file.
fn check_integrity(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let corrupt = |cause: String| StoreError::Corrupt { path: path.to_path_buf(), cause };
    // The check reads every page once: through a small cache, so that it does not leave the
    // server holding megabytes of pages it will not read again.
    let cache_size: i64 =
        connection.pragma_query_value(None, "cache_size", |row| row.get(0)).map_err(|error| open_error(path, error))?;
    connection.pragma_update(None, "cache_size", CHECK_CACHE_SIZE).map_err(|error| open_error(path, error))?;
    let checked = run_quick_check(connection, path);
    connection.pragma_update(None, "cache_size", cache_size).map_err(|error| open_error(path, error))?;
    let answers = checked?;
    if answers.len() == 1 && answers[0] == "ok" {
        Ok(())
    } else {
        Err(corrupt(format!("integrity check failed: {}", answers.join("; "))))
    }
}

/// The page cache's size while the file is checked: 64 KiB (negative: in KiB).
const CHECK_CACHE_SIZE: i64 = -64;

fn run_quick_check(connection: &Connection, path: &Path) -> Result<Vec<String>, StoreError> {
    let mut statement = connection.prepare("PRAGMA quick_check").map_err(|error| open_error(path, error))?;
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<String>, _>>())
        .map_err(|error| open_error(path, error))
}

fn read_user_version(connection: &Connection, path: &Path) -> Result<i64, StoreError> {
    let version: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|error| open_error(path, error))?;
    if version < 0 {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: format!("negative schema version {version}"),
        });
    }
    Ok(version)
}

fn configure(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
        .map_err(|error| open_error(path, error))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Open {
            path: path.to_path_buf(),
            cause: format!("cannot enable wal (journal mode {mode})"),
        });
    }
    connection.pragma_update(None, "synchronous", "NORMAL").map_err(|error| open_error(path, error))?;
    // The store thread checkpoints when idle; the automatic checkpoint (and its disk sync inside a
    // commit) is only the bound for long busy stretches: 4,000 pages, about 16 MB of log.
    connection.pragma_update(None, "wal_autocheckpoint", 4_000).map_err(|error| open_error(path, error))?;
    connection.pragma_update(None, "foreign_keys", "ON").map_err(|error| open_error(path, error))?;
    Ok(())
}

/// Applies the missing migrations in one immediate transaction. The version is read again
/// inside it: another process may have migrated between our check and the lock.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|error| open_error(path, error))?;
    let found = read_user_version(&transaction, path)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    }
    let already_applied = usize::try_from(found).unwrap_or(MIGRATIONS.len());
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(already_applied) {
        transaction.execute_batch(migration).map_err(|error| StoreError::Sqlite {
            path: path.to_path_buf(),
            cause: format!("migration to version {} failed: {error}", index + 1),
        })?;
    }
    transaction.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(|error| open_error(path, error))?;
    transaction.commit().map_err(|error| open_error(path, error))
}

/// An error while opening or checking the file: damage is `Corrupt`, anything else `Open`.
fn open_error(path: &Path, error: rusqlite::Error) -> StoreError {
    match super::codec::sqlite_error(path, error) {
        StoreError::Sqlite { path, cause } => StoreError::Open { path, cause },
        other => other,
    }
}
