//! The read-only tools: `read_file` (line ranges), `list_files` and `search_in_code` (both
//! respecting `.gitignore`, through the `ignore` and `grep-*` crates). They change nothing and
//! need no approval.

use grep_regex::RegexMatcherBuilder;
use grep_searcher::SearcherBuilder;
use grep_searcher::sinks::UTF8;
use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

use super::specs::{ListArgs, ReadArgs, SearchArgs};
use super::{Stop, ToolEnv, ToolState};
use crate::agents::context::{MODEL_VIEW_BYTES, truncate_for_model};

/// Entries `list_files` shows at most.
const MAX_LISTED: usize = 500;
/// Matches `search_in_code` shows at most.
const MAX_MATCHES: usize = 200;

/// `.git` and `.codelab` are never listed or searched.
fn not_internal(entry: &ignore::DirEntry) -> bool {
    entry.file_name() != ".git" && entry.file_name() != ".codelab"
}

pub(super) async fn read_file(env: &ToolEnv, state: &mut ToolState, arguments: ReadArgs) -> Result<String, Stop> {
    let path = env.workspace.resolve(&arguments.path)?;
    env.workspace.check_size(&path)?;
    if path.absolute.is_dir() {
        return Err(Stop::Tool(format!("{} is a directory; use list_files", path.relative)));
    }
    let Some(read) = env.writer.read(env.write_context("read"), &path).await? else {
        return Err(Stop::Tool(format!("{} does not exist", path.relative)));
    };
    let text = read.text;
    state.seen.insert(path.relative.clone(), text.clone());
    // The model is told once per read that it sees the editor's unsaved text.
    let note = if read.unsaved {
        format!("[{} is open in the editor with unsaved changes; this is the editor's text]\n", path.relative)
    } else {
        String::new()
    };
    let total = text.lines().count();
    let first = arguments.start_line.unwrap_or(1).max(1);
    let last = arguments.end_line.unwrap_or(total).min(total);
    if arguments.start_line.is_none() && arguments.end_line.is_none() {
        return Ok(note + &truncate_for_model(&text, MODEL_VIEW_BYTES));
    }
    if first > last {
        return Ok(format!("{note}{} has {total} lines; lines {first}..{last} are empty", path.relative));
    }
    let selected: Vec<&str> = text.lines().skip(first - 1).take(last + 1 - first).collect();
    let header = format!("{note}{} lines {first}-{last} of {total}:\n", path.relative);
    Ok(header + &truncate_for_model(&selected.join("\n"), MODEL_VIEW_BYTES))
}

pub(super) async fn list_files(env: &ToolEnv, arguments: ListArgs) -> Result<String, Stop> {
    let base = env.workspace.resolve(arguments.path.as_deref().unwrap_or("."))?;
    if !base.absolute.is_dir() {
        return Err(Stop::Tool(format!(
            "{} is not a directory",
            if base.relative.is_empty() { "." } else { &base.relative }
        )));
    }
    let recursive = arguments.recursive.unwrap_or(false);
    let workspace = env.workspace.clone();
    let listing = tokio::task::spawn_blocking(move || {
        let mut walker = WalkBuilder::new(&base.absolute);
        walker.hidden(false).require_git(false).filter_entry(not_internal);
        if !recursive {
            walker.max_depth(Some(1));
        }
        let mut entries = Vec::new();
        let mut more = 0usize;
        for entry in walker.build().flatten() {
            if entry.depth() == 0 {
                continue;
            }
            if entries.len() >= MAX_LISTED {
                more += 1;
                continue;
            }
            let Some(relative) = workspace.relative_of(entry.path()) else { continue };
            let is_dir = entry.file_type().is_some_and(|kind| kind.is_dir());
            entries.push(if is_dir { format!("{relative}/") } else { relative });
        }
        entries.sort();
        if more > 0 {
            entries.push(format!("[… {more} more entries not shown …]"));
        }
        entries
    })
    .await
    .map_err(|error| Stop::Tool(format!("listing failed: {error}")))?;
    Ok(if listing.is_empty() { "(empty)".to_owned() } else { listing.join("\n") })
}

pub(super) async fn search_in_code(env: &ToolEnv, arguments: SearchArgs) -> Result<String, Stop> {
    if arguments.query.is_empty() {
        return Err(Stop::Tool("query is empty".to_owned()));
    }
    let base = env.workspace.resolve(arguments.path.as_deref().unwrap_or("."))?;
    let matcher = RegexMatcherBuilder::new()
        .build(&arguments.query)
        .or_else(|_| RegexMatcherBuilder::new().fixed_strings(true).build(&arguments.query))
        .map_err(|error| Stop::Tool(format!("bad query: {error}")))?;
    let mut overrides = OverrideBuilder::new(&base.absolute);
    if let Some(pattern) = arguments.file_pattern.as_deref().filter(|pattern| !pattern.is_empty()) {
        overrides.add(pattern).map_err(|error| Stop::Tool(format!("bad file_pattern: {error}")))?;
    }
    let overrides = overrides.build().map_err(|error| Stop::Tool(format!("bad file_pattern: {error}")))?;
    let workspace = env.workspace.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        let mut searcher = SearcherBuilder::new().line_number(true).build();
        let walker = WalkBuilder::new(&base.absolute)
            .hidden(false)
            .require_git(false)
            .overrides(overrides)
            .filter_entry(not_internal)
            .build();
        for entry in walker.flatten() {
            if found.len() >= MAX_MATCHES || !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            let Some(relative) = workspace.relative_of(entry.path()) else { continue };
            let _ = searcher.search_path(
                &matcher,
                entry.path(),
                UTF8(|line_number, line| {
                    found.push(format!("{relative}:{line_number}: {}", line.trim_end()));
                    Ok(found.len() < MAX_MATCHES)
                }),
            );
        }
        found
    })
    .await
    .map_err(|error| Stop::Tool(format!("search failed: {error}")))?;
    if found.is_empty() {
        return Ok(format!("no matches for `{}`", arguments.query));
    }
    let capped =
        if found.len() >= MAX_MATCHES { format!("\n[stopped at {MAX_MATCHES} matches]") } else { String::new() };
    Ok(truncate_for_model(&found.join("\n"), MODEL_VIEW_BYTES) + &capped)
}
