//! What the language model adds to the store: who planned a plan (`plan_planning`: planner, the
//! note saying why the model's plan was not used, tokens spent) and the LLM classifier's cache
//! (`classification_cache`, keyed by normalised task text and model name).
//!
//! One migration ([`MIGRATION_PLANNING`]) creates both tables; plans written before it read as
//! `template` with no note. Nothing here decides anything: the orchestrator and the classifier do.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::codec::{corrupt_value, from_u64, parse_name, sqlite_error, to_u32, to_u64};
use crate::model::{Classification, ClassifyMethod, Confidence, Plan, PlannerKind, RouteAgent, Timestamp, Usage};

/// Planner fields of plans, and the LLM classifier's cache.
pub(crate) const MIGRATION_PLANNING: &str = "
CREATE TABLE IF NOT EXISTS plan_planning (
    plan_id TEXT PRIMARY KEY REFERENCES plans (id) ON DELETE CASCADE,
    planner TEXT NOT NULL,
    planner_note TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    calls INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS classification_cache (
    task_key TEXT NOT NULL,
    model TEXT NOT NULL,
    is_atomic INTEGER NOT NULL,
    agent TEXT NOT NULL,
    confidence TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_key, model)
);
";

/// A classification the model gave for a task, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedClassification {
    /// Normalised task text (see `llm::classify::normalise_task`).
    pub task_key: String,
    pub model: String,
    pub classification: Classification,
    pub at: Timestamp,
}

/// Writes the plan's planner fields (insert or replace), inside the plan's own transaction.
pub(crate) fn upsert_planning(connection: &Connection, path: &Path, plan: &Plan) -> Result<(), StoreError> {
    let usage = plan.planning_usage;
    connection
        .prepare_cached(
            "INSERT INTO plan_planning (plan_id, planner, planner_note, prompt_tokens, completion_tokens, calls) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (plan_id) DO UPDATE SET planner = ?2, planner_note = ?3, \
             prompt_tokens = ?4, completion_tokens = ?5, calls = ?6",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                plan.id.as_str(),
                plan.planner.as_str(),
                plan.planner_note,
                from_u64(path, "promptTokens", usage.prompt_tokens).unwrap_or(i64::MAX),
                from_u64(path, "completionTokens", usage.completion_tokens).unwrap_or(i64::MAX),
                i64::from(usage.calls),
            ])
        })
        .map(|_| ())
        .map_err(|error| sqlite_error(path, error))
}

/// Fills the plan's planner fields from its row, when it has one.
pub(crate) fn read_planning(connection: &Connection, path: &Path, plan: &mut Plan) -> Result<(), StoreError> {
    let row = connection
        .prepare_cached(
            "SELECT planner, planner_note, prompt_tokens, completion_tokens, calls FROM plan_planning WHERE plan_id = ?1",
        )
        .and_then(|mut statement| {
            statement
                .query_row([plan.id.as_str()], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                    ))
                })
                .optional()
        })
        .map_err(|error| sqlite_error(path, error))?;
    let Some((planner, note, prompt_tokens, completion_tokens, calls)) = row else { return Ok(()) };
    plan.planner = parse_name(path, "plan_planning", "planner", &planner, PlannerKind::parse)?;
    plan.planner_note = note;
    plan.planning_usage = Usage {
        prompt_tokens: to_u64(path, "plan_planning", "prompt_tokens", prompt_tokens)?,
        completion_tokens: to_u64(path, "plan_planning", "completion_tokens", completion_tokens)?,
        calls: to_u32(path, "plan_planning", "calls", calls)?,
    };
    Ok(())
}

/// Stores (or replaces) one cached classification.
pub(crate) fn cache_classification(
    connection: &Connection,
    path: &Path,
    entry: &CachedClassification,
) -> Result<(), StoreError> {
    let class = &entry.classification;
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO classification_cache \
             (task_key, model, is_atomic, agent, confidence, reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                entry.task_key,
                entry.model,
                class.is_atomic(),
                class.agent().as_str(),
                class.confidence.as_str(),
                class.reason,
                entry.at.as_millis(),
            ])
        })
        .map(|_| ())
        .map_err(|error| sqlite_error(path, error))
}

/// The cached classification of a normalised task by a model, if any (method `llm`).
pub(crate) fn cached_classification(
    connection: &Connection,
    path: &Path,
    task_key: &str,
    model: &str,
) -> Result<Option<Classification>, StoreError> {
    let row = connection
        .prepare_cached(
            "SELECT is_atomic, agent, confidence, reason FROM classification_cache WHERE task_key = ?1 AND model = ?2",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![task_key, model], |row| {
                    Ok((row.get::<_, bool>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get(3)?))
                })
                .optional()
        })
        .map_err(|error| sqlite_error(path, error))?;
    let Some((is_atomic, agent, confidence, reason)) = row else { return Ok(None) };
    let agent = parse_name(path, "classification_cache", "agent", &agent, RouteAgent::parse)?;
    let confidence = parse_name(path, "classification_cache", "confidence", &confidence, Confidence::parse)?;
    if is_atomic == (agent == RouteAgent::Plan) {
        return Err(corrupt_value(path, "classification_cache", "agent", agent.as_str(), "breaks atomic ⇔ not plan"));
    }
    Ok(Some(if is_atomic {
        Classification::atomic(agent, confidence, reason, ClassifyMethod::Llm)
    } else {
        Classification::complex(confidence, reason, ClassifyMethod::Llm)
    }))
}
