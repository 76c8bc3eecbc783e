//! Plan files as LSP documents: `textDocument/didOpen|didChange|didClose` (incremental sync)
//! and the diagnostics published after each change, plus the helpers the other plan-file
//! handlers share (the open file, checked; the last plan run from it).
//!
//! Every open document is tracked (agents read and edit open files through the buffer); only
//! documents whose path ends in `.plan.toml` get diagnostics.

use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    NumberOrString, Uri,
};

use crate::lsp::documents::{Document, is_plan_file, range_of};
use crate::lsp::server::PlannerServer;
use crate::model::Plan;
use crate::planfile::{self, CheckedPlanFile, Severity};

/// What diagnostics say they come from.
pub const SOURCE: &str = "codelab-planner";

pub async fn handle_document_open(server: &PlannerServer, params: DidOpenTextDocumentParams) {
    let document = params.text_document;
    server.shared.documents.open(document.uri.clone(), document.text.clone(), document.version);
    if !is_plan_file(&document.uri) {
        return;
    }
    publish(server, document.uri, &Document { text: document.text, version: document.version }).await;
}

pub async fn handle_document_change(server: &PlannerServer, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let changed = server.shared.documents.change(&uri, params.text_document.version, params.content_changes);
    if !is_plan_file(&uri) {
        return;
    }
    if let Some(document) = changed {
        publish(server, uri, &document).await;
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

async fn publish(server: &PlannerServer, uri: Uri, document: &Document) {
    let diagnostics = diagnostics_of(&document.text, &planfile::check(&document.text));
    server.client.publish_diagnostics(uri, diagnostics, Some(document.version)).await;
}

/// Every problem of the file as an LSP diagnostic with its exact range.
pub fn diagnostics_of(text: &str, checked: &CheckedPlanFile) -> Vec<Diagnostic> {
    checked
        .problems
        .iter()
        .map(|problem| Diagnostic {
            range: range_of(text, &problem.span),
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
    pub text: String,
    pub checked: CheckedPlanFile,
}

/// The open document at `uri`, checked; `None` when it is not an open plan file.
pub fn open_plan_file(server: &PlannerServer, uri: &Uri) -> Option<OpenPlanFile> {
    if !is_plan_file(uri) {
        return None;
    }
    let document = server.shared.documents.get(uri)?;
    let checked = planfile::check(&document.text);
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
