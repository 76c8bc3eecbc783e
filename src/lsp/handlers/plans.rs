//! Handlers for classifying, creating, reading, listing, editing and deleting plans, and for
//! reading sessions and plan history.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::errors::{invalid_params, orchestrator_error_to_jsonrpc};
use crate::lsp::ext;
use crate::lsp::planning::PlanningProgress;
use crate::lsp::server::PlannerServer;
use crate::model::{PlanId, SessionId};
use crate::wire::convert;

pub async fn handle_task_classify(server: &PlannerServer, params: Value) -> Result<ext::Classification> {
    server
        .serve_request::<ext::ClassifyTask, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let classification =
                orchestrator.classify(params.task.into()).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::classification_to_wire(&classification))
        })
        .await
}

pub async fn handle_plan_create(server: &PlannerServer, params: Value) -> Result<ext::CreatePlanResult> {
    server
        .serve_request::<ext::CreatePlan, _, _>(params, |params| async move {
            let tokens = (params.work_done_token.clone(), params.partial_result_token.clone());
            let request = convert::create_params_to_request(params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let (progress, hooks) =
                PlanningProgress::begin(server.client.clone(), server.shared.clone(), tokens.0, tokens.1).await;
            let created = orchestrator.create_with(request, hooks.clone()).await;
            let message = match &created {
                Ok(created) => format!("planned: {} subtasks", created.plan.subtasks.len()),
                Err(error) => format!("planning failed: {error}"),
            };
            progress.finish(hooks, &message).await;
            let created = created.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::CreatePlanResult {
                plan: convert::plan_to_wire(&created.plan),
                session: convert::session_to_wire(&created.session),
            })
        })
        .await
}

pub async fn handle_plan_get(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::GetPlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan =
                orchestrator.get(PlanId::from_raw(params.plan_id)).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}

pub async fn handle_plan_list(server: &PlannerServer, params: Value) -> Result<ext::ListPlansResult> {
    server
        .serve_request::<ext::ListPlans, _, _>(params, |params| async move {
            let request = convert::list_params_to_request(params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let page = orchestrator.list(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_page_to_wire(&page))
        })
        .await
}

pub async fn handle_plan_update(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::UpdatePlan, _, _>(params, |params| async move {
            let request = convert::update_params_to_request(params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let plan = orchestrator.update(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::plan_to_wire(&plan))
        })
        .await
}

pub async fn handle_plan_delete(server: &PlannerServer, params: Value) -> Result<ext::DeletePlanResult> {
    server
        .serve_request::<ext::DeletePlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let deleted =
                orchestrator.delete(PlanId::from_raw(params.plan_id)).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::DeletePlanResult { deleted })
        })
        .await
}

pub async fn handle_plan_history(server: &PlannerServer, params: Value) -> Result<ext::PlanHistoryResult> {
    server
        .serve_request::<ext::PlanHistory, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan_id = PlanId::from_raw(params.plan_id);
            let versions = orchestrator.history(plan_id.clone()).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::PlanHistoryResult {
                plan_id: plan_id.into_string(),
                versions: versions.iter().map(convert::plan_version_to_wire).collect(),
            })
        })
        .await
}

pub async fn handle_session_get(server: &PlannerServer, params: Value) -> Result<ext::Session> {
    server
        .serve_request::<ext::GetSession, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let session = orchestrator
                .session(SessionId::from_raw(params.session_id))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::session_to_wire(&session))
        })
        .await
}

pub async fn handle_session_reset(server: &PlannerServer, params: Value) -> Result<ext::Session> {
    server
        .serve_request::<ext::ResetSession, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let session = orchestrator
                .reset_session(SessionId::from_raw(params.session_id))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::session_to_wire(&session))
        })
        .await
}
