//! Handlers for runs: execute, retry (both return at once; `progress::show_run` shows the run),
//! cancel, status, complete (a person's answer to a waiting step), and the `window/workDoneProgress/cancel` notification.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::WorkDoneProgressCancelParams;

use crate::lsp::errors::{invalid_params, orchestrator_error_to_jsonrpc};
use crate::lsp::ext;
use crate::lsp::progress::show_run;
use crate::lsp::server::PlannerServer;
use crate::model::PlanId;
use crate::panics::panic_message;
use crate::wire::convert;

pub async fn handle_plan_execute(server: &PlannerServer, params: Value) -> Result<ext::RunStartedResult> {
    server
        .serve_request::<ext::ExecutePlan, _, _>(params, |params| async move {
            let request = convert::execute_params_to_request(&params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let run = orchestrator.execute(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(show_run(server.client.clone(), server.shared.clone(), run, params.work_done_token))
        })
        .await
}

pub async fn handle_plan_retry(server: &PlannerServer, params: Value) -> Result<ext::RunStartedResult> {
    server
        .serve_request::<ext::RetryPlan, _, _>(params, |params| async move {
            let request = convert::retry_params_to_request(&params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let run = orchestrator.retry(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(show_run(server.client.clone(), server.shared.clone(), run, params.work_done_token))
        })
        .await
}

pub async fn handle_plan_cancel(server: &PlannerServer, params: Value) -> Result<ext::CancelPlanResult> {
    server
        .serve_request::<ext::CancelPlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let outcome = orchestrator
                .cancel(PlanId::from_raw(params.plan_id), params.reason.map(String::from))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::cancel_outcome_to_wire(&outcome))
        })
        .await
}

pub async fn handle_plan_status(server: &PlannerServer, params: Value) -> Result<ext::PlanStatusResult> {
    server
        .serve_request::<ext::GetPlanStatus, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let status =
                orchestrator.status(PlanId::from_raw(params.plan_id)).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::status_to_wire(&status))
        })
        .await
}

pub async fn handle_subtask_complete(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::CompleteSubtask, _, _>(params, |params| async move {
            let request = convert::complete_params_to_request(params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let plan = orchestrator.complete(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}

/// The user pressed cancel on a `$/progress` the server started: abort that planning call, or
/// cancel that run.
pub async fn handle_work_done_progress_cancel(server: &PlannerServer, params: WorkDoneProgressCancelParams) {
    if server.shared.cancel_planning(&params.token) {
        tracing::info!("planning cancelled from the editor");
        return;
    }
    let Some(plan_id) = server.shared.plan_of_progress_token(&params.token) else {
        tracing::debug!("window/workDoneProgress/cancel for an unknown token");
        return;
    };
    let Ok(orchestrator) = server.orchestrator().await else { return };
    tokio::spawn(async move {
        let cancelling = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
            orchestrator.cancel(plan_id.clone(), Some("cancelled from the editor".to_owned())),
        ));
        match cancelling.await {
            Ok(Ok(outcome)) => {
                tracing::info!(plan = %plan_id, cancelled = outcome.cancelled, "cancelled by progress token")
            }
            Ok(Err(failure)) => tracing::warn!(plan = %plan_id, "cancel by progress token failed: {failure}"),
            Err(panic) => tracing::error!(plan = %plan_id, "cancel panicked: {}", panic_message(&*panic)),
        }
    });
}
