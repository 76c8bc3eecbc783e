//! Benchmark: the real server binary over stdio, measured from a client's side.
//!
//! `cargo bench --bench stdio` builds the binary with the bench profile (cargo sets
//! `CARGO_BIN_EXE_codelab-planner` for benches) and drives it with the e2e test client. Prints a
//! table of median, p99, min and max per operation:
//! - `planning/create` through the keyword classifier and the template planner,
//! - `planning/get` of a 200-subtask plan,
//! - `planning/list` with 10,000 plans stored (seeded through `Store` directly, in batches),
//! - spawn → `initialize` reply, and spawn → first `planning/list` reply (database opened),
//!   with 10,000 plans stored,
//! - resident memory (VmRSS) idle and at its peak while a 1,000-subtask plan of `true` runs.
//!
//! Targets (issue 24): create p99 ≤ 1.5 ms, list p99 ≤ 1.5 ms, start < 100 ms, idle RSS ≤ 12 MB.

#[allow(dead_code)]
#[path = "../tests/e2e/harness.rs"]
mod harness;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use codelab_planner::model::{AgentKind, Plan, SessionId, Subtask, SubtaskId, Timestamp};
use codelab_planner::store::{Store, WriteOp};
use harness::{ServerSetup, TestServer};

const SEEDED_PLANS: usize = 10_000;

struct Row {
    name: String,
    samples: Vec<Duration>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

fn print_table(rows: &mut [Row]) {
    println!("\n{:<48} {:>6} {:>10} {:>10} {:>10} {:>10}", "operation (ms)", "n", "median", "p99", "min", "max");
    for row in rows.iter_mut() {
        row.samples.sort();
        let samples = &row.samples;
        println!(
            "{:<48} {:>6} {:>10} {:>10} {:>10} {:>10}",
            row.name,
            samples.len(),
            milliseconds(percentile(samples, 0.5)),
            milliseconds(percentile(samples, 0.99)),
            milliseconds(samples[0]),
            milliseconds(samples[samples.len() - 1])
        );
    }
}

fn time<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let value = work();
    (started.elapsed(), value)
}

fn quiet_setup(workspace: &Path) -> ServerSetup {
    let mut setup = ServerSetup::new(workspace);
    setup.configuration = None;
    setup.work_done_progress = false;
    setup
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn shell_subtasks(count: usize, command: &str) -> Vec<Value> {
    (0..count).map(|index| json!({ "id": format!("s{index}"), "title": format!("step {index}"), "agent": "shell", "command": command })).collect()
}

fn bench_create_and_get(rows: &mut Vec<Row>) {
    let dir = harness::workspace();
    let (mut server, _) = TestServer::start(quiet_setup(dir.path()));
    server.call("planning/list", json!({}));
    let tasks = ["add a login page and write tests for it", "refactor the parser, then update the docs and release"];
    let mut create = Vec::new();
    for round in 0..300 {
        let (elapsed, _) = time(|| server.call("planning/create", json!({ "task": tasks[round % 2] })));
        create.push(elapsed);
    }
    rows.push(Row { name: "planning/create (keywords + template)".into(), samples: create });

    let plan = server.call(
        "planning/create",
        json!({ "task": "many steps", "mode": "plan", "subtasks": shell_subtasks(200, "true") }),
    );
    let plan_id = plan["plan"]["id"].clone();
    let mut get = Vec::new();
    for _ in 0..300 {
        let (elapsed, _) = time(|| server.call("planning/get", json!({ "planId": plan_id })));
        get.push(elapsed);
    }
    rows.push(Row { name: "planning/get (200 subtasks)".into(), samples: get });
    server.shutdown_and_exit();
}

fn seed_plans(database: &Path, count: usize) {
    let (mut store, _) = Store::open(database).expect("open store");
    let session = SessionId::generate();
    let mut batch = Vec::new();
    for index in 0..count {
        let mut subtask = Subtask::new(SubtaskId::from_raw("s1"), "step".into(), AgentKind::Shell);
        subtask.command = Some("true".into());
        let plan = Plan::new_draft(
            session.clone(),
            format!("plan {index}"),
            format!("goal {index}"),
            vec![subtask],
            Timestamp::now(),
        );
        batch.push(WriteOp::InsertPlan(plan));
        if batch.len() == 500 {
            store.commit(&batch).expect("seed batch");
            batch.clear();
        }
    }
    store.commit(&batch).expect("seed batch");
}

fn bench_with_many_plans(rows: &mut Vec<Row>) -> u64 {
    let dir = harness::workspace();
    let database = dir.path().join(".codelab").join("planner.db");
    let (seed_time, ()) = time(|| seed_plans(&database, SEEDED_PLANS));
    println!("seeded {SEEDED_PLANS} plans in {:.1} s", seed_time.as_secs_f64());

    let mut initialize = Vec::new();
    let mut first_list = Vec::new();
    let mut idle_rss = 0;
    for _ in 0..15 {
        let started = Instant::now();
        let mut server = TestServer::spawn_raw(quiet_setup(dir.path()), &[]);
        server.initialize();
        initialize.push(started.elapsed());
        server.call("planning/list", json!({ "limit": 1 }));
        first_list.push(started.elapsed());
        idle_rss = idle_rss.max(rss_kib(server.process_id()));
        server.shutdown_and_exit();
    }
    rows.push(Row { name: format!("spawn → initialize reply ({SEEDED_PLANS} plans)"), samples: initialize });
    rows.push(Row { name: format!("spawn → first planning/list ({SEEDED_PLANS} plans)"), samples: first_list });

    let (mut server, _) = TestServer::start(quiet_setup(dir.path()));
    let mut list = Vec::new();
    let mut cursor = Value::Null;
    for round in 0..300 {
        let params = if round % 3 == 2 && cursor.is_string() { json!({ "cursor": cursor }) } else { json!({}) };
        let (elapsed, page) = time(|| server.call("planning/list", params));
        cursor = page["nextCursor"].clone();
        list.push(elapsed);
    }
    rows.push(Row { name: format!("planning/list, 50 of {SEEDED_PLANS} plans"), samples: list });
    server.shutdown_and_exit();
    idle_rss
}

/// Peak RSS while a 1,000-subtask plan of `true` runs, and the run's wall time.
fn bench_big_run() -> (u64, u64, Duration) {
    let dir = harness::workspace();
    let (mut server, _) = TestServer::start(quiet_setup(dir.path()));
    server.call("planning/list", json!({}));
    let idle = rss_kib(server.process_id());
    let (plan_id, run_id) = {
        let plan = harness::create_plan(&mut server, "a thousand quick steps", shell_subtasks(1000, "true"));
        let plan_id = plan["id"].as_str().expect("plan id").to_owned();
        server.call("planning/approve", json!({ "planId": plan_id }));
        let started = server.call("planning/execute", json!({ "planId": plan_id }));
        (plan_id, started["runId"].as_str().expect("run id").to_owned())
    };
    let started = Instant::now();
    let mut peak = idle;
    let mut seen = 0usize;
    loop {
        let params = server.wait_for_notification("planning/progress", Duration::from_secs(300), |params| {
            params["runId"] == run_id.as_str()
        });
        seen += 1;
        if seen % 25 == 0 {
            peak = peak.max(rss_kib(server.process_id()));
        }
        if params["event"]["kind"] == "planFinished" {
            assert_eq!(params["event"]["status"], "completed", "{params}");
            break;
        }
    }
    let elapsed = started.elapsed();
    let plan = server.call("planning/get", json!({ "planId": plan_id }));
    assert_eq!(plan["progress"]["done"], 1000);
    server.shutdown_and_exit();
    (idle, peak, elapsed)
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let mut rows = Vec::new();
    bench_create_and_get(&mut rows);
    let idle_with_plans = bench_with_many_plans(&mut rows);
    let (idle, peak, run_time) = bench_big_run();
    print_table(&mut rows);
    println!("\n{:<48} {:>10}", "resident memory (MiB)", "VmRSS");
    println!("{:<48} {:>10.1}", "idle, empty database", idle as f64 / 1024.0);
    println!("{:<48} {:>10.1}", format!("idle, {SEEDED_PLANS} plans, after one list"), idle_with_plans as f64 / 1024.0);
    println!("{:<48} {:>10.1}", "peak while running 1,000 `true` subtasks", peak as f64 / 1024.0);
    println!("1,000-subtask run: {:.2} s wall", run_time.as_secs_f64());
    println!("targets: create p99 ≤ 1.5 ms, list p99 ≤ 1.5 ms (10k plans), start < 100 ms, idle RSS ≤ 12 MB");
}
