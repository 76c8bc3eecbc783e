//! The documents the editor has open — plan files (`*.plan.toml`) and every other file, which
//! agents read and edit through the buffer — as the editor has them: text and version, kept in
//! sync by `textDocument/didOpen|didChange|didClose` (incremental changes applied here), and the
//! conversion between LSP positions (UTF-16 code units, as LSP defaults to) and byte offsets.
//!
//! Plain data behind short-held mutexes: no lock is ever held across an await. Each change bumps
//! a `watch` counter, so a writer can wait for the editor to report a newer version. The text is
//! shared (`Arc`), so handing it to a check costs nothing; each version's check is kept
//! ([`Documents::checked`]) so requests on an unchanged file do not check it again, and
//! [`LineIndex`] turns many byte ranges into positions in one pass over the text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

use crate::planfile::{CheckedPlanFile, Span};

/// One open document.
#[derive(Debug, Clone)]
pub struct Document {
    pub text: Arc<String>,
    pub version: i32,
    /// This version's check, once made.
    checked: Option<Arc<CheckedPlanFile>>,
}

/// Every open document, by URI (and by canonical file path, for the agents' writer).
#[derive(Debug, Default)]
pub struct Documents {
    open: Mutex<HashMap<Uri, Document>>,
    /// Canonical file path → the URI the editor spells it with.
    paths: Mutex<HashMap<PathBuf, Uri>>,
    /// Bumped on every open, change and close.
    changes: tokio::sync::watch::Sender<u64>,
}

/// The canonical path of a `file:` URI (as it is when the file does not exist).
fn file_path_of(uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?.into_owned();
    Some(path.canonicalize().unwrap_or(path))
}

/// True for `*.plan.toml` files (the TOML-only features: completion, rename).
pub fn is_plan_file(uri: &Uri) -> bool {
    uri.path().as_str().ends_with(".plan.toml")
}

/// The format of a plan file by its name alone: `*.plan.toml`, `*.plan.md`.
pub fn plan_file_format(uri: &Uri) -> Option<crate::planfile::Format> {
    let path = uri.path().as_str().to_lowercase();
    if path.ends_with(".plan.toml") {
        Some(crate::planfile::Format::Toml)
    } else if path.ends_with(".plan.md") {
        Some(crate::planfile::Format::Markdown)
    } else {
        None
    }
}

impl Documents {
    fn lock(&self) -> MutexGuard<'_, HashMap<Uri, Document>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn open(&self, uri: Uri, text: String, version: i32) {
        if let Some(path) = file_path_of(&uri) {
            self.paths.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(path, uri.clone());
        }
        self.lock().insert(uri, Document { text: Arc::new(text), version, checked: None });
        self.changes.send_modify(|count| *count += 1);
    }

    /// The check of `version` of `uri`, if it was made and that version is still the open one.
    pub fn checked(&self, uri: &Uri, version: i32) -> Option<Arc<CheckedPlanFile>> {
        self.lock().get(uri).filter(|document| document.version == version)?.checked.clone()
    }

    /// Keeps the check of `version`; dropped when the document has moved on (the newest wins).
    pub fn keep_checked(&self, uri: &Uri, version: i32, checked: Arc<CheckedPlanFile>) -> bool {
        match self.lock().get_mut(uri) {
            Some(document) if document.version == version => {
                document.checked = Some(checked);
                true
            }
            _ => false,
        }
    }

    /// The version open now, if any.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.lock().get(uri).map(|document| document.version)
    }

    /// Applies changes in order (ranged ones incrementally, others replace the text); returns
    /// the new document, or `None` when it is not open.
    pub fn change(&self, uri: &Uri, version: i32, changes: Vec<TextDocumentContentChangeEvent>) -> Option<Document> {
        let mut open = self.lock();
        let document = open.get_mut(uri)?;
        if version <= document.version {
            tracing::warn!(uri = uri.as_str(), version, known = document.version, "didChange out of order");
        }
        for change in changes {
            match change.range {
                Some(range) => {
                    let span = span_of_range(&document.text, range);
                    Arc::make_mut(&mut document.text).replace_range(span, &change.text);
                }
                None => document.text = Arc::new(change.text),
            }
        }
        document.version = version;
        document.checked = None;
        let document = document.clone();
        drop(open);
        self.changes.send_modify(|count| *count += 1);
        Some(document)
    }

    pub fn close(&self, uri: &Uri) {
        self.lock().remove(uri);
        if let Some(path) = file_path_of(uri) {
            self.paths.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&path);
        }
        self.changes.send_modify(|count| *count += 1);
    }

    /// The URI and document of the file at the canonical `path`, when the editor has it open.
    pub fn get_by_path(&self, path: &Path) -> Option<(Uri, Document)> {
        let uri = self.paths.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(path).cloned()?;
        let document = self.get(&uri)?;
        Some((uri, document))
    }

    /// Waits (at most `timeout`) until the document at `path` has a version newer than `version`;
    /// `None` when it is closed or nothing newer arrived in time.
    pub async fn newer_than(&self, path: &Path, version: i32, timeout: Duration) -> Option<Document> {
        let mut changes = self.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (_, document) = self.get_by_path(path)?;
            if document.version > version {
                return Some(document);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return None,
            }
        }
    }

    pub fn get(&self, uri: &Uri) -> Option<Document> {
        self.lock().get(uri).cloned()
    }
}

/// The byte offset of an LSP position; past the end of a line or of the text clamps to it.
pub fn offset_of(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(index) => line_start += index + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..].find('\n').map_or(text.len(), |index| line_start + index);
    let mut units = 0;
    for (index, character) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + index;
        }
        units += character.len_utf16() as u32;
    }
    line_end
}

/// The LSP position of a byte offset (clamped to the text, moved back to a character start).
pub fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(character).unwrap_or(u32::MAX))
}

/// Where each line starts: positions of many offsets in one text, each in O(log lines) plus its
/// own line, instead of a scan from the start of the text per offset.
pub struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, byte)| *byte == b'\n').map(|(index, _)| index + 1));
        Self { text, line_starts }
    }

    /// The same as [`position_of`], for any offset of this text.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(character).unwrap_or(u32::MAX))
    }

    pub fn range(&self, span: &Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }
}

pub fn range_of(text: &str, span: &Span) -> Range {
    Range::new(position_of(text, span.start), position_of(text, span.end))
}

pub fn span_of_range(text: &str, range: Range) -> Span {
    let start = offset_of(text, range.start);
    let end = offset_of(text, range.end).max(start);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a = \"é😀x\"\nb";
        let x = text.find('x').unwrap();
        assert_eq!(position_of(text, x), Position::new(0, 8));
        assert_eq!(offset_of(text, Position::new(0, 8)), x);
        assert_eq!(offset_of(text, Position::new(1, 0)), text.len() - 1);
        assert_eq!(offset_of(text, Position::new(0, 99)), text.find('\n').unwrap());
        assert_eq!(offset_of(text, Position::new(9, 0)), text.len());
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(index.position(offset), position_of(text, offset), "offset {offset}");
        }
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let documents = Documents::default();
        let uri: Uri = "file:///w/a.plan.toml".parse().unwrap();
        documents.open(uri.clone(), "title = \"x\"\n".into(), 1);
        let change = |range: Option<Range>, text: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: text.into(),
        };
        let changed = documents
            .change(
                &uri,
                2,
                vec![
                    change(Some(Range::new(Position::new(0, 9), Position::new(0, 10))), "yz"),
                    change(Some(Range::new(Position::new(1, 0), Position::new(1, 0))), "goal = \"g\"\n"),
                ],
            )
            .unwrap();
        assert_eq!(changed.text.as_str(), "title = \"yz\"\ngoal = \"g\"\n");
        assert_eq!(changed.version, 2);
        assert!(is_plan_file(&uri));
    }
}
