//! The durable plan store: one SQLite file per workspace (default `.codelab/planner.db`).
//!
//! [`Store`] is the synchronous repository (the only code in the crate that writes SQL);
//! [`PlanRepository`] is its async handle: a dedicated thread owns the connection and runs
//! closures sent over a channel, so rusqlite never blocks an async worker. Every write is a
//! list of [`WriteOp`]s committed in one transaction (`BEGIN IMMEDIATE`): all or nothing.
//!
//! The store does not decide anything: guards live on the model, policy in the orchestrator.

mod claims;
mod codec;
mod owner;
mod planning;
mod read;
mod record;
mod schema;
mod tail;
mod thread;
mod write;

use std::path::{Path, PathBuf};

use crate::fsm::{SessionEvent, SessionState};
use crate::model::record::{FileChangeRecord, Transcript, TranscriptEntry};
use crate::model::{
    Claim, Classification, Plan, PlanId, PlanStatus, Progress, RunId, SessionId, Subtask, SubtaskId, Timestamp,
};

/// What can go wrong with the database. Messages name the file and the cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {cause}")]
    Open { path: PathBuf, cause: String },
    #[error(
        "database {path} has schema version {found}, newer than this server supports ({supported}); upgrade codelab-planner"
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("database {path}: {cause}")]
    Sqlite { path: PathBuf, cause: String },
    #[error("database {path} holds invalid data: {cause}")]
    Corrupt { path: PathBuf, cause: String },
    #[error("plan {0} not found")]
    PlanNotFound(PlanId),
    /// Optimistic concurrency: the plan was edited since the caller read it.
    #[error("plan {plan} is at version {actual}, not {expected}")]
    VersionConflict { plan: PlanId, expected: u64, actual: u64 },
    /// A conditional status change lost: the plan is no longer in an expected status.
    #[error("plan {plan} is {actual}")]
    StatusConflict { plan: PlanId, actual: PlanStatus },
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("the database thread has stopped")]
    Closed,
}

/// One appended row of the plan's history: every status change, with time and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEvent {
    pub plan_id: PlanId,
    pub at: Timestamp,
    pub run_id: Option<RunId>,
    pub subtask_id: Option<SubtaskId>,
    /// Short machine name: `created`, `edited`, `approved`, `rejected`, `revised`, `runStarted`,
    /// `subtaskStarted`, `subtaskRetrying`, `subtaskFinished`, `runFinished`, `interrupted`, ...
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub detail: Option<String>,
}

/// The header fields of a plan written by status changes (everything but title and subtasks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanHeader {
    pub id: PlanId,
    pub status: PlanStatus,
    pub updated_at: Timestamp,
    pub approved_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
    pub run_id: Option<RunId>,
    pub feedback: Option<String>,
}

impl PlanHeader {
    pub fn of(plan: &Plan) -> Self {
        Self {
            id: plan.id.clone(),
            status: plan.status,
            updated_at: plan.updated_at,
            approved_at: plan.approved_at,
            started_at: plan.started_at,
            finished_at: plan.finished_at,
            error: plan.error.clone(),
            run_id: plan.run_id.clone(),
            feedback: plan.feedback.clone(),
        }
    }
}

/// A session FSM transition: the new state and its log row, written together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTransition {
    pub session_id: SessionId,
    pub from: SessionState,
    pub event: SessionEvent,
    pub to: SessionState,
    pub at: Timestamp,
    pub plan_id: Option<PlanId>,
    pub detail: Option<String>,
}

/// One change inside a [`Store::commit`] transaction.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// A new plan with all its subtasks; also records version 1 in the plan history.
    InsertPlan(Plan),
    /// Status and timestamps of a plan; no version check.
    UpdateHeader(PlanHeader),
    /// Like `UpdateHeader`, but only if the stored status is one of `expected`; otherwise the
    /// whole commit fails with `StatusConflict`. Used to claim a run across processes.
    ClaimHeader {
        header: PlanHeader,
        expected: Vec<PlanStatus>,
    },
    /// The run fields (status, attempts, result, error, timestamps) of these subtasks, by id.
    UpdateSubtasks {
        plan_id: PlanId,
        subtasks: Vec<Subtask>,
    },
    /// An edit of a draft: title and the whole subtask list, updated in place by id (rows for
    /// removed ids deleted, new ones inserted, order kept), only if the stored version is
    /// `expected_version` (else `VersionConflict`); records the new version in the plan history.
    ReplaceContent {
        plan: Plan,
        expected_version: u64,
        reason: String,
    },
    AppendEvent(PlanEvent),
    /// Upserts the session's state and appends the transition to its log.
    Session(SessionTransition),
    /// Deletes a plan and its children unless it is running (`StatusConflict`); `PlanNotFound`
    /// when absent.
    DeletePlan(PlanId),
    /// Remembers what the language model said about a task (replacing an older entry).
    CacheClassification(CachedClassification),
    /// Appends entries to one attempt's transcript, dropping the oldest beyond `limits`.
    AppendTranscript {
        plan_id: PlanId,
        subtask_id: SubtaskId,
        attempt: u32,
        entries: Vec<TranscriptEntry>,
        limits: TranscriptLimits,
    },
    /// Writes an attempt's record of one file; `replaces` is the attempt's record of the path the
    /// file was moved from (removed).
    RecordFileChange {
        plan_id: PlanId,
        record: Box<FileChangeRecord>,
        replaces: Option<String>,
    },
    /// Marks file change records (subtask, attempt, path) rolled back.
    MarkRolledBack {
        plan_id: PlanId,
        records: Vec<(SubtaskId, u32, String)>,
        at: Timestamp,
    },
    /// Hands a step to a claimant (replacing any claim the step had).
    PutClaim {
        plan_id: PlanId,
        claim: Claim,
    },
    /// Ends the claims on these steps (finished, or lapsed).
    ReleaseClaims {
        plan_id: PlanId,
        subtask_ids: Vec<SubtaskId>,
    },
}

/// A plan as listed: no subtasks, only their counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: PlanId,
    pub session_id: SessionId,
    pub title: String,
    pub status: PlanStatus,
    pub progress: Progress,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Filters and page for [`Store::list_plans`]. Newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub session_id: Option<SessionId>,
    pub status: Option<PlanStatus>,
    /// 1..=500 (checked by the caller).
    pub limit: usize,
    /// An opaque cursor from a previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPage {
    pub plans: Vec<PlanSummary>,
    /// Present when more plans follow; stays correct while new plans are inserted.
    pub next_cursor: Option<String>,
}

/// One stored version of a plan's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub version: u64,
    pub title: String,
    pub subtasks: Vec<Subtask>,
    pub created_at: Timestamp,
    /// Why it was made: `created`, `update`, `revise: <feedback>`.
    pub reason: String,
}

/// A session's persisted FSM state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub state: SessionState,
    pub updated_at: Timestamp,
}

/// What [`Store::open`] found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Plans found `running` (left by a crash) and now `interrupted`.
    pub interrupted: Vec<PlanId>,
}

/// The synchronous repository over one SQLite connection.
pub struct Store {
    connection: rusqlite::Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating the folder and the file, mode 0600) and migrates the database; WAL,
    /// `synchronous=NORMAL`, a busy timeout. Plans left `running` become `interrupted` and their
    /// running subtasks `pending`, with an event each. A newer schema is refused. A file that is
    /// not a healthy SQLite database is refused (`Corrupt`) and left untouched.
    pub fn open(path: &Path) -> Result<(Store, OpenReport), StoreError> {
        let connection = schema::open_connection(path)?;
        let mut store = Store { connection, path: path.to_path_buf() };
        let interrupted = store.interrupt_running_plans(Timestamp::now())?;
        Ok((store, OpenReport { interrupted }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `ops` in one transaction; on any error nothing is written.
    pub fn commit(&mut self, ops: &[WriteOp]) -> Result<(), StoreError> {
        write::commit(&mut self.connection, &self.path, ops)
    }

    /// A read-modify-write no other process can come between: inside one immediate transaction
    /// (which holds the database's write lock), reads the plan and every claim on its steps, asks
    /// `decide` what to write, and writes it. When `decide` refuses, nothing is written and its
    /// refusal is returned inside `Ok`.
    pub fn modify_plan<T, E>(
        &mut self,
        plan_id: &PlanId,
        decide: impl FnOnce(&Plan, &[Claim]) -> Result<(T, Vec<WriteOp>), E>,
    ) -> Result<Result<T, E>, StoreError> {
        write::modify_plan(&mut self.connection, &self.path, plan_id, decide)
    }

    /// Every stored claim on the plan's steps (lapsed ones too: see `Claim::holds_at`).
    pub fn claims_of(&self, plan_id: &PlanId) -> Result<Vec<Claim>, StoreError> {
        claims::claims_of(&self.connection, &self.path, plan_id)
    }

    pub fn get_plan(&self, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        read::get_plan(&self.connection, &self.path, id)
    }

    pub fn list_plans(&self, query: &ListQuery) -> Result<PlanPage, StoreError> {
        read::list_plans(&self.connection, &self.path, query)
    }

    /// The pid of another live process running this plan (an editor's server, a command line).
    pub fn live_run_owner(&self, id: &PlanId) -> Result<Option<u32>, StoreError> {
        read::live_run_owner(&self.connection, &self.path, id)
    }

    /// The newest plan made from this plan file (`Plan::source_file`), with its subtasks.
    pub fn latest_plan_of_file(&self, source_file: &str) -> Result<Option<Plan>, StoreError> {
        read::latest_plan_of_file(&self.connection, &self.path, source_file)
    }

    /// The newest `approved` or `running` plan of a session.
    pub fn active_plan(&self, session: &SessionId) -> Result<Option<PlanId>, StoreError> {
        read::active_plan(&self.connection, &self.path, session)
    }

    /// Every stored version of a plan's content, oldest first; `PlanNotFound` when absent.
    pub fn plan_versions(&self, id: &PlanId) -> Result<Vec<PlanVersion>, StoreError> {
        read::plan_versions(&self.connection, &self.path, id)
    }

    /// The plan's event log, oldest first; `PlanNotFound` when absent.
    pub fn plan_events(&self, id: &PlanId) -> Result<Vec<PlanEvent>, StoreError> {
        read::plan_events(&self.connection, &self.path, id)
    }

    pub fn get_session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        read::get_session(&self.connection, &self.path, id)
    }

    /// A session's transition log, oldest first.
    pub fn session_transitions(&self, id: &SessionId) -> Result<Vec<SessionTransition>, StoreError> {
        read::session_transitions(&self.connection, &self.path, id)
    }

    /// What `model` said about the normalised task `task_key`, if it was cached.
    pub fn cached_classification(&self, task_key: &str, model: &str) -> Result<Option<Classification>, StoreError> {
        planning::cached_classification(&self.connection, &self.path, task_key, model)
    }

    /// One attempt's transcript (`attempt`, or the last one that has a transcript).
    pub fn transcript(
        &self,
        plan_id: &PlanId,
        subtask_id: &SubtaskId,
        attempt: Option<u32>,
    ) -> Result<Transcript, StoreError> {
        record::transcript(&self.connection, &self.path, plan_id, subtask_id, attempt)
    }

    /// A plan's file change records (one subtask's when given), oldest first.
    pub fn file_changes(
        &self,
        plan_id: &PlanId,
        subtask_id: Option<&SubtaskId>,
    ) -> Result<Vec<FileChangeRecord>, StoreError> {
        record::file_changes(&self.connection, &self.path, plan_id, subtask_id)
    }

    /// Bytes of file content a plan's change records keep.
    pub fn recorded_change_bytes(&self, plan_id: &PlanId) -> Result<u64, StoreError> {
        record::recorded_change_bytes(&self.connection, &self.path, plan_id)
    }

    /// Number of plans stored.
    pub fn count_plans(&self) -> Result<u64, StoreError> {
        read::count_plans(&self.connection, &self.path)
    }

    /// Copies the write-ahead log into the database file without waiting for readers (a
    /// passive checkpoint); returns the log's size and how much of it was copied, in pages.
    pub fn checkpoint(&mut self) -> Result<(i64, i64), StoreError> {
        self.connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))
            .map_err(|error| codec::sqlite_error(&self.path, error))
    }

    /// Copies the whole write-ahead log into the database and truncates it to zero bytes
    /// (`wal_checkpoint(TRUNCATE)`): what a clean exit leaves is the database file alone.
    pub fn checkpoint_truncate(&mut self) -> Result<(), StoreError> {
        self.connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|error| codec::sqlite_error(&self.path, error))
    }

    /// Runs `read` inside one read transaction: everything it reads is the database as of one
    /// moment, whatever other processes commit meanwhile (WAL snapshots).
    pub fn read_consistently<T>(
        &mut self,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.connection.execute_batch("BEGIN DEFERRED").map_err(|error| codec::sqlite_error(&self.path, error))?;
        let outcome = read(self);
        let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.connection.execute_batch(end).map_err(|error| codec::sqlite_error(&self.path, error));
        let value = outcome?;
        ended?;
        Ok(value)
    }

    /// `PRAGMA data_version`: a number that changes when another process commits (not on this
    /// connection's own commits). Reads no page of the database.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        tail::data_version(&self.connection, &self.path)
    }

    /// The newest event log row's position (0 when the log is empty).
    pub fn last_event_seq(&self) -> Result<i64, StoreError> {
        tail::last_event_seq(&self.connection, &self.path)
    }

    /// The event log's rows after position `after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: i64, limit: usize) -> Result<Vec<LoggedEvent>, StoreError> {
        tail::events_after(&self.connection, &self.path, after, limit)
    }

    /// Plans `running` under another live process (an editor's server, a command line, an MCP
    /// server), oldest first.
    pub fn plans_run_by_others(&self) -> Result<Vec<PlanId>, StoreError> {
        tail::plans_run_by_others(&self.connection, &self.path)
    }

    /// Marks `interrupted` every plan still `running` under a process that is gone (not this one,
    /// not another live one), as [`Store::open`] does at start; returns their ids.
    pub fn recover_dead_runs(&mut self, now: Timestamp) -> Result<Vec<PlanId>, StoreError> {
        tail::recover_dead_runs(&mut self.connection, &self.path, now)
    }

    /// Marks every `running` plan `interrupted` (see [`Plan::interrupt`]) with an `interrupted`
    /// event each, all in one transaction. Called by [`Store::open`]: a plan found running at
    /// open time was left by a process that stopped without finishing it.
    fn interrupt_running_plans(&mut self, now: Timestamp) -> Result<Vec<PlanId>, StoreError> {
        write::interrupt_running_plans(&mut self.connection, &self.path, now)
    }
}

pub use planning::CachedClassification;
pub use record::TranscriptLimits;
pub use tail::LoggedEvent;
pub use thread::PlanRepository;
