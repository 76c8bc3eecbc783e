//! Plan files as LSP documents: `textDocument/didOpen|didChange|didClose` (incremental sync)
//! and the diagnostics published after each change, plus the helpers the other plan-file
//! handlers share (the open file, checked; the last plan run from it).
//!
//! Every open document is tracked (agents read and edit open files through the buffer); plan
//! files get diagnostics: `*.plan.toml`, `*.plan.md`, and any task list (`*.md`, Taskmaster's
//! `*.json`) a plan was imported from.

use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticSeverity, DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    NumberOrString, Uri,
};

use crate::lsp::documents::{Document, plan_file_format, range_of};
use crate::lsp::server::PlannerServer;
use crate::model::Plan;
use crate::planfile::{self, CheckedPlanFile, Format, ReadOptions, Severity};

/// What diagnostics say they come from.
pub const SOURCE: &str = "codelab-planner";

pub async fn handle_document_open(server: &PlannerServer, params: DidOpenTextDocumentParams) {
    let document = params.text_document;
    server.shared.documents.open(document.uri.clone(), document.text.clone(), document.version);
    let Some(format) = plan_format(server, &document.uri).await else { return };
    publish(server, document.uri, format, &Document { text: document.text, version: document.version }).await;
}

pub async fn handle_document_change(server: &PlannerServer, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let changed = server.shared.documents.change(&uri, params.text_document.version, params.content_changes);
    let Some(document) = changed else { return };
    let Some(format) = plan_format(server, &uri).await else { return };
    publish(server, uri, format, &document).await;
}

pub async fn handle_document_close(server: &PlannerServer, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    server.shared.documents.close(&uri);
    if plan_format(server, &uri).await.is_none() {
        return;
    }
    server.client.publish_diagnostics(uri, Vec::new(), None).await;
}

async fn publish(server: &PlannerServer, uri: Uri, format: Format, document: &Document) {
    let checked = planfile::check_as(&document.text, format, &read_options(server, &uri).await);
    let diagnostics = diagnostics_of(&document.text, &checked);
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
    pub format: Format,
    pub checked: CheckedPlanFile,
}

/// The open document at `uri`, checked; `None` when it is not an open plan file.
pub async fn open_plan_file(server: &PlannerServer, uri: &Uri) -> Option<OpenPlanFile> {
    let document = server.shared.documents.get(uri)?;
    let format = plan_format(server, uri).await?;
    let checked = planfile::check_as(&document.text, format, &read_options(server, uri).await);
    Some(OpenPlanFile { text: document.text, format, checked })
}

/// The format of the plan file at `uri`: a `*.plan.toml` or `*.plan.md` by its name, a task list
/// (`*.md`, `*.json`) once a plan was imported from it; `None` for other files.
pub async fn plan_format(server: &PlannerServer, uri: &Uri) -> Option<Format> {
    if let Some(format) = plan_file_format(uri) {
        return Some(format);
    }
    let format = Format::of_path(&uri.to_file_path()?).filter(|format| format.ticks())?;
    last_plan_of(server, uri).await.map(|_| format)
}

/// How the server reads task lists: as the orchestrator imports them (with a model or not).
async fn read_options(server: &PlannerServer, uri: &Uri) -> ReadOptions {
    let path = uri.to_file_path().map(|path| path.into_owned()).unwrap_or_default();
    match server.orchestrator().await {
        Ok(orchestrator) => orchestrator.read_options(&path),
        Err(_) => ReadOptions::default(),
    }
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
