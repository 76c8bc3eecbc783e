//! The protocol's method names must agree everywhere they are written: `src/lsp/ext.rs`
//! (`ALL_METHODS`), `docs/protocol.md`, and (when they exist) the editor clients. To check a new
//! mirror, add its path to [`MIRRORS`]. The VS Code mirror (`editors/vscode/src/lsp_ext.ts`) is
//! checked against `ALL_METHODS` and the shared contract together (it may name the second-wave
//! methods before this crate defines them).

use std::collections::BTreeSet;

use codelab_planner::lsp::ext::ALL_METHODS;

/// Files that must name every planning method and no other. Paths are relative to the crate.
const MIRRORS: &[&str] = &["docs/protocol.md"];

/// Editor clients' protocol mirrors. A client mirrors the server's methods and also the shared
/// contract's (its Additions may land in the server after the client), and names nothing else.
const CLIENT_MIRRORS: &[&str] = &["editors/nvim/lua/codelab-planner/protocol.lua"];

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
fn every_client_mirror_names_the_methods_of_ext_rs_and_of_the_shared_contract() {
    let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut expected: BTreeSet<String> = ALL_METHODS.iter().map(|method| (*method).to_owned()).collect();
    match std::fs::read_to_string(crate_root.join("../shared/protocol.md")) {
        Ok(shared) => expected.extend(planning_names(&shared)),
        Err(_) => {
            eprintln!("note: ../shared/protocol.md is not beside this checkout; mirrors are compared with ext.rs only")
        }
    }
    for mirror in CLIENT_MIRRORS {
        let path = crate_root.join(mirror);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let named = planning_names(&text);
        let missing: Vec<&String> = expected.difference(&named).collect();
        let unknown: Vec<&String> = named.difference(&expected).collect();
        assert!(missing.is_empty(), "{mirror} does not mention {missing:?}");
        assert!(
            unknown.is_empty(),
            "{mirror} names methods that neither ext.rs nor the shared contract define: {unknown:?}"
        );
    }
}

/// Every `name` written in backticks that looks like an identifier, a method or a path.
fn quoted_names(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| {
            !quoted.is_empty()
                && quoted.chars().all(|character| character.is_ascii_alphanumeric() || "$/._-".contains(character))
        })
        .map(str::to_owned)
        .collect()
}

/// Where the shared contract is: `CODELAB_SHARED_PROTOCOL` when set, else `../shared/protocol.md`
/// beside the checkout.
fn shared_contract_path(crate_root: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("CODELAB_SHARED_PROTOCOL")
        .filter(|path| !path.is_empty())
        .map_or_else(|| crate_root.join("../shared/protocol.md"), std::path::PathBuf::from)
}

/// The shared contract is what clients and acceptance checks rely on: every method it names is
/// defined, and every name it quotes (methods, statuses, event kinds, error kinds, settings)
/// appears in the project's fuller copy. A missing contract fails the test: a check that cannot
/// run must not pass.
#[test]
fn the_project_protocol_keeps_every_name_of_the_shared_contract() {
    let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared_path = shared_contract_path(crate_root);
    let shared = std::fs::read_to_string(&shared_path).unwrap_or_else(|error| {
        panic!(
            "cannot read the shared contract {}: {error} (set CODELAB_SHARED_PROTOCOL to its path)",
            shared_path.display()
        )
    });
    let ours = std::fs::read_to_string(crate_root.join("docs/protocol.md")).expect("docs/protocol.md");
    let defined: BTreeSet<String> = ALL_METHODS.iter().map(|method| (*method).to_owned()).collect();
    let undefined: Vec<String> = planning_names(&shared).into_iter().filter(|name| !defined.contains(name)).collect();
    assert!(undefined.is_empty(), "the shared contract names methods that ext.rs does not define: {undefined:?}");
    let not_ours = |name: &String| !ours.contains(name.as_str()) && !name.ends_with(".md");
    let dropped: Vec<String> = quoted_names(&shared).into_iter().filter(not_ours).collect();
    assert!(dropped.is_empty(), "docs/protocol.md dropped names of the shared contract: {dropped:?}");
}

/// The VS Code client's protocol mirror names every method of `ALL_METHODS` and every
/// `planning/...` name of the shared contract (when it is beside the checkout), and nothing else.
#[test]
fn the_vscode_mirror_names_every_method_of_ext_rs_and_the_shared_contract() {
    let crate_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mirror_path = crate_root.join(VSCODE_MIRROR);
    let mirror = std::fs::read_to_string(&mirror_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", mirror_path.display()));
    let mut expected: BTreeSet<String> = ALL_METHODS.iter().map(|method| (*method).to_owned()).collect();
    match std::fs::read_to_string(crate_root.join("../shared/protocol.md")) {
        Ok(shared) => expected.extend(planning_names(&shared)),
        Err(_) => eprintln!(
            "note: ../shared/protocol.md is not beside this checkout; {VSCODE_MIRROR} is checked against ext.rs only"
        ),
    }
    let named = planning_names(&mirror);
    let missing: Vec<&String> = expected.difference(&named).collect();
    assert!(missing.is_empty(), "{VSCODE_MIRROR} does not mention {missing:?}");
    let unknown: Vec<&String> = named.difference(&expected).collect();
    assert!(unknown.is_empty(), "{VSCODE_MIRROR} names methods nobody defines: {unknown:?}");
}

/// The VS Code extension's copy of the protocol.
const VSCODE_MIRROR: &str = "editors/vscode/src/lsp_ext.ts";

#[test]
fn the_quoted_name_scanner_keeps_identifiers_only() {
    let names = quoted_names("`planStarted` and `a -> b` and `$/progress`, `approval.plans`");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["$/progress", "approval.plans", "planStarted"]);
}

#[test]
fn the_name_scanner_finds_names_and_stops_at_punctuation() {
    let names = planning_names("`planning/create` and planning/get, see planning/progress.");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["planning/create", "planning/get", "planning/progress"]);
}
