//! The `codelab-planner` binary: command-line parsing, logging, then the LSP server on stdio.

fn main() {}
