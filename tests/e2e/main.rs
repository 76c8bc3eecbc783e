//! End-to-end tests: the real `codelab-planner` binary driven over stdio by a test client.
//! One test binary (`cargo test --test e2e`); each module is one area of the protocol.

#[path = "../support/fake_openai.rs"]
mod fake_openai;

mod acp;
mod agents;
mod architecture;
mod bad_files;
mod bounds;
mod cli;
mod contract;
mod database_setting;
mod errors;
mod follow;
mod harness;
mod hygiene;
mod lifecycle;
mod malformed;
mod mcp;
mod multi;
mod next;
mod no_model;
mod outcomes;
mod output_lines;
mod plan_files;
mod processes;
mod protocol_drift;
mod protocol_schema;
mod record;
mod runs;
mod safe_edits;
mod sandbox;
mod sdk_client;
mod settings_files;
mod storage;
mod tasklists;
mod update;
