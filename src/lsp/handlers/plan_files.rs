//! Plan files as LSP documents: `textDocument/didOpen|didChange|didClose` (incremental sync)
//! and the diagnostics published after each change, plus the helpers the other plan-file
//! handlers share (the open file, checked; the last plan run from it).
//!
//! Every open document is tracked (agents read and edit open files through the buffer); only
//! documents whose path ends in `.plan.toml` are checked and get diagnostics.
//!
//! Checking a file is linear in its size but a large file still takes a while, so it never runs
//! on the handlers' path: a change only records the text and starts a check on a blocking
//! thread; its diagnostics are published if that version is still the open one (the newest text
//! wins), and the check is kept for the requests that need it (lenses, hover, ...). At most one
//! check per document runs at a time; changes that arrive meanwhile are checked next, newest only.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    NumberOrString, Uri,
};

use crate::lsp::documents::{LineIndex, is_plan_file};
use crate::lsp::server::PlannerServer;
use crate::model::Plan;
use crate::planfile::{self, CheckedPlanFile, Severity};

/// What diagnostics say they come from.
pub const SOURCE: &str = "codelab-planner";

pub async fn handle_document_open(server: &PlannerServer, params: DidOpenTextDocumentParams) {
    let document = params.text_document;
    server.shared.documents.open(document.uri.clone(), document.text, document.version);
    if !is_plan_file(&document.uri) {
        return;
    }
    spawn_check(server, document.uri);
}

pub async fn handle_document_change(server: &PlannerServer, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let changed = server.shared.documents.change(&uri, params.text_document.version, params.content_changes);
    if !is_plan_file(&uri) {
        return;
    }
    if changed.is_some() {
        spawn_check(server, uri);
    }
}

pub async fn handle_document_close(server: &PlannerServer, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    server.shared.documents.close(&uri);
    if !is_plan_file(&uri) {
        return;
    }
    server.client.publish_diagnostics(uri, Vec::new(), None).await;
}

/// Documents with a check running (one at a time per document).
static CHECKING: LazyLock<Mutex<HashSet<Uri>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

fn checking() -> std::sync::MutexGuard<'static, HashSet<Uri>> {
    CHECKING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks the newest text of `uri` off the handlers' path and publishes its diagnostics, then
/// again for as long as the text moved on meanwhile.
fn spawn_check(server: &PlannerServer, uri: Uri) {
    if !checking().insert(uri.clone()) {
        return; // The running check looks at the version again when it ends.
    }
    let (client, shared) = (server.client.clone(), server.shared.clone());
    tokio::spawn(async move {
        loop {
            let checked_version = shared.documents.get(&uri).map(|document| document.version);
            if let Some(document) = shared.documents.get(&uri)
                && shared.documents.checked(&uri, document.version).is_none()
            {
                let text = document.text.clone();
                let made = tokio::task::spawn_blocking(move || {
                    let checked = planfile::check(&text);
                    let diagnostics = diagnostics_of(&text, &checked);
                    (Arc::new(checked), diagnostics)
                })
                .await;
                if let Ok((checked, diagnostics)) = made
                    && shared.documents.keep_checked(&uri, document.version, checked)
                {
                    client.publish_diagnostics(uri.clone(), diagnostics, Some(document.version)).await;
                }
            }
            // Done unless the text moved on (or the file was closed or opened) meanwhile; under
            // the lock a new change either sees this check running or starts its own.
            let mut running = checking();
            if shared.documents.version(&uri) == checked_version {
                running.remove(&uri);
                break;
            }
        }
    });
}

/// Every problem of the file as an LSP diagnostic with its exact range.
pub fn diagnostics_of(text: &str, checked: &CheckedPlanFile) -> Vec<Diagnostic> {
    let index = LineIndex::new(text);
    checked
        .problems
        .iter()
        .map(|problem| Diagnostic {
            range: index.range(&problem.span),
            severity: Some(match problem.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String("planFile".to_owned())),
            source: Some(SOURCE.to_owned()),
            message: problem.message.clone(),
            ..Diagnostic::default()
        })
        .collect()
}

/// An open plan file, checked.
pub struct OpenPlanFile {
    pub text: Arc<String>,
    pub checked: Arc<CheckedPlanFile>,
}

/// The open document at `uri`, checked (the kept check of its version, else one made now on a
/// blocking thread); `None` when it is not an open plan file.
pub async fn open_plan_file(server: &PlannerServer, uri: &Uri) -> Option<OpenPlanFile> {
    if !is_plan_file(uri) {
        return None;
    }
    let document = server.shared.documents.get(uri)?;
    if let Some(checked) = server.shared.documents.checked(uri, document.version) {
        return Some(OpenPlanFile { text: document.text, checked });
    }
    let text = document.text.clone();
    let checked = Arc::new(tokio::task::spawn_blocking(move || planfile::check(&text)).await.ok()?);
    server.shared.documents.keep_checked(uri, document.version, checked.clone());
    Some(OpenPlanFile { text: document.text, checked })
}

/// The key a plan made from `uri` is stored under (workspace-relative path when inside).
pub fn source_key_of(server: &PlannerServer, uri: &Uri) -> Option<String> {
    let path = uri.to_file_path()?;
    Some(planfile::source_key(&server.shared.workspace_root(), &path))
}

/// The newest plan run from the file at `uri` (its last run's statuses), if any.
pub async fn last_plan_of(server: &PlannerServer, uri: &Uri) -> Option<Plan> {
    let key = source_key_of(server, uri)?;
    let orchestrator = server.orchestrator().await.ok()?;
    orchestrator.latest_plan_of_file(key).await.ok().flatten()
}
