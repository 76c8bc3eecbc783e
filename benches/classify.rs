//! Benchmark: classify (placeholder until implemented).

fn main() {}
