//! Benchmark: store (placeholder until implemented).

fn main() {}
