//! Conversions into [`OrchestratorError`]: store failures and refused guards become the typed
//! errors clients see (`planNotFound`, `invalidState`, stale versions, invalid params).

use super::{OrchestratorError, invalid_param};
use crate::model::{GuardError, Plan};
use crate::store::StoreError;

impl From<StoreError> for OrchestratorError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::PlanNotFound(plan) => OrchestratorError::PlanNotFound(plan),
            StoreError::VersionConflict { plan, expected, actual } => {
                OrchestratorError::StaleVersion { plan, expected, actual }
            }
            StoreError::StatusConflict { plan, actual } => OrchestratorError::InvalidState {
                message: format!("plan {plan} is {actual}"),
                status: actual,
                allowed: actual.allowed_actions(),
            },
            StoreError::InvalidCursor => invalid_param("cursor", "invalid cursor"),
            other => OrchestratorError::Storage(other),
        }
    }
}

/// A refused guard on `plan`, as an `invalidState` error.
pub(super) fn refused(plan: &Plan, error: GuardError) -> OrchestratorError {
    let allowed = match &error {
        GuardError::PlanState { allowed, .. } => allowed.clone(),
        GuardError::EmptyPlan => vec!["update", "revise", "reject", "delete"],
        GuardError::SubtaskState { .. } | GuardError::DependenciesNotDone { .. } => plan.allowed_actions(),
    };
    OrchestratorError::InvalidState { message: error.to_string(), status: plan.status, allowed }
}

/// `invalidState` with a custom message for `plan`'s current status.
pub(super) fn invalid_state(plan: &Plan, message: impl Into<String>) -> OrchestratorError {
    OrchestratorError::InvalidState { message: message.into(), status: plan.status, allowed: plan.allowed_actions() }
}
