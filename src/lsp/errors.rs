//! The one mapping from domain failures to JSON-RPC errors, and the params parser that names the
//! offending field.
//!
//! - `-32602` invalid params: malformed input; the message is `path: message`.
//! - `-32803` request failed: a domain refusal, with a machine-readable `data.kind`
//!   (`planNotFound`, `sessionNotFound`, `invalidState`, `validation`, `llm`, `storage`); the
//!   `data` shapes are `crate::wire::ErrorData`.
//! - `-32801` content modified: `planning/update` with a stale version.
//! - `-32601` method not found: a method the protocol defines but this server does not serve yet.
//! - `-32603` internal error: a handler panicked or the orchestrator stopped.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

use crate::model::validate::{Problem, ProblemKind};
use crate::orchestrator::OrchestratorError;
use crate::wire::{ErrorData, convert};

/// LSP `RequestFailed`.
pub const REQUEST_FAILED: i64 = -32803;

fn error(code: ErrorCode, message: String, data: Option<Value>) -> Error {
    Error { code, message: message.into(), data }
}

fn request_failed(message: String, data: ErrorData) -> Error {
    error(ErrorCode::ServerError(REQUEST_FAILED), message, Some(data.to_value()))
}

/// `-32602` for one problem with a named field.
pub fn invalid_params(problem: &Problem) -> Error {
    error(ErrorCode::InvalidParams, problem.to_string(), None)
}

/// Maps every orchestrator failure to its JSON-RPC error.
pub fn orchestrator_error_to_jsonrpc(failure: OrchestratorError) -> Error {
    match failure {
        OrchestratorError::InvalidParams(problem) => invalid_params(&problem),
        OrchestratorError::Validation(problems) => {
            let any_field_problem = problems.0.iter().any(|problem| problem.kind == ProblemKind::Field);
            let code =
                if any_field_problem { ErrorCode::InvalidParams } else { ErrorCode::ServerError(REQUEST_FAILED) };
            error(code, problems.to_string(), Some(ErrorData::Validation { errors: problems.messages() }.to_value()))
        }
        OrchestratorError::PlanNotFound(plan_id) => request_failed(
            format!("plan {plan_id} not found"),
            ErrorData::PlanNotFound { plan_id: plan_id.into_string() },
        ),
        OrchestratorError::SessionNotFound(session_id) => request_failed(
            format!("session {session_id} not found"),
            ErrorData::SessionNotFound { session_id: session_id.into_string() },
        ),
        OrchestratorError::InvalidState { message, status, allowed } => request_failed(
            message,
            ErrorData::InvalidState { status: status.into(), allowed: convert::allowed_actions_to_wire(&allowed) },
        ),
        OrchestratorError::StaleVersion { plan, expected, actual } => error(
            ErrorCode::ContentModified,
            format!("plan {plan} is at version {actual}, not {expected}"),
            Some(ErrorData::StaleVersion { expected, actual }.to_value()),
        ),
        OrchestratorError::PlanningCancelled => error(ErrorCode::RequestCancelled, failure.to_string(), None),
        OrchestratorError::Llm(message) => request_failed(format!("language model: {message}"), ErrorData::Llm {}),
        OrchestratorError::Storage(cause) => request_failed(cause.to_string(), ErrorData::Storage {}),
        OrchestratorError::Stopped | OrchestratorError::Internal(_) => {
            error(ErrorCode::InternalError, failure.to_string(), None)
        }
    }
}

/// `-32601` for a method the protocol defines whose behaviour has not landed yet.
pub fn method_not_served(method: &str) -> Error {
    error(ErrorCode::MethodNotFound, format!("{method} is not served yet"), None)
}

/// `-32603` for a handler that panicked.
pub fn handler_panicked(method: &str) -> Error {
    error(ErrorCode::InternalError, format!("internal error while handling {method}"), None)
}

/// `-32803 llm`: more requests that wait for a model are in flight than the server runs at once
/// (refused at once rather than queued, so they never hold the transport).
pub fn too_many_slow_requests(method: &str, limit: usize) -> Error {
    request_failed(
        format!("{method}: {limit} requests that wait for a model are already in flight; try again when one ends"),
        ErrorData::Llm {},
    )
}

/// `-32803 storage` for an orchestrator that could not start (the database did not open).
pub fn orchestrator_unavailable(cause: &str) -> Error {
    request_failed(format!("the planner is not available: {cause}"), ErrorData::Storage {})
}

/// Deserialises params, naming the offending field in the `-32602` message:
/// `subtasks[1].timeoutSecs: invalid type: string "x", expected i64`. Unknown names and texts
/// longer than their bound are refused here too: the wire types check them (`crate::wire::bounds`).
pub fn parse_params<T: DeserializeOwned>(params: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize::<_, T>(params).map_err(|failure| {
        let path = failure.path().to_string();
        let inner = quote_prefix(&strip_position(&failure.inner().to_string()), MAX_QUOTED_CHARS);
        let message = if path == "." || path.is_empty() { inner } else { format!("{path}: {inner}") };
        error(ErrorCode::InvalidParams, message, None)
    })
}

/// Most characters of a message built from input (the rest is cut with `…`).
const MAX_QUOTED_CHARS: usize = 300;

/// `text` cut to `limit` characters, with `…` when cut.
pub fn quote_prefix(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// serde_json appends ` at line 1 column 5` even for values; it means nothing to the client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lsp::ext;
    use crate::model::validate::ValidationErrors;
    use crate::model::{PlanId, PlanStatus};

    fn field(path: &str, message: &str) -> Problem {
        Problem { kind: ProblemKind::Field, path: path.into(), message: message.into() }
    }

    #[test]
    fn serde_errors_name_the_field() {
        let failure = parse_params::<ext::CreatePlanParams>(json!({
            "task": "x",
            "subtasks": [{"title": "a", "agent": "shell"}, {"title": "b", "agent": "shell", "timeoutSecs": "soon"}]
        }))
        .unwrap_err();
        assert_eq!(failure.code, ErrorCode::InvalidParams);
        assert!(
            failure.message.starts_with("subtasks[1].timeoutSecs: invalid type: string \"soon\""),
            "{}",
            failure.message
        );

        let missing = parse_params::<ext::CreatePlanParams>(json!({"title": "x"})).unwrap_err();
        assert_eq!(missing.message, "missing field `task`");
        let wrong_type = parse_params::<ext::PlanIdParams>(json!({"planId": 7})).unwrap_err();
        assert!(wrong_type.message.starts_with("planId: invalid type: integer `7`"), "{}", wrong_type.message);
    }

    #[test]
    fn unknown_names_and_long_texts_are_refused_by_their_path() {
        let status = parse_params::<ext::ListPlansParams>(json!({"status": "foo"})).unwrap_err();
        assert!(
            status.message.starts_with("status: unknown plan status \"foo\" (expected \"draft\""),
            "{}",
            status.message
        );
        let agent = parse_params::<ext::CreatePlanParams>(json!({
            "task": "x", "subtasks": [{"title": "a", "agent": "shell"}, {"title": "b", "agent": "architect"}]
        }))
        .unwrap_err();
        assert!(agent.message.starts_with("subtasks[1].agent: unknown agent \"architect\""), "{}", agent.message);
        let huge = "r".repeat(10 * 1024 * 1024);
        let result =
            parse_params::<ext::CompleteSubtaskParams>(json!({"planId": "p", "subtaskId": "s", "result": huge}))
                .unwrap_err();
        assert_eq!(result.message, "result: too long (10485760 characters, at most 65536)");
    }

    #[test]
    fn validation_with_a_field_problem_is_invalid_params() {
        let problems = ValidationErrors(vec![
            field("subtasks[1].dependsOn[0]", "unknown subtask \"build\""),
            field("subtasks[2].title", "must not be empty"),
        ]);
        let failure = orchestrator_error_to_jsonrpc(OrchestratorError::Validation(problems));
        assert_eq!(failure.code, ErrorCode::InvalidParams);
        assert_eq!(failure.message, "subtasks[1].dependsOn[0]: unknown subtask \"build\" (and 1 more)");
        let data = failure.data.unwrap();
        assert_eq!(data["kind"], "validation");
        assert_eq!(data["errors"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_cycle_alone_is_request_failed() {
        let cycle = Problem { kind: ProblemKind::Graph, path: "subtasks".into(), message: "cycle a -> b -> a".into() };
        let failure = orchestrator_error_to_jsonrpc(OrchestratorError::Validation(ValidationErrors(vec![cycle])));
        assert_eq!(failure.code.code(), REQUEST_FAILED);
        assert_eq!(failure.data.unwrap()["errors"][0], "subtasks: cycle a -> b -> a");
    }

    #[test]
    fn domain_refusals_carry_their_kind() {
        let state = orchestrator_error_to_jsonrpc(OrchestratorError::InvalidState {
            message: "cannot execute a plan that is draft".into(),
            status: PlanStatus::Draft,
            allowed: vec!["approve", "reject"],
        });
        assert_eq!(state.code.code(), REQUEST_FAILED);
        assert_eq!(
            state.data.unwrap(),
            json!({"kind": "invalidState", "status": "draft", "allowed": ["approve", "reject"]})
        );

        let stale = orchestrator_error_to_jsonrpc(OrchestratorError::StaleVersion {
            plan: PlanId::from_raw("p"),
            expected: 1,
            actual: 2,
        });
        assert_eq!(stale.code, ErrorCode::ContentModified);
        assert_eq!(stale.data.unwrap()["kind"], "staleVersion");

        let missing = orchestrator_error_to_jsonrpc(OrchestratorError::PlanNotFound(PlanId::from_raw("nope")));
        assert_eq!((missing.code.code(), missing.message.as_ref()), (REQUEST_FAILED, "plan nope not found"));
        assert_eq!(missing.data.unwrap()["kind"], "planNotFound");

        let params = orchestrator_error_to_jsonrpc(OrchestratorError::InvalidParams(field("task", "too long")));
        assert_eq!((params.code, params.message.as_ref()), (ErrorCode::InvalidParams, "task: too long"));
        assert_eq!(
            orchestrator_error_to_jsonrpc(OrchestratorError::Llm("timeout".into())).data.unwrap()["kind"],
            "llm"
        );
    }
}
