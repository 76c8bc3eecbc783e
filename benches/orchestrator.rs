//! Benchmark: orchestrator (placeholder until implemented).

fn main() {}
