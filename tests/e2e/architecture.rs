//! The layering ARCHITECTURE.md promises, checked on the source text (comments left out):
//! the pure layer and the store never reach up into the layers that use them, and the faces
//! (the command line, the language server's handlers, the MCP server, the ACP agent) only convert
//! and present — the use cases they offer live once, on the orchestrator's handle, never in a face.

use std::path::{Path, PathBuf};

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `relative` (a file or a folder).
fn rust_files(relative: &str) -> Vec<PathBuf> {
    let start = crate_root().join(relative);
    if start.is_file() {
        return vec![start];
    }
    let mut found = Vec::new();
    let mut folders = vec![start];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
        for entry in entries.map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no source under {relative}");
    found
}

/// The file's code with `//` comments (doc comments included) removed.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .map(|line| match line.find("//") {
            Some(start) if !line[..start].contains('"') => &line[..start],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(file, forbidden text)` for every use of a forbidden text in the files under `relatives`.
fn uses(relatives: &[&str], forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for relative in relatives {
        for path in rust_files(relative) {
            let code = code_of(&path);
            for text in forbidden {
                if code.contains(text) {
                    let shown = path.strip_prefix(crate_root()).unwrap_or(&path).display().to_string();
                    found.push(format!("{shown} uses {text}"));
                }
            }
        }
    }
    found
}

#[test]
fn the_pure_layer_and_the_store_do_not_reach_up() {
    let above = [
        "crate::llm",
        "crate::agents",
        "crate::planner",
        "crate::engine",
        "crate::orchestrator",
        "crate::wire",
        "crate::lsp",
        "crate::cli",
        "crate::config",
    ];
    let mut found = uses(&["src/model", "src/graph.rs", "src/classify", "src/planfile"], &above);
    found.extend(uses(&["src/fsm.rs"], &["crate::store", "crate::llm", "crate::orchestrator"]));
    found.extend(uses(&["src/store"], &above));
    assert!(found.is_empty(), "arrows that run back up:\n{}", found.join("\n"));
}

#[test]
fn faces_only_convert_and_present() {
    // The ACP face's editor bridge (like the language server's `bridge.rs`) reads a file's old
    // text for the diff it shows; the rest of the face is checked.
    let faces = [
        "src/cli",
        "src/lsp/handlers",
        "src/lsp/progress.rs",
        "src/lsp/planning.rs",
        "src/mcp",
        "src/acp/mod.rs",
        "src/acp/session.rs",
        "src/acp/ext.rs",
        "src/acp/present.rs",
    ];
    // What only a use case does: storing, starting runs, making plans from files, following runs.
    let use_case_work = [
        "crate::store",
        "crate::engine::events",
        "event_queue",
        "spawn_run",
        "ExecuteRequest {",
        "export_plan",
        "read_to_string",
        "tokio::fs",
    ];
    let found = uses(&faces, &use_case_work);
    assert!(found.is_empty(), "a face does a use case's work:\n{}", found.join("\n"));
    let other_face = uses(&["src/cli"], &["crate::lsp"]);
    assert!(other_face.is_empty(), "the command line borrows from the language server:\n{}", other_face.join("\n"));
    let other_face = uses(&["src/lsp"], &["crate::cli", "crate::mcp", "crate::acp"]);
    assert!(other_face.is_empty(), "the language server borrows from another face:\n{}", other_face.join("\n"));
    let other_face = uses(&["src/mcp"], &["crate::lsp", "crate::cli", "crate::acp"]);
    assert!(other_face.is_empty(), "the MCP server borrows from another face:\n{}", other_face.join("\n"));
    let other_face = uses(&["src/acp"], &["crate::lsp", "crate::cli", "crate::mcp"]);
    assert!(other_face.is_empty(), "the ACP agent borrows from another face:\n{}", other_face.join("\n"));
}
