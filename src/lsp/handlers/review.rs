//! Handlers for the review of a draft: approve, reject, revise.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::errors::orchestrator_error_to_jsonrpc;
use crate::lsp::ext;
use crate::lsp::server::PlannerServer;
use crate::model::PlanId;
use crate::wire::convert;

pub async fn handle_plan_approve(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::ApprovePlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan =
                orchestrator.approve(PlanId::from_raw(params.plan_id)).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}

pub async fn handle_plan_reject(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::RejectPlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan = orchestrator
                .reject(PlanId::from_raw(params.plan_id), params.feedback.map(String::from))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}

pub async fn handle_plan_revise(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::RevisePlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan = orchestrator
                .revise(PlanId::from_raw(params.plan_id), params.feedback.into())
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}
