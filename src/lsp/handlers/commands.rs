//! `workspace/executeCommand`: every action a person takes, for editors that can send no custom
//! request (Helix, Kakoune, Zed, Sublime, eglot without a plugin); and `planning/export`.
//!
//! Most commands are the matching `planning/*` request with its params taken from the
//! arguments: the first argument is a plan id string or the request's params object; without
//! it the command acts on the newest plan it applies to (so `:lsp-workspace-command
//! codelab-planner.approve` works in Helix). `runFile` is the `run_file` use case on the open text
//! (else the file on disk). `complete` takes a plan id and a subtask id (there is no newest plan to
//! guess a step from). Commands only convert their arguments and present the answer.

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, Uri};

use super::{plans, review, runs};
use crate::lsp::errors::orchestrator_error_to_jsonrpc;
use crate::lsp::ext::{self, command};
use crate::lsp::progress::show_run;
use crate::lsp::server::PlannerServer;
use crate::model::{PlanId, PlanStatus};
use crate::orchestrator::{ImportRequest, PlanFormat, StartOptions};

pub async fn handle_execute_command(server: &PlannerServer, params: ExecuteCommandParams) -> Result<Option<Value>> {
    let arguments = params.arguments;
    let value = match params.command.as_str() {
        command::RUN_FILE => to_value(run_file(server, &arguments).await?),
        command::NEW_TASK => to_value(plans::handle_plan_create(server, task_params(&arguments)?).await?),
        command::EXECUTE => {
            let params = plan_params(server, &arguments, &[PlanStatus::Approved, PlanStatus::Draft]).await?;
            to_value(runs::handle_plan_execute(server, params).await?)
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
            to_value(runs::handle_plan_retry(server, params).await?)
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
            let format = match params.format {
                Some(ext::PlanFileFormat::Md) => PlanFormat::Markdown,
                Some(ext::PlanFileFormat::Toml) | None => PlanFormat::Toml,
            };
            let text = orchestrator
                .export(PlanId::from_raw(params.plan_id), format)
                .await
                .map_err(orchestrator_error_to_jsonrpc)?;
            Ok(ext::ExportPlanResult { text })
        })
        .await
}

/// `planning/import { path }`: the file (the editor's buffer when it is open) as a draft that
/// remembers it.
pub async fn handle_plan_import(server: &PlannerServer, params: Value) -> Result<ext::Plan> {
    server
        .serve_request::<ext::ImportPlan, _, _>(params, |params| async move {
            let path = std::path::PathBuf::from(params.path.to_string());
            let absolute = if path.is_absolute() { path.clone() } else { server.shared.workspace_root().join(&path) };
            let absolute = absolute.canonicalize().unwrap_or(absolute);
            let text = server.shared.documents.get_by_path(&absolute).map(|(_, document)| document.text.to_string());
            let request = ImportRequest { path, text, format: None, from_subtask: None };
            let orchestrator = server.orchestrator().await?;
            let created = orchestrator.import(request).await.map_err(orchestrator_error_to_jsonrpc)?;
            Ok(crate::wire::convert::plan_to_wire(&created.plan))
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
    let found = orchestrator.newest_plan(statuses).await.map_err(orchestrator_error_to_jsonrpc)?;
    found.ok_or_else(|| {
        let wanted: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
        Error::invalid_params(format!("arguments[0]: no plan id given and no plan is {}", wanted.join(" or ")))
    })
}

/// `[uri, subtaskId?]`: runs the plan file (the open text, else the file on disk), from
/// `subtaskId` and what depends on it when given.
async fn run_file(server: &PlannerServer, arguments: &[Value]) -> Result<ext::RunStartedResult> {
    let Some(uri) = arguments.first().and_then(Value::as_str).and_then(|text| text.parse::<Uri>().ok()) else {
        return Err(Error::invalid_params("arguments[0]: the plan file's uri is required"));
    };
    let Some(path) = uri.to_file_path().map(|path| path.into_owned()) else {
        return Err(Error::invalid_params("arguments[0]: not a file uri"));
    };
    let request = ImportRequest {
        path,
        text: server.shared.documents.get(&uri).map(|document| String::clone(&document.text)),
        format: None,
        from_subtask: arguments.get(1).and_then(Value::as_str).map(str::to_owned),
    };
    let orchestrator = server.orchestrator().await?;
    let run = orchestrator.run_file(request, StartOptions::default()).await.map_err(orchestrator_error_to_jsonrpc)?;
    Ok(show_run(server.client.clone(), server.shared.clone(), run, None))
}
