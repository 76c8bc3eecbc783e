//! Use cases that compose the actor's operations the way a person asks for them: "run it"
//! (approve a draft, then execute), "plan it and go ahead" (create, then approve) and "the newest
//! plan this applies to" (a face given no plan id). Faces call these instead of writing the sequence themselves.

use super::{CreateRequest, ExecuteRequest, ListRequest, MAX_LIST_LIMIT, Orchestrator, OrchestratorError, RunStarted};
use crate::model::{FailurePolicy, Plan, PlanId, PlanStatus};

/// How a run started by a use case goes (the settings decide what is not given).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartOptions {
    pub max_parallel: Option<usize>,
    pub failure_policy: Option<FailurePolicy>,
    /// Only shell steps run; the others wait to be taken by hand (an outside agent's `next`).
    pub agents_by_hand: bool,
}

impl Orchestrator {
    /// Approves a draft (the caller has the person's go-ahead: they asked to run it) and starts
    /// it; an approved plan is just started. Returns at once with the run's events.
    pub async fn approve_and_execute(
        &self,
        plan_id: PlanId,
        options: StartOptions,
    ) -> Result<RunStarted, OrchestratorError> {
        if self.get(plan_id.clone()).await?.status == PlanStatus::Draft {
            self.approve(plan_id.clone()).await?;
        }
        let request =
            ExecuteRequest { plan_id, max_parallel: options.max_parallel, failure_policy: options.failure_policy };
        if options.agents_by_hand {
            return self.execute_agents_by_hand(request).await;
        }
        self.execute(request).await
    }

    /// Creates a plan and approves it when it is a draft: the caller has the go-ahead (an agent
    /// was asked to do the work it plans). An atomic task's plan may already be approved.
    pub async fn create_approved(&self, request: CreateRequest) -> Result<Plan, OrchestratorError> {
        let created = self.create(request).await?;
        if created.plan.status != PlanStatus::Draft {
            return Ok(created.plan);
        }
        self.approve(created.plan.id).await
    }

    /// The newest plan whose status is one of `statuses` (any status when empty), among the
    /// newest [`MAX_LIST_LIMIT`] plans.
    pub async fn newest_plan(&self, statuses: &[PlanStatus]) -> Result<Option<PlanId>, OrchestratorError> {
        let page = self.list(ListRequest { limit: Some(MAX_LIST_LIMIT), ..ListRequest::default() }).await?;
        let found = page.plans.into_iter().find(|plan| statuses.is_empty() || statuses.contains(&plan.status));
        Ok(found.map(|plan| plan.id))
    }
}
