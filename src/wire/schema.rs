//! Builds the protocol's JSON Schema document (`docs/protocol.schema.json`) from the wire types
//! and a table of methods (`crate::lsp::ext::METHODS`, the one place that names them).
//!
//! The layout is plain JSON, easy to read from TypeScript or Lua tests:
//!
//! ```text
//! {
//!   "$schema": "https://json-schema.org/draft/2020-12/schema",
//!   "title", "description",
//!   "methods": { "<method>": { "kind": "request" | "notification",
//!                              "direction": "clientToServer" | "serverToClient",
//!                              "served": bool,
//!                              "params": <schema>, "result"?: <schema>,
//!                              "partialResult"?: <schema of the `$/progress` params> } },
//!   "events": { "<event kind>": { "$ref": "#/$defs/RunEvent/oneOf/<i>" } },
//!   "errors": { "kind": { "$ref": "#/$defs/ErrorKind" }, "data": { "$ref": "#/$defs/ErrorData" } },
//!   "commands": [ "<workspace/executeCommand command>", ... ],
//!   "$defs": { "<TypeName>": <schema>, ... }
//! }
//! ```
//!
//! Objects are `{"type": "object", "properties": ..., "required": [...]}`; closed sets are named
//! definitions `{"type": "string", "enum": [...]}`; bounded texts and lists carry `maxLength` /
//! `maxItems`. Keys are sorted, so the file only changes when the protocol does.

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use super::{ErrorData, ErrorKind, EventKind, RunEvent};

/// A schema maker for one type, as a plain function pointer (so method tables can be `const`).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`: a `$ref` to its definition, or the schema itself for inlined types.
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Requests go client → server; notifications either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Request,
    /// Sent by the server.
    Notification,
}

/// One method of the protocol as the schema document describes it.
#[derive(Debug, Clone, Copy)]
pub struct MethodSchema {
    pub name: &'static str,
    pub kind: MethodKind,
    /// False for a method defined on the wire whose behaviour has not landed: it is not
    /// advertised and answers `-32601 "<method> is not served yet"`.
    pub served: bool,
    pub params: SchemaFn,
    pub result: Option<SchemaFn>,
    pub partial_result: Option<SchemaFn>,
}

/// What the document says about where it comes from.
pub const DESCRIPTION: &str = "The codelab-planner planning protocol, generated from the Rust wire types (src/wire, \
src/lsp/ext.rs); do not edit. Regenerate with `UPDATE_SCHEMA=1 cargo test --test e2e protocol_schema`.";

/// The whole document.
pub fn protocol_document(methods: &[MethodSchema], commands: &[&str]) -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut method_entries = Map::new();
    for method in methods {
        let mut entry = Map::new();
        let (kind, direction) = match method.kind {
            MethodKind::Request => ("request", "clientToServer"),
            MethodKind::Notification => ("notification", "serverToClient"),
        };
        entry.insert("kind".into(), json!(kind));
        entry.insert("direction".into(), json!(direction));
        entry.insert("served".into(), json!(method.served));
        entry.insert("params".into(), (method.params)(&mut generator).to_value());
        if let Some(result) = method.result {
            entry.insert("result".into(), result(&mut generator).to_value());
        }
        if let Some(partial) = method.partial_result {
            entry.insert("partialResult".into(), partial(&mut generator).to_value());
        }
        method_entries.insert(method.name.to_owned(), Value::Object(entry));
    }
    let errors = json!({
        "kind": schema_of::<ErrorKind>(&mut generator).to_value(),
        "data": schema_of::<ErrorData>(&mut generator).to_value(),
    });
    schema_of::<RunEvent>(&mut generator);
    schema_of::<EventKind>(&mut generator);
    let definitions = generator.take_definitions(true);
    let events = event_references(&definitions);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "codelab-planner planning protocol",
        "description": DESCRIPTION,
        "methods": method_entries,
        "events": events,
        "errors": errors,
        "commands": commands,
        "$defs": definitions,
    })
}

/// `{ "planStarted": { "$ref": "#/$defs/RunEvent/oneOf/0" }, ... }`: each event kind to the
/// branch of `RunEvent` whose `kind` is that name.
fn event_references(definitions: &Map<String, Value>) -> Value {
    let branches = definitions.get("RunEvent").and_then(|run_event| run_event.get("oneOf")).and_then(Value::as_array);
    let mut events = Map::new();
    for (index, branch) in branches.into_iter().flatten().enumerate() {
        let tag = &branch["properties"]["kind"];
        let name = tag.get("const").or_else(|| tag["enum"].get(0)).and_then(Value::as_str);
        if let Some(name) = name {
            events.insert(name.to_owned(), json!({ "$ref": format!("#/$defs/RunEvent/oneOf/{index}") }));
        }
    }
    Value::Object(events)
}
