//! `next`: the steps a person or an outside agent can take now (which ones: `model::hand`), either
//! listed (with who holds each) or handed to one claimant under a lease. Handing out happens in one
//! immediate transaction that reads the plan and its claims and writes the new claims
//! (`Store::modify_plan`), so two processes on one database never hand out the same step: a step
//! is handed to one claimant until it is finished or its lease runs out. Calling `next` again
//! renews the caller's leases.
//!
//! Listing shows claimed steps too, each with its claim; handing out gives a claimant only the
//! steps it holds or that nobody holds.

use std::time::Duration;

use super::{ListRequest, MAX_LIST_LIMIT, Orchestrator, OrchestratorError, invalid_param};
use crate::model::{Claim, Plan, PlanId, PlanStatus, Subtask, SubtaskId, Timestamp};
use crate::store::WriteOp;

/// How long a claim holds when the caller does not say.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15 * 60);
/// The longest lease.
pub const MAX_LEASE: Duration = Duration::from_secs(24 * 60 * 60);
/// Most steps handed out by one call.
pub const MAX_CLAIM_LIMIT: usize = 100;
/// Longest claimant name, in characters.
const MAX_CLAIMANT_CHARS: usize = 128;

/// Hand the ready steps to `claimant` (up to `limit`, those it already holds first) until
/// `lease` from now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub claimant: String,
    pub lease: Duration,
    pub limit: usize,
}

impl ClaimRequest {
    /// One step for `claimant`, for [`DEFAULT_LEASE`].
    pub fn one(claimant: impl Into<String>) -> Self {
        Self { claimant: claimant.into(), lease: DEFAULT_LEASE, limit: 1 }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextRequest {
    /// `None`: the newest plan with a ready step (for this claimant, when claiming).
    pub plan_id: Option<PlanId>,
    /// `None`: only list.
    pub claim: Option<ClaimRequest>,
}

/// A step that can be taken now, and who holds it (a claim that still holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyStep {
    pub subtask: Subtask,
    pub claim: Option<Claim>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextOutcome {
    /// The plan looked at (`None` when no plan id was given and no plan has a ready step).
    pub plan_id: Option<PlanId>,
    pub status: Option<PlanStatus>,
    /// Listing: every ready step. Claiming: the steps handed to the claimant.
    pub ready: Vec<ReadyStep>,
}

impl Orchestrator {
    /// The steps that can be taken now in a plan (or in the newest plan that has some), listed or
    /// handed to a claimant; see the module doc.
    pub async fn next(&self, request: NextRequest) -> Result<NextOutcome, OrchestratorError> {
        if let Some(claim) = &request.claim {
            check_claim(claim)?;
        }
        if let Some(plan_id) = request.plan_id {
            return self.next_of(plan_id, request.claim).await;
        }
        let page = self.list(ListRequest { limit: Some(MAX_LIST_LIMIT), ..ListRequest::default() }).await?;
        let open = [PlanStatus::Running, PlanStatus::Approved, PlanStatus::Interrupted];
        for summary in page.plans.into_iter().filter(|summary| open.contains(&summary.status)) {
            let outcome = self.next_of(summary.id, request.claim.clone()).await?;
            if !outcome.ready.is_empty() {
                return Ok(outcome);
            }
        }
        Ok(NextOutcome::default())
    }

    async fn next_of(&self, plan_id: PlanId, claim: Option<ClaimRequest>) -> Result<NextOutcome, OrchestratorError> {
        let now = Timestamp::now();
        let Some(claim) = claim else {
            let lookup = plan_id.clone();
            let read =
                self.repository.call(move |store| Ok((store.get_plan(&lookup)?, store.claims_of(&lookup)))).await?;
            let (Some(plan), claims) = read else { return Err(OrchestratorError::PlanNotFound(plan_id)) };
            return Ok(listed(&plan, &claims?, now));
        };
        self.repository
            .call(move |store| store.modify_plan(&plan_id, |plan, claims| hand_out(plan, claims, &claim, now)))
            .await?
    }
}

fn check_claim(claim: &ClaimRequest) -> Result<(), OrchestratorError> {
    let length = claim.claimant.chars().count();
    if claim.claimant.trim().is_empty() || length > MAX_CLAIMANT_CHARS {
        return Err(invalid_param("claimant", format!("must be 1 to {MAX_CLAIMANT_CHARS} characters, not blank")));
    }
    if claim.lease < Duration::from_secs(1) || claim.lease > MAX_LEASE {
        return Err(invalid_param(
            "lease",
            format!("must be between 1 second and {} hours", MAX_LEASE.as_secs() / 3600),
        ));
    }
    if claim.limit == 0 || claim.limit > MAX_CLAIM_LIMIT {
        return Err(invalid_param("limit", format!("must be between 1 and {MAX_CLAIM_LIMIT}, got {}", claim.limit)));
    }
    Ok(())
}

/// The claim on `subtask_id` that still holds at `now`.
pub(super) fn live_claim<'a>(claims: &'a [Claim], subtask_id: &SubtaskId, now: Timestamp) -> Option<&'a Claim> {
    claims.iter().find(|claim| &claim.subtask_id == subtask_id && claim.holds_at(now))
}

fn listed(plan: &Plan, claims: &[Claim], now: Timestamp) -> NextOutcome {
    let ready = plan
        .ready_by_hand()
        .into_iter()
        .map(|subtask| ReadyStep { subtask: subtask.clone(), claim: live_claim(claims, &subtask.id, now).cloned() })
        .collect();
    NextOutcome { plan_id: Some(plan.id.clone()), status: Some(plan.status), ready }
}

/// What one claimant is handed, and the claims to write: its held steps renewed first, then free
/// ones, up to the limit; claims that lapsed or whose step is no longer ready are released.
fn hand_out(
    plan: &Plan,
    claims: &[Claim],
    request: &ClaimRequest,
    now: Timestamp,
) -> Result<(NextOutcome, Vec<WriteOp>), OrchestratorError> {
    let lease_ms = i64::try_from(request.lease.as_millis()).unwrap_or(i64::MAX);
    let expires_at = Timestamp::from_millis(now.as_millis().saturating_add(lease_ms));
    let ready = plan.ready_by_hand();
    let held = |subtask: &Subtask| live_claim(claims, &subtask.id, now);
    let mine = ready.iter().filter(|subtask| held(subtask).is_some_and(|claim| claim.claimant == request.claimant));
    let free = ready.iter().filter(|subtask| held(subtask).is_none());
    let mut handed = Vec::new();
    let mut ops = Vec::new();
    for subtask in mine.chain(free).take(request.limit) {
        let claimed_at = held(subtask).map_or(now, |claim| claim.claimed_at);
        let claim =
            Claim { subtask_id: subtask.id.clone(), claimant: request.claimant.clone(), claimed_at, expires_at };
        ops.push(WriteOp::PutClaim { plan_id: plan.id.clone(), claim: claim.clone() });
        handed.push(ReadyStep { subtask: (*subtask).clone(), claim: Some(claim) });
    }
    let stale: Vec<SubtaskId> = claims
        .iter()
        .filter(|claim| !claim.holds_at(now) || !ready.iter().any(|subtask| subtask.id == claim.subtask_id))
        .filter(|claim| !handed.iter().any(|step| step.subtask.id == claim.subtask_id))
        .map(|claim| claim.subtask_id.clone())
        .collect();
    if !stale.is_empty() {
        ops.push(WriteOp::ReleaseClaims { plan_id: plan.id.clone(), subtask_ids: stale });
    }
    Ok((NextOutcome { plan_id: Some(plan.id.clone()), status: Some(plan.status), ready: handed }, ops))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentKind, SessionId, SubtaskStatus};

    fn approved() -> Plan {
        let steps = ["a", "b", "c"]
            .map(|id| Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), AgentKind::Manual))
            .to_vec();
        let mut plan =
            Plan::new_draft(SessionId::from_raw("s"), "t".into(), "g".into(), steps, Timestamp::from_millis(0));
        plan.approve(Timestamp::from_millis(0)).unwrap();
        plan.subtasks[2].status = SubtaskStatus::Done;
        plan
    }

    fn claim(id: &str, who: &str, until: i64) -> Claim {
        Claim {
            subtask_id: SubtaskId::from_raw(id),
            claimant: who.into(),
            claimed_at: Timestamp::from_millis(1_000),
            expires_at: Timestamp::from_millis(until),
        }
    }

    fn handed(outcome: &NextOutcome) -> Vec<(String, String, i64)> {
        outcome
            .ready
            .iter()
            .filter_map(|step| step.claim.as_ref())
            .map(|claim| (claim.subtask_id.to_string(), claim.claimant.clone(), claim.expires_at.as_millis()))
            .collect()
    }

    #[test]
    fn a_lapsed_claim_is_handed_to_the_next_claimant_and_a_holding_one_is_not() {
        let plan = approved();
        let now = Timestamp::from_millis(10_000);
        let request = ClaimRequest { claimant: "two".into(), lease: Duration::from_secs(60), limit: 2 };
        let (outcome, ops) = hand_out(&plan, &[claim("a", "one", 9_000)], &request, now).unwrap();
        assert_eq!(handed(&outcome), [("a".into(), "two".into(), 70_000), ("b".into(), "two".into(), 70_000)]);
        assert!(ops.iter().all(|op| matches!(op, WriteOp::PutClaim { .. })), "{ops:?}");

        let (outcome, _) = hand_out(&plan, &[claim("a", "one", 20_000)], &request, now).unwrap();
        assert_eq!(handed(&outcome), [("b".into(), "two".into(), 70_000)]);
        let mine = ClaimRequest { claimant: "one".into(), lease: Duration::from_secs(1), limit: 1 };
        let (outcome, _) =
            hand_out(&plan, &[claim("b", "two", 20_000), claim("a", "one", 20_000)], &mine, now).unwrap();
        assert_eq!(handed(&outcome), [("a".into(), "one".into(), 11_000)], "its own step first, renewed");
        assert_eq!(outcome.ready[0].claim.as_ref().map(|claim| claim.claimed_at.as_millis()), Some(1_000));
    }

    #[test]
    fn claims_on_steps_that_are_no_longer_ready_are_released() {
        let plan = approved();
        let request = ClaimRequest::one("one");
        let (_, ops) = hand_out(&plan, &[claim("c", "two", 99_000)], &request, Timestamp::from_millis(10_000)).unwrap();
        let released: Vec<&WriteOp> = ops.iter().filter(|op| matches!(op, WriteOp::ReleaseClaims { .. })).collect();
        assert!(
            matches!(released.as_slice(), [WriteOp::ReleaseClaims { subtask_ids, .. }] if subtask_ids == &[SubtaskId::from_raw("c")]),
            "{ops:?}"
        );
        let blank = ClaimRequest { claimant: " ".into(), lease: DEFAULT_LEASE, limit: 1 };
        assert!(check_claim(&blank).is_err());
        assert!(check_claim(&ClaimRequest { limit: 0, ..ClaimRequest::one("x") }).is_err());
        assert!(check_claim(&ClaimRequest { lease: MAX_LEASE * 2, ..ClaimRequest::one("x") }).is_err());
    }
}
