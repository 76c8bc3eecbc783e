//! Handlers for agent work on the record: `planning/transcript`, `planning/changes`,
//! `planning/rollback` and `planning/answer`. Each parses, calls one orchestrator method and
//! converts the answer.

use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;

use crate::lsp::errors::{invalid_params, orchestrator_error_to_jsonrpc};
use crate::lsp::ext;
use crate::lsp::server::PlannerServer;
use crate::model::{PlanId, SubtaskId};
use crate::wire::convert;

pub async fn handle_plan_transcript(server: &PlannerServer, params: Value) -> Result<ext::TranscriptResult> {
    server
        .serve_request::<ext::PlanTranscript, _, _>(params, |params| async move {
            let attempt = convert::transcript_attempt(params.attempt).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let transcript = orchestrator
                .transcript(PlanId::from_raw(params.plan_id), SubtaskId::from_raw(params.subtask_id), attempt)
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::transcript_to_wire(&transcript))
        })
        .await
}

pub async fn handle_plan_changes(server: &PlannerServer, params: Value) -> Result<ext::ChangesResult> {
    server
        .serve_request::<ext::PlanChanges, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let diffs = orchestrator
                .changes(PlanId::from_raw(params.plan_id), params.subtask_id.map(SubtaskId::from_raw))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::changes_to_wire(&diffs))
        })
        .await
}

pub async fn handle_plan_rollback(server: &PlannerServer, params: Value) -> Result<ext::RollbackResult> {
    server
        .serve_request::<ext::PlanRollback, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let report = orchestrator
                .rollback(PlanId::from_raw(params.plan_id), params.subtask_id.map(SubtaskId::from_raw))
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(convert::rollback_to_wire(&report))
        })
        .await
}

pub async fn handle_approval_answer(server: &PlannerServer, params: Value) -> Result<ext::AnswerResult> {
    server
        .serve_request::<ext::AnswerApproval, _, _>(params, |params| async move {
            let request = convert::answer_params_to_request(params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            orchestrator.answer(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::AnswerResult {})
        })
        .await
}
