//! Conversions between wire types (`crate::wire`) and domain types (`crate::model`,
//! `crate::orchestrator`, `crate::store`, `crate::engine`). The only place that does so; the
//! closed sets map in [`names`].
//!
//! Wire → domain conversions check what the wire can get wrong and the types did not already
//! refuse (negative numbers, limits, malformed ids, fields not served yet) and return a
//! [`Problem`] naming the field. Unknown names and oversized texts never get here: the wire types
//! refuse them while the params deserialise. Content rules (titles, subtask graphs) are the
//! orchestrator's and `model::validate`'s.

mod names;
mod record;

pub use record::*;

use crate::engine::{Completion, RunEvent, RunEventKind};
use crate::model::validate::{Problem, ProblemKind, SubtaskDraft};
use crate::model::{self, PlanId, PlanStatus, SessionId, SubtaskId, Timestamp};
use crate::orchestrator::{
    CancelOutcome, CompleteRequest, CreateRequest, ExecuteRequest, ListRequest, MAX_LIST_LIMIT, NextOutcome,
    OmittedFields, RetryRequest, SessionView, StatusView, TaskContext, UpdateRequest,
};
use crate::store::{PlanPage, PlanSummary, PlanVersion};

use crate::wire as ext;

fn field_problem(path: &str, message: impl Into<String>) -> Problem {
    Problem { kind: ProblemKind::Field, path: path.to_owned(), message: message.into() }
}

fn time(timestamp: Timestamp) -> String {
    timestamp.to_rfc3339()
}

fn optional_time(timestamp: Option<Timestamp>) -> Option<String> {
    timestamp.map(time)
}

// ---------------------------------------------------------------------------------------------
// Domain → wire

/// `planning/next`'s result (also `codelab-planner next --json`): the ready steps and their claims.
pub fn next_outcome_to_wire(outcome: &NextOutcome) -> ext::NextResult {
    ext::NextResult {
        plan_id: outcome.plan_id.as_ref().map(ToString::to_string),
        ready: outcome.ready.iter().map(|step| subtask_to_wire(&step.subtask)).collect(),
        claims: outcome
            .ready
            .iter()
            .filter_map(|step| step.claim.as_ref())
            .map(|claim| ext::StepClaim {
                subtask_id: claim.subtask_id.to_string(),
                claimant: claim.claimant.clone(),
                claimed_at: time(claim.claimed_at),
                expires_at: time(claim.expires_at),
            })
            .collect(),
    }
}

pub fn classification_to_wire(classification: &model::Classification) -> ext::Classification {
    ext::Classification {
        is_atomic: classification.is_atomic(),
        agent: classification.agent().into(),
        confidence: classification.confidence.into(),
        reason: classification.reason.clone(),
        method: classification.method.into(),
    }
}

pub fn progress_to_wire(progress: model::Progress) -> ext::Progress {
    ext::Progress {
        total: progress.total,
        pending: progress.pending,
        running: progress.running,
        done: progress.done,
        failed: progress.failed,
        skipped: progress.skipped,
        cancelled: progress.cancelled,
        waiting: progress.waiting,
        percentage: progress.percentage(),
    }
}

pub fn subtask_to_wire(subtask: &model::Subtask) -> ext::Subtask {
    ext::Subtask {
        id: subtask.id.to_string(),
        title: subtask.title.clone(),
        description: subtask.description.clone(),
        agent: subtask.agent.into(),
        command: subtask.command.clone(),
        cwd: subtask.cwd.clone(),
        depends_on: subtask.depends_on.iter().map(ToString::to_string).collect(),
        status: subtask.status.into(),
        attempts: subtask.attempts,
        max_attempts: subtask.max_attempts,
        timeout_secs: subtask.timeout_secs,
        estimate_secs: subtask.estimate_secs,
        result: subtask.result.clone(),
        error: subtask.error.clone(),
        started_at: optional_time(subtask.started_at),
        finished_at: optional_time(subtask.finished_at),
        usage: usage_to_wire(subtask.usage),
        role: subtask.is_baseline().then_some(ext::SubtaskRole::Baseline),
        changes: subtask.changes.map(change_summary_to_wire),
        pending_approval: subtask.pending_approval.as_ref().map(pending_approval_to_wire),
    }
}

pub fn plan_to_wire(plan: &model::Plan) -> ext::Plan {
    ext::Plan {
        id: plan.id.to_string(),
        session_id: plan.session_id.to_string(),
        title: plan.title.clone(),
        goal: plan.goal.clone(),
        status: plan.status.into(),
        version: plan.version,
        classification: plan.classification.as_ref().map(classification_to_wire),
        subtasks: plan.subtasks.iter().map(subtask_to_wire).collect(),
        progress: progress_to_wire(plan.progress()),
        created_at: time(plan.created_at),
        updated_at: time(plan.updated_at),
        approved_at: optional_time(plan.approved_at),
        started_at: optional_time(plan.started_at),
        finished_at: optional_time(plan.finished_at),
        error: plan.error.clone(),
        run_id: plan.run_id.as_ref().map(ToString::to_string),
        feedback: plan.feedback.clone(),
        source_file: plan.source_file.clone(),
        planner: Some(plan.planner.into()),
        planner_note: plan.planner_note.clone(),
        usage: usage_to_wire(plan.usage()),
        summary: plan.check_summary(),
    }
}

/// `None` when no call was made.
pub fn usage_to_wire(usage: crate::llm::Usage) -> Option<ext::Usage> {
    (usage.calls > 0).then_some(ext::Usage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        calls: usage.calls,
    })
}

/// A streamed subtask as the client would write it; `None` while its agent is not one the
/// server knows (the model may still be writing it; validation reports it at the end).
pub fn subtask_draft_to_input(draft: &SubtaskDraft) -> Option<ext::SubtaskInput> {
    let agent = model::AgentKind::parse(&draft.agent)?;
    fn given<const MAX: usize>(text: &Option<String>) -> Option<Option<ext::Text<MAX>>> {
        text.clone().map(|text| Some(text.into()))
    }
    Some(ext::SubtaskInput {
        id: draft.id.clone().map(Into::into),
        description: given(&draft.description),
        command: given(&draft.command),
        cwd: given(&draft.cwd),
        depends_on: (!draft.depends_on.is_empty())
            .then(|| Some(draft.depends_on.iter().map(|id| id.as_str().into()).collect())),
        timeout_secs: draft.timeout_secs.map(Some),
        max_attempts: draft.max_attempts.map(Some),
        estimate_secs: draft.estimate_secs.map(Some),
        role: draft.role.as_deref().and_then(ext::SubtaskRole::parse).map(Some),
        ..ext::SubtaskInput::new(draft.title.as_str(), agent.into())
    })
}

pub fn plan_summary_to_wire(summary: &PlanSummary) -> ext::PlanSummary {
    ext::PlanSummary {
        id: summary.id.to_string(),
        session_id: summary.session_id.to_string(),
        title: summary.title.clone(),
        status: summary.status.into(),
        progress: progress_to_wire(summary.progress),
        created_at: time(summary.created_at),
        updated_at: time(summary.updated_at),
    }
}

pub fn plan_page_to_wire(page: &PlanPage) -> ext::ListPlansResult {
    ext::ListPlansResult {
        plans: page.plans.iter().map(plan_summary_to_wire).collect(),
        next_cursor: page.next_cursor.clone(),
    }
}

pub fn session_to_wire(session: &SessionView) -> ext::Session {
    ext::Session { id: session.id.to_string(), state: session.state.into() }
}

pub fn plan_version_to_wire(version: &PlanVersion) -> ext::PlanVersion {
    ext::PlanVersion {
        version: version.version,
        title: version.title.clone(),
        subtasks: version.subtasks.iter().map(subtask_to_wire).collect(),
        created_at: time(version.created_at),
        reason: version.reason.clone(),
    }
}

pub fn status_to_wire(status: &StatusView) -> ext::PlanStatusResult {
    ext::PlanStatusResult {
        plan_id: status.plan_id.to_string(),
        status: status.status.into(),
        progress: progress_to_wire(status.progress),
        running: status.running.iter().map(ToString::to_string).collect(),
        run_id: status.run_id.as_ref().map(ToString::to_string),
        started_at: optional_time(status.started_at),
        elapsed_ms: status.elapsed_ms,
    }
}

pub fn cancel_outcome_to_wire(outcome: &CancelOutcome) -> ext::CancelPlanResult {
    ext::CancelPlanResult {
        plan_id: outcome.plan_id.to_string(),
        cancelled: outcome.cancelled,
        status: outcome.status.into(),
    }
}

pub fn run_started_to_wire(plan_id: &PlanId, run_id: &model::RunId) -> ext::RunStartedResult {
    ext::RunStartedResult {
        plan_id: plan_id.to_string(),
        run_id: run_id.to_string(),
        status: PlanStatus::Running.into(),
    }
}

/// `invalidState`'s `allowed`, as wire actions.
pub fn allowed_actions_to_wire(allowed: &[&str]) -> Vec<ext::PlanAction> {
    allowed.iter().filter_map(|action| ext::PlanAction::parse(action)).collect()
}

/// Output text as wire lines: one per line of `text`, without its terminator (`\n`, `\r\n`);
/// a text with no line break is one line (an empty text, one empty line).
pub fn output_lines(text: &str) -> impl Iterator<Item = &str> {
    let lines = if text.is_empty() { None } else { Some(text.split_terminator('\n')) };
    lines.into_iter().flatten().chain(text.is_empty().then_some("")).map(|line| line.strip_suffix('\r').unwrap_or(line))
}

/// A run event as `planning/progress` notifications' params: one, except that output of several
/// lines (merged while the client read slowly) is one notification per line; none for a notice
/// that is not a run event on the wire (`StorageRetrying` goes to `window/showMessage`).
pub fn run_event_to_wire(event: &RunEvent) -> Vec<ext::PlanningProgressParams> {
    let params = |wire_event| ext::PlanningProgressParams {
        plan_id: event.plan_id.to_string(),
        run_id: event.run_id.to_string(),
        event: wire_event,
    };
    let wire_event = match &event.kind {
        RunEventKind::PlanStarted { title, total } => {
            ext::RunEvent::PlanStarted { title: title.clone(), total: *total }
        }
        RunEventKind::SubtaskStarted { subtask_id, title, attempt } => ext::RunEvent::SubtaskStarted {
            subtask_id: subtask_id.to_string(),
            attempt: *attempt,
            title: title.clone(),
        },
        RunEventKind::SubtaskOutput { subtask_id, text } => {
            return output_lines(text)
                .map(|line| {
                    params(ext::RunEvent::SubtaskOutput { subtask_id: subtask_id.to_string(), text: line.to_owned() })
                })
                .collect();
        }
        RunEventKind::SubtaskRetrying { subtask_id, attempt, delay_ms, error } => ext::RunEvent::SubtaskRetrying {
            subtask_id: subtask_id.to_string(),
            attempt: *attempt,
            delay_ms: *delay_ms,
            error: error.clone(),
        },
        RunEventKind::SubtaskWaiting { subtask_id, message, instructions, .. } => ext::RunEvent::SubtaskWaiting {
            subtask_id: subtask_id.to_string(),
            message: message.clone(),
            instructions: Some(instructions.clone()),
        },
        RunEventKind::SubtaskFinished { subtask_id, status, result, error, duration_ms, .. } => {
            ext::RunEvent::SubtaskFinished {
                subtask_id: subtask_id.to_string(),
                status: (*status).into(),
                result: result.clone(),
                error: error.clone(),
                duration_ms: *duration_ms,
            }
        }
        RunEventKind::AgentActivity { subtask_id, activity } => ext::RunEvent::AgentActivity {
            subtask_id: subtask_id.to_string(),
            phase: activity.phase.into(),
            tool: activity.tool.clone(),
            tool_kind: activity.kind.map(Into::into),
            target: activity.target.clone(),
            tokens: activity.tokens,
        },
        RunEventKind::ApprovalRequested { subtask_id, approval } => ext::RunEvent::ApprovalRequested {
            subtask_id: subtask_id.to_string(),
            approval: pending_approval_to_wire(approval),
        },
        RunEventKind::ApprovalAnswered { subtask_id, request_id, answer, by } => ext::RunEvent::ApprovalAnswered {
            subtask_id: subtask_id.to_string(),
            request_id: request_id.clone(),
            option: answer_to_wire(*answer),
            by: by.clone(),
        },
        RunEventKind::PlanFinished { status, duration_ms, usage, summary } => ext::RunEvent::PlanFinished {
            status: (*status).into(),
            progress: progress_to_wire(event.progress),
            duration_ms: *duration_ms,
            usage: usage_to_wire(*usage),
            summary: summary.clone(),
        },
        RunEventKind::StorageRetrying { .. } => return Vec::new(),
    };
    vec![params(wire_event)]
}

// ---------------------------------------------------------------------------------------------
// Wire → domain

pub fn complete_params_to_request(params: ext::CompleteSubtaskParams) -> Result<CompleteRequest, Problem> {
    let done = params.status.is_none_or(|status| status == ext::CompletionStatus::Done);
    if params.subtask_id.trim().is_empty() {
        return Err(field_problem("subtaskId", "must not be empty"));
    }
    let completion =
        Completion { subtask_id: SubtaskId::from_raw(params.subtask_id), done, note: params.result.map(String::from) };
    Ok(CompleteRequest { plan_id: PlanId::from_raw(params.plan_id), completion })
}

/// A subtask input as a draft (an absent and a `null` field are both `None` here; see
/// [`omitted_fields`]). `path` names it in problems: `subtasks[2]`.
pub fn subtask_input_to_draft(input: &ext::SubtaskInput, _path: &str) -> Result<SubtaskDraft, Problem> {
    Ok(SubtaskDraft {
        id: input.id.clone().map(String::from),
        title: input.title.to_string(),
        description: input.description.clone().flatten().map(String::from),
        agent: input.agent.as_str().to_owned(),
        command: input.command.clone().flatten().map(String::from),
        cwd: input.cwd.clone().flatten().map(String::from),
        depends_on: input
            .depends_on
            .clone()
            .flatten()
            .map_or_else(Vec::new, |ids| ids.into_vec().into_iter().map(String::from).collect()),
        timeout_secs: input.timeout_secs.flatten(),
        max_attempts: input.max_attempts.flatten(),
        estimate_secs: input.estimate_secs.flatten(),
        role: input.role.flatten().map(|role| role.as_str().to_owned()),
    })
}

/// The optional fields `input` leaves out (absent, not `null`).
pub fn omitted_fields(input: &ext::SubtaskInput) -> OmittedFields {
    OmittedFields {
        description: input.description.is_none(),
        command: input.command.is_none(),
        cwd: input.cwd.is_none(),
        depends_on: input.depends_on.is_none(),
        timeout_secs: input.timeout_secs.is_none(),
        max_attempts: input.max_attempts.is_none(),
        estimate_secs: input.estimate_secs.is_none(),
        role: input.role.is_none(),
    }
}

fn subtask_inputs_to_drafts(inputs: &[ext::SubtaskInput]) -> Result<Vec<SubtaskDraft>, Problem> {
    inputs
        .iter()
        .enumerate()
        .map(|(index, input)| subtask_input_to_draft(input, &format!("subtasks[{index}]")))
        .collect()
}

pub fn create_params_to_request(params: ext::CreatePlanParams) -> Result<CreateRequest, Problem> {
    let context = params.context.unwrap_or_default();
    Ok(CreateRequest {
        task: params.task.into(),
        session_id: params.session_id.map(SessionId::from_raw),
        title: params.title.map(String::from),
        mode: params.mode.map(Into::into).unwrap_or_default(),
        subtasks: params.subtasks.as_deref().map(subtask_inputs_to_drafts).transpose()?,
        context: TaskContext {
            notes: context.notes.map(String::from),
            files: context.files.into_vec().into_iter().map(String::from).collect(),
        },
        source_file: None,
    })
}

/// A positive integer parameter, or a problem naming the field with the value given.
fn positive_integer(value: i64, path: &str) -> Result<u64, Problem> {
    if value >= 1 {
        Ok(value.unsigned_abs())
    } else {
        Err(field_problem(path, format!("expected a positive integer, got {value}")))
    }
}

pub fn list_params_to_request(params: ext::ListPlansParams) -> Result<ListRequest, Problem> {
    let limit = match params.limit {
        None => None,
        Some(limit) => {
            let limit = positive_integer(limit, "limit")?;
            if usize::try_from(limit).map_or(true, |limit| limit > MAX_LIST_LIMIT) {
                return Err(field_problem("limit", format!("at most {MAX_LIST_LIMIT}, got {limit}")));
            }
            Some(usize::try_from(limit).unwrap_or(usize::MAX))
        }
    };
    Ok(ListRequest {
        session_id: params.session_id.map(SessionId::from_raw),
        status: params.status.map(Into::into),
        limit,
        cursor: params.cursor.map(String::from),
    })
}

/// `planning/update`: a subtask that keeps its id keeps every stored field it leaves out
/// ([`OmittedFields`]; the orchestrator fills them in from the stored plan).
pub fn update_params_to_request(params: ext::UpdatePlanParams) -> Result<UpdateRequest, Problem> {
    let version = positive_integer(params.version, "version")?;
    let inputs = params.subtasks.as_deref();
    Ok(UpdateRequest {
        plan_id: Some(PlanId::from_raw(params.plan_id)),
        version,
        title: params.title.map(String::from),
        subtasks: inputs.map(subtask_inputs_to_drafts).transpose()?,
        omitted: inputs.map_or_else(Vec::new, |inputs| inputs.iter().map(omitted_fields).collect()),
    })
}

pub fn execute_params_to_request(params: &ext::ExecutePlanParams) -> Result<ExecuteRequest, Problem> {
    let max_parallel = params
        .max_parallel
        .map(|value| positive_integer(value, "maxParallel").map(|value| usize::try_from(value).unwrap_or(usize::MAX)))
        .transpose()?;
    Ok(ExecuteRequest {
        plan_id: PlanId::from_raw(params.plan_id.clone()),
        max_parallel,
        failure_policy: params.failure_policy.map(Into::into),
    })
}

pub fn retry_params_to_request(params: &ext::RetryPlanParams) -> Result<RetryRequest, Problem> {
    let subtask_ids =
        params.subtask_ids.as_ref().map(|ids| ids.iter().map(|id| SubtaskId::from_raw(id.clone())).collect());
    if let Some(ids) = &params.subtask_ids {
        if let Some(index) = ids.iter().position(|id| !model::validate::is_valid_subtask_id(id)) {
            return Err(field_problem(
                &format!("subtaskIds[{index}]"),
                format!("invalid subtask id \"{}\"", ids[index].chars().take(80).collect::<String>()),
            ));
        }
    }
    Ok(RetryRequest { plan_id: PlanId::from_raw(params.plan_id.clone()), subtask_ids })
}

#[cfg(test)]
mod tests;
