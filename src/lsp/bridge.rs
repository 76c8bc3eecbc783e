//! The LSP implementation of the engine's `EditorBridge`: agents' file changes become
//! `workspace/applyEdit` requests (visible and undoable in the editor) and their questions
//! `window/showMessageRequest`s. Called from run tasks only, never from a request handler, so
//! waiting for the person never holds a handler open.
//!
//! What the client cannot do is left to the disk: without `workspace.applyEdit` an edit is
//! reported applied and the workspace writer writes the file (the "disk bridge"); a new file
//! without `CreateFile` resource operations is likewise written to the disk only. Without a
//! client that can answer `showMessageRequest`, questions come back unanswered (a denial).

use std::path::{Path, PathBuf};

use futures::FutureExt;
use futures::future::BoxFuture;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::request::ApplyWorkspaceEdit;
use tower_lsp_server::ls_types::{
    ApplyWorkspaceEditParams, ClientCapabilities, CreateFile, CreateFileOptions, DocumentChangeOperation,
    DocumentChanges, MessageActionItem, MessageType, OneOf, OptionalVersionedTextDocumentIdentifier, Position, Range,
    ResourceOp, ResourceOperationKind, TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};

use crate::engine::{EditorBridge, FileEdit};

/// What the client said it can do, from `initialize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditorCapabilities {
    pub apply_edit: bool,
    /// `documentChanges` with `create` resource operations (needed to create files).
    pub create_files: bool,
    pub message_actions: bool,
}

impl EditorCapabilities {
    pub fn of(capabilities: &ClientCapabilities) -> Self {
        let workspace = capabilities.workspace.as_ref();
        let apply_edit = workspace.and_then(|workspace| workspace.apply_edit).unwrap_or(false);
        let edit = workspace.and_then(|workspace| workspace.workspace_edit.as_ref());
        let document_changes = edit.and_then(|edit| edit.document_changes).unwrap_or(false);
        let create = edit
            .and_then(|edit| edit.resource_operations.as_ref())
            .is_some_and(|operations| operations.contains(&ResourceOperationKind::Create));
        // Every client may get showMessageRequest; `messageActionItem` only refines it.
        Self { apply_edit, create_files: document_changes && create, message_actions: true }
    }
}

/// Edits and questions through the connected client.
pub struct LspEditorBridge {
    client: Client,
    workspace_root: PathBuf,
    capabilities: EditorCapabilities,
}

impl LspEditorBridge {
    pub fn new(client: Client, workspace_root: PathBuf, capabilities: EditorCapabilities) -> Self {
        Self { client, workspace_root, capabilities }
    }

    async fn apply(&self, label: String, edits: Vec<FileEdit>) -> Result<bool, String> {
        if !self.capabilities.apply_edit {
            return Ok(true);
        }
        let mut operations = Vec::new();
        for edit in edits {
            let absolute = self.workspace_root.join(&edit.path);
            let uri =
                Uri::from_file_path(&absolute).ok_or_else(|| format!("{} is not a file path", edit.path.display()))?;
            let exists = absolute.exists();
            if !exists && !self.capabilities.create_files {
                continue;
            }
            if !exists {
                let options = CreateFileOptions { overwrite: Some(false), ignore_if_exists: Some(true) };
                let create = CreateFile { uri: uri.clone(), options: Some(options), annotation_id: None };
                operations.push(DocumentChangeOperation::Op(ResourceOp::Create(create)));
            }
            let range = Range { start: Position::new(0, 0), end: end_of(&absolute).await };
            let text_edit = TextEdit { range, new_text: edit.new_text };
            operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri, version: None },
                edits: vec![OneOf::Left(text_edit)],
            }));
        }
        if operations.is_empty() {
            return Ok(true);
        }
        let edit = WorkspaceEdit {
            changes: None,
            document_changes: Some(DocumentChanges::Operations(operations)),
            change_annotations: None,
        };
        let params = ApplyWorkspaceEditParams { label: Some(label), edit };
        match self.client.send_request::<ApplyWorkspaceEdit>(params).await {
            Ok(response) => Ok(response.applied),
            Err(error) => Err(error.message.to_string()),
        }
    }

    async fn question(&self, message: String, actions: Vec<String>) -> Result<Option<String>, String> {
        let items = actions.into_iter().map(|title| MessageActionItem { title, properties: Default::default() });
        match self.client.show_message_request(MessageType::INFO, message, Some(items.collect())).await {
            Ok(chosen) => Ok(chosen.map(|item| item.title)),
            Err(error) => Err(error.message.to_string()),
        }
    }
}

/// The position just past the file's last character (UTF-16 columns, as LSP counts them).
async fn end_of(path: &Path) -> Position {
    let text =
        tokio::fs::read(path).await.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default();
    let line = text.matches('\n').count();
    let last = text.rsplit('\n').next().unwrap_or_default();
    let character = last.encode_utf16().count();
    Position::new(u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(character).unwrap_or(u32::MAX))
}

impl EditorBridge for LspEditorBridge {
    fn apply_edits(&self, label: String, edits: Vec<FileEdit>) -> BoxFuture<'_, Result<bool, String>> {
        self.apply(label, edits).boxed()
    }

    fn ask(&self, message: String, actions: Vec<String>) -> BoxFuture<'_, Result<Option<String>, String>> {
        self.question(message, actions).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_end_position_counts_utf16_columns() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("file.txt");
        std::fs::write(&path, "first\nsé😀").unwrap();
        assert_eq!(end_of(&path).await, Position::new(1, 4));
        std::fs::write(&path, "line\n").unwrap();
        assert_eq!(end_of(&path).await, Position::new(1, 0));
        assert_eq!(end_of(&directory.path().join("absent")).await, Position::new(0, 0));
    }

    #[test]
    fn capabilities_need_document_changes_and_create_to_create_files() {
        let parse = |value| serde_json::from_value::<ClientCapabilities>(value).unwrap();
        let full = parse(
            json!({ "workspace": { "applyEdit": true, "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create"] } } }),
        );
        assert_eq!(
            EditorCapabilities::of(&full),
            EditorCapabilities { apply_edit: true, create_files: true, message_actions: true }
        );
        let plain = parse(json!({ "workspace": { "applyEdit": true } }));
        assert!(!EditorCapabilities::of(&plain).create_files);
        assert!(!EditorCapabilities::of(&parse(json!({}))).apply_edit);
    }
}
