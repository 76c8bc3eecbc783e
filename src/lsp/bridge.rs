//! The LSP implementation of the engine's `EditorBridge`: the documents the editor has open
//! (read from `documents.rs`, unsaved changes included), agents' changes to them as
//! `workspace/applyEdit` requests — the changed ranges only, against the document version the
//! agent read, so an editor whose buffer moved on refuses them — and agents' questions as
//! `window/showMessageRequest`s. Called from run tasks only, never from a request handler, so
//! waiting for the person never holds a handler open.
//!
//! Files the editor does not have open are not its business: the workspace writer writes them to
//! the disk. An edit whose version the server already knows to be stale is refused here without a
//! round trip (some editors drop a stale versioned edit silently and still answer "applied").
//! Without a client that can answer `showMessageRequest`, questions come back unanswered (a denial).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::request::ApplyWorkspaceEdit;
use tower_lsp_server::ls_types::{
    ApplyWorkspaceEditParams, ClientCapabilities, DocumentChangeOperation, DocumentChanges, MessageActionItem,
    MessageType, OneOf, OptionalVersionedTextDocumentIdentifier, ResourceOperationKind, TextDocumentEdit, TextEdit,
    WorkspaceEdit,
};

use super::documents::{Documents, range_of};
use crate::engine::{DocumentEdit, EditorBridge, OpenDocument};

/// What the client said it can do, from `initialize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EditorCapabilities {
    pub apply_edit: bool,
    /// `documentChanges` with `create` resource operations.
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

/// Edits, open documents and questions through the connected client.
pub struct LspEditorBridge {
    client: Client,
    workspace_root: PathBuf,
    capabilities: EditorCapabilities,
    documents: Arc<Documents>,
}

impl LspEditorBridge {
    pub fn new(
        client: Client,
        workspace_root: PathBuf,
        capabilities: EditorCapabilities,
        documents: Arc<Documents>,
    ) -> Self {
        let workspace_root = workspace_root.canonicalize().unwrap_or(workspace_root);
        Self { client, workspace_root, capabilities, documents }
    }

    fn absolute(&self, relative: &Path) -> PathBuf {
        self.workspace_root.join(relative)
    }

    async fn apply(&self, label: String, edits: Vec<DocumentEdit>) -> Result<bool, String> {
        if !self.capabilities.apply_edit {
            return Err("the editor does not take edits (no workspace.applyEdit)".to_owned());
        }
        let mut operations = Vec::new();
        for edit in edits {
            let Some((uri, document)) = self.documents.get_by_path(&self.absolute(&edit.path)) else {
                return Ok(false);
            };
            if document.version != edit.version {
                return Ok(false);
            }
            let text_edits = edit
                .hunks
                .iter()
                .map(|hunk| {
                    let range = range_of(&edit.base_text, &hunk.range);
                    OneOf::Left(TextEdit { range, new_text: hunk.new_text.clone() })
                })
                .collect();
            operations.push(DocumentChangeOperation::Edit(TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri, version: Some(edit.version) },
                edits: text_edits,
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

impl EditorBridge for LspEditorBridge {
    fn open_document(&self, path: &Path) -> Option<OpenDocument> {
        let (_, document) = self.documents.get_by_path(&self.absolute(path))?;
        Some(OpenDocument { text: String::clone(&document.text), version: document.version })
    }

    fn newer_document(&self, path: &Path, version: i32, timeout: Duration) -> BoxFuture<'_, Option<OpenDocument>> {
        let absolute = self.absolute(path);
        async move {
            let document = self.documents.newer_than(&absolute, version, timeout).await?;
            Some(OpenDocument { text: String::clone(&document.text), version: document.version })
        }
        .boxed()
    }

    fn takes_edits(&self) -> bool {
        self.capabilities.apply_edit
    }

    fn apply_edits(&self, label: String, edits: Vec<DocumentEdit>) -> BoxFuture<'_, Result<bool, String>> {
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
