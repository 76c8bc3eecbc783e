//! Benchmark: stdio (placeholder until implemented).

fn main() {}
