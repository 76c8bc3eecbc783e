//! The wire objects of `next` (`planning/next`, `codelab-planner next --json`): the steps that can be
//! taken now and who holds each. Kept apart from `mod.rs` until the protocol's third-wave objects
//! land there.

use serde::{Deserialize, Serialize};

use super::Subtask;
use super::convert::subtask_to_wire;
use crate::orchestrator::NextOutcome;

/// `planning/next` params: the plan (extension: absent = the newest plan with a ready step).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextStepsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
}

/// The steps that can be taken now, in plan order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextStepsResult {
    /// Extension: the plan looked at (absent when none has a ready step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    pub ready: Vec<Subtask>,
    /// Extension: the claims that hold on ready steps (an outside agent is doing them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<StepClaim>,
}

/// A step handed to a claimant until `expiresAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepClaim {
    pub subtask_id: String,
    pub claimant: String,
    pub claimed_at: String,
    pub expires_at: String,
}

pub fn next_outcome_to_wire(outcome: &NextOutcome) -> NextStepsResult {
    NextStepsResult {
        plan_id: outcome.plan_id.as_ref().map(ToString::to_string),
        ready: outcome.ready.iter().map(|step| subtask_to_wire(&step.subtask)).collect(),
        claims: outcome
            .ready
            .iter()
            .filter_map(|step| step.claim.as_ref())
            .map(|claim| StepClaim {
                subtask_id: claim.subtask_id.to_string(),
                claimant: claim.claimant.clone(),
                claimed_at: claim.claimed_at.to_rfc3339(),
                expires_at: claim.expires_at.to_rfc3339(),
            })
            .collect(),
    }
}
