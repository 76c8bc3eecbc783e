//! Plan files as LSP documents: `textDocument/didOpen|didChange|didClose` (incremental sync)
//! and the diagnostics published after each change, plus the helpers the other plan-file
//! handlers share (the open file, checked; the last plan run from it).
//!
//! Every open document is tracked (agents read and edit open files through the buffer); plan
//! files are checked and get diagnostics: `*.plan.toml`, `*.plan.md`, and any task list (`*.md`,
//! Taskmaster's `*.json`) a plan was imported from.
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

use crate::lsp::documents::{LineIndex, plan_file_format};
use crate::lsp::server::PlannerServer;
use crate::model::Plan;
use crate::planfile::{self, CheckedPlanFile, Format, ReadOptions, Severity};

/// What diagnostics say they come from.
pub const SOURCE: &str = "codelab-planner";

pub async fn handle_document_open(server: &PlannerServer, params: DidOpenTextDocumentParams) {
    let document = params.text_document;
    server.shared.documents.open(document.uri.clone(), document.text, document.version);
    let Some(format) = plan_format(server, &document.uri).await else { return };
    let options = read_options(server, &document.uri).await;
    spawn_check(server, document.uri, format, options);
}

pub async fn handle_document_change(server: &PlannerServer, params: DidChangeTextDocumentParams) {
    let uri = params.text_document.uri;
    let changed = server.shared.documents.change(&uri, params.text_document.version, params.content_changes);
    if changed.is_none() {
        return;
    }
    let Some(format) = plan_format(server, &uri).await else { return };
    let options = read_options(server, &uri).await;
    spawn_check(server, uri, format, options);
}

pub async fn handle_document_close(server: &PlannerServer, params: DidCloseTextDocumentParams) {
    let uri = params.text_document.uri;
    server.shared.documents.close(&uri);
    if plan_format(server, &uri).await.is_none() {
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
fn spawn_check(server: &PlannerServer, uri: Uri, format: Format, options: ReadOptions) {
    if !checking().insert(uri.clone()) {
        return; // The running check looks at the version again when it ends.
    }
    let (client, shared) = (server.client.clone(), server.shared.clone());
    tokio::spawn(async move {
        loop {
            let checked_version = shared.documents.get(&uri).map(|document| document.version);
            if let Some(document) = shared.documents.get(&uri) {
                // A request (lenses, hover) may have checked this version already: its check is
                // reused, and the diagnostics are published all the same.
                let kept = shared.documents.checked(&uri, document.version);
                let text = document.text.clone();
                let options = options.clone();
                let made = tokio::task::spawn_blocking(move || {
                    let checked = kept.unwrap_or_else(|| Arc::new(planfile::check_as(&text, format, &options)));
                    let diagnostics = diagnostics_of(&text, &checked);
                    (checked, diagnostics)
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
    pub format: Format,
    pub checked: Arc<CheckedPlanFile>,
}

/// The open document at `uri`, checked (the kept check of its version, else one made now on a
/// blocking thread); `None` when it is not an open plan file.
pub async fn open_plan_file(server: &PlannerServer, uri: &Uri) -> Option<OpenPlanFile> {
    let format = plan_format(server, uri).await?;
    let document = server.shared.documents.get(uri)?;
    if let Some(checked) = server.shared.documents.checked(uri, document.version) {
        return Some(OpenPlanFile { text: document.text, format, checked });
    }
    let text = document.text.clone();
    let options = read_options(server, uri).await;
    let checked =
        Arc::new(tokio::task::spawn_blocking(move || planfile::check_as(&text, format, &options)).await.ok()?);
    server.shared.documents.keep_checked(uri, document.version, checked.clone());
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
