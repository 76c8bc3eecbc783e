//! `workspace/executeCommand`: every action a person takes, for editors that can send no custom
//! request (Helix, Kakoune, Zed, Sublime, eglot without a plugin); and `planning/export`.
//!
//! Most commands are the matching `planning/*` request with its params taken from the
//! arguments: the first argument is a plan id string or the request's params object; without
//! it the command acts on the newest plan it applies to (so `:lsp-workspace-command
//! codelab-planner.approve` works in Helix). `runFile` stores the plan file as a plan (with the
//! file's path), approves and executes it; runs started by `runFile`, `execute` and `retry` make
//! the server ask the client to refresh code lenses as they progress. `complete` takes a plan id
//! and a subtask id (there is no newest plan to guess a step from).

use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, ProgressToken, Uri};

use super::{plans, review, runs};
use crate::engine::RunEventKind;
use crate::engine::events::{DEFAULT_OUTPUT_EVENT_CAP, event_queue};
use crate::lsp::errors::{invalid_params, orchestrator_error_to_jsonrpc};
use crate::lsp::ext::{self, command};
use crate::lsp::progress::spawn_run_forwarding;
use crate::lsp::server::PlannerServer;
use crate::model::validate::{Problem, ProblemKind, ValidationErrors};
use crate::model::{PlanId, PlanStatus};
use crate::orchestrator::{ExecuteRequest, ListRequest, OrchestratorError, RunStarted};
use crate::planfile::{self, line_and_column};
use crate::wire::convert;

pub async fn handle_execute_command(server: &PlannerServer, params: ExecuteCommandParams) -> Result<Option<Value>> {
    let arguments = params.arguments;
    let value = match params.command.as_str() {
        command::RUN_FILE => to_value(run_file(server, &arguments).await?),
        command::NEW_TASK => to_value(plans::handle_plan_create(server, task_params(&arguments)?).await?),
        command::EXECUTE => {
            let params = plan_params(server, &arguments, &[PlanStatus::Approved, PlanStatus::Draft]).await?;
            to_value(execute(server, params).await?)
        }
        command::APPROVE => {
            let params = plan_params(server, &arguments, &[PlanStatus::Draft]).await?;
            to_value(review::handle_plan_approve(server, params).await?)
        }
        command::REJECT => {
            let params = plan_params(server, &arguments, &[PlanStatus::Draft]).await?;
            to_value(review::handle_plan_reject(server, params).await?)
        }
        command::REVISE => {
            let params = plan_params(server, &arguments, &[PlanStatus::Draft]).await?;
            to_value(review::handle_plan_revise(server, params).await?)
        }
        command::CANCEL => {
            let params = plan_params(server, &arguments, &[PlanStatus::Running]).await?;
            to_value(runs::handle_plan_cancel(server, params).await?)
        }
        command::RETRY => {
            let retryable = [PlanStatus::Failed, PlanStatus::Cancelled, PlanStatus::Interrupted];
            let params = plan_params(server, &arguments, &retryable).await?;
            to_value(retry(server, params).await?)
        }
        command::STATUS => {
            to_value(runs::handle_plan_status(server, plan_params(server, &arguments, &[]).await?).await?)
        }
        command::EXPORT => to_value(handle_plan_export(server, plan_params(server, &arguments, &[]).await?).await?),
        command::COMPLETE => to_value(runs::handle_subtask_complete(server, complete_params(&arguments)?).await?),
        other => {
            return Err(Error::invalid_params(format!(
                "command: unknown command \"{other}\" (known: {})",
                ext::ALL_COMMANDS.join(", ")
            )));
        }
    };
    Ok(Some(value))
}

pub async fn handle_plan_export(server: &PlannerServer, params: Value) -> Result<ext::ExportPlanResult> {
    server
        .serve_request::<ext::ExportPlan, _, _>(params, |params| async move {
            let orchestrator = server.orchestrator().await?;
            let plan =
                orchestrator.get(PlanId::from_raw(params.plan_id)).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::ExportPlanResult { text: planfile::export_plan(&plan) })
        })
        .await
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `[task]` or `[CreatePlanParams]`.
fn task_params(arguments: &[Value]) -> Result<Value> {
    match arguments.first() {
        Some(Value::String(task)) => Ok(json!({ "task": task })),
        Some(object @ Value::Object(_)) => Ok(object.clone()),
        _ => Err(Error::invalid_params("arguments[0]: the task is required (a string or { task })")),
    }
}

/// `[planId, subtaskId, status?, result?]` or `[CompleteSubtaskParams]`.
fn complete_params(arguments: &[Value]) -> Result<Value> {
    match arguments {
        [object @ Value::Object(_)] => Ok(object.clone()),
        [Value::String(plan_id), Value::String(subtask_id), rest @ ..] => {
            let mut params = json!({ "planId": plan_id, "subtaskId": subtask_id });
            if let Some(status) = rest.first().filter(|status| !status.is_null()) {
                params["status"] = status.clone();
            }
            if let Some(result) = rest.get(1).filter(|result| !result.is_null()) {
                params["result"] = result.clone();
            }
            Ok(params)
        }
        _ => Err(Error::invalid_params(
            "arguments: a plan id and a subtask id (then \"done\" or \"failed\" and a result), or { planId, subtaskId }",
        )),
    }
}

/// `[planId, feedback?]`, `[{ planId, ... }]`, or nothing: the newest plan whose status is one of
/// `statuses` (any status when empty).
async fn plan_params(server: &PlannerServer, arguments: &[Value], statuses: &[PlanStatus]) -> Result<Value> {
    let mut params = match arguments.first() {
        Some(Value::String(plan_id)) => json!({ "planId": plan_id }),
        Some(object @ Value::Object(_)) => return Ok(object.clone()),
        None | Some(Value::Null) => json!({ "planId": newest_plan(server, statuses).await?.as_str() }),
        Some(_) => return Err(Error::invalid_params("arguments[0]: a plan id or a params object")),
    };
    if let Some(Value::String(feedback)) = arguments.get(1) {
        params["feedback"] = json!(feedback);
    }
    Ok(params)
}

async fn newest_plan(server: &PlannerServer, statuses: &[PlanStatus]) -> Result<PlanId> {
    let orchestrator = server.orchestrator().await?;
    let page = orchestrator
        .list(ListRequest { limit: Some(crate::orchestrator::MAX_LIST_LIMIT), ..ListRequest::default() })
        .await
        .map_err(orchestrator_error_to_jsonrpc)?;
    let found = page.plans.into_iter().find(|plan| statuses.is_empty() || statuses.contains(&plan.status));
    found.map(|plan| plan.id).ok_or_else(|| {
        let wanted: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
        Error::invalid_params(format!("arguments[0]: no plan id given and no plan is {}", wanted.join(" or ")))
    })
}

/// `[uri, subtaskId?]`: runs the plan file (the open text, else the file on disk).
async fn run_file(server: &PlannerServer, arguments: &[Value]) -> Result<ext::RunStartedResult> {
    let Some(uri) = arguments.first().and_then(Value::as_str).and_then(|text| text.parse::<Uri>().ok()) else {
        return Err(Error::invalid_params("arguments[0]: the plan file's uri is required"));
    };
    let from = arguments.get(1).and_then(Value::as_str);
    let path = uri.to_file_path().map(|path| path.into_owned());
    let Some(path) = path else { return Err(Error::invalid_params("arguments[0]: not a file uri")) };
    let text = match server.shared.documents.get(&uri) {
        Some(document) => String::clone(&document.text),
        None => {
            let reading = path.clone();
            tokio::task::spawn_blocking(move || std::fs::read_to_string(reading))
                .await
                .map_err(|_| Error::internal_error())?
                .map_err(|cause| {
                    Error::invalid_params(format!("arguments[0]: cannot read {}: {cause}", path.display()))
                })?
        }
    };
    let checked = planfile::check(&text);
    if checked.has_errors() {
        let problems = checked.problems.iter().map(|problem| {
            let (line, column) = line_and_column(&text, problem.span.start);
            let path = format!("{}:{line}:{column}", path.display());
            Problem { kind: ProblemKind::Field, path, message: problem.message.clone() }
        });
        return Err(orchestrator_error_to_jsonrpc(OrchestratorError::Validation(ValidationErrors(problems.collect()))));
    }
    let subtasks = match from {
        Some(id) => Some(
            planfile::run_from(&checked.file, id)
                .ok_or_else(|| Error::invalid_params(format!("arguments[1]: no subtask \"{id}\" in the plan file")))?,
        ),
        None => None,
    };
    let source_file = planfile::source_key(&server.shared.workspace_root(), &path);
    let Some(request) = planfile::create_request(&checked.file, source_file, subtasks) else {
        return Err(Error::invalid_params("arguments[0]: the plan file has no title"));
    };
    let orchestrator = server.orchestrator().await?;
    let created = orchestrator.create(request).await.map_err(orchestrator_error_to_jsonrpc)?;
    if created.plan.status == PlanStatus::Draft {
        orchestrator.approve(created.plan.id.clone()).await.map_err(orchestrator_error_to_jsonrpc)?;
    }
    let execute = ExecuteRequest { plan_id: created.plan.id, max_parallel: None, failure_policy: None };
    let run = orchestrator.execute(execute).await.map_err(orchestrator_error_to_jsonrpc)?;
    Ok(forward(server, run, None))
}

/// `planning/execute`, with code lenses refreshed as the run goes.
async fn execute(server: &PlannerServer, params: Value) -> Result<ext::RunStartedResult> {
    server
        .serve_request::<ext::ExecutePlan, _, _>(params, |params| async move {
            let request = convert::execute_params_to_request(&params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let run = orchestrator.execute(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(forward(server, run, params.work_done_token))
        })
        .await
}

/// `planning/retry`, with code lenses refreshed as the run goes.
async fn retry(server: &PlannerServer, params: Value) -> Result<ext::RunStartedResult> {
    server
        .serve_request::<ext::RetryPlan, _, _>(params, |params| async move {
            let request = convert::retry_params_to_request(&params).map_err(|problem| invalid_params(&problem))?;
            let orchestrator = server.orchestrator().await?;
            let run = orchestrator.retry(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(forward(server, run, params.work_done_token))
        })
        .await
}

/// Starts forwarding a run's events (with lens refreshes when the client takes them).
fn forward(server: &PlannerServer, run: RunStarted, token: Option<ProgressToken>) -> ext::RunStartedResult {
    let result = convert::run_started_to_wire(&run.plan_id, &run.run_id);
    let run = if server.shared.client_supports_code_lens_refresh() {
        with_lens_refresh(server.client.clone(), run)
    } else {
        run
    };
    spawn_run_forwarding(server.client.clone(), server.shared.clone(), run, token);
    result
}

/// Passes a run's events on unchanged and, after each subtask starts or ends and after the
/// run ends, asks the client to refresh code lenses (the store already holds the new status).
fn with_lens_refresh(client: Client, run: RunStarted) -> RunStarted {
    let RunStarted { plan_id, run_id, title, mut events } = run;
    let (sender, receiver) = event_queue(DEFAULT_OUTPUT_EVENT_CAP);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let refresh = !matches!(event.kind, RunEventKind::SubtaskOutput { .. } | RunEventKind::PlanStarted { .. });
            let last = event.kind.is_final();
            sender.send(event);
            if refresh {
                let client = client.clone();
                tokio::spawn(async move {
                    if let Err(failure) = client.code_lens_refresh().await {
                        tracing::debug!("workspace/codeLens/refresh failed: {}", failure.message);
                    }
                });
            }
            if last {
                break;
            }
        }
    });
    RunStarted { plan_id, run_id, title, events: receiver }
}
