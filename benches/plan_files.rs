//! Benchmark of plan files (`cargo bench --bench plan_files`): checking a file and turning its
//! problems into diagnostics and its subtasks into lenses must be linear in the file's size.
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

fn measure(name: &str, text: &str) {
    let mut check = Vec::new();
    let mut ranges = Vec::new();
    let mut problems = 0;
    let mut steps = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let checked = planfile::check(text);
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
    println!("linear: µs/item stays flat as the file grows (it grew with the size before)");
}
