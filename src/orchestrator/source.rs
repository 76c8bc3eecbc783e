//! The text of a plan file and the checks every format shares before anything is stored: the
//! file is read as bad input is read (`textfile`: a regular file, a size limit, a timeout, UTF-8
//! with the position of the first bad byte), and a plan with no steps is refused. Every error
//! names the file; where there is a position, it is `file:line:column`.

use std::path::Path;

use super::{CreateRequest, OrchestratorError, invalid_param};
use crate::model::validate::{Problem, ProblemKind, ValidationErrors};
use crate::textfile::{TextFileError, read_text};

/// A plan file larger than this is refused.
pub const MAX_PLAN_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The text of the plan file at `path` (`shown` is how the person named it).
pub(super) async fn read_plan_text(shown: &str, path: &Path) -> Result<String, OrchestratorError> {
    read_text(path, MAX_PLAN_FILE_BYTES).await.map_err(|error| match error.position() {
        Some((line, column)) => at(shown, line, column, error.to_string()),
        None if matches!(error, TextFileError::NotFound) => {
            invalid_param(shown, "cannot read the plan file: there is no such file")
        }
        None => invalid_param(shown, format!("cannot read the plan file: it {error}")),
    })
}

/// Refuses a plan with no steps (a title alone): nothing would run, so nothing is stored.
pub(super) fn refuse_empty(shown: &str, request: &CreateRequest) -> Result<(), OrchestratorError> {
    match &request.subtasks {
        Some(subtasks) if subtasks.is_empty() => {
            Err(at(shown, 1, 1, "the plan has no steps: nothing to store or run".to_owned()))
        }
        _ => Ok(()),
    }
}

/// A problem at `shown:line:column`.
fn at(shown: &str, line: usize, column: usize, message: String) -> OrchestratorError {
    let problem = Problem { kind: ProblemKind::Field, path: format!("{shown}:{line}:{column}"), message };
    OrchestratorError::Validation(ValidationErrors(vec![problem]))
}
