//! Benchmark: `Orchestrator::create` for a complex task (keyword classifier + template planner +
//! one durable commit), and for an atomic one, against a real SQLite file. Prints median, p10,
//! p90, p99 and max per operation.
//!
//! Run with `cargo bench --bench orchestrator`.

use std::time::{Duration, Instant};

use codelab_planner::config::Settings;
use codelab_planner::orchestrator::{CreateRequest, Orchestrator, OrchestratorConfig};

const WARMUP: usize = 50;
const SAMPLES: usize = 2_000;

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

fn micros(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e6)
}

async fn measure(orchestrator: &Orchestrator, task: &str) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for round in 0..WARMUP + SAMPLES {
        let request = CreateRequest { task: format!("{task} #{round}"), ..CreateRequest::default() };
        let started = Instant::now();
        orchestrator.create(request).await.expect("create succeeds");
        if round >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    samples
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let workspace = tempfile::tempdir().expect("temp dir");
        std::fs::write(workspace.path().join("Cargo.toml"), "[package]\nname = \"demo\"\n").expect("write Cargo.toml");
        let config = OrchestratorConfig {
            workspace_root: workspace.path().to_path_buf(),
            database: None,
            settings: Settings::default(),
            editor: None,
        };
        let (orchestrator, _) = Orchestrator::start(config).await.expect("orchestrator starts");
        let cases = [
            (
                "create (complex, template)",
                "Implement feature: export reports to CSV across several components with tests and docs",
            ),
            ("create (atomic)", "Fix bug in parser.rs"),
        ];
        println!("orchestrator create latency, {SAMPLES} samples each, store on ({})", workspace.path().display());
        println!(
            "{:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "operation", "median µs", "p10 µs", "p90 µs", "p99 µs", "max µs"
        );
        for (name, task) in cases {
            let samples = measure(&orchestrator, task).await;
            println!(
                "{:<28} {:>10} {:>10} {:>10} {:>10} {:>10}",
                name,
                micros(percentile(&samples, 0.5)),
                micros(percentile(&samples, 0.1)),
                micros(percentile(&samples, 0.9)),
                micros(percentile(&samples, 0.99)),
                micros(percentile(&samples, 1.0)),
            );
        }
        orchestrator.shutdown().await;
    });
}
