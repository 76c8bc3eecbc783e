//! Benchmark: engine (placeholder until implemented).

fn main() {}
