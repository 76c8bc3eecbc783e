//! The protocol's method names must agree everywhere they are written: `src/lsp/ext.rs`
//! (`ALL_METHODS`), `docs/protocol.md`, and (when they exist) the editor clients. To check a new
//! mirror, add its path to [`MIRRORS`].

use std::collections::BTreeSet;

use codelab_planner::lsp::ext::ALL_METHODS;

/// Files that must name every planning method and no other. Paths are relative to the crate.
const MIRRORS: &[&str] = &["docs/protocol.md"];

/// Every `planning/<name>` in `text`.
fn planning_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("planning/") {
        let tail = &rest[start + "planning/".len()..];
        let length = tail.find(|character: char| !character.is_ascii_alphanumeric()).unwrap_or(tail.len());
        if length > 0 {
            names.insert(format!("planning/{}", &tail[..length]));
        }
        rest = &tail[length..];
    }
    names
}

#[test]
fn every_mirror_names_exactly_the_methods_of_ext_rs() {
    let defined: BTreeSet<String> = ALL_METHODS.iter().map(|method| (*method).to_owned()).collect();
    for mirror in MIRRORS {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(mirror);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let named = planning_names(&text);
        let missing: Vec<&String> = defined.difference(&named).collect();
        let unknown: Vec<&String> = named.difference(&defined).collect();
        assert!(missing.is_empty(), "{mirror} does not mention {missing:?}");
        assert!(unknown.is_empty(), "{mirror} names methods that ext.rs does not define: {unknown:?}");
    }
}

#[test]
fn the_name_scanner_finds_names_and_stops_at_punctuation() {
    let names = planning_names("`planning/create` and planning/get, see planning/progress.");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["planning/create", "planning/get", "planning/progress"]);
}
