//! Benchmark of the SQLite store on a real file in a temporary folder (not `:memory:`).
//! Run with `cargo bench --bench store`; prints one table of median and spread per case.
//!
//! Cases: inserting a 1,000-subtask plan; 10,000 subtask transitions committed one by one
//! (UpdateSubtasks + AppendEvent per commit) and in batches of 100; listing 50 of 10,000 plans
//! (first page, and a page reached through a deep cursor). Not a test: nothing is asserted.

use std::time::{Duration, Instant};

use codelab_planner::model::{
    AgentKind, Plan, PlanStatus, RunId, SessionId, Subtask, SubtaskId, SubtaskStatus, Timestamp,
};
use codelab_planner::store::{ListQuery, PlanEvent, Store, WriteOp};

struct Row {
    name: String,
    unit: &'static str,
    samples: Vec<Duration>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

fn format_duration(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros >= 1000.0 { format!("{:.2} ms", micros / 1000.0) } else { format!("{micros:.1} µs") }
}

fn print_table(rows: &mut [Row]) {
    println!(
        "{:<56} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "case", "samples", "median", "p10", "p90", "min", "max"
    );
    for row in rows.iter_mut() {
        row.samples.sort();
        let sorted = &row.samples;
        println!(
            "{:<56} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11}",
            format!("{} ({})", row.name, row.unit),
            sorted.len(),
            format_duration(percentile(sorted, 0.5)),
            format_duration(percentile(sorted, 0.1)),
            format_duration(percentile(sorted, 0.9)),
            format_duration(sorted[0]),
            format_duration(sorted[sorted.len() - 1]),
        );
    }
}

fn plan_with_subtasks(session: &str, title: String, count: usize) -> Plan {
    let subtasks = (0..count)
        .map(|index| {
            let mut subtask =
                Subtask::new(SubtaskId::from_raw(format!("s{index}")), format!("step {index}"), AgentKind::Shell);
            subtask.description = format!("run the {index}th step of the benchmark plan with a realistic description");
            subtask.command = Some(format!("make step-{index}"));
            if index > 0 {
                subtask.depends_on = vec![SubtaskId::from_raw(format!("s{}", index - 1))];
            }
            subtask.estimate_secs = Some(30);
            subtask
        })
        .collect();
    Plan::new_draft(SessionId::from_raw(session), title, "benchmark goal".to_owned(), subtasks, Timestamp::now())
}

fn bench_insert_large_plan(store: &mut Store) -> Row {
    let samples = (0..20)
        .map(|number| {
            let plan = plan_with_subtasks("insert", format!("large {number}"), 1000);
            let started = Instant::now();
            store.commit(&[WriteOp::InsertPlan(plan)]).expect("insert");
            started.elapsed()
        })
        .collect();
    Row { name: "insert one 1,000-subtask plan".into(), unit: "per plan", samples }
}

/// The ops of one subtask transition: the subtask's run fields and an event.
fn transition_ops(plan: &mut Plan, number: usize) -> [WriteOp; 2] {
    let index = number % plan.subtasks.len();
    let subtask = &mut plan.subtasks[index];
    let (from, to) = if subtask.status == SubtaskStatus::Running {
        (SubtaskStatus::Running, SubtaskStatus::Done)
    } else {
        (subtask.status, SubtaskStatus::Running)
    };
    subtask.status = to;
    subtask.attempts += 1;
    subtask.result = Some(format!("output {number}"));
    let event = PlanEvent {
        plan_id: plan.id.clone(),
        at: Timestamp::now(),
        run_id: plan.run_id.clone(),
        subtask_id: Some(subtask.id.clone()),
        kind: "subtaskFinished".to_owned(),
        from_status: Some(from.as_str().to_owned()),
        to_status: Some(to.as_str().to_owned()),
        detail: None,
    };
    [WriteOp::UpdateSubtasks { plan_id: plan.id.clone(), subtasks: vec![subtask.clone()] }, WriteOp::AppendEvent(event)]
}

fn running_plan(store: &mut Store, title: &str) -> Plan {
    let mut plan = plan_with_subtasks("transitions", title.to_owned(), 200);
    plan.status = PlanStatus::Running;
    plan.run_id = Some(RunId::generate());
    store.commit(&[WriteOp::InsertPlan(plan.clone())]).expect("insert");
    plan
}

fn bench_single_transitions(store: &mut Store) -> Row {
    let mut plan = running_plan(store, "single");
    let samples = (0..10_000)
        .map(|number| {
            let ops = transition_ops(&mut plan, number);
            let started = Instant::now();
            store.commit(&ops).expect("transition");
            started.elapsed()
        })
        .collect();
    Row { name: "10,000 transitions, one commit each".into(), unit: "per transition", samples }
}

fn bench_batched_transitions(store: &mut Store) -> Row {
    let mut plan = running_plan(store, "batched");
    let batch = 100;
    let samples = (0..10_000 / batch)
        .map(|batch_number| {
            let ops: Vec<WriteOp> =
                (0..batch).flat_map(|offset| transition_ops(&mut plan, batch_number * batch + offset)).collect();
            let started = Instant::now();
            store.commit(&ops).expect("batch");
            started.elapsed() / batch as u32
        })
        .collect();
    Row { name: "10,000 transitions, 100 per commit".into(), unit: "per transition", samples }
}

fn fill_plans(store: &mut Store, count: usize) {
    for chunk in 0..count / 500 {
        let ops: Vec<WriteOp> = (0..500)
            .map(|offset| {
                let mut plan = plan_with_subtasks("listing", format!("plan {}", chunk * 500 + offset), 8);
                plan.subtasks[0].status = SubtaskStatus::Done;
                WriteOp::InsertPlan(plan)
            })
            .collect();
        store.commit(&ops).expect("fill");
    }
}

fn bench_listing(store: &Store, name: &str, cursor: Option<String>, session: Option<&str>) -> Row {
    let query = ListQuery { session_id: session.map(SessionId::from_raw), status: None, limit: 50, cursor };
    let samples = (0..300)
        .map(|_| {
            let started = Instant::now();
            let page = store.list_plans(&query).expect("list");
            let elapsed = started.elapsed();
            assert_eq!(page.plans.len(), 50);
            elapsed
        })
        .collect();
    Row { name: name.to_owned(), unit: "per page", samples }
}

/// The cursor after `pages` pages of 50, walking from the newest plan.
fn deep_cursor(store: &Store, pages: usize) -> Option<String> {
    let mut cursor = None;
    for _ in 0..pages {
        let query = ListQuery { limit: 50, cursor, ..ListQuery::default() };
        cursor = store.list_plans(&query).expect("list").next_cursor;
    }
    cursor
}

fn main() {
    let folder = tempfile::tempdir().expect("tempdir");
    let (mut store, _) = Store::open(&folder.path().join("bench.db")).expect("open");
    let mut rows = vec![
        bench_insert_large_plan(&mut store),
        bench_single_transitions(&mut store),
        bench_batched_transitions(&mut store),
    ];
    // A fresh file for listing, holding exactly 10,000 plans of 8 subtasks.
    let (mut listing_store, _) = Store::open(&folder.path().join("listing.db")).expect("open");
    fill_plans(&mut listing_store, 10_000);
    let deep = deep_cursor(&listing_store, 180);
    rows.push(bench_listing(&listing_store, "list 50 of 10,000 plans, first page", None, None));
    rows.push(bench_listing(&listing_store, "list 50 of 10,000 plans, page 181 by cursor", deep, None));
    rows.push(bench_listing(&listing_store, "list 50 of 10,000 plans, session filter", None, Some("listing")));
    print_table(&mut rows);
}
