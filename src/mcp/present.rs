//! The MCP tools' answers: compact JSON text an agent reads in few tokens. Empty and default
//! fields are left out, long texts are cut (the whole result stays in the plan: `plan_get`, the
//! editor), times are RFC 3339. Not the wire's objects: those are for editors and carry far more.

use serde_json::{Map, Value, json};

use crate::model::{Plan, PlanId, Progress, RunId, Subtask, SubtaskId};
use crate::orchestrator::{CancelOutcome, NextOutcome, PlanPage, RunOwner};

/// Longest result or error text shown per step.
const TEXT_SHOWN: usize = 400;

/// A plan and its steps.
pub fn plan(plan: &Plan) -> String {
    let steps: Vec<Value> = plan.subtasks.iter().map(step).collect();
    let mut object = head(plan);
    object.insert("steps".into(), Value::Array(steps));
    encode(Value::Object(object))
}

/// A page of plans, one line of facts each.
pub fn plans(page: &PlanPage) -> String {
    let plans: Vec<Value> = page
        .plans
        .iter()
        .map(|plan| json!({"id": plan.id.as_str(), "title": plan.title, "status": plan.status.as_str(), "done": done(&plan.progress)}))
        .collect();
    encode(json!({ "plans": plans }))
}

/// The steps handed to the caller, with what it needs to do them.
pub fn next(outcome: &NextOutcome) -> String {
    let (Some(plan_id), Some(status)) = (&outcome.plan_id, outcome.status) else {
        return encode(json!({"steps": [], "note": "no plan has a step ready to take"}));
    };
    let steps: Vec<Value> = outcome
        .ready
        .iter()
        .map(|ready| {
            let subtask = &ready.subtask;
            let mut object = Map::new();
            object.insert("id".into(), subtask.id.as_str().into());
            object.insert("title".into(), subtask.title.clone().into());
            object.insert("agent".into(), subtask.agent.as_str().into());
            put_text(&mut object, "description", Some(&subtask.description), usize::MAX);
            put_text(&mut object, "command", subtask.command.as_deref(), usize::MAX);
            put_text(&mut object, "cwd", subtask.cwd.as_deref(), usize::MAX);
            if let Some(claim) = &ready.claim {
                object.insert("until".into(), claim.expires_at.to_rfc3339().into());
            }
            Value::Object(object)
        })
        .collect();
    let mut answer = json!({"plan": plan_id.as_str(), "status": status.as_str(), "steps": steps});
    if outcome.ready.is_empty() {
        answer["note"] = "nothing ready for you now: steps wait for their dependencies, run, or are taken".into();
    } else {
        answer["next"] = "do each step, then step_complete".into();
    }
    encode(answer)
}

/// The plan after a step was finished: where it stands, and how many steps are ready now.
pub fn completed(plan: &Plan, step_id: &SubtaskId) -> String {
    let mut object = head(plan);
    if let Some(subtask) = plan.subtask(step_id) {
        object.insert("step".into(), json!({"id": subtask.id.as_str(), "status": subtask.status.as_str()}));
    }
    object.insert("ready".into(), plan.ready_by_hand().len().into());
    encode(Value::Object(object))
}

pub fn started(plan_id: &PlanId, run_id: &RunId) -> String {
    encode(json!({"plan": plan_id.as_str(), "run": run_id.as_str(), "status": "running"}))
}

pub fn cancelled(outcome: &CancelOutcome) -> String {
    let mut answer =
        json!({"plan": outcome.plan_id.as_str(), "cancelled": outcome.cancelled, "status": outcome.status.as_str()});
    match outcome.owner {
        Some(RunOwner::Server { pid, face }) => {
            answer["note"] = format!("it runs in a {face} (pid {pid}): cancel it there").into();
        }
        Some(RunOwner::CommandLine(pid)) => {
            answer["note"] = format!("interrupted the command line running it (pid {pid})").into();
        }
        None => {}
    }
    encode(answer)
}

fn head(plan: &Plan) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".into(), plan.id.as_str().into());
    object.insert("title".into(), plan.title.clone().into());
    object.insert("status".into(), plan.status.as_str().into());
    object.insert("done".into(), done(&plan.progress()).into());
    object
}

fn step(subtask: &Subtask) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), subtask.id.as_str().into());
    object.insert("title".into(), subtask.title.clone().into());
    object.insert("agent".into(), subtask.agent.as_str().into());
    object.insert("status".into(), subtask.status.as_str().into());
    if !subtask.depends_on.is_empty() {
        let after: Vec<&str> = subtask.depends_on.iter().map(SubtaskId::as_str).collect();
        object.insert("after".into(), after.into());
    }
    put_text(&mut object, "command", subtask.command.as_deref(), usize::MAX);
    put_text(&mut object, "result", subtask.result.as_deref(), TEXT_SHOWN);
    put_text(&mut object, "error", subtask.error.as_deref(), TEXT_SHOWN);
    Value::Object(object)
}

/// `done/total`.
fn done(progress: &Progress) -> String {
    format!("{}/{}", progress.done, progress.total)
}

/// Adds a text that is not empty, cut to `limit` characters (its tail kept: where results end).
fn put_text(object: &mut Map<String, Value>, key: &str, text: Option<&str>, limit: usize) {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return };
    let count = text.chars().count();
    let shown = if count <= limit {
        text.to_owned()
    } else {
        let tail: String = text.chars().skip(count - limit).collect();
        format!("…{tail}")
    };
    object.insert(key.to_owned(), shown.into());
}

fn encode(value: Value) -> String {
    value.to_string()
}
