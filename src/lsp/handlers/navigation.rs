//! Reading and moving around a plan file: hover (a subtask's last result or error and timing;
//! on the title, the plan's last run),
//! completion (subtask ids inside `depends_on`, agent names after `agent =`), go to definition
//! (from a dependency id to its subtask), document symbols, and rename of a subtask id (its
//! `id` and every `depends_on` that names it, as one edit).

use std::collections::HashMap;

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, DocumentSymbol, DocumentSymbolParams,
    DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location,
    MarkupContent, MarkupKind, RenameParams, SymbolKind, TextEdit, Uri, WorkspaceEdit,
};

use super::lenses::{plan_outcome, subtask_outcome};
use super::plan_files::{OpenPlanFile, last_plan_of, open_plan_file};
use crate::lsp::documents::{LineIndex, offset_of, range_of};
use crate::lsp::server::PlannerServer;
use crate::model::AgentKind;
use crate::model::validate::is_valid_subtask_id;
use crate::planfile::{PlanFile, Span};

/// Most characters of a result or error shown in a hover.
const HOVER_EXCERPT_CHARS: usize = 1_200;

/// The subtask a position is about: the dependency under it, else the table around it.
fn subtask_at(file: &PlanFile, offset: usize) -> Option<usize> {
    if let Some(id) = dependency_at(file, offset).map(|(_, id)| id) {
        return file.entry_with_id(&id).map(|(index, _)| index);
    }
    file.entry_at(offset).map(|(index, _)| index)
}

/// The `depends_on` element under `offset`: its span and the id it names.
fn dependency_at(file: &PlanFile, offset: usize) -> Option<(Span, String)> {
    file.subtasks.iter().find_map(|entry| {
        let position = entry.depends_on_spans.iter().position(|span| span.start <= offset && offset <= span.end)?;
        Some((entry.depends_on_spans[position].clone(), entry.draft.depends_on.get(position)?.clone()))
    })
}

pub async fn handle_hover(server: &PlannerServer, params: HoverParams) -> Result<Option<Hover>> {
    let uri = params.text_document_position_params.text_document.uri;
    let Some(open) = open_plan_file(server, &uri).await else { return Ok(None) };
    let offset = offset_of(&open.text, params.text_document_position_params.position);
    let file = &open.checked.file;
    let Some(index) = subtask_at(file, offset) else { return Ok(plan_hover(server, &uri, &open, offset).await) };
    let id = file.id_of(index);
    let entry = &file.subtasks[index];
    let mut text = format!("**{id}** — {} · {}", entry.draft.title, entry.draft.agent);
    if let Some(command) = &entry.draft.command {
        text.push_str(&format!("\n\n`{}`", command.lines().next().unwrap_or("")));
    }
    let last = last_plan_of(server, &uri).await;
    let stored = last.as_ref().and_then(|plan| plan.subtasks.iter().find(|subtask| subtask.id.as_str() == id));
    match stored.filter(|subtask| subtask.attempts > 0) {
        Some(subtask) => {
            text.push_str(&format!(
                "\n\nLast run: {} (attempt {} of {})",
                subtask_outcome(subtask),
                subtask.attempts,
                subtask.max_attempts
            ));
            for (label, body) in [("Error", &subtask.error), ("Result", &subtask.result)] {
                if let Some(body) = body.as_deref().filter(|body| !body.trim().is_empty()) {
                    text.push_str(&format!("\n\n{label}:\n```text\n{}\n```", excerpt(body)));
                }
            }
        }
        None => text.push_str("\n\nNot run yet from this file."),
    }
    let range = entry.id_span.as_ref().map(|span| range_of(&open.text, span));
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range,
    }))
}

/// On the title: the plan's size and its last run from this file.
async fn plan_hover(server: &PlannerServer, uri: &Uri, open: &OpenPlanFile, offset: usize) -> Option<Hover> {
    let file = &open.checked.file;
    let span = file.title_span.clone().filter(|span| span.start <= offset && offset <= span.end)?;
    let title = file.title.as_deref().unwrap_or_default();
    let mut text = format!("**{title}** — {} subtask(s)", file.subtasks.len());
    match last_plan_of(server, uri).await.filter(|plan| plan.started_at.is_some()) {
        Some(plan) => text.push_str(&format!("\n\nLast run: {} (plan `{}`)", plan_outcome(&plan), plan.id)),
        None => text.push_str("\n\nNot run yet from this file."),
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: text }),
        range: Some(range_of(&open.text, &span)),
    })
}

/// The end of a long text (where results and errors say the most), on a line boundary.
fn excerpt(text: &str) -> String {
    let text = text.trim_end();
    let count = text.chars().count();
    if count <= HOVER_EXCERPT_CHARS {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - HOVER_EXCERPT_CHARS).collect();
    let tail = tail.split_once('\n').map_or(tail.as_str(), |(_, rest)| rest);
    format!("…\n{tail}")
}

pub async fn handle_completion(server: &PlannerServer, params: CompletionParams) -> Result<Option<CompletionResponse>> {
    let uri = params.text_document_position.text_document.uri;
    if !crate::lsp::documents::is_plan_file(&uri) {
        return Ok(None);
    }
    let Some(document) = server.shared.documents.get(&uri) else { return Ok(None) };
    let offset = offset_of(&document.text, params.text_document_position.position);
    let before = &document.text[..offset];
    let line = before.rsplit('\n').next().unwrap_or("");
    let quoted = before.ends_with('"');
    if is_after_key(line, "agent") {
        let items =
            AgentKind::ALL.iter().map(|agent| item(agent.as_str(), None, CompletionItemKind::ENUM_MEMBER, quoted));
        return Ok(Some(CompletionResponse::Array(items.collect())));
    }
    if !inside_depends_on(before) {
        return Ok(None);
    }
    let titles = titles_by_id(&document.text);
    let own = own_id(before);
    let items = ids_in_text(&document.text)
        .into_iter()
        .filter(|id| Some(id.as_str()) != own.as_deref())
        .map(|id| {
            let title = titles.get(&id).cloned();
            item(&id, title, CompletionItemKind::REFERENCE, quoted)
        })
        .collect();
    Ok(Some(CompletionResponse::Array(items)))
}

fn item(label: &str, detail: Option<String>, kind: CompletionItemKind, quoted: bool) -> CompletionItem {
    let insert_text = if quoted { label.to_owned() } else { format!("\"{label}\"") };
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail,
        insert_text: Some(insert_text),
        ..CompletionItem::default()
    }
}

/// `agent = "sh|`: the line so far assigns `key`.
fn is_after_key(line: &str, key: &str) -> bool {
    let Some(rest) = line.trim_start().strip_prefix(key) else { return false };
    let Some(value) = rest.trim_start().strip_prefix('=') else { return false };
    let value = value.trim_start();
    value.is_empty() || (value.starts_with('"') && value[1..].chars().all(|character| character != '"'))
}

/// Inside the brackets of the nearest `depends_on = [` before the cursor.
fn inside_depends_on(before: &str) -> bool {
    let Some(start) = before.rfind("depends_on") else { return false };
    let after = &before[start..];
    after.contains('[') && !after.contains(']') && !after.contains("\n[")
}

/// The id of the subtask being written (the last `id = "..."` before the cursor in its table).
fn own_id(before: &str) -> Option<String> {
    let table = &before[before.rfind("[[subtask]]").unwrap_or(0)..];
    ids_in_text(table).pop()
}

/// Every `id = "..."` value, line by line (works on a file that does not parse yet).
fn ids_in_text(text: &str) -> Vec<String> {
    text.lines().filter_map(|line| quoted_value(line, "id")).collect()
}

fn quoted_value(line: &str, key: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(key)?.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|character| *character == '"' || *character == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

fn titles_by_id(text: &str) -> HashMap<String, String> {
    let mut titles = HashMap::new();
    let mut id = None;
    for line in text.lines() {
        if line.trim_start().starts_with("[[") {
            id = None;
        }
        if let Some(value) = quoted_value(line, "id") {
            id = Some(value);
        } else if let (Some(id), Some(title)) = (&id, quoted_value(line, "title")) {
            titles.insert(id.clone(), title);
        }
    }
    titles
}

pub async fn handle_definition(
    server: &PlannerServer,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>> {
    let uri = params.text_document_position_params.text_document.uri;
    let Some(open) = open_plan_file(server, &uri).await else { return Ok(None) };
    let offset = offset_of(&open.text, params.text_document_position_params.position);
    let file = &open.checked.file;
    let Some((_, id)) = dependency_at(file, offset) else { return Ok(None) };
    let Some((_, entry)) = file.entry_with_id(&id) else { return Ok(None) };
    let span = entry.id_span.clone().unwrap_or_else(|| entry.header_span.clone());
    Ok(Some(GotoDefinitionResponse::Scalar(Location { uri, range: range_of(&open.text, &span) })))
}

pub async fn handle_document_symbol(
    server: &PlannerServer,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>> {
    let Some(open) = open_plan_file(server, &params.text_document.uri).await else { return Ok(None) };
    let file = &open.checked.file;
    let index = LineIndex::new(&open.text);
    let mut symbols = Vec::new();
    if let (Some(title), Some(span)) = (&file.title, &file.title_span) {
        symbols.push(symbol(title.clone(), Some("plan".to_owned()), SymbolKind::MODULE, &index, span, span));
    }
    for (position, entry) in file.subtasks.iter().enumerate() {
        let selection = entry.id_span.clone().unwrap_or_else(|| entry.header_span.clone());
        let detail = Some(format!("{} · {}", entry.draft.title, entry.draft.agent));
        let id = file.id_of(position);
        symbols.push(symbol(id, detail, SymbolKind::FUNCTION, &index, &entry.table_span, &selection));
    }
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    index: &LineIndex<'_>,
    span: &Span,
    selection: &Span,
) -> DocumentSymbol {
    let range = index.range(&(span.start..span.end.max(selection.end)));
    #[allow(deprecated)]
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: index.range(selection),
        children: None,
    }
}

pub async fn handle_rename(server: &PlannerServer, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    let uri = params.text_document_position.text_document.uri;
    let Some(open) = open_plan_file(server, &uri).await else { return Ok(None) };
    if open.format != crate::planfile::Format::Toml {
        return Ok(None); // ids in a task list are its own numbering
    }
    let offset = offset_of(&open.text, params.text_document_position.position);
    let file = &open.checked.file;
    let on_id = file.subtasks.iter().find_map(|entry| {
        entry.id_span.as_ref().filter(|span| span.start <= offset && offset <= span.end).and(entry.draft.id.clone())
    });
    let Some(old) = on_id.or_else(|| dependency_at(file, offset).map(|(_, id)| id)) else { return Ok(None) };
    if !is_valid_subtask_id(&params.new_name) {
        return Err(Error::invalid_params(format!(
            "newName: invalid id \"{}\" (allowed: letters, digits, _ . -, 1 to 64 characters)",
            params.new_name
        )));
    }
    let edits = rename_edits(&open, &old, &params.new_name);
    Ok(Some(WorkspaceEdit { changes: Some(HashMap::from([(uri, edits)])), ..WorkspaceEdit::default() }))
}

/// Replaces the text between the quotes of the id and of every dependency naming it.
fn rename_edits(open: &OpenPlanFile, old: &str, new: &str) -> Vec<TextEdit> {
    let mut spans: Vec<&Span> = Vec::new();
    for entry in &open.checked.file.subtasks {
        if entry.draft.id.as_deref() == Some(old) {
            spans.extend(entry.id_span.as_ref());
        }
        for (dependency, span) in entry.draft.depends_on.iter().zip(&entry.depends_on_spans) {
            if dependency == old {
                spans.push(span);
            }
        }
    }
    spans
        .into_iter()
        .filter(|span| span.len() >= 2)
        .map(|span| TextEdit { range: range_of(&open.text, &(span.start + 1..span.end - 1)), new_text: new.to_owned() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_contexts_are_found_in_unfinished_text() {
        assert!(is_after_key("agent = \"sh", "agent"));
        assert!(is_after_key("  agent =", "agent"));
        assert!(!is_after_key("agent = \"shell\" ", "agent"));
        assert!(inside_depends_on("id = \"b\"\ndepends_on = [\"a\", "));
        assert!(!inside_depends_on("depends_on = [\"a\"]\n"));
        assert_eq!(ids_in_text("id = \"a\"\nx = 1\n  id='b'\n"), vec!["a", "b"]);
        assert_eq!(own_id("[[subtask]]\nid = \"a\"\n[[subtask]]\nid = \"b\"\ndepends_on = ["), Some("b".to_owned()));
    }
}
