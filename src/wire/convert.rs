//! Conversions between wire types (`crate::wire`) and domain types (`crate::model`,
//! `crate::orchestrator`, `crate::store`, `crate::engine`). The only place that does so.
//!
//! Wire → domain conversions check what the wire can get wrong before the orchestrator sees it
//! (unknown enum names, negative numbers, limits) and return a [`Problem`] naming the field.
//! Content rules (titles, subtask graphs) are the orchestrator's and `model::validate`'s.

use crate::engine::{ActivityPhase, Completion, RunEvent, RunEventKind, ToolKind};
use crate::model::validate::{Problem, ProblemKind, SubtaskDraft};
use crate::model::{self, FailurePolicy, PlanId, PlanStatus, SessionId, SubtaskId, Timestamp};
use crate::orchestrator::{
    CancelOutcome, CompleteRequest, CreateMode, CreateRequest, ExecuteRequest, ListRequest, MAX_LIST_LIMIT,
    RetryRequest, SessionView, StatusView, TaskContext, UpdateRequest,
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

pub fn classification_to_wire(classification: &model::Classification) -> ext::Classification {
    ext::Classification {
        is_atomic: classification.is_atomic(),
        agent: classification.agent().as_str().to_owned(),
        confidence: classification.confidence.as_str().to_owned(),
        reason: classification.reason.clone(),
        method: classification.method.as_str().to_owned(),
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
        agent: subtask.agent.as_str().to_owned(),
        command: subtask.command.clone(),
        cwd: subtask.cwd.clone(),
        depends_on: subtask.depends_on.iter().map(ToString::to_string).collect(),
        status: subtask.status.as_str().to_owned(),
        attempts: subtask.attempts,
        max_attempts: subtask.max_attempts,
        timeout_secs: subtask.timeout_secs,
        estimate_secs: subtask.estimate_secs,
        result: subtask.result.clone(),
        error: subtask.error.clone(),
        started_at: optional_time(subtask.started_at),
        finished_at: optional_time(subtask.finished_at),
        usage: usage_to_wire(subtask.usage),
        role: subtask.is_baseline().then(|| subtask.role.as_str().to_owned()),
    }
}

fn activity_phase_to_wire(phase: ActivityPhase) -> &'static str {
    match phase {
        ActivityPhase::Thinking => "thinking",
        ActivityPhase::ToolStarted => "toolStarted",
        ActivityPhase::ToolFinished => "toolFinished",
        ActivityPhase::WaitingForApproval => "waitingForApproval",
    }
}

pub fn tool_kind_to_wire(kind: ToolKind) -> &'static str {
    match kind {
        ToolKind::Read => "read",
        ToolKind::Edit => "edit",
        ToolKind::Delete => "delete",
        ToolKind::Move => "move",
        ToolKind::Search => "search",
        ToolKind::Execute => "execute",
        ToolKind::Think => "think",
        ToolKind::Fetch => "fetch",
        ToolKind::Other => "other",
    }
}

pub fn plan_to_wire(plan: &model::Plan) -> ext::Plan {
    ext::Plan {
        id: plan.id.to_string(),
        session_id: plan.session_id.to_string(),
        title: plan.title.clone(),
        goal: plan.goal.clone(),
        status: plan.status.as_str().to_owned(),
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
        planner: Some(plan.planner.as_str().to_owned()),
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

/// A streamed subtask as the client would write it.
pub fn subtask_draft_to_input(draft: &crate::model::validate::SubtaskDraft) -> ext::SubtaskInput {
    ext::SubtaskInput {
        id: draft.id.clone(),
        title: draft.title.clone(),
        description: draft.description.clone(),
        agent: draft.agent.clone(),
        command: draft.command.clone(),
        cwd: draft.cwd.clone(),
        depends_on: draft.depends_on.clone(),
        timeout_secs: draft.timeout_secs,
        max_attempts: draft.max_attempts,
        estimate_secs: draft.estimate_secs,
        role: draft.role.clone(),
    }
}

pub fn plan_summary_to_wire(summary: &PlanSummary) -> ext::PlanSummary {
    ext::PlanSummary {
        id: summary.id.to_string(),
        session_id: summary.session_id.to_string(),
        title: summary.title.clone(),
        status: summary.status.as_str().to_owned(),
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
    ext::Session { id: session.id.to_string(), state: session.state.as_str().to_owned() }
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
        status: status.status.as_str().to_owned(),
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
        status: outcome.status.as_str().to_owned(),
    }
}

pub fn run_started_to_wire(plan_id: &PlanId, run_id: &model::RunId) -> ext::RunStartedResult {
    ext::RunStartedResult {
        plan_id: plan_id.to_string(),
        run_id: run_id.to_string(),
        status: PlanStatus::Running.as_str().to_owned(),
    }
}

/// A run event as the `planning/progress` notification's params; `None` for a notice that is
/// not a run event on the wire (`StorageRetrying` goes to `window/showMessage`).
pub fn run_event_to_wire(event: &RunEvent) -> Option<ext::PlanningProgressParams> {
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
            ext::RunEvent::SubtaskOutput { subtask_id: subtask_id.to_string(), text: text.clone() }
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
                status: status.as_str().to_owned(),
                result: result.clone(),
                error: error.clone(),
                duration_ms: *duration_ms,
            }
        }
        RunEventKind::AgentActivity { subtask_id, activity } => ext::RunEvent::AgentActivity {
            subtask_id: subtask_id.to_string(),
            phase: activity_phase_to_wire(activity.phase).to_owned(),
            tool: activity.tool.clone(),
            tool_kind: activity.kind.map(|kind| tool_kind_to_wire(kind).to_owned()),
            target: activity.target.clone(),
            tokens: activity.tokens,
        },
        RunEventKind::PlanFinished { status, duration_ms, usage, summary } => ext::RunEvent::PlanFinished {
            status: status.as_str().to_owned(),
            progress: progress_to_wire(event.progress),
            duration_ms: *duration_ms,
            usage: usage_to_wire(*usage),
            summary: summary.clone(),
        },
        RunEventKind::StorageRetrying { .. } => return None,
    };
    Some(ext::PlanningProgressParams {
        plan_id: event.plan_id.to_string(),
        run_id: event.run_id.to_string(),
        event: wire_event,
    })
}

// ---------------------------------------------------------------------------------------------
// Wire → domain

pub fn complete_params_to_request(params: ext::CompleteSubtaskParams) -> Result<CompleteRequest, Problem> {
    let done = match params.status.as_deref() {
        None | Some("done") => true,
        Some("failed") => false,
        Some(other) => {
            return Err(field_problem("status", format!("unknown status \"{other}\" (expected \"done\", \"failed\")")));
        }
    };
    if params.subtask_id.trim().is_empty() {
        return Err(field_problem("subtaskId", "must not be empty"));
    }
    let completion = Completion { subtask_id: SubtaskId::from_raw(params.subtask_id), done, note: params.result };
    Ok(CompleteRequest { plan_id: PlanId::from_raw(params.plan_id), completion })
}

pub fn subtask_input_to_draft(input: &ext::SubtaskInput) -> SubtaskDraft {
    SubtaskDraft {
        id: input.id.clone(),
        title: input.title.clone(),
        description: input.description.clone(),
        agent: input.agent.clone(),
        command: input.command.clone(),
        cwd: input.cwd.clone(),
        depends_on: input.depends_on.clone(),
        timeout_secs: input.timeout_secs,
        max_attempts: input.max_attempts,
        estimate_secs: input.estimate_secs,
        role: input.role.clone(),
    }
}

fn parse_mode(mode: Option<&str>) -> Result<CreateMode, Problem> {
    match mode {
        None | Some("auto") => Ok(CreateMode::Auto),
        Some("plan") => Ok(CreateMode::Plan),
        Some("direct") => Ok(CreateMode::Direct),
        Some(other) => {
            Err(field_problem("mode", format!("unknown mode \"{other}\" (expected \"auto\", \"plan\", \"direct\")")))
        }
    }
}

pub fn create_params_to_request(params: ext::CreatePlanParams) -> Result<CreateRequest, Problem> {
    let mode = parse_mode(params.mode.as_deref())?;
    let context = params.context.unwrap_or_default();
    Ok(CreateRequest {
        task: params.task,
        session_id: params.session_id.map(SessionId::from_raw),
        title: params.title,
        mode,
        subtasks: params.subtasks.map(|inputs| inputs.iter().map(subtask_input_to_draft).collect()),
        context: TaskContext { notes: context.notes, files: context.files },
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

pub fn parse_plan_status(text: &str, path: &str) -> Result<PlanStatus, Problem> {
    PlanStatus::parse(text).ok_or_else(|| {
        field_problem(path, format!("unknown plan status \"{text}\" (expected {})", PlanStatus::expected()))
    })
}

pub fn list_params_to_request(params: ext::ListPlansParams) -> Result<ListRequest, Problem> {
    let status = params.status.as_deref().map(|text| parse_plan_status(text, "status")).transpose()?;
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
    Ok(ListRequest { session_id: params.session_id.map(SessionId::from_raw), status, limit, cursor: params.cursor })
}

pub fn update_params_to_request(params: ext::UpdatePlanParams) -> Result<UpdateRequest, Problem> {
    let version = positive_integer(params.version, "version")?;
    Ok(UpdateRequest {
        plan_id: Some(PlanId::from_raw(params.plan_id)),
        version,
        title: params.title,
        subtasks: params.subtasks.map(|inputs| inputs.iter().map(subtask_input_to_draft).collect()),
    })
}

pub fn parse_failure_policy(text: &str, path: &str) -> Result<FailurePolicy, Problem> {
    FailurePolicy::parse(text).ok_or_else(|| {
        field_problem(path, format!("unknown failure policy \"{text}\" (expected {})", FailurePolicy::expected()))
    })
}

pub fn execute_params_to_request(params: &ext::ExecutePlanParams) -> Result<ExecuteRequest, Problem> {
    let max_parallel = params
        .max_parallel
        .map(|value| positive_integer(value, "maxParallel").map(|value| usize::try_from(value).unwrap_or(usize::MAX)))
        .transpose()?;
    let failure_policy =
        params.failure_policy.as_deref().map(|text| parse_failure_policy(text, "failurePolicy")).transpose()?;
    Ok(ExecuteRequest { plan_id: PlanId::from_raw(params.plan_id.clone()), max_parallel, failure_policy })
}

pub fn retry_params_to_request(params: &ext::RetryPlanParams) -> Result<RetryRequest, Problem> {
    let subtask_ids =
        params.subtask_ids.as_ref().map(|ids| ids.iter().map(|id| SubtaskId::from_raw(id.clone())).collect::<Vec<_>>());
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
mod tests {
    use super::*;

    #[test]
    fn unknown_plan_status_names_the_field_and_the_choices() {
        let params = ext::ListPlansParams { status: Some("foo".into()), ..Default::default() };
        let problem = list_params_to_request(params).unwrap_err();
        assert_eq!(problem.path, "status");
        assert!(
            problem.to_string().starts_with("status: unknown plan status \"foo\" (expected \"draft\""),
            "{problem}"
        );
    }

    #[test]
    fn negative_and_oversized_limits_are_refused() {
        let negative = ext::ListPlansParams { limit: Some(-1), ..Default::default() };
        assert_eq!(
            list_params_to_request(negative).unwrap_err().to_string(),
            "limit: expected a positive integer, got -1"
        );
        let huge = ext::ListPlansParams { limit: Some(501), ..Default::default() };
        assert_eq!(list_params_to_request(huge).unwrap_err().path, "limit");
        let fine = ext::ListPlansParams { limit: Some(500), status: Some("running".into()), ..Default::default() };
        let request = list_params_to_request(fine).unwrap();
        assert_eq!((request.limit, request.status), (Some(500), Some(PlanStatus::Running)));
    }

    #[test]
    fn execute_checks_max_parallel_and_failure_policy() {
        let mut params = ext::ExecutePlanParams {
            plan_id: "p".into(),
            max_parallel: Some(-3),
            failure_policy: None,
            work_done_token: None,
        };
        assert_eq!(
            execute_params_to_request(&params).unwrap_err().to_string(),
            "maxParallel: expected a positive integer, got -3"
        );
        params.max_parallel = Some(2);
        params.failure_policy = Some("failfast".into());
        assert_eq!(execute_params_to_request(&params).unwrap_err().path, "failurePolicy");
        params.failure_policy = Some("failFast".into());
        let request = execute_params_to_request(&params).unwrap();
        assert_eq!((request.max_parallel, request.failure_policy), (Some(2), Some(FailurePolicy::FailFast)));
    }

    #[test]
    fn complete_defaults_to_done_and_names_a_bad_status() {
        let params = |status: Option<&str>| ext::CompleteSubtaskParams {
            plan_id: "p".into(),
            subtask_id: "s1".into(),
            status: status.map(str::to_owned),
            result: Some("ok".into()),
        };
        let done = complete_params_to_request(params(None)).unwrap();
        assert!(done.completion.done);
        assert_eq!(done.completion.note.as_deref(), Some("ok"));
        assert!(!complete_params_to_request(params(Some("failed"))).unwrap().completion.done);
        let problem = complete_params_to_request(params(Some("skipped"))).unwrap_err();
        assert_eq!(problem.path, "status");
        assert!(problem.message.contains("\"done\", \"failed\""), "{}", problem.message);
    }

    #[test]
    fn create_maps_mode_and_subtasks() {
        let params = ext::CreatePlanParams {
            task: "do it".into(),
            mode: Some("plan".into()),
            subtasks: Some(vec![ext::SubtaskInput {
                title: "build".into(),
                agent: "shell".into(),
                command: Some("make".into()),
                max_attempts: Some(-1),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let request = create_params_to_request(params).unwrap();
        assert_eq!(request.mode, CreateMode::Plan);
        let drafts = request.subtasks.unwrap();
        assert_eq!((drafts[0].agent.as_str(), drafts[0].max_attempts), ("shell", Some(-1)));
        let bad_mode = ext::CreatePlanParams { task: "x".into(), mode: Some("yolo".into()), ..Default::default() };
        assert_eq!(create_params_to_request(bad_mode).unwrap_err().path, "mode");
    }

    #[test]
    fn plan_converts_with_progress_and_rfc3339_times() {
        let now = Timestamp::from_millis(0);
        let mut subtask = model::Subtask::new(SubtaskId::from_raw("a"), "A".into(), model::AgentKind::Shell);
        subtask.command = Some("true".into());
        let plan = model::Plan::new_draft(SessionId::from_raw("s"), "T".into(), "goal".into(), vec![subtask], now);
        let wire = plan_to_wire(&plan);
        assert_eq!(wire.status, "draft");
        assert_eq!(wire.created_at, "1970-01-01T00:00:00.000Z");
        assert_eq!((wire.progress.total, wire.progress.pending, wire.progress.percentage), (1, 1, 0));
        let json = serde_json::to_value(&wire).unwrap();
        assert!(json.get("approvedAt").is_none());
        assert_eq!(json["subtasks"][0]["dependsOn"], serde_json::json!([]));
    }

    #[test]
    fn plan_finished_event_carries_final_progress() {
        let event = RunEvent {
            plan_id: PlanId::from_raw("p"),
            run_id: model::RunId::from_raw("r"),
            at: Timestamp::from_millis(0),
            progress: model::Progress { total: 2, done: 2, ..Default::default() },
            kind: RunEventKind::PlanFinished {
                status: PlanStatus::Completed,
                duration_ms: 5,
                usage: crate::llm::Usage::default(),
                summary: Some("before: 1 failing · after: all passing".into()),
            },
        };
        let json = serde_json::to_value(run_event_to_wire(&event)).unwrap();
        assert_eq!(json["event"]["kind"], "planFinished");
        assert_eq!(json["event"]["summary"], "before: 1 failing · after: all passing");
        assert_eq!(json["event"]["progress"]["percentage"], 100);
        assert_eq!(json["planId"], "p");
    }
}
