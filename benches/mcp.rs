//! Benchmark: `codelab-planner mcp` as a coding agent meets it, through the official MCP SDK's
//! client (`tests/clients/mcp_bridge.mjs`; install with `tests/setup/clients.sh`).
//!
//! - the size of the tool list an agent loads into its context: bytes of `tools/list`'s result
//!   and tokens, estimated as characters / 4 (target: under 2,000 tokens);
//! - `plan_next` (one step handed to the caller, claimed in the database) and `step_complete`,
//!   each call measured from the client's side, on a plan of 200 steps.
//!
//! Prints median, min and max per row. Run with `cargo bench --bench mcp`.

#[allow(dead_code)]
#[path = "../tests/e2e/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/e2e/sdk_client.rs"]
mod sdk_client;
#[path = "support/stats.rs"]
mod stats;

use std::time::Instant;

use serde_json::{Value, json};

const STEPS: usize = 200;

fn text_of(result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().expect("a text answer");
    serde_json::from_str(text).expect("a JSON answer")
}

fn main() {
    let dir = harness::workspace();
    let mut client = sdk_client::SdkClient::start("mcp_bridge.mjs", dir.path(), &["mcp"], &[]);

    let tools = client.request(json!({ "op": "list" }));
    let listed = serde_json::to_string(&tools["tools"]).expect("tools encode");
    let characters = listed.chars().count();

    let steps: Vec<Value> =
        (0..STEPS).map(|index| json!({ "id": format!("s{index}"), "title": format!("Step {index}") })).collect();
    let plan = text_of(
        &client
            .request(json!({ "op": "call", "name": "plan_create", "arguments": { "task": "bench", "steps": steps } })),
    );
    let plan_id = plan["id"].as_str().expect("plan id").to_owned();

    let mut next_ms = Vec::new();
    let mut complete_ms = Vec::new();
    for _ in 0..STEPS {
        let started = Instant::now();
        let taken =
            text_of(&client.request(json!({ "op": "call", "name": "plan_next", "arguments": { "plan_id": plan_id } })));
        next_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let step = taken["steps"][0]["id"].as_str().expect("a step handed out").to_owned();
        let started = Instant::now();
        client.request(
            json!({ "op": "call", "name": "step_complete", "arguments": { "plan_id": plan_id, "step": step } }),
        );
        complete_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = client.close();

    println!("\n{:<44} {:>8}", "tool list (7 tools)", "size");
    println!("{:<44} {:>8}", "tools/list result, bytes", listed.len());
    println!("{:<44} {:>8}", "tokens, estimated (characters / 4)", characters.div_ceil(4));
    println!("\n{:<44} {:>6} {:>10} {:>10} {:>10}", "call from the SDK client (ms)", "n", "median", "min", "max");
    for (name, samples) in [("plan_next (one step claimed)", next_ms), ("step_complete", complete_ms)] {
        let count = samples.len();
        let (median, min, max) = stats::spread(samples);
        println!("{name:<44} {count:>6} {median:>10.3} {min:>10.3} {max:>10.3}");
    }
}
