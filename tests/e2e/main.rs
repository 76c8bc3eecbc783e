//! End-to-end tests: the real `codelab-planner` binary driven over stdio by a test client.
//! One test binary (`cargo test --test e2e`); each module is one area of the protocol.

#[path = "../support/fake_openai.rs"]
mod fake_openai;

mod agents;
mod errors;
mod harness;
mod lifecycle;
mod multi;
mod protocol_drift;
mod runs;
