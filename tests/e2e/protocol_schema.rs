//! `docs/protocol.schema.json` is generated from the wire types (`lsp::ext::protocol_schema`) and
//! checked in; this fails when it is stale. Regenerate it with
//! `UPDATE_SCHEMA=1 cargo test --test e2e protocol_schema` and commit the file.
//!
//! The server is held to the schema too: every served method answers (no -32601), every method
//! not served yet answers -32601 naming itself, and what the server sends validates against the
//! schema's required fields and enums (a small checker below, enough for this document's shape).

use serde_json::{Value, json};

use codelab_planner::lsp::ext;

use crate::harness::{RUN_TIMEOUT, ServerSetup, TestServer, create_and_execute, shell, workspace};

const SCHEMA_PATH: &str = "docs/protocol.schema.json";

fn checked_in() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{SCHEMA_PATH} is not JSON: {error}"))
}

#[test]
fn protocol_schema_is_up_to_date() {
    let generated = ext::protocol_schema();
    let text = format!("{}\n", serde_json::to_string_pretty(&generated).expect("schema as JSON"));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|value| !value.is_empty()) {
        std::fs::write(&path, &text).expect("write the schema");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "{SCHEMA_PATH} is stale: the wire types changed. Regenerate it with \
         `UPDATE_SCHEMA=1 cargo test --test e2e protocol_schema` and commit it"
    );
}

#[test]
fn protocol_schema_lists_every_method_with_its_kind_and_whether_it_is_served() {
    let schema = checked_in();
    let methods = schema["methods"].as_object().expect("methods");
    // Sorted here: with serde_json's `preserve_order` (agent-client-protocol turns it on) the
    // schema keeps the methods in the table's order.
    let mut names: Vec<&str> = methods.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = ext::ALL_METHODS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for (name, method) in methods {
        let kind = method["kind"].as_str().unwrap_or_default();
        assert!(kind == "request" || kind == "notification", "{name}: {kind}");
        assert!(method["params"].is_object(), "{name} has params");
        assert_eq!(method.get("result").is_some(), kind == "request", "{name}: a request has a result");
        let served = method["served"].as_bool().expect("served");
        assert_eq!(served, kind == "notification" || ext::request_methods().contains(&name.as_str()), "{name}");
    }
    let definitions = &schema["$defs"];
    assert_eq!(definitions["PlanStatus"]["enum"].as_array().map(Vec::len), Some(8));
    assert_eq!(
        definitions["EventKind"]["enum"].as_array().map(Vec::len),
        schema["events"].as_object().map(|e| e.len())
    );
    assert_eq!(schema["commands"].as_array().map(Vec::len), Some(ext::ALL_COMMANDS.len()));
}

#[test]
fn protocol_schema_bounds_what_clients_send() {
    let schema = checked_in();
    let definitions = &schema["$defs"];
    assert_eq!(definitions["CompleteSubtaskParams"]["properties"]["result"]["maxLength"], 65536);
    assert_eq!(definitions["PlanIdParams"]["properties"]["planId"]["maxLength"], 128);
    let token = &definitions["ProgressToken"]["anyOf"][1];
    assert_eq!((token["type"].as_str(), token["maxLength"].as_u64()), (Some("string"), Some(256)));
    assert_eq!(definitions["CreatePlanParams"]["properties"]["subtasks"]["maxItems"], 1000);
    assert_eq!(definitions["PlanIdParams"]["required"], json!(["planId"]));
}

/// Resolves `{"$ref": "#/$defs/X"}` (and `#/$defs/X/oneOf/i`) against the document.
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => schema.pointer(reference.trim_start_matches('#')).expect("a reference that resolves"),
        None => node,
    }
}

/// Checks `value` against `node`: types, required properties, enums, consts, bounds; `anyOf` /
/// `oneOf` by trying each branch. Returns the first mismatch with its path.
fn check(schema: &Value, node: &Value, value: &Value, path: &str) -> Result<(), String> {
    let node = resolve(schema, node);
    for combinator in ["anyOf", "oneOf"] {
        if let Some(branches) = node.get(combinator).and_then(Value::as_array) {
            return if branches.iter().any(|branch| check(schema, branch, value, path).is_ok()) {
                Ok(())
            } else {
                Err(format!("{path}: {value} matches no branch of {combinator}"))
            };
        }
    }
    if let Some(allowed) = node.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{path}: {value} is not one of {allowed:?}"));
    }
    if let Some(constant) = node.get("const")
        && constant != value
    {
        return Err(format!("{path}: {value} is not {constant}"));
    }
    let types: Vec<&str> = match node.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(several)) => several.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_of = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let type_fits = types.contains(&type_of) || (type_of == "integer" && types.contains(&"number"));
    if !types.is_empty() && !type_fits {
        return Err(format!("{path}: {type_of} where the schema says {types:?}"));
    }
    if let (Some(object), Some(properties)) = (value.as_object(), node.get("properties").and_then(Value::as_object)) {
        for required in node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                return Err(format!("{path}: missing required {required}"));
            }
        }
        for (key, field) in object {
            match properties.get(key) {
                Some(property) => check(schema, property, field, &format!("{path}.{key}"))?,
                None => return Err(format!("{path}: {key} is not in the schema")),
            }
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), node.get("items")) {
        for (index, item) in items.iter().enumerate() {
            check(schema, item_schema, item, &format!("{path}[{index}]"))?;
        }
    }
    Ok(())
}

/// What the server sends in a real flow (a plan created, listed, run to the end) matches the
/// checked-in schema: results, `planning/progress` events, error `data`.
#[test]
fn what_the_server_sends_matches_the_schema() {
    let schema = checked_in();
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    let result_of = |method: &str| schema["methods"][method]["result"].clone();
    let mut failing = shell("b", "echo out; echo err >&2; exit 3", &["a"]);
    failing["title"] = json!("Долгий шаг с длинным названием, который падает");
    let (plan_id, run_id) = create_and_execute(
        &mut server,
        "build then fail",
        vec![shell("a", "printf 'x\\r\\ny'", &[]), failing],
        json!({}),
    );
    let events = server.collect_run_events(&run_id);
    let progress = schema["methods"]["planning/progress"]["params"].clone();
    for event in &events {
        let params = json!({ "planId": plan_id, "runId": run_id, "event": event });
        check(&schema, &progress, &params, "planning/progress").unwrap_or_else(|mismatch| panic!("{mismatch}"));
    }
    server.wait_for_notification("$/progress", RUN_TIMEOUT, |params| params["value"]["kind"] == "end");
    server.discard(|message| message["method"] == "$/progress" || message.get("serverRequest").is_some());
    let calls = [
        ("planning/get", json!({ "planId": plan_id })),
        ("planning/list", json!({})),
        ("planning/status", json!({ "planId": plan_id })),
        ("planning/history", json!({ "planId": plan_id })),
        ("planning/export", json!({ "planId": plan_id })),
        ("planning/classify", json!({ "task": "fix the crash in the parser" })),
    ];
    for (method, params) in calls {
        let result = server.call(method, params);
        check(&schema, &result_of(method), &result, method).unwrap_or_else(|mismatch| panic!("{mismatch}"));
    }
    let refused = server.call_err("planning/approve", json!({ "planId": plan_id }));
    check(&schema, &schema["errors"]["data"], &refused.data, "error.data")
        .unwrap_or_else(|mismatch| panic!("{mismatch}"));
    assert!(events.len() >= 4, "{events:?}");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

#[test]
fn methods_not_served_yet_answer_method_not_found_naming_themselves() {
    let dir = workspace();
    let (mut server, _) = TestServer::start(ServerSetup::new(dir.path()));
    server.take_server_request("workspace/configuration");
    // Every method is served today; one added to the wire before its handler must answer so.
    for method in ext::unserved_methods() {
        let error = server.call_err(method, json!({ "planId": "01NOPE" }));
        assert_eq!((error.code, error.message.as_str()), (-32601, format!("{method} is not served yet").as_str()));
    }
    for method in ext::request_methods() {
        if let Err(error) = server.request(method, json!({})) {
            assert_ne!(error.code, -32601, "{method} is advertised but not served: {}", error.message);
        }
    }
    server.discard(|message| message.get("serverRequest").is_some() || message["method"] == "$/progress");
    assert_eq!(server.shutdown_and_exit().code(), Some(0));
}

/// Every string and list a client can send (the params of every request, nested objects
/// included) has its bound in the schema, so none is unbounded by omission.
#[test]
fn every_text_and_list_a_client_sends_is_bounded() {
    fn unbounded(schema: &Value, node: &Value, path: &str, seen: &mut Vec<String>, found: &mut Vec<String>) {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            if seen.iter().any(|visited| visited == reference) {
                return;
            }
            seen.push(reference.to_owned());
            let target = schema.pointer(reference.trim_start_matches('#')).expect("a reference that resolves");
            unbounded(schema, target, path, seen, found);
            seen.pop();
            return;
        }
        for combinator in ["anyOf", "oneOf"] {
            for branch in node.get(combinator).and_then(Value::as_array).into_iter().flatten() {
                unbounded(schema, branch, path, seen, found);
            }
        }
        let types: Vec<&str> = match node.get("type") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(several)) => several.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"string") && node.get("enum").is_none() && node.get("maxLength").is_none() {
            found.push(format!("{path}: a string without maxLength"));
        }
        if types.contains(&"array") {
            if node.get("maxItems").is_none() {
                found.push(format!("{path}: a list without maxItems"));
            }
            if let Some(items) = node.get("items") {
                unbounded(schema, items, &format!("{path}[]"), seen, found);
            }
        }
        for (name, property) in node.get("properties").and_then(Value::as_object).into_iter().flatten() {
            unbounded(schema, property, &format!("{path}.{name}"), seen, found);
        }
    }
    let schema = checked_in();
    let mut found = Vec::new();
    for (name, method) in schema["methods"].as_object().expect("methods") {
        if method["direction"] == "clientToServer" {
            unbounded(&schema, &method["params"], name, &mut Vec::new(), &mut found);
        }
    }
    assert!(found.is_empty(), "unbounded client input:\n{}", found.join("\n"));
}
