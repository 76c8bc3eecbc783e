//! Unit tests of the conversions (the wire side of each is parsed from JSON, as a client sends it).

use serde_json::json;

use super::*;
use crate::model::FailurePolicy;
use crate::orchestrator::CreateMode;

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[test]
fn negative_and_oversized_limits_are_refused() {
    let negative: ext::ListPlansParams = parse(json!({ "limit": -1 }));
    assert_eq!(list_params_to_request(negative).unwrap_err().to_string(), "limit: expected a positive integer, got -1");
    let huge: ext::ListPlansParams = parse(json!({ "limit": 501 }));
    assert_eq!(list_params_to_request(huge).unwrap_err().path, "limit");
    let fine: ext::ListPlansParams = parse(json!({ "limit": 500, "status": "running" }));
    let request = list_params_to_request(fine).unwrap();
    assert_eq!((request.limit, request.status), (Some(500), Some(PlanStatus::Running)));
}

#[test]
fn execute_checks_max_parallel_and_maps_the_failure_policy() {
    let negative: ext::ExecutePlanParams = parse(json!({ "planId": "p", "maxParallel": -3 }));
    assert_eq!(
        execute_params_to_request(&negative).unwrap_err().to_string(),
        "maxParallel: expected a positive integer, got -3"
    );
    let fine: ext::ExecutePlanParams = parse(json!({ "planId": "p", "maxParallel": 2, "failurePolicy": "failFast" }));
    let request = execute_params_to_request(&fine).unwrap();
    assert_eq!((request.max_parallel, request.failure_policy), (Some(2), Some(FailurePolicy::FailFast)));
}

#[test]
fn complete_defaults_to_done() {
    let params = |status: Option<&str>| -> ext::CompleteSubtaskParams {
        parse(json!({ "planId": "p", "subtaskId": "s1", "status": status, "result": "ok" }))
    };
    let done = complete_params_to_request(params(None)).unwrap();
    assert!(done.completion.done);
    assert_eq!(done.completion.note.as_deref(), Some("ok"));
    assert!(!complete_params_to_request(params(Some("failed"))).unwrap().completion.done);
}

#[test]
fn create_maps_mode_and_subtasks_and_their_role() {
    let params: ext::CreatePlanParams = parse(json!({
        "task": "do it", "mode": "plan",
        "subtasks": [{ "title": "build", "agent": "shell", "command": "make", "maxAttempts": -1, "cwd": null }]
    }));
    let request = create_params_to_request(params).unwrap();
    assert_eq!(request.mode, CreateMode::Plan);
    let drafts = request.subtasks.unwrap();
    assert_eq!((drafts[0].agent.as_str(), drafts[0].max_attempts, drafts[0].cwd.as_deref()), ("shell", Some(-1), None));
    assert_eq!(drafts[0].role, None);
    let baseline: ext::CreatePlanParams = parse(json!({
        "task": "t", "subtasks": [{ "title": "a", "agent": "ask" }, { "title": "b", "agent": "shell", "command": "make test", "role": "baseline" }]
    }));
    let drafts = create_params_to_request(baseline).unwrap().subtasks.unwrap();
    assert_eq!((drafts[0].role.as_deref(), drafts[1].role.as_deref()), (None, Some("baseline")));
}

#[test]
fn update_tells_the_orchestrator_which_fields_were_left_out() {
    let params: ext::UpdatePlanParams = parse(json!({
        "planId": "p", "version": 1,
        "subtasks": [{ "id": "a", "title": "A", "agent": "shell", "cwd": null }]
    }));
    let request = update_params_to_request(params).unwrap();
    let omitted = request.omitted[0];
    assert!(!omitted.cwd, "null is not left out: it clears");
    assert!(omitted.command && omitted.timeout_secs && omitted.max_attempts && omitted.description);
    assert!(omitted.depends_on && omitted.estimate_secs);
}

#[test]
fn output_is_one_line_per_event_without_terminators() {
    fn lines(text: &str) -> Vec<&str> {
        output_lines(text).collect()
    }
    assert_eq!(lines("one"), ["one"]);
    assert_eq!(lines("one\n"), ["one"]);
    assert_eq!(lines("a\r\nb\n\nc"), ["a", "b", "", "c"]);
    assert_eq!(lines(""), [""]);
    assert_eq!(lines("\n"), [""]);
    assert_eq!(lines("progress 10%\r"), ["progress 10%"]);
}

#[test]
fn merged_output_becomes_one_notification_per_line() {
    let event = RunEvent {
        plan_id: PlanId::from_raw("p"),
        run_id: model::RunId::from_raw("r"),
        at: Timestamp::from_millis(0),
        progress: model::Progress::default(),
        kind: RunEventKind::SubtaskOutput { subtask_id: SubtaskId::from_raw("s"), text: "a\r\nb".into() },
    };
    let texts: Vec<serde_json::Value> =
        run_event_to_wire(&event).into_iter().map(|params| serde_json::to_value(params.event).unwrap()).collect();
    assert_eq!(
        texts,
        [
            json!({ "kind": "subtaskOutput", "subtaskId": "s", "text": "a" }),
            json!({ "kind": "subtaskOutput", "subtaskId": "s", "text": "b" })
        ]
    );
}

#[test]
fn plan_converts_with_progress_and_rfc3339_times() {
    let now = Timestamp::from_millis(0);
    let mut subtask = model::Subtask::new(SubtaskId::from_raw("a"), "A".into(), model::AgentKind::Shell);
    subtask.command = Some("true".into());
    let plan = model::Plan::new_draft(SessionId::from_raw("s"), "T".into(), "goal".into(), vec![subtask], now);
    let wire = plan_to_wire(&plan);
    assert_eq!(wire.status, ext::PlanStatus::Draft);
    assert_eq!(wire.created_at, "1970-01-01T00:00:00.000Z");
    assert_eq!((wire.progress.total, wire.progress.pending, wire.progress.percentage), (1, 1, 0));
    let json = serde_json::to_value(&wire).unwrap();
    assert!(json.get("approvedAt").is_none());
    assert_eq!(json["status"], "draft");
    assert_eq!(json["subtasks"][0]["dependsOn"], json!([]));
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
    let json = serde_json::to_value(&run_event_to_wire(&event)[0]).unwrap();
    assert_eq!(json["event"]["kind"], "planFinished");
    assert_eq!(json["event"]["summary"], "before: 1 failing · after: all passing");
    assert_eq!(json["event"]["progress"]["percentage"], 100);
    assert_eq!(json["planId"], "p");
}

#[test]
fn a_streamed_draft_with_an_unknown_agent_is_not_shown_yet() {
    let draft = SubtaskDraft { title: "x".into(), agent: "archi".into(), ..SubtaskDraft::default() };
    assert!(subtask_draft_to_input(&draft).is_none());
    let shell = SubtaskDraft { agent: "shell".into(), command: Some("make".into()), ..draft };
    let input = subtask_draft_to_input(&shell).unwrap();
    assert_eq!(serde_json::to_value(input).unwrap(), json!({ "title": "x", "agent": "shell", "command": "make" }));
}
