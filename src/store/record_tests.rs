//! The record's storage against real SQLite files: transcripts bounded per attempt and per plan
//! (oldest dropped first, every drop counted with its attempt), file change records written
//! once per attempt and path, summed on the plan (rolled-back ones left out), and pending
//! approvals kept with their subtask until a crash leaves the plan interrupted.

use super::*;
use crate::model::{AgentKind, SessionId, SubtaskStatus};
use crate::store::{PlanHeader, Store, WriteOp};

fn open() -> (tempfile::TempDir, Store) {
    let folder = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(&folder.path().join("planner.db")).unwrap();
    (folder, store)
}

fn stored_plan(store: &mut Store) -> Plan {
    let steps = ["s1", "s2"].map(|id| Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), AgentKind::Coder));
    let plan = Plan::new_draft(
        SessionId::from_raw("session"),
        "recorded".into(),
        "goal".into(),
        steps.to_vec(),
        Timestamp::from_millis(1),
    );
    store.commit(&[WriteOp::InsertPlan(plan.clone())]).unwrap();
    plan
}

fn note(text: &str) -> TranscriptEntry {
    let mut entry = TranscriptEntry::new(Timestamp::from_millis(2), TranscriptKind::Note);
    entry.text = Some(text.to_owned());
    entry
}

fn append(store: &mut Store, plan: &Plan, (subtask, attempt): (&str, u32), texts: &[&str], limits: TranscriptLimits) {
    let entries = texts.iter().map(|text| note(text)).collect();
    let op = WriteOp::AppendTranscript {
        plan_id: plan.id.clone(),
        subtask_id: SubtaskId::from_raw(subtask),
        attempt,
        entries,
        limits,
    };
    store.commit(&[op]).unwrap();
}

fn texts(transcript: &Transcript) -> Vec<&str> {
    transcript.entries.iter().filter_map(|entry| entry.text.as_deref()).collect()
}

const ROOMY: TranscriptLimits = TranscriptLimits { attempt_entries: 100, attempt_bytes: 1 << 20, plan_bytes: 1 << 20 };

#[test]
fn a_transcript_keeps_the_newest_entries_and_counts_what_it_dropped() {
    let (_folder, mut store) = open();
    let plan = stored_plan(&mut store);
    let tight = TranscriptLimits { attempt_entries: 3, ..ROOMY };
    append(&mut store, &plan, ("s1", 1), &["one", "two"], tight);
    append(&mut store, &plan, ("s1", 1), &["three", "four", "five"], tight);
    let step = SubtaskId::from_raw("s1");
    let kept = store.transcript(&plan.id, &step, Some(1)).unwrap();
    assert_eq!((texts(&kept), kept.dropped), (vec!["three", "four", "five"], 2));
    append(&mut store, &plan, ("s1", 2), &["retry"], tight);
    let last = store.transcript(&plan.id, &step, None).unwrap();
    assert_eq!((last.attempt, texts(&last), last.dropped), (2, vec!["retry"], 0), "the last attempt by default");
    let none = store.transcript(&plan.id, &SubtaskId::from_raw("s2"), None).unwrap();
    assert_eq!((none.attempt, none.entries.len()), (0, 0));
}

#[test]
fn the_plan_bound_drops_the_oldest_attempts_entries_first_and_counts_them_there() {
    let (_folder, mut store) = open();
    let plan = stored_plan(&mut store);
    let each = note("x".repeat(100).as_str()).bytes() as u64;
    let plan_bound = TranscriptLimits { plan_bytes: each * 3, ..ROOMY };
    let hundred = "x".repeat(100);
    append(&mut store, &plan, ("s1", 1), &[&hundred, &hundred], plan_bound);
    append(&mut store, &plan, ("s2", 1), &[&hundred, &hundred], plan_bound);
    let first = store.transcript(&plan.id, &SubtaskId::from_raw("s1"), Some(1)).unwrap();
    let second = store.transcript(&plan.id, &SubtaskId::from_raw("s2"), Some(1)).unwrap();
    assert_eq!((first.entries.len(), first.dropped), (1, 1), "the oldest entry of the plan went");
    assert_eq!((second.entries.len(), second.dropped), (2, 0));
}

fn record(subtask: &str, path: &str, before: Content, after: Content, at: i64) -> FileChangeRecord {
    FileChangeRecord {
        subtask_id: SubtaskId::from_raw(subtask),
        attempt: 1,
        path: path.to_owned(),
        from: None,
        before,
        after,
        added: 1,
        removed: 0,
        first_at: Timestamp::from_millis(at),
        last_at: Timestamp::from_millis(at),
        rolled_back_at: None,
    }
}

fn write_record(store: &mut Store, plan: &Plan, record: FileChangeRecord, replaces: Option<&str>) {
    let op = WriteOp::RecordFileChange {
        plan_id: plan.id.clone(),
        record: Box::new(record),
        replaces: replaces.map(Into::into),
    };
    store.commit(&[op]).unwrap();
}

#[test]
fn a_file_is_one_record_per_attempt_summed_on_its_subtask() {
    let (_folder, mut store) = open();
    let plan = stored_plan(&mut store);
    let text = |text: &str| Content::Text(text.to_owned());
    write_record(&mut store, &plan, record("s1", "a.txt", text("a0"), text("a1"), 10), None);
    write_record(&mut store, &plan, record("s1", "a.txt", text("a0"), text("a2"), 20), None);
    write_record(&mut store, &plan, record("s1", "tmp.txt", Content::Absent, text("t"), 30), None);
    write_record(&mut store, &plan, record("s1", "tmp.txt", Content::Absent, Content::Absent, 31), None);
    let mut moved = record("s1", "b.txt", text("b0"), text("b0"), 40);
    moved.from = Some("old.txt".into());
    write_record(&mut store, &plan, record("s1", "old.txt", text("b0"), Content::Absent, 35), None);
    write_record(&mut store, &plan, moved, Some("old.txt"));
    let records = store.file_changes(&plan.id, None).unwrap();
    let paths: Vec<(&str, i64, i64)> = records
        .iter()
        .map(|record| (record.path.as_str(), record.first_at.as_millis(), record.last_at.as_millis()))
        .collect();
    assert_eq!(
        paths,
        [("a.txt", 10, 20), ("b.txt", 40, 40)],
        "one record per path; the created-then-removed file is none"
    );
    assert_eq!(records[0].after, text("a2"));
    assert_eq!(store.recorded_change_bytes(&plan.id).unwrap(), 8);
    let summary = |store: &Store| store.get_plan(&plan.id).unwrap().unwrap().subtasks[0].changes;
    assert_eq!(summary(&store), Some(ChangeSummary { files: 2, added: 2, removed: 0 }));
    let rolled_back = vec![(SubtaskId::from_raw("s1"), 1, "a.txt".to_owned())];
    let at = Timestamp::from_millis(50);
    store.commit(&[WriteOp::MarkRolledBack { plan_id: plan.id.clone(), records: rolled_back, at }]).unwrap();
    assert_eq!(summary(&store), Some(ChangeSummary { files: 1, added: 1, removed: 0 }));
    assert_eq!(store.file_changes(&plan.id, None).unwrap()[0].rolled_back_at, Some(at));
}

#[test]
fn a_pending_approval_is_kept_with_its_subtask_and_dropped_when_a_crash_interrupts_the_plan() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("planner.db");
    let (mut store, _) = Store::open(&path).unwrap();
    let mut plan = stored_plan(&mut store);
    plan.status = crate::model::PlanStatus::Running;
    plan.subtasks[0].status = SubtaskStatus::Running;
    plan.subtasks[0].pending_approval = Some(PendingApproval {
        request_id: "q1".into(),
        question: "Allow coder to edit `a.txt`?".into(),
        tool_kind: ToolKind::Edit,
        target: "a.txt".into(),
        summary: Some("+1 −0 a.txt".into()),
        diff: Some("--- /dev/null\n+++ b/a.txt\n".into()),
        asked_at: Timestamp::from_millis(3),
    });
    let ops = [
        WriteOp::UpdateHeader(PlanHeader::of(&plan)),
        WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: vec![plan.subtasks[0].clone()] },
    ];
    store.commit(&ops).unwrap();
    let read = store.get_plan(&plan.id).unwrap().unwrap();
    assert_eq!(read.subtasks[0].pending_approval, plan.subtasks[0].pending_approval);
    drop(store);
    // No owner process recorded: opening again finds the plan left running by a crash.
    let (store, report) = Store::open(&path).unwrap();
    assert_eq!(report.interrupted, vec![plan.id.clone()]);
    assert_eq!(store.get_plan(&plan.id).unwrap().unwrap().subtasks[0].pending_approval, None);
}

#[test]
fn a_pending_approval_round_trips_through_its_json() {
    let pending = PendingApproval {
        request_id: "01J".into(),
        question: "Allow coder to edit `README.md`?".into(),
        tool_kind: ToolKind::Edit,
        target: "README.md".into(),
        summary: Some("+1 −0 README.md".into()),
        diff: Some("--- a/README.md\n+++ b/README.md\n".into()),
        asked_at: Timestamp::from_millis(42),
    };
    assert_eq!(pending_from_json(&pending_to_json(&pending).to_string()), Some(pending));
    assert_eq!(pending_from_json("{}"), None);
}
