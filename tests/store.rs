//! Integration tests of `codelab_planner::store` against real SQLite files in temporary folders:
//! open checks, migrations, all-or-nothing commits, in-place edits, conditional writes, strict
//! decoding, paging, crash recovery (including a real child process that exits mid-run), two
//! connections on one file, and the async repository thread.
//!
//! Raw SQL appears here only to inspect or damage the file the way an outside actor would.
//! The crash tests re-execute this test binary as a child process, the one place outside
//! `engine::process` that starts a process.
#![allow(clippy::disallowed_methods)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use codelab_planner::fsm::{SessionEvent, SessionState};
use codelab_planner::llm::Usage;
use codelab_planner::model::{
    AgentKind, Classification, ClassifyMethod, Confidence, Plan, PlanId, PlanStatus, RouteAgent, RunId, SessionId,
    Subtask, SubtaskId, SubtaskRole, SubtaskStatus, Timestamp,
};
use codelab_planner::store::{
    ListQuery, PlanEvent, PlanHeader, PlanRepository, SessionTransition, Store, StoreError, WriteOp,
};

const CRASH_CHILD_DATABASE: &str = "CODELAB_STORE_TEST_CRASH_CHILD_DATABASE";
const LIVE_CHILD_DATABASE: &str = "CODELAB_STORE_TEST_LIVE_CHILD_DATABASE";

fn database_in(folder: &tempfile::TempDir) -> PathBuf {
    folder.path().join(".codelab").join("planner.db")
}

fn open(path: &Path) -> Store {
    Store::open(path).expect("open store").0
}

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(1_795_000_000_000 + millis)
}

fn subtask(id: &str, agent: AgentKind) -> Subtask {
    Subtask::new(SubtaskId::from_raw(id), format!("title of {id}"), agent)
}

/// A subtask with every optional field set and a non-default status.
fn full_subtask(id: &str, depends_on: &[&str], status: SubtaskStatus) -> Subtask {
    Subtask {
        id: SubtaskId::from_raw(id),
        title: format!("Title «{id}»"),
        description: format!("line one of {id}\nline two with 'quotes' and \"double\""),
        agent: AgentKind::Shell,
        role: SubtaskRole::Baseline,
        command: Some(format!("cargo test -p {id} -- --nocapture")),
        cwd: Some(format!("crates/{id}")),
        depends_on: depends_on.iter().map(|dep| SubtaskId::from_raw(*dep)).collect(),
        status,
        attempts: 2,
        max_attempts: 5,
        timeout_secs: Some(900),
        estimate_secs: Some(45),
        result: Some(format!("partial output of {id}")),
        error: Some("exit status 101".to_owned()),
        started_at: Some(at(10)),
        finished_at: Some(at(20)),
        usage: Usage { prompt_tokens: 1_200, completion_tokens: 340, calls: 3 },
        pending_approval: None,
        changes: None,
    }
}

fn draft(session: &str, title: &str, subtasks: Vec<Subtask>) -> Plan {
    Plan::new_draft(SessionId::from_raw(session), title.to_owned(), format!("goal: {title}"), subtasks, at(0))
}

fn plan_with_status(session: &str, title: &str, status: PlanStatus) -> Plan {
    let mut plan = draft(session, title, vec![subtask("a", AgentKind::Coder)]);
    plan.status = status;
    plan
}

fn insert(store: &mut Store, plan: &Plan) {
    store.commit(&[WriteOp::InsertPlan(plan.clone())]).expect("insert plan");
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw connection")
}

fn event(plan: &Plan, kind: &str) -> PlanEvent {
    PlanEvent {
        plan_id: plan.id.clone(),
        at: at(5),
        run_id: plan.run_id.clone(),
        subtask_id: None,
        kind: kind.to_owned(),
        from_status: None,
        to_status: None,
        detail: None,
    }
}

#[test]
fn opening_creates_the_folder_and_a_private_file_at_the_current_schema() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let (store, report) = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    assert!(report.interrupted.is_empty());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    drop(store);
    let connection = raw(&path);
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 9);
    let journal: String = connection.pragma_query_value(None, "journal_mode", |row| row.get(0)).unwrap();
    assert_eq!(journal, "wal");
    drop(connection);
    // Reopening an existing database applies nothing and keeps the data.
    let mut store = open(&path);
    insert(&mut store, &draft("s", "kept", vec![]));
    drop(store);
    assert_eq!(open(&path).count_plans().unwrap(), 1);
}

#[test]
fn a_fully_populated_plan_reads_back_exactly_as_written() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    let mut plan = draft(
        "session-1",
        "Build the thing",
        vec![
            full_subtask("zeta", &[], SubtaskStatus::Done),
            full_subtask("alpha", &["zeta"], SubtaskStatus::Failed),
            full_subtask("mid.1", &["zeta", "alpha"], SubtaskStatus::Running),
            subtask("plain", AgentKind::Ask),
        ],
    );
    plan.status = PlanStatus::Failed;
    plan.version = 3;
    plan.classification =
        Some(Classification::complex(Confidence::Medium, "needs several files".to_owned(), ClassifyMethod::Llm));
    plan.updated_at = at(30);
    plan.approved_at = Some(at(1));
    plan.started_at = Some(at(2));
    plan.finished_at = Some(at(40));
    plan.error = Some("1 of 4 subtasks failed, 0 skipped".to_owned());
    plan.run_id = Some(RunId::from_raw("run-1"));
    plan.feedback = Some("split the second step".to_owned());
    let mut atomic = draft("session-1", "atomic one", vec![]);
    atomic.classification = Some(Classification::atomic(
        RouteAgent::Debug,
        Confidence::Low,
        "one file".to_owned(),
        ClassifyMethod::Keywords,
    ));

    store.commit(&[WriteOp::InsertPlan(plan.clone()), WriteOp::InsertPlan(atomic.clone())]).unwrap();

    assert_eq!(store.get_plan(&plan.id).unwrap(), Some(plan.clone()));
    assert_eq!(store.get_plan(&atomic.id).unwrap(), Some(atomic));
    assert_eq!(store.get_plan(&PlanId::from_raw("absent")).unwrap(), None);
    let versions = store.plan_versions(&plan.id).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 3);
    assert_eq!(versions[0].title, plan.title);
    assert_eq!(versions[0].subtasks, plan.subtasks);
    assert_eq!(versions[0].reason, "created");
}

#[test]
fn a_failing_op_at_the_end_leaves_nothing_written() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    let plan = draft("s", "doomed", vec![subtask("a", AgentKind::Coder)]);
    let missing = plan_with_status("s", "never inserted", PlanStatus::Draft);
    let result = store.commit(&[
        WriteOp::InsertPlan(plan.clone()),
        WriteOp::AppendEvent(event(&plan, "created")),
        WriteOp::UpdateHeader(PlanHeader::of(&missing)),
    ]);
    assert!(matches!(result, Err(StoreError::PlanNotFound(id)) if id == missing.id));
    assert_eq!(store.get_plan(&plan.id).unwrap(), None);
    assert_eq!(store.count_plans().unwrap(), 0);
    let events: i64 = raw(store.path()).query_row("SELECT COUNT(*) FROM plan_events", [], |row| row.get(0)).unwrap();
    assert_eq!(events, 0);
}

fn subtask_rowid(path: &Path, id: &str) -> Option<i64> {
    raw(path).query_row("SELECT rowid FROM subtasks WHERE subtask_id = ?1", [id], |row| row.get(0)).ok()
}

#[test]
fn replace_content_edits_subtasks_in_place_and_records_the_version() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    let plan = draft(
        "s",
        "v1",
        vec![subtask("s1", AgentKind::Coder), subtask("s2", AgentKind::Coder), subtask("s3", AgentKind::Ask)],
    );
    insert(&mut store, &plan);
    let (s1_row, s3_row) = (subtask_rowid(&path, "s1"), subtask_rowid(&path, "s3"));

    let mut edited = plan.clone();
    let mut renamed = plan.subtasks[0].clone();
    renamed.title = "renamed".to_owned();
    let mut added = subtask("s4", AgentKind::Shell);
    added.command = Some("make".to_owned());
    added.depends_on = vec![SubtaskId::from_raw("s3")];
    edited.edit(at(50), Some("v2".to_owned()), Some(vec![plan.subtasks[2].clone(), added, renamed])).unwrap();
    store
        .commit(&[WriteOp::ReplaceContent { plan: edited.clone(), expected_version: 1, reason: "update".to_owned() }])
        .unwrap();

    assert_eq!(store.get_plan(&plan.id).unwrap(), Some(edited.clone()));
    assert_eq!(subtask_rowid(&path, "s1"), s1_row, "s1 was updated in place");
    assert_eq!(subtask_rowid(&path, "s3"), s3_row, "s3 was updated in place");
    assert_eq!(subtask_rowid(&path, "s2"), None, "s2 was deleted");
    let versions = store.plan_versions(&plan.id).unwrap();
    let summary: Vec<(u64, &str, &str, usize)> = versions
        .iter()
        .map(|version| (version.version, version.title.as_str(), version.reason.as_str(), version.subtasks.len()))
        .collect();
    assert_eq!(summary, vec![(1, "v1", "created", 3), (2, "v2", "update", 3)]);
    assert_eq!(versions[1].subtasks, edited.subtasks);
    assert_eq!(versions[1].created_at, at(50));

    // A stale editor loses and changes nothing.
    let mut stale = plan.clone();
    stale.edit(at(60), Some("stale".to_owned()), None).unwrap();
    let conflict =
        store.commit(&[WriteOp::ReplaceContent { plan: stale, expected_version: 1, reason: "update".into() }]);
    assert!(matches!(conflict, Err(StoreError::VersionConflict { expected: 1, actual: 2, .. })), "{conflict:?}");
    assert_eq!(store.get_plan(&plan.id).unwrap(), Some(edited));
}

#[test]
fn claim_header_lets_exactly_one_claimer_start_a_run() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut first = open(&path);
    let mut second = open(&path);
    let mut plan = plan_with_status("s", "claimed", PlanStatus::Draft);
    plan.approve(at(1)).unwrap();
    insert(&mut first, &plan);

    let claim = |run: &str| {
        let mut running = plan.clone();
        running.start_run(at(2), RunId::from_raw(run)).unwrap();
        WriteOp::ClaimHeader { header: PlanHeader::of(&running), expected: vec![PlanStatus::Approved] }
    };
    first.commit(&[claim("run-a")]).unwrap();
    let lost = second.commit(&[claim("run-b")]);
    assert!(matches!(lost, Err(StoreError::StatusConflict { actual: PlanStatus::Running, .. })), "{lost:?}");
    let stored = second.get_plan(&plan.id).unwrap().unwrap();
    assert_eq!((stored.status, stored.run_id), (PlanStatus::Running, Some(RunId::from_raw("run-a"))));

    let absent = plan_with_status("s", "absent", PlanStatus::Approved);
    let missing =
        first.commit(&[WriteOp::ClaimHeader { header: PlanHeader::of(&absent), expected: vec![PlanStatus::Approved] }]);
    assert!(matches!(missing, Err(StoreError::PlanNotFound(_))), "{missing:?}");
}

#[test]
fn delete_refuses_a_running_plan_and_removes_every_child_row_otherwise() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    let running = plan_with_status("s", "running", PlanStatus::Running);
    let finished = plan_with_status("s", "finished", PlanStatus::Completed);
    store
        .commit(&[
            WriteOp::InsertPlan(running.clone()),
            WriteOp::InsertPlan(finished.clone()),
            WriteOp::AppendEvent(event(&finished, "runFinished")),
        ])
        .unwrap();

    let refused = store.commit(&[WriteOp::DeletePlan(running.id.clone())]);
    assert!(matches!(refused, Err(StoreError::StatusConflict { actual: PlanStatus::Running, .. })), "{refused:?}");
    store.commit(&[WriteOp::DeletePlan(finished.id.clone())]).unwrap();
    assert_eq!(store.get_plan(&finished.id).unwrap(), None);
    assert!(matches!(store.plan_events(&finished.id), Err(StoreError::PlanNotFound(_))));
    let connection = raw(&path);
    for table in ["subtasks", "plan_events", "plan_versions"] {
        let rows: i64 = connection.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| row.get(0)).unwrap();
        assert_eq!(rows, i64::from(table != "plan_events"), "rows left in {table}");
    }
    let again = store.commit(&[WriteOp::DeletePlan(finished.id.clone())]);
    assert!(matches!(again, Err(StoreError::PlanNotFound(_))));
}

fn expect_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, needles: &[&str]) {
    match result {
        Err(StoreError::Corrupt { cause, .. }) => {
            for needle in needles {
                assert!(cause.contains(needle), "{cause:?} does not name {needle:?}");
            }
        }
        other => panic!("expected corrupt, got {other:?}"),
    }
}

#[test]
fn unknown_names_and_bad_json_in_rows_are_reported_as_corrupt() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    let plan = draft("s", "tampered", vec![subtask("a", AgentKind::Coder)]);
    insert(&mut store, &plan);
    let tamper = |sql: &str| {
        raw(&path).execute(sql, []).unwrap();
    };

    tamper("UPDATE subtasks SET agent = 'architect'");
    expect_corrupt(store.get_plan(&plan.id), &["subtasks.agent", "architect"]);
    tamper("UPDATE subtasks SET agent = 'coder', depends_on = '[\"a\",'");
    expect_corrupt(store.get_plan(&plan.id), &["subtasks.depends_on", "bad json"]);
    tamper("UPDATE subtasks SET depends_on = '[1]', status = 'pending'");
    expect_corrupt(store.get_plan(&plan.id), &["subtasks.depends_on"]);
    tamper("UPDATE subtasks SET depends_on = '[]', status = 'paused'");
    expect_corrupt(store.get_plan(&plan.id), &["subtasks.status", "paused"]);
    expect_corrupt(store.list_plans(&ListQuery { limit: 10, ..ListQuery::default() }), &["subtasks.status"]);
    tamper("UPDATE subtasks SET status = 'pending'");
    tamper("UPDATE plans SET status = 'in_progress'");
    expect_corrupt(
        store.list_plans(&ListQuery { limit: 10, ..ListQuery::default() }),
        &["plans.status", "in_progress"],
    );
    tamper(
        "UPDATE plans SET status = 'draft', class_is_atomic = 1, class_agent = 'plan', class_confidence = 'high', class_reason = 'r', class_method = 'llm'",
    );
    expect_corrupt(store.get_plan(&plan.id), &["plans.class_agent"]);
    tamper("UPDATE plans SET class_is_atomic = NULL, version = -4");
    expect_corrupt(store.get_plan(&plan.id), &["plans.version"]);
    tamper("UPDATE plans SET version = 1");
    tamper("UPDATE plan_versions SET subtasks = '{}'");
    expect_corrupt(store.plan_versions(&plan.id), &["plan_versions.subtasks"]);
    assert_eq!(store.get_plan(&plan.id).unwrap(), Some(plan));
}

fn page(store: &Store, limit: usize, cursor: Option<String>) -> (Vec<String>, Option<String>) {
    let page = store.list_plans(&ListQuery { limit, cursor, ..ListQuery::default() }).unwrap();
    (page.plans.into_iter().map(|summary| summary.title).collect(), page.next_cursor)
}

#[test]
fn pages_are_newest_first_and_the_cursor_survives_inserts() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    for number in 0..12 {
        insert(&mut store, &draft("s", &format!("old-{number:02}"), vec![]));
    }
    let (first, cursor) = page(&store, 5, None);
    assert_eq!(first, ["old-11", "old-10", "old-09", "old-08", "old-07"]);
    for number in 0..5 {
        insert(&mut store, &draft("s", &format!("new-{number}"), vec![]));
    }
    let (second, cursor) = page(&store, 5, cursor);
    assert_eq!(second, ["old-06", "old-05", "old-04", "old-03", "old-02"]);
    let (third, cursor) = page(&store, 5, cursor);
    assert_eq!(third, ["old-01", "old-00"]);
    assert_eq!(cursor, None);
    let (exact, cursor) = page(&store, 17, None);
    assert_eq!((exact.len(), cursor), (17, None));
    assert_eq!(store.count_plans().unwrap(), 17);
}

#[test]
fn garbage_cursors_are_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let store = open(&database_in(&folder));
    for cursor in ["", "abc", "seq:", "seq:-1", "seq:0", "seq:12x", "seq: 3", "seq:99999999999999999999"] {
        let result = store.list_plans(&ListQuery { limit: 5, cursor: Some(cursor.to_owned()), ..ListQuery::default() });
        assert!(matches!(result, Err(StoreError::InvalidCursor)), "{cursor:?} gave {result:?}");
    }
}

#[test]
fn listing_filters_by_session_and_status_and_counts_progress() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    let mut counted = draft(
        "one",
        "counted",
        vec![
            full_subtask("a", &[], SubtaskStatus::Done),
            full_subtask("b", &[], SubtaskStatus::Done),
            full_subtask("c", &[], SubtaskStatus::Failed),
            full_subtask("d", &[], SubtaskStatus::Running),
            full_subtask("e", &[], SubtaskStatus::Skipped),
            full_subtask("f", &[], SubtaskStatus::Pending),
            full_subtask("g", &[], SubtaskStatus::Cancelled),
        ],
    );
    counted.status = PlanStatus::Running;
    insert(&mut store, &counted);
    insert(&mut store, &plan_with_status("one", "approved", PlanStatus::Approved));
    insert(&mut store, &plan_with_status("two", "other session", PlanStatus::Running));
    insert(&mut store, &draft("one", "empty", vec![]));

    let list = |session: Option<&str>, status: Option<PlanStatus>| {
        let query = ListQuery { session_id: session.map(SessionId::from_raw), status, limit: 50, cursor: None };
        store.list_plans(&query).unwrap().plans
    };
    let titles =
        |plans: Vec<codelab_planner::store::PlanSummary>| plans.into_iter().map(|plan| plan.title).collect::<Vec<_>>();
    assert_eq!(titles(list(Some("one"), None)), ["empty", "approved", "counted"]);
    assert_eq!(titles(list(None, Some(PlanStatus::Running))), ["other session", "counted"]);
    assert_eq!(titles(list(Some("one"), Some(PlanStatus::Running))), ["counted"]);
    let summary = list(Some("one"), Some(PlanStatus::Running)).remove(0);
    assert_eq!(summary.progress, counted.progress());
    assert_eq!(summary.progress.total, 7);
    assert_eq!(list(Some("one"), None)[0].progress.total, 0);
}

#[test]
fn the_active_plan_is_the_newest_approved_or_running_one() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    let session = SessionId::from_raw("s");
    assert_eq!(store.active_plan(&session).unwrap(), None);
    let running = plan_with_status("s", "running", PlanStatus::Running);
    let approved = plan_with_status("s", "approved", PlanStatus::Approved);
    insert(&mut store, &running);
    insert(&mut store, &approved);
    insert(&mut store, &plan_with_status("s", "draft", PlanStatus::Draft));
    insert(&mut store, &plan_with_status("other", "other", PlanStatus::Approved));
    assert_eq!(store.active_plan(&session).unwrap(), Some(approved.id.clone()));
    store.commit(&[WriteOp::DeletePlan(approved.id)]).unwrap();
    assert_eq!(store.active_plan(&session).unwrap(), Some(running.id));
}

#[test]
fn session_transitions_update_the_state_and_append_to_the_log() {
    let folder = tempfile::tempdir().unwrap();
    let mut store = open(&database_in(&folder));
    let session = SessionId::from_raw("chat-1");
    let step = |from, event, to, millis, plan_id: Option<PlanId>| SessionTransition {
        session_id: session.clone(),
        from,
        event,
        to,
        at: at(millis),
        plan_id,
        detail: Some(format!("step at {millis}")),
    };
    let transitions = vec![
        step(SessionState::Idle, SessionEvent::ReceiveMessage, SessionState::Classify, 1, None),
        step(
            SessionState::Classify,
            SessionEvent::IsAtomicFalse,
            SessionState::PlanRequired,
            2,
            Some(PlanId::from_raw("p")),
        ),
        step(SessionState::PlanRequired, SessionEvent::Reset, SessionState::Idle, 3, None),
    ];
    assert_eq!(store.get_session(&session).unwrap(), None);
    store.commit(&[WriteOp::Session(transitions[0].clone())]).unwrap();
    store.commit(&[WriteOp::Session(transitions[1].clone())]).unwrap();
    let record = store.get_session(&session).unwrap().unwrap();
    assert_eq!((record.state, record.updated_at), (SessionState::PlanRequired, at(2)));
    store.commit(&[WriteOp::Session(transitions[2].clone())]).unwrap();
    assert_eq!(store.get_session(&session).unwrap().unwrap().state, SessionState::Idle);
    assert_eq!(store.session_transitions(&session).unwrap(), transitions);
    assert!(store.session_transitions(&SessionId::from_raw("other")).unwrap().is_empty());
    raw(store.path()).execute("UPDATE sessions SET state = 'dreaming'", []).unwrap();
    expect_corrupt(store.get_session(&session), &["sessions.state", "dreaming"]);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_byte_identical() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("notes.db");
    let content = b"these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &content).unwrap();
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), content);
    let leftovers: Vec<_> = std::fs::read_dir(folder.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["notes.db"]);
}

#[test]
fn a_damaged_database_is_refused_without_being_written() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    for number in 0..200 {
        let subtasks = (0..5).map(|index| full_subtask(&format!("s{index}"), &[], SubtaskStatus::Pending)).collect();
        insert(&mut store, &draft("s", &format!("plan {number}"), subtasks));
    }
    drop(store); // last connection: the WAL is checkpointed into the main file
    let mut bytes = std::fs::read(&path).unwrap();
    let page_size = 4096;
    assert!(bytes.len() > 8 * page_size);
    bytes[3 * page_size..6 * page_size].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();

    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("planner.db"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_newer_schema_is_refused_not_rebuilt() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    insert(&mut store, &draft("s", "from the future", vec![]));
    drop(store);
    raw(&path).pragma_update(None, "user_version", 10).unwrap();
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::NewerSchema { found: 10, supported: 9, .. }), "{error:?}");
    let plans: i64 = raw(&path).query_row("SELECT COUNT(*) FROM plans", [], |row| row.get(0)).unwrap();
    assert_eq!(plans, 1);
}

#[test]
fn a_checkpoint_moves_the_whole_log_into_the_database() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    for number in 0..20 {
        insert(&mut store, &draft("s", &format!("plan {number}"), vec![subtask("a", AgentKind::Coder)]));
    }
    let (log_pages, copied_pages) = store.checkpoint().unwrap();
    assert!(log_pages > 0, "the commits went to the log first");
    assert_eq!(copied_pages, log_pages, "nothing else reads, so all of it is copied");
    assert_eq!(open(&path).count_plans().unwrap(), 20);
}

#[test]
fn an_older_schema_is_migrated_in_place_keeping_its_data() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    let plan = draft("s", "from version one", vec![subtask("a", AgentKind::Coder)]);
    insert(&mut store, &plan);
    drop(store);
    let connection = raw(&path);
    connection
        .execute_batch(
            "DROP INDEX plans_by_source_file; ALTER TABLE plans DROP COLUMN source_file; \
             ALTER TABLE subtasks DROP COLUMN cwd; ALTER TABLE plans DROP COLUMN run_owner; \
             ALTER TABLE subtasks DROP COLUMN prompt_tokens; ALTER TABLE subtasks DROP COLUMN completion_tokens; \
             ALTER TABLE subtasks DROP COLUMN llm_calls; ALTER TABLE subtasks DROP COLUMN role; DROP TABLE claims; \
             ALTER TABLE subtasks DROP COLUMN pending_approval; DROP TABLE transcript_entries; \
             DROP TABLE transcript_drops; DROP TABLE file_changes; PRAGMA user_version = 1;",
        )
        .unwrap();
    drop(connection);

    let store = open(&path);
    assert_eq!(store.get_plan(&plan.id).unwrap(), Some(plan));
    let version: i64 = raw(&path).pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
    assert_eq!(version, 9);
    let claims: i64 = raw(&path).query_row("SELECT COUNT(*) FROM claims", [], |row| row.get(0)).unwrap();
    assert_eq!(claims, 0, "the claims table exists and is empty");
    let recorded: i64 = raw(&path)
        .query_row(
            "SELECT (SELECT COUNT(*) FROM transcript_entries) + (SELECT COUNT(*) FROM file_changes)",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 0, "the record's tables exist and are empty");
    let owners: i64 = raw(&path).query_row("SELECT COUNT(run_owner) FROM plans", [], |row| row.get(0)).unwrap();
    assert_eq!(owners, 0, "the new column exists and is empty");
    let cwds: i64 = raw(&path).query_row("SELECT COUNT(cwd) FROM subtasks", [], |row| row.get(0)).unwrap();
    assert_eq!(cwds, 0, "subtasks.cwd exists and is empty");
    let roles: i64 = raw(&path).query_row("SELECT COUNT(role) FROM subtasks", [], |row| row.get(0)).unwrap();
    assert_eq!(roles, 0, "subtasks.role exists and is empty (every old step is a step)");
}

#[test]
fn an_unusable_location_is_a_clear_open_error() {
    let folder = tempfile::tempdir().unwrap();
    let blocker = folder.path().join("workspace-file");
    std::fs::write(&blocker, "a file where a folder should be").unwrap();
    let path = blocker.join(".codelab").join("planner.db");
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("planner.db"), "{error}");
    let directory = folder.path().join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    assert!(matches!(Store::open(&directory), Err(StoreError::Open { .. })));
}

/// A running plan whose subtask `b` is running and `a` is done.
fn running_plan(id: &str) -> Plan {
    let mut plan = draft("s", "interrupted", vec![subtask("a", AgentKind::Shell), subtask("b", AgentKind::Shell)]);
    plan.id = PlanId::from_raw(id);
    plan.approve(at(1)).unwrap();
    plan.start_run(at(2), RunId::from_raw("run-1")).unwrap();
    plan.subtasks[0].start(at(3)).unwrap();
    plan.subtasks[0].complete(at(4), "ok".to_owned()).unwrap();
    plan.subtasks[1].start(at(5)).unwrap();
    plan
}

fn assert_recovered(path: &Path, id: &str) {
    let (store, report) = Store::open(path).unwrap();
    let id = PlanId::from_raw(id);
    assert_eq!(report.interrupted, vec![id.clone()]);
    let plan = store.get_plan(&id).unwrap().unwrap();
    assert_eq!(plan.status, PlanStatus::Interrupted);
    assert!(plan.error.is_some());
    let statuses: Vec<_> = plan.subtasks.iter().map(|subtask| (subtask.status, subtask.started_at.is_some())).collect();
    assert_eq!(statuses, [(SubtaskStatus::Done, true), (SubtaskStatus::Pending, false)]);
    let events = store.plan_events(&id).unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.from_status.as_deref(), last.to_status.as_deref(), last.run_id.clone()),
        ("interrupted", Some("running"), Some("interrupted"), Some(RunId::from_raw("run-1")))
    );
    drop(store);
    let (_, second_report) = Store::open(path).unwrap();
    assert!(second_report.interrupted.is_empty(), "recovery runs once");
}

#[test]
fn a_plan_left_running_is_interrupted_on_reopen() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut store = open(&path);
    insert(&mut store, &running_plan("left-running"));
    std::mem::forget(store); // no close, no checkpoint: as if the process had died
    assert_recovered(&path, "left-running");
}

#[test]
fn a_writer_process_that_exits_mid_run_leaves_an_interrupted_plan() {
    if let Ok(child_database) = std::env::var(CRASH_CHILD_DATABASE) {
        let mut store = open(Path::new(&child_database));
        insert(&mut store, &running_plan("crashed"));
        std::process::exit(0);
    }
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["a_writer_process_that_exits_mid_run_leaves_an_interrupted_plan", "--exact", "--nocapture"])
        .env(CRASH_CHILD_DATABASE, &path)
        .status()
        .unwrap();
    assert!(status.success(), "child failed: {status}");
    assert_recovered(&path, "crashed");
}

#[test]
fn a_run_claimed_by_another_live_process_is_not_interrupted_until_that_process_is_gone() {
    if let Ok(child_database) = std::env::var(LIVE_CHILD_DATABASE) {
        let mut store = open(Path::new(&child_database));
        let plan = running_plan("live");
        insert(&mut store, &plan);
        store.commit(&[WriteOp::UpdateHeader(PlanHeader::of(&plan))]).unwrap();
        println!("claimed");
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest);
        std::process::exit(0);
    }
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_run_claimed_by_another_live_process_is_not_interrupted_until_that_process_is_gone",
            "--exact",
            "--nocapture",
            "--quiet",
        ])
        .env(LIVE_CHILD_DATABASE, &path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    assert!(lines.any(|line| line.unwrap().contains("claimed")), "the child claims the run");

    let (store, report) = Store::open(&path).unwrap();
    assert!(report.interrupted.is_empty(), "a live owner's run is left alone: {report:?}");
    let running =
        store.list_plans(&ListQuery { status: Some(PlanStatus::Running), limit: 10, ..ListQuery::default() }).unwrap();
    assert_eq!(running.plans.len(), 1);
    drop(store);

    child.kill().unwrap();
    child.wait().unwrap();
    let (_, report) = Store::open(&path).unwrap();
    assert_eq!(report.interrupted.len(), 1, "once the owner is gone the run was left by a crash");
}

#[test]
fn two_connections_share_one_file_and_concurrent_writers_both_succeed() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let mut writer = open(&path);
    let reader = open(&path);
    let plan = draft("s", "seen by the other", vec![subtask("a", AgentKind::Coder)]);
    insert(&mut writer, &plan);
    assert_eq!(reader.get_plan(&plan.id).unwrap(), Some(plan));

    let writers: Vec<_> = (0..2)
        .map(|thread| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = open(&path);
                for number in 0..150 {
                    let plan =
                        draft(&format!("thread-{thread}"), &format!("{number}"), vec![subtask("a", AgentKind::Coder)]);
                    store
                        .commit(&[WriteOp::InsertPlan(plan.clone()), WriteOp::AppendEvent(event(&plan, "created"))])?;
                }
                Ok::<(), StoreError>(())
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    assert_eq!(reader.count_plans().unwrap(), 301);
}

#[tokio::test]
async fn the_repository_thread_runs_jobs_and_survives_a_panicking_job() {
    let folder = tempfile::tempdir().unwrap();
    let path = database_in(&folder);
    let (repository, report) = PlanRepository::open(path.clone()).await.unwrap();
    assert!(report.interrupted.is_empty());
    assert_eq!(repository.path(), path);
    let plan = draft("s", "async", vec![subtask("a", AgentKind::Coder)]);
    repository.commit(vec![WriteOp::InsertPlan(plan.clone())]).await.unwrap();

    let panicked = repository.call(|_store| -> Result<(), StoreError> { panic!("job blew up") }).await;
    match panicked {
        Err(StoreError::Sqlite { cause, .. }) => assert!(cause.contains("job blew up"), "{cause}"),
        other => panic!("expected the panic as an error, got {other:?}"),
    }
    let clone = repository.clone();
    assert_eq!(clone.get_plan(plan.id.clone()).await.unwrap(), Some(plan));
    let count = repository.call(|store| store.count_plans()).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn the_repository_reports_open_errors() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("text.db");
    std::fs::write(&path, "plain text").unwrap();
    let opened = PlanRepository::open(path).await;
    assert!(matches!(opened, Err(StoreError::Corrupt { .. })));
}
