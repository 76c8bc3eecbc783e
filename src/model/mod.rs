//! The domain model: plans, subtasks, statuses, ids, and the validation of user input.
//!
//! Pure data and guards; no I/O, no serde. The LSP layer converts these to and from wire types
//! (`crate::wire::convert`), the store maps them to rows (`crate::store`).

pub mod check;
mod hand;
mod ids;
mod plan;
pub mod record;
mod status;
mod usage;
pub mod validate;

pub use hand::Claim;
pub use ids::{PlanId, RunId, SessionId, SubtaskId, Timestamp};
pub use plan::{GuardError, Plan, Progress, Subtask};
pub use record::{Answer, ChangeSummary, PendingApproval, ToolKind};
pub use status::{
    AgentKind, Classification, ClassifyMethod, Confidence, FailurePolicy, PlanStatus, PlannerKind, RouteAgent,
    SubtaskRole, SubtaskStatus,
};
pub use usage::Usage;

#[cfg(test)]
mod tests;
