//! The `data` of a planning error reply, tagged by `kind` ([`ErrorKind`] names every tag). The
//! codes and messages are `crate::lsp::errors`'s; this is only the shape a client can rely on.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ErrorKind, PlanAction, PlanStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ErrorData {
    /// `-32803`.
    PlanNotFound { plan_id: String },
    /// `-32803`.
    SessionNotFound { session_id: String },
    /// `-32803`: the plan's status does not allow the request; `allowed` is what it does allow.
    InvalidState { status: PlanStatus, allowed: Vec<PlanAction> },
    /// `-32602` when at least one problem is about a field, else `-32803` (a dependency cycle).
    Validation { errors: Vec<String> },
    /// `-32801`: `planning/update` at a version that is not the plan's.
    StaleVersion { expected: u64, actual: u64 },
    /// `-32803`: the language model failed.
    Llm {},
    /// `-32803`: the database failed (or the planner could not start).
    Storage {},
}

impl ErrorData {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::PlanNotFound { .. } => ErrorKind::PlanNotFound,
            Self::SessionNotFound { .. } => ErrorKind::SessionNotFound,
            Self::InvalidState { .. } => ErrorKind::InvalidState,
            Self::Validation { .. } => ErrorKind::Validation,
            Self::StaleVersion { .. } => ErrorKind::StaleVersion,
            Self::Llm {} => ErrorKind::Llm,
            Self::Storage {} => ErrorKind::Storage,
        }
    }

    /// As a JSON value for an error reply.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({ "kind": self.kind().as_str() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_the_tag_of_its_data() {
        let all = [
            ErrorData::PlanNotFound { plan_id: "p".into() },
            ErrorData::SessionNotFound { session_id: "s".into() },
            ErrorData::InvalidState { status: PlanStatus::Draft, allowed: vec![PlanAction::Approve] },
            ErrorData::Validation { errors: Vec::new() },
            ErrorData::StaleVersion { expected: 1, actual: 2 },
            ErrorData::Llm {},
            ErrorData::Storage {},
        ];
        let kinds: Vec<ErrorKind> = all.iter().map(ErrorData::kind).collect();
        assert_eq!(kinds, ErrorKind::ALL);
        for data in &all {
            assert_eq!(data.to_value()["kind"], data.kind().as_str());
        }
        assert_eq!(ErrorData::Llm {}.to_value(), serde_json::json!({ "kind": "llm" }));
    }
}
