//! The writer without an editor: serialised modifications, failed transforms, moves that never
//! overwrite, and the observer that sees every applied change. (With an editor, buffers and
//! versions are tested end to end over the real binary: `tests/e2e/safe_edits.rs`.)

use std::sync::Mutex;

use super::*;

struct Recorder(Mutex<Vec<String>>);

impl ChangeObserver for Recorder {
    fn change_applied(&self, change: &AppliedChange<'_>) {
        let line = format!(
            "{:?} {} {:?} -> {:?} {:?}",
            change.kind, change.path.relative, change.before, change.after, change.target
        );
        self.0.lock().unwrap().push(line);
    }
}

fn origin() -> ChangeOrigin {
    ChangeOrigin {
        plan_id: PlanId::from_raw("plan"),
        subtask_id: SubtaskId::from_raw("s1"),
        attempt: 1,
        agent: AgentKind::Coder,
    }
}

fn context<'a>(workspace: &'a Workspace, origin: &'a ChangeOrigin) -> WriteContext<'a> {
    WriteContext { workspace, editor: None, origin, label: "test" }
}

#[tokio::test]
async fn concurrent_modifications_of_one_file_keep_every_edit() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("list.txt"), "").unwrap();
    let workspace = Workspace::new(directory.path()).unwrap();
    let path = workspace.resolve_for_write("list.txt").unwrap();
    let writer = WorkspaceWriter::new();
    let tasks: Vec<_> = (0..16)
        .map(|number| {
            let (writer, path, workspace) = (writer.clone(), path.clone(), workspace.clone());
            tokio::spawn(async move {
                let origin = origin();
                writer
                    .modify(context(&workspace, &origin), &path, |current| {
                        Ok::<_, ()>(format!("{}{number}\n", current.text.unwrap_or_default()))
                    })
                    .await
                    .unwrap()
                    .unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let text = std::fs::read_to_string(directory.path().join("list.txt")).unwrap();
    assert_eq!(text.lines().count(), 16);
}

#[tokio::test]
async fn a_failed_transform_leaves_the_file_alone_and_moves_refuse_to_overwrite() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("a.txt"), "a").unwrap();
    std::fs::write(directory.path().join("b.txt"), "b").unwrap();
    let workspace = Workspace::new(directory.path()).unwrap();
    let writer = WorkspaceWriter::new();
    let origin = origin();
    let context = context(&workspace, &origin);
    let a = workspace.resolve_for_write("a.txt").unwrap();
    let outcome = writer.modify(context, &a, |_| Err::<String, _>("no match")).await.unwrap();
    assert_eq!(outcome, Err("no match"));
    assert_eq!(std::fs::read_to_string(&a.absolute).unwrap(), "a");
    let b = workspace.resolve_for_write("b.txt").unwrap();
    assert!(writer.rename(context, &a, &b).await.is_err());
    let c = workspace.resolve_for_write("sub/c.txt").unwrap();
    writer.rename(context, &a, &c).await.unwrap();
    assert_eq!(std::fs::read_to_string(&c.absolute).unwrap(), "a");
}

#[tokio::test]
async fn every_applied_change_reaches_the_observer_once_and_nothing_else_does() {
    let directory = tempfile::tempdir().unwrap();
    let workspace = Workspace::new(directory.path()).unwrap();
    let writer = WorkspaceWriter::new();
    let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
    writer.observe(recorder.clone());
    let origin = origin();
    let context = context(&workspace, &origin);
    let notes = workspace.resolve_for_write("docs/notes.md").unwrap();
    writer.modify(context, &notes, |_| Ok::<_, ()>("first\n".to_owned())).await.unwrap().unwrap();
    let unchanged = writer.modify(context, &notes, |_| Ok::<_, ()>("first\n".to_owned())).await.unwrap().unwrap();
    assert_eq!(unchanged.target, None, "an edit that changes nothing writes nothing");
    let _ = writer.modify(context, &notes, |_| Err::<String, _>("refused")).await.unwrap();
    let moved = workspace.resolve_for_write("docs/moved.md").unwrap();
    writer.rename(context, &notes, &moved).await.unwrap();
    writer.delete(context, &moved).await.unwrap();
    writer.create_directory(context, &workspace.resolve_for_write("made").unwrap()).await.unwrap();
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "Write docs/notes.md None -> Some(\"first\\n\") Disk",
            "Move { from: \"docs/notes.md\" } docs/moved.md None -> Some(\"first\\n\") Disk",
            "Delete docs/moved.md Some(\"first\\n\") -> None Disk",
            "CreateDirectory made None -> None Disk",
        ]
    );
}
