//! Benchmark of plan files (`cargo bench --bench plan_files`): checking a file and turning its
//! problems into diagnostics and its subtasks into lenses must be linear in the file's size, in
//! every format (`*.plan.toml`, a spec-kit task list with phases and `[P]` runs, a Taskmaster
//! `tasks.json` with subtasks).
//! Prints, per size, the median and min/max of: `planfile::check`, the diagnostics of every
//! problem (LSP ranges through one line index), and the time per step or per problem, so a
//! quadratic cost shows as a growing per-item time. Not a test: nothing here asserts.

#[path = "support/stats.rs"]
mod stats;

use std::time::Instant;

use codelab_planner::lsp::documents::LineIndex;
use codelab_planner::planfile;
use stats::spread;

/// `steps` shell steps; with `unknown` each depends on an id that does not exist, padded with a
/// long description so the file reaches `bytes`.
fn plan_text(steps: usize, unknown: bool, bytes: usize) -> String {
    let padding = "x".repeat(bytes.saturating_sub(steps * 120) / steps.max(1));
    let mut text = String::from("title = \"big\"\n");
    for index in 0..steps {
        let dependency = if unknown {
            format!("\"missing-{index}\"")
        } else if index > 0 {
            format!("\"s{}\"", index - 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "\n[[subtask]]\nid = \"s{index}\"\ntitle = \"Step {index}\"\nagent = \"shell\"\ncommand = \"true\"\ndescription = \"{padding}\"\ndepends_on = [{dependency}]\n"
        ));
    }
    text
}

/// A spec-kit task list: `steps` tasks in phases of 50, every third one `[P]`, every phase from
/// the third on a user story, and every task that is ticked ticking the next.
fn spec_kit_text(steps: usize) -> String {
    let mut text = String::from("# Tasks: big\n\nA generated list.\n");
    for index in 0..steps {
        if index % 50 == 0 {
            let phase = index / 50 + 1;
            let story = if phase >= 3 { format!(" User Story {}", phase - 2) } else { String::new() };
            text.push_str(&format!("\n## Phase {phase}:{story}\n\n"));
        }
        let parallel = if index % 3 == 1 { "[P] " } else { "" };
        let tick = if index % 7 == 0 { 'x' } else { ' ' };
        text.push_str(&format!(
            "- [{tick}] T{:04} {parallel}Implement part {index} in src/part_{index}.py\n",
            index + 1
        ));
    }
    text
}

/// A Taskmaster `tasks.json`: `tasks` tasks, every fourth with three subtasks, each depending on
/// the task before.
fn taskmaster_text(tasks: usize) -> String {
    let mut items = Vec::with_capacity(tasks);
    for id in 1..=tasks {
        let dependencies = if id > 1 { format!("[{}]", id - 1) } else { "[]".to_owned() };
        let subtasks = if id % 4 == 0 {
            r#", "subtasks": [{"id": 1, "title": "a", "status": "pending", "dependencies": []}, {"id": 2, "title": "b", "status": "pending", "dependencies": [1]}, {"id": 3, "title": "c", "status": "done", "dependencies": [2]}]"#
        } else {
            ""
        };
        items.push(format!(
            r#"{{"id": {id}, "title": "Task {id}", "description": "Do part {id}.", "status": "pending", "dependencies": {dependencies}{subtasks}}}"#
        ));
    }
    format!("{{\"master\": {{\"tasks\": [\n{}\n]}}}}\n", items.join(",\n"))
}

fn measure(name: &str, text: &str) {
    measure_as(name, text, planfile::Format::Toml);
}

fn measure_as(name: &str, text: &str, format: planfile::Format) {
    let options = planfile::ReadOptions::default();
    let mut check = Vec::new();
    let mut ranges = Vec::new();
    let mut problems = 0;
    let mut steps = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let checked = planfile::check_as(text, format, &options);
        check.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let index = LineIndex::new(text);
        let ranges_made: Vec<_> = checked
            .problems
            .iter()
            .map(|problem| index.range(&problem.span))
            .chain(checked.file.subtasks.iter().map(|entry| index.range(&entry.header_span)))
            .collect();
        ranges.push(started.elapsed().as_secs_f64() * 1e3);
        problems = checked.problems.len();
        steps = checked.file.subtasks.len();
        std::hint::black_box(ranges_made);
    }
    let items = (problems + steps).max(1) as f64;
    let (check_median, check_min, check_max) = spread(check.clone());
    let (range_median, range_min, range_max) = spread(ranges);
    println!(
        "{name:<40} {:>8.1} {steps:>7} {problems:>7} {check_median:>9.1} {check_min:>9.1} {check_max:>9.1} {range_median:>9.2} {range_min:>9.2} {range_max:>9.2} {:>9.2}",
        text.len() as f64 / 1e6,
        (check_median + range_median) * 1e3 / items,
    );
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    println!(
        "{:<40} {:>8} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "plan file (times in ms)", "MB", "steps", "errors", "check", "min", "max", "ranges", "min", "max", "µs/item"
    );
    for (steps, bytes) in [(1_250, 625_000), (5_000, 2_500_000), (20_000, 10_000_000)] {
        measure(&format!("{steps} steps, each an unknown id"), &plan_text(steps, true, bytes));
    }
    for steps in [2_500, 10_000] {
        measure(&format!("{steps} valid steps in a chain"), &plan_text(steps, false, 0));
    }
    for steps in [2_500, 10_000, 40_000] {
        measure_as(&format!("{steps} spec-kit tasks in phases"), &spec_kit_text(steps), planfile::Format::Markdown);
    }
    for tasks in [2_500, 10_000, 40_000] {
        measure_as(&format!("{tasks} Taskmaster tasks"), &taskmaster_text(tasks), planfile::Format::Taskmaster);
    }
    println!("linear: µs/item stays flat as the file grows (it grew with the size before)");
}
