//! The keyword task classifier (English and Russian): complex indicators, then atomic
//! indicators, then the word-count rule; agent by keyword counts with ties going to code, then
//! debug, then explain. Matches whole tokens and known inflections, never substrings.
//!
//! Pure and deterministic: no I/O. The LLM classifier (later) falls back to this one.

use crate::model::Classification;

/// Classifies a task by keywords. Never fails; the empty task is atomic (code).
pub fn classify_keywords(task: &str) -> Classification {
    todo!("classifier helper {task}")
}
