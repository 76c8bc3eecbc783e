//! The extension methods, for what ACP has no method for, on a session's current plan:
//! - `_codelab/revise` `{sessionId, feedback}`: the plan revised (the model, or the template's
//!   rules), shown again as entries;
//! - `_codelab/retry` `{sessionId, steps?}`: its unfinished steps (or these and their dependents)
//!   run again, shown live;
//! - `_codelab/edit` `{sessionId, planId, version, title?, subtasks?}`: `planning/update`'s
//!   params, applied to the draft;
//! - `_codelab/complete` `{sessionId, step, ok?, result?}`: a step finished by the person;
//! - `_codelab/run` `{sessionId}`: the reviewed draft approved and run, shown live (with
//!   `approval.plans = "always"` a prompt stops at the draft).
//!
//! Each answers `{planId, status, ...}`.

use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::{Client, JsonRpcRequest, JsonRpcResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AcpAgent, failure, invalid, present, session};
use crate::engine::Completion;
use crate::model::{Plan, PlanId, SubtaskId};
use crate::orchestrator::{CompleteRequest, RetryRequest, RunStarted, StartOptions};
use crate::wire;
use crate::wire::bounds::max;

/// Every extension method's answer: a JSON object.
#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcResponse)]
pub struct ExtResult(pub Value);

#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcRequest)]
#[request(method = "_codelab/revise", response = ExtResult)]
#[serde(rename_all = "camelCase")]
pub struct ReviseRequest {
    pub session_id: wire::Text<{ max::ID }>,
    pub feedback: wire::bounds::FeedbackText,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcRequest)]
#[request(method = "_codelab/retry", response = ExtResult)]
#[serde(rename_all = "camelCase")]
pub struct RetryStepsRequest {
    pub session_id: wire::Text<{ max::ID }>,
    #[serde(default)]
    pub steps: Option<wire::List<wire::Text<{ max::SUBTASK_ID }>, { max::SUBTASKS }>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcRequest)]
#[request(method = "_codelab/edit", response = ExtResult)]
#[serde(rename_all = "camelCase")]
pub struct EditRequest {
    pub session_id: wire::Text<{ max::ID }>,
    #[serde(flatten)]
    pub update: wire::UpdatePlanParams,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcRequest)]
#[request(method = "_codelab/complete", response = ExtResult)]
#[serde(rename_all = "camelCase")]
pub struct CompleteStepRequest {
    pub session_id: wire::Text<{ max::ID }>,
    pub step: wire::Text<{ max::SUBTASK_ID }>,
    #[serde(default)]
    pub ok: Option<bool>,
    #[serde(default)]
    pub result: Option<wire::bounds::ResultText>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonRpcRequest)]
#[request(method = "_codelab/run", response = ExtResult)]
#[serde(rename_all = "camelCase")]
pub struct RunRequest {
    pub session_id: wire::Text<{ max::ID }>,
}

fn current_plan(agent: &AcpAgent, session: &str) -> Result<PlanId, agent_client_protocol::Error> {
    agent.session(session)?.plan.ok_or_else(|| invalid(&format!("session \"{session}\" has no plan yet")))
}

pub(super) async fn revise(
    agent: &AcpAgent,
    request: ReviseRequest,
    connection: ConnectionTo<Client>,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let orchestrator = agent.started()?;
    let plan_id = current_plan(agent, &request.session_id)?;
    let plan = orchestrator.revise(plan_id, request.feedback.into_string()).await.map_err(failure)?;
    Ok(shown(agent, connection, &request.session_id, &plan))
}

pub(super) async fn edit(
    agent: &AcpAgent,
    request: EditRequest,
    connection: ConnectionTo<Client>,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let orchestrator = agent.started()?;
    agent.session(&request.session_id)?;
    let update =
        wire::convert::update_params_to_request(request.update).map_err(|problem| invalid(&problem.to_string()))?;
    let plan = orchestrator.update(update).await.map_err(failure)?;
    agent.remember_plan(&request.session_id, plan.id.clone());
    Ok(shown(agent, connection, &request.session_id, &plan))
}

/// A changed plan sent to the session as entries; the answer names its version.
fn shown(agent: &AcpAgent, connection: ConnectionTo<Client>, session: &str, plan: &Plan) -> ExtResult {
    turn(connection, session, agent).send(present::plan_update(plan, &[]));
    ExtResult(json!({ "planId": plan.id.as_str(), "status": plan.status.as_str(), "version": plan.version }))
}

pub(super) async fn run(
    agent: &AcpAgent,
    request: RunRequest,
    connection: ConnectionTo<Client>,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let orchestrator = agent.started()?;
    let plan_id = current_plan(agent, &request.session_id)?;
    let run = orchestrator.approve_and_execute(plan_id.clone(), StartOptions::default()).await.map_err(failure)?;
    shown_live(agent, connection, &request.session_id, plan_id, run).await
}

/// A run shown to the session until it ends (no prompt to answer); the answer names it.
async fn shown_live(
    agent: &AcpAgent,
    connection: ConnectionTo<Client>,
    session: &str,
    plan_id: PlanId,
    run: RunStarted,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let plan = agent.started()?.get(plan_id).await.map_err(failure)?;
    let answer = json!({ "planId": plan.id.as_str(), "status": "running", "runId": run.run_id.as_str() });
    let turn = turn(connection.clone(), session, agent);
    connection.spawn(async move {
        session::show_run(plan, run, turn).await;
        Ok(())
    })?;
    Ok(ExtResult(answer))
}

pub(super) async fn retry(
    agent: &AcpAgent,
    request: RetryStepsRequest,
    connection: ConnectionTo<Client>,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let orchestrator = agent.started()?;
    let plan_id = current_plan(agent, &request.session_id)?;
    let subtask_ids = request
        .steps
        .map(|steps| steps.into_vec().into_iter().map(|id| SubtaskId::from_raw(id.into_string())).collect());
    let run = orchestrator.retry(RetryRequest { plan_id: plan_id.clone(), subtask_ids }).await.map_err(failure)?;
    shown_live(agent, connection, &request.session_id, plan_id, run).await
}

pub(super) async fn complete(
    agent: &AcpAgent,
    request: CompleteStepRequest,
    _connection: ConnectionTo<Client>,
) -> Result<ExtResult, agent_client_protocol::Error> {
    let orchestrator = agent.started()?;
    let plan_id = current_plan(agent, &request.session_id)?;
    let step = SubtaskId::from_raw(request.step.into_string());
    let completion = Completion {
        subtask_id: step.clone(),
        done: request.ok.unwrap_or(true),
        note: request.result.map(String::from),
    };
    let plan = orchestrator.complete(CompleteRequest { plan_id, completion }).await.map_err(failure)?;
    let status = plan.subtask(&step).map_or("", |subtask| subtask.status.as_str());
    Ok(ExtResult(
        json!({ "planId": plan.id.as_str(), "status": plan.status.as_str(), "step": { "id": step.as_str(), "status": status } }),
    ))
}

/// Updates to `session` with no prompt to answer.
fn turn(connection: ConnectionTo<Client>, session: &str, agent: &AcpAgent) -> session::Turn {
    let cancelled = agent.session(session).map(|state| state.cancelled).unwrap_or_default();
    session::Turn { connection, session: session.to_owned(), responder: None, cancelled }
}
