//! The labelled classifier corpus (`tests/data/classify_corpus.tsv`) and its scoring: accuracy
//! and a confusion matrix over the four routes (`code`, `debug`, `explain`, `plan`). Shared by the
//! corpus test (`tests/classify_corpus.rs`) and the benchmark (`benches/classify.rs`).

use codelab_planner::classify::classify_keywords;
use codelab_planner::model::RouteAgent;

/// The routes, in matrix order.
pub const LABELS: [&str; 4] = ["code", "debug", "explain", "plan"];

/// One labelled task.
pub struct Example {
    pub label: &'static str,
    pub task: String,
}

/// Every example of the corpus file, in file order. Panics on a malformed line (a test input).
pub fn corpus() -> Vec<Example> {
    parse(include_str!("../data/classify_corpus.tsv"))
}

/// The held-out examples: written after the rules were fixed, never used to tune them.
pub fn holdout() -> Vec<Example> {
    parse(include_str!("../data/classify_holdout.tsv"))
}

/// The held-out set v2 (issue 21): written before the classifier was tuned for it, never used to
/// tune it; half English, half Russian.
pub fn heldout_v2() -> Vec<Example> {
    parse(include_str!("../data/classify_heldout_v2.tsv"))
}

/// Training examples for issue 21 (written separately from the held-out set v2).
pub fn training_v2() -> Vec<Example> {
    parse(include_str!("../data/classify_training_v2.tsv"))
}

/// The seed authors' own 40 benchmark tasks, labelled by their expected agent.
pub fn seed_tasks() -> Vec<Example> {
    parse(include_str!("../data/classify_seed40.tsv"))
}

fn parse(text: &'static str) -> Vec<Example> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (label, task) = line.split_once('\t').unwrap_or_else(|| panic!("no tab in corpus line {line:?}"));
            let label =
                LABELS.iter().copied().find(|known| *known == label).unwrap_or_else(|| panic!("label {label:?}"));
            Example { label, task: task.trim().to_owned() }
        })
        .collect()
}

/// The route the classifier gives a task: `plan` for complex, else the atomic agent.
pub fn predicted_label(task: &str) -> &'static str {
    let classification = classify_keywords(task);
    match classification.agent() {
        RouteAgent::Code => "code",
        RouteAgent::Debug => "debug",
        RouteAgent::Explain => "explain",
        RouteAgent::Plan => "plan",
    }
}

/// Scores of a corpus: `matrix[expected][predicted]` counts and the misclassified examples.
pub struct Scores {
    pub matrix: [[usize; 4]; 4],
    pub total: usize,
    pub correct: usize,
    pub misses: Vec<String>,
}

impl Scores {
    pub fn of(examples: &[Example]) -> Self {
        let mut scores = Scores { matrix: [[0; 4]; 4], total: 0, correct: 0, misses: Vec::new() };
        for example in examples {
            let predicted = predicted_label(&example.task);
            let row = LABELS.iter().position(|label| *label == example.label).unwrap_or(0);
            let column = LABELS.iter().position(|label| *label == predicted).unwrap_or(0);
            scores.matrix[row][column] += 1;
            scores.total += 1;
            if row == column {
                scores.correct += 1;
            } else {
                let reason = classify_keywords(&example.task).reason;
                scores.misses.push(format!("{} -> {predicted}: {:?} ({reason})", example.label, example.task));
            }
        }
        scores
    }

    pub fn accuracy(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.correct as f64 / self.total as f64 }
    }

    /// The matrix as a table: rows = expected, columns = predicted.
    pub fn table(&self) -> String {
        let mut table = format!("{:<16}", "expected \\ got");
        for label in LABELS {
            table.push_str(&format!("{label:>9}"));
        }
        table.push_str(&format!("{:>9}\n", "recall"));
        for (row, label) in LABELS.iter().enumerate() {
            table.push_str(&format!("{label:<16}"));
            for count in self.matrix[row] {
                table.push_str(&format!("{count:>9}"));
            }
            let row_total: usize = self.matrix[row].iter().sum();
            let recall = if row_total == 0 { 0.0 } else { self.matrix[row][row] as f64 * 100.0 / row_total as f64 };
            table.push_str(&format!("{recall:>8.1}%\n"));
        }
        table
    }
}
