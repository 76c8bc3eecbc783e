//! The driver's handling of a `baseline` step (a check run before the change): whatever its
//! check shows, the step ends `done` with the verdict as its result ("failing before the
//! change: 1 test", then the output), so a failing baseline never fails the plan, never skips
//! its dependents and is never retried. Only a cancel or an interrupted run ends it otherwise.

use super::Driver;
use crate::engine::agent::{AgentError, AgentOutcome};
use crate::model::check::CheckOutcome;

impl Driver {
    /// A baseline's attempt returned (not stopped by the run): record what it showed.
    pub(super) fn finish_baseline(&mut self, node: usize, outcome: Result<AgentOutcome, AgentError>) {
        let result = match outcome {
            Ok(outcome) => CheckOutcome::Passing.baseline_result(&outcome.result),
            Err(AgentError::Failed { message, output }) => {
                let output = output.unwrap_or_default();
                CheckOutcome::failing(&message, Some(&output)).baseline_result(&output)
            }
            Err(error) => CheckOutcome::failing(&error.to_string(), None).baseline_result(""),
        };
        self.complete(node, result);
    }
}
