//! Run events and the bounded, coalescing queue that carries them from the driver to one
//! consumer (the LSP layer). Status events are never dropped (their number is bounded by the
//! plan); output events are merged or trimmed when the consumer falls behind, so a slow consumer
//! never stalls the engine and memory stays bounded.

use crate::model::{PlanId, PlanStatus, Progress, RunId, SubtaskId, SubtaskStatus, Timestamp};

/// One thing that happened in a run, with the plan's progress after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEvent {
    pub plan_id: PlanId,
    pub run_id: RunId,
    pub at: Timestamp,
    pub progress: Progress,
    pub kind: RunEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEventKind {
    PlanStarted { title: String, total: u32 },
    SubtaskStarted { subtask_id: SubtaskId, title: String, attempt: u32 },
    SubtaskOutput { subtask_id: SubtaskId, text: String },
    SubtaskRetrying { subtask_id: SubtaskId, attempt: u32, delay_ms: u64, error: String },
    SubtaskFinished {
        subtask_id: SubtaskId,
        title: String,
        status: SubtaskStatus,
        result: Option<String>,
        error: Option<String>,
        duration_ms: u64,
    },
    /// Exactly one per run, always last.
    PlanFinished { status: PlanStatus, duration_ms: u64 },
}

impl RunEventKind {
    pub fn is_final(&self) -> bool {
        matches!(self, Self::PlanFinished { .. })
    }
}

/// The consumer's end of a run's event queue. `recv` returns `None` after `PlanFinished`.
pub struct EventReceiver {
    _private: (),
}

impl EventReceiver {
    pub async fn recv(&mut self) -> Option<RunEvent> {
        todo!("engine helper")
    }
}
