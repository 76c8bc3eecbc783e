//! End-to-end tests: the real `codelab-planner` binary driven over stdio by a test client.
//! One test binary (`cargo test --test e2e`); each module is one area of the protocol.

mod cli;
mod errors;
mod harness;
mod lifecycle;
mod multi;
mod plan_files;
mod protocol_drift;
mod runs;
