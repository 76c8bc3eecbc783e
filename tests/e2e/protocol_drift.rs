//! The protocol's names must agree everywhere they are written: `src/lsp/ext.rs` (`METHODS`),
//! the generated schema (`docs/protocol.schema.json`), `docs/protocol.md`, the editor clients,
//! and the shared contract every client and acceptance check relies on.
//!
//! The shared contract is `../shared/protocol.md` beside the checkout (or the file named by
//! `CODELAB_SHARED_PROTOCOL`); the repository keeps a byte-for-byte copy in
//! `docs/shared-protocol.md`, used when the original is absent (a clone anywhere passes). When
//! both exist they must be equal: refresh the copy with `cp ../shared/protocol.md
//! docs/shared-protocol.md`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use codelab_planner::lsp::ext::{self, ALL_METHODS};

use crate::contract::{Block, Owner, blocks};

/// Files that must name every planning method and no other. Paths are relative to the crate.
const MIRRORS: &[&str] = &["docs/protocol.md"];

/// Editor clients' protocol mirrors: each names every method the server serves, and nothing
/// the protocol does not define (a method defined but not served yet may be named or not).
const CLIENT_MIRRORS: &[&str] = &["editors/nvim/lua/codelab-planner/protocol.lua", "editors/vscode/src/lsp_ext.ts"];

const VENDORED_CONTRACT: &str = "docs/shared-protocol.md";

fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The original shared contract, when it is reachable: `CODELAB_SHARED_PROTOCOL`, else
/// `../shared/protocol.md` beside the checkout.
fn original_contract_path() -> Option<PathBuf> {
    let path = std::env::var_os("CODELAB_SHARED_PROTOCOL")
        .filter(|path| !path.is_empty())
        .map_or_else(|| crate_root().join("../shared/protocol.md"), PathBuf::from);
    path.exists().then_some(path)
}

/// The shared contract's text: the original when reachable, else the vendored copy.
fn shared_contract() -> String {
    read(&original_contract_path().unwrap_or_else(|| crate_root().join(VENDORED_CONTRACT)))
}

fn schema() -> Value {
    serde_json::from_str(&read(&crate_root().join("docs/protocol.schema.json"))).expect("the schema is JSON")
}

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

fn defined_methods() -> BTreeSet<String> {
    ALL_METHODS.iter().map(|method| (*method).to_owned()).collect()
}

#[test]
fn the_vendored_contract_is_a_byte_for_byte_copy_of_the_shared_one() {
    let vendored = std::fs::read(crate_root().join(VENDORED_CONTRACT)).expect("docs/shared-protocol.md");
    match original_contract_path() {
        Some(original) => assert!(
            std::fs::read(&original).expect("the shared contract") == vendored,
            "{VENDORED_CONTRACT} differs from {}: refresh it with `cp {} {VENDORED_CONTRACT}`",
            original.display(),
            original.display()
        ),
        None => eprintln!("note: the shared contract is not beside this checkout; {VENDORED_CONTRACT} is used"),
    }
    assert!(String::from_utf8_lossy(&vendored).contains("## Additions (third wave)"));
}

#[test]
fn every_mirror_names_exactly_the_methods_of_ext_rs() {
    let defined = defined_methods();
    for mirror in MIRRORS {
        let named = planning_names(&read(&crate_root().join(mirror)));
        let missing: Vec<&String> = defined.difference(&named).collect();
        let unknown: Vec<&String> = named.difference(&defined).collect();
        assert!(missing.is_empty(), "{mirror} does not mention {missing:?}");
        assert!(unknown.is_empty(), "{mirror} names methods that ext.rs does not define: {unknown:?}");
    }
}

#[test]
fn every_client_mirror_names_the_served_methods_and_only_defined_ones() {
    let defined = defined_methods();
    let mut served: BTreeSet<String> = ext::request_methods().into_iter().map(str::to_owned).collect();
    served.insert("planning/progress".to_owned());
    for mirror in CLIENT_MIRRORS {
        let named = planning_names(&read(&crate_root().join(mirror)));
        let missing: Vec<&String> = served.difference(&named).collect();
        let unknown: Vec<&String> = named.difference(&defined).collect();
        assert!(missing.is_empty(), "{mirror} does not mention {missing:?}");
        assert!(unknown.is_empty(), "{mirror} names methods the protocol does not define: {unknown:?}");
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

/// The shared contract is what clients and acceptance checks rely on: every method it names is
/// defined, and every name it quotes (methods, statuses, event kinds, error kinds, settings)
/// appears in the project's fuller copy.
#[test]
fn the_project_protocol_keeps_every_name_of_the_shared_contract() {
    let shared = shared_contract();
    let ours = read(&crate_root().join("docs/protocol.md"));
    let defined = defined_methods();
    let undefined: Vec<String> = planning_names(&shared).into_iter().filter(|name| !defined.contains(name)).collect();
    assert!(undefined.is_empty(), "the shared contract names methods that ext.rs does not define: {undefined:?}");
    let not_ours = |name: &String| !ours.contains(name.as_str()) && !name.ends_with(".md");
    let dropped: Vec<String> = quoted_names(&shared).into_iter().filter(not_ours).collect();
    assert!(dropped.is_empty(), "docs/protocol.md dropped names of the shared contract: {dropped:?}");
}

/// The schema node `node` with `$ref`s and `anyOf [T, null]` followed to an object or an enum.
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        return resolve(schema, schema.pointer(reference.trim_start_matches('#')).unwrap_or(&Value::Null));
    }
    if let Some(branches) = node.get("anyOf").and_then(Value::as_array)
        && let Some(branch) = branches.iter().find(|branch| branch.get("type") != Some(&Value::from("null")))
    {
        return resolve(schema, branch);
    }
    if let Some(items) = node.get("items") {
        return resolve(schema, items);
    }
    node
}

/// The object schema a block's fields belong to.
fn owner_schema<'a>(schema: &'a Value, owner: &Owner) -> Option<&'a Value> {
    let node = match owner {
        Owner::Definition(name) => &schema["$defs"][name],
        Owner::Method(method, result) => &schema["methods"][method][if *result { "result" } else { "params" }],
        Owner::Event(kind) => &schema["events"][kind],
        Owner::Property(name, field) => &schema["$defs"][name]["properties"][field],
        Owner::Anywhere => return None,
    };
    Some(resolve(schema, node))
}

/// Every property name and every enum or const value anywhere in the schema.
fn all_names(value: &Value, properties: &mut BTreeSet<String>, values: &mut BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(fields)) = object.get("properties") {
                properties.extend(fields.keys().cloned());
            }
            for key in ["enum", "const"] {
                match object.get(key) {
                    Some(Value::Array(names)) => {
                        values.extend(names.iter().filter_map(Value::as_str).map(str::to_owned))
                    }
                    Some(Value::String(name)) => {
                        values.insert(name.clone());
                    }
                    _ => {}
                }
            }
            object.values().for_each(|inner| all_names(inner, properties, values));
        }
        Value::Array(items) => items.iter().for_each(|inner| all_names(inner, properties, values)),
        _ => {}
    }
}

fn check_block(schema: &Value, block: &Block, properties: &BTreeSet<String>, values: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let owner = owner_schema(schema, &block.owner);
    if let Some(owner_node) = owner {
        if owner_node.is_null() {
            return vec![format!("{:?} is not in the schema", block.owner)];
        }
        let own = owner_node.get("properties").and_then(Value::as_object);
        for field in &block.fields {
            if !own.is_some_and(|own| own.contains_key(field)) {
                problems.push(format!("{:?} has no field {field}", block.owner));
            }
        }
        if let (Owner::Property(..), Some(allowed)) = (&block.owner, owner_node.get("enum").and_then(Value::as_array)) {
            for value in &block.values {
                if !allowed.iter().any(|name| name == value) {
                    problems.push(format!("{:?} has no value {value:?}", block.owner));
                }
            }
        }
    }
    let anywhere: Vec<&String> = match owner {
        Some(_) => block.nested_fields.iter().collect(),
        None => block.fields.iter().chain(&block.nested_fields).collect(),
    };
    for field in anywhere {
        if !properties.contains(field) {
            problems.push(format!("no object of the schema has the field {field} ({:?})", block.owner));
        }
    }
    for value in &block.values {
        if !values.contains(value) {
            problems.push(format!("no closed set of the schema has the value {value:?} ({:?})", block.owner));
        }
    }
    problems
}

/// Every field name and every enum value the shared contract writes in its `{ … }` notation
/// (and `Name.field: "value"` sentences) is in the schema, on the object the contract puts it on.
#[test]
fn the_schema_has_every_field_and_value_of_the_shared_contract() {
    let schema = schema();
    let (mut properties, mut values) = (BTreeSet::new(), BTreeSet::new());
    all_names(&schema, &mut properties, &mut values);
    let found = blocks(&shared_contract());
    assert!(found.len() > 40, "the contract reader found only {} blocks", found.len());
    let problems: Vec<String> =
        found.iter().flat_map(|block| check_block(&schema, block, &properties, &values)).collect();
    assert!(problems.is_empty(), "the schema lacks names of the shared contract:\n{}", problems.join("\n"));
    let events: BTreeSet<&String> = found
        .iter()
        .filter_map(|block| match &block.owner {
            Owner::Event(kind) => Some(kind),
            _ => None,
        })
        .collect();
    assert!(events.len() >= 7, "{events:?}");
}

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
