//! codelab-planner: a language server that classifies coding tasks, plans complex ones as
//! dependency graphs of subtasks, and executes them with shell and LLM agents.
//!
//! Layers, bottom up: `model` (pure domain), `graph`, `classify`, `fsm` (pure), `store`
//! (SQLite), `planner`, `engine` (runs), `orchestrator` (the use cases, and the one owner of state), `wire` (the protocol's objects, shared by
//! every face), `lsp` (the language server) and `cli` (the command line).
//! See ARCHITECTURE.md.

pub mod agents;
pub mod classify;
pub mod cli;
pub mod config;
pub mod confine;
pub mod diff;
pub mod engine;
pub mod fsm;
pub mod graph;
pub mod llm;
pub mod lsp;
pub mod model;
pub mod orchestrator;
pub mod panics;
pub mod planfile;
pub mod planner;
pub mod store;
pub mod textfile;
pub mod wire;
