//! The LSP implementation of the engine's `EditorBridge`: the documents the editor has open
//! (read from `documents.rs`, unsaved changes included), agents' changes to them as
//! `workspace/applyEdit` requests — the changed ranges only, against the document version the
//! agent read, so an editor whose buffer moved on refuses them — and agents' questions as
//! `window/showMessageRequest`s — withdrawn with `$/cancelRequest` when answered elsewhere first
//! (`planning/answer`). Called from run tasks only, never from a request handler, so
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
use tower_lsp_server::ls_types::notification::Cancel;
use tower_lsp_server::ls_types::request::{ApplyWorkspaceEdit, Request as _, ShowMessageRequest};
use tower_lsp_server::ls_types::{
    ApplyWorkspaceEditParams, CancelParams, ClientCapabilities, DocumentChangeOperation, DocumentChanges,
    MessageActionItem, MessageType, NumberOrString, OneOf, OptionalVersionedTextDocumentIdentifier,
    ResourceOperationKind, ShowMessageRequestParams, TextDocumentEdit, TextEdit, WorkspaceEdit,
};
use tower_lsp_server::{Client, jsonrpc};
use tower_service::Service as _;

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

    /// `window/showMessageRequest`, sent with an id of our own: when the question is answered
    /// elsewhere first (`planning/answer`), this future is dropped and [`Withdrawal`] tells the
    /// editor with `$/cancelRequest`; a late answer is then ignored.
    async fn question(&self, message: String, actions: Vec<String>) -> Result<Option<String>, String> {
        let items = actions.into_iter().map(|title| MessageActionItem { title, properties: Default::default() });
        let params = ShowMessageRequestParams { typ: MessageType::INFO, message, actions: Some(items.collect()) };
        let params = serde_json::to_value(params).map_err(|error| error.to_string())?;
        let id = self.client.next_request_id();
        let request = jsonrpc::Request::build(ShowMessageRequest::METHOD).id(id.clone()).params(params).finish();
        let mut client = self.client.clone();
        futures::future::poll_fn(|context| client.poll_ready(context))
            .await
            .map_err(|_| "the editor has gone".to_owned())?;
        let mut withdrawal = Withdrawal { client: self.client.clone(), id: Some(id) };
        let response = client.call(request).await;
        withdrawal.id = None;
        let response = response.map_err(|_| "the editor has gone".to_owned())?;
        let Some(response) = response else { return Err("the editor sent no answer".to_owned()) };
        let (_, result) = response.into_parts();
        let value = result.map_err(|error| error.message.to_string())?;
        let chosen: Option<MessageActionItem> = serde_json::from_value(value).map_err(|error| error.to_string())?;
        Ok(chosen.map(|item| item.title))
    }
}

/// Withdraws a `window/showMessageRequest` nobody waits for any more: `$/cancelRequest` with its
/// id, unless it was answered (then `id` is `None`).
struct Withdrawal {
    client: Client,
    id: Option<jsonrpc::Id>,
}

impl Drop for Withdrawal {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let id = match id {
            jsonrpc::Id::Number(number) => NumberOrString::Number(i32::try_from(number).unwrap_or(i32::MAX)),
            jsonrpc::Id::String(text) => NumberOrString::String(text),
            jsonrpc::Id::Null => return,
        };
        let client = self.client.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { client.send_notification::<Cancel>(CancelParams { id }).await });
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
