//! Edits that never clobber a person's work, over the real binary with the scripted model and a
//! test client that keeps its own buffers as an editor does (versions, UTF-16 positions, refusing
//! a stale version):
//!
//! - an agent's edit to a file open with unsaved changes reads and keeps them, arrives as a
//!   minimal versioned edit, and leaves the disk alone;
//! - an edit racing the person's typing is applied again on their text, or reported as a
//!   conflict, never written over it;
//! - a folder swapped for a link to outside while the approval question is open: nothing is
//!   written outside;
//! - `execute_command` in the sandbox: `.git/`, `.codelab/` and `../` refused, the workspace and
//!   the temporary folder writable (where the kernel has Landlock; else the notice is checked).

use serde_json::{Value, json};

use crate::agents::{call, run_coder, tool_answers};
use crate::fake_openai::FakeOpenAi;
use crate::harness::{REQUEST_TIMEOUT, ServerSetup, TestServer, workspace};

const DISK_TEXT: &str = "pub fn answer() -> u32 {\n    41\n}\n";
/// The buffer: the disk's text with the person's unsaved lines around it (Russian included).
const UNSAVED_TEXT: &str =
    "// заметка: не трогать, это моя правка\npub fn answer() -> u32 {\n    41\n}\n// unsaved line the person typed\n";

fn setup(workspace: &std::path::Path, model: &FakeOpenAi, approval: &str) -> ServerSetup {
    let settings =
        json!({ "llm": { "baseUrl": model.base_url, "model": "scripted" }, "approval": { "tools": approval } });
    let mut setup = ServerSetup::new(workspace);
    setup.initialization_options = settings.clone();
    setup.configuration = Some(settings);
    setup.apply_edit = true;
    setup.answer_apply_edits = false;
    setup.work_done_progress = false;
    setup
}

/// A document the test client has open, as an editor keeps it (also used by `record.rs` and
/// `tasklists.rs`).
pub(crate) struct Buffer {
    pub(crate) uri: String,
    pub(crate) text: String,
    version: i64,
}

/// The byte offset of an LSP position (UTF-16 columns).
fn offset_of(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let character = position["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (index, letter) in text[start..].char_indices() {
        if units >= character || letter == '\n' {
            return start + index;
        }
        units += letter.len_utf16();
    }
    text.len()
}

impl Buffer {
    pub(crate) fn open(server: &mut TestServer, path: &std::path::Path, text: &str) -> Self {
        let uri = format!("file://{}", path.display());
        let document = json!({ "uri": uri, "languageId": "rust", "version": 1, "text": text });
        server.notify("textDocument/didOpen", json!({ "textDocument": document }));
        Self { uri, text: text.to_owned(), version: 1 }
    }

    /// The person types `typed` at the start of line `line`.
    fn type_at(&mut self, server: &mut TestServer, line: u32, typed: &str) {
        let position = json!({ "line": line, "character": 0 });
        let offset = offset_of(&self.text, &position);
        self.text.insert_str(offset, typed);
        self.version += 1;
        let change = json!({ "range": { "start": position, "end": position }, "text": typed });
        let document = json!({ "uri": self.uri, "version": self.version });
        server.notify("textDocument/didChange", json!({ "textDocument": document, "contentChanges": [change] }));
    }

    /// Applies a `workspace/applyEdit` for this document as an editor does: refused when its
    /// version is not the buffer's; else every edit (against the same text), then `didChange`.
    pub(crate) fn apply(&mut self, server: &mut TestServer, id: Value, params: &Value) {
        let change = &params["edit"]["documentChanges"][0];
        assert_eq!(change["textDocument"]["uri"], self.uri.as_str(), "{params}");
        if change["textDocument"]["version"] != json!(self.version) {
            server.respond(id, json!({ "applied": false, "failureReason": "the document changed" }));
            return;
        }
        let mut edits: Vec<(usize, usize, String)> = change["edits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edit| {
                let start = offset_of(&self.text, &edit["range"]["start"]);
                let end = offset_of(&self.text, &edit["range"]["end"]);
                (start, end, edit["newText"].as_str().unwrap().to_owned())
            })
            .collect();
        edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
        for (start, end, text) in edits {
            self.text.replace_range(start..end, &text);
        }
        self.version += 1;
        let document = json!({ "uri": self.uri, "version": self.version });
        server.notify(
            "textDocument/didChange",
            json!({ "textDocument": document, "contentChanges": [{ "text": self.text }] }),
        );
        server.respond(id, json!({ "applied": true }));
    }
}

fn lib_workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let directory = workspace();
    std::fs::create_dir_all(directory.path().join("src")).unwrap();
    let lib = directory.path().join("src/lib.rs");
    std::fs::write(&lib, DISK_TEXT).unwrap();
    (directory, lib)
}

fn edit_41_to_42() -> crate::fake_openai::Reply {
    call("edit_file", json!({ "path": "src/lib.rs", "edits": [{ "search": "    41", "replace": "    42" }] }))
}

#[test]
fn an_agent_edit_to_a_dirty_open_file_keeps_the_persons_text_and_leaves_the_disk_alone() {
    let (directory, lib) = lib_workspace();
    let model = FakeOpenAi::start();
    model.push(call("read_file", json!({ "path": "src/lib.rs" })));
    model.push(edit_41_to_42());
    model.push(call("attempt_completion", json!({ "result": "42 now" })));
    let (mut server, _) = TestServer::start(setup(directory.path(), &model, "auto"));
    server.take_server_request("workspace/configuration");
    let mut buffer = Buffer::open(&mut server, &lib, UNSAVED_TEXT);

    let (_, run_id) = run_coder(&mut server, "Сделать ответ равным 42, не трогая мои правки");
    let (id, params) = server.take_unanswered_request("workspace/applyEdit");
    let change = &params["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1, "versioned against what the agent read: {params}");
    let edits = change["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 1, "{params}");
    assert_eq!(
        edits[0]["range"],
        json!({ "start": { "line": 2, "character": 5 }, "end": { "line": 2, "character": 6 } })
    );
    assert_eq!(edits[0]["newText"], "2", "the changed character only, not the file");
    buffer.apply(&mut server, id, &params);

    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    assert_eq!(buffer.text, UNSAVED_TEXT.replace("    41", "    42"), "the person's unsaved lines survive");
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), DISK_TEXT, "the disk is untouched while the buffer is dirty");
    let requests = model.wait_for_requests(3, REQUEST_TIMEOUT);
    let answers = tool_answers(&requests[2]);
    assert!(answers[0].contains("заметка: не трогать"), "read_file reads the buffer: {answers:?}");
    assert!(answers[0].contains("open in the editor with unsaved changes"), "{answers:?}");
    assert!(answers[1].contains("in the editor's buffer only"), "the result says where it went: {answers:?}");
    server.shutdown_and_exit();
}

#[test]
fn an_edit_racing_the_persons_typing_is_applied_again_on_their_text() {
    let (directory, lib) = lib_workspace();
    let model = FakeOpenAi::start();
    model.push(call("read_file", json!({ "path": "src/lib.rs" })));
    model.push(edit_41_to_42());
    model.push(call("attempt_completion", json!({ "result": "42 now" })));
    let (mut server, _) = TestServer::start(setup(directory.path(), &model, "auto"));
    server.take_server_request("workspace/configuration");
    let mut buffer = Buffer::open(&mut server, &lib, UNSAVED_TEXT);

    let (_, run_id) = run_coder(&mut server, "Make the answer 42 while I keep typing");
    let (id, stale) = server.take_unanswered_request("workspace/applyEdit");
    // The person types between the agent's read and the edit's arrival: the editor refuses it.
    buffer.type_at(&mut server, 0, "// typed while the agent worked\n");
    buffer.apply(&mut server, id, &stale);
    let (id, again) = server.take_unanswered_request("workspace/applyEdit");
    let change = &again["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 2, "made against the person's new version: {again}");
    assert_eq!(change["edits"][0]["range"]["start"], json!({ "line": 3, "character": 5 }));
    buffer.apply(&mut server, id, &again);

    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    let expected = format!("// typed while the agent worked\n{}", UNSAVED_TEXT.replace("    41", "    42"));
    assert_eq!(buffer.text, expected, "both the person's typing and the agent's edit are there");
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), DISK_TEXT);
    server.shutdown_and_exit();
}

#[test]
fn an_edit_that_keeps_losing_the_race_is_a_conflict_never_an_overwrite() {
    let (directory, lib) = lib_workspace();
    let model = FakeOpenAi::start();
    model.push(call("read_file", json!({ "path": "src/lib.rs" })));
    model.push(edit_41_to_42());
    model.push(call("attempt_completion", json!({ "result": "gave up" })));
    let (mut server, _) = TestServer::start(setup(directory.path(), &model, "auto"));
    server.take_server_request("workspace/configuration");
    let mut buffer = Buffer::open(&mut server, &lib, UNSAVED_TEXT);

    let (_, run_id) = run_coder(&mut server, "Make the answer 42 while I type a lot");
    for typed in ["// first interruption\n", "// second interruption\n"] {
        let (id, params) = server.take_unanswered_request("workspace/applyEdit");
        buffer.type_at(&mut server, 0, typed);
        buffer.apply(&mut server, id, &params);
    }
    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    let expected = format!("// second interruption\n// first interruption\n{UNSAVED_TEXT}");
    assert_eq!(buffer.text, expected, "nothing of the person's text was overwritten");
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), DISK_TEXT);
    let requests = model.wait_for_requests(3, REQUEST_TIMEOUT);
    let answers = tool_answers(&requests[2]);
    assert!(answers[1].contains("changed in the editor while this edit was applied"), "{answers:?}");
    server.shutdown_and_exit();
}

#[test]
fn a_folder_swapped_for_a_link_while_the_question_is_open_writes_nothing_outside() {
    let directory = workspace();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(directory.path().join("docs/notes")).unwrap();
    let model = FakeOpenAi::start();
    model.push(call("write_file", json!({ "path": "docs/notes/plan.md", "content": "# План\n" })));
    model.push(call("attempt_completion", json!({ "result": "tried" })));
    let mut setup = setup(directory.path(), &model, "ask");
    setup.answer_message_requests = false;
    let (mut server, _) = TestServer::start(setup);
    server.take_server_request("workspace/configuration");

    let (_, run_id) = run_coder(&mut server, "Write the plan notes");
    let (id, question) = server.take_unanswered_request("window/showMessageRequest");
    assert_eq!(question["message"], "Allow coder to edit `docs/notes/plan.md`? (+1 −0 docs/notes/plan.md)");
    // While the person reads the question, the folder becomes a link to outside the workspace.
    std::fs::remove_dir(directory.path().join("docs/notes")).unwrap();
    std::os::unix::fs::symlink(outside.path(), directory.path().join("docs/notes")).unwrap();
    server.respond(id, json!({ "title": "Allow" }));

    let events = server.collect_run_events(&run_id);
    assert_eq!(events.last().unwrap()["status"], "completed", "{events:#?}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "nothing was written outside");
    let requests = model.wait_for_requests(2, REQUEST_TIMEOUT);
    let answers = tool_answers(&requests[1]);
    assert!(answers[0].contains("the path changed since it was checked"), "{answers:?}");
    server.shutdown_and_exit();
}
