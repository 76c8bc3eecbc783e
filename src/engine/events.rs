//! Run events and the bounded, coalescing queue that carries them from the driver to one
//! consumer (the LSP layer). Status events are never dropped (their number is bounded by the
//! plan); output events are merged or trimmed when the consumer falls behind, so a slow consumer
//! never stalls the engine and memory stays bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::agent::AgentActivity;
use crate::model::{
    AgentKind, Answer, PendingApproval, PlanId, PlanStatus, Progress, RunId, SubtaskId, SubtaskStatus, Timestamp, Usage,
};

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
    PlanStarted {
        title: String,
        total: u32,
    },
    SubtaskStarted {
        subtask_id: SubtaskId,
        title: String,
        attempt: u32,
    },
    SubtaskOutput {
        subtask_id: SubtaskId,
        text: String,
    },
    SubtaskRetrying {
        subtask_id: SubtaskId,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// The run reached a step a person does; `instructions` say what to do in plain words,
    /// `message` adds how to finish it (for clients that show only that).
    SubtaskWaiting {
        subtask_id: SubtaskId,
        title: String,
        agent: AgentKind,
        message: String,
        instructions: String,
    },
    SubtaskFinished {
        subtask_id: SubtaskId,
        title: String,
        status: SubtaskStatus,
        result: Option<String>,
        error: Option<String>,
        duration_ms: u64,
    },
    /// A notice, not a transition: the run's progress cannot be recorded right now (disk full,
    /// I/O error, database locked) and is being retried. Sent once per run.
    StorageRetrying {
        error: String,
    },
    /// A sign of life of an LLM agent (rate-bounded by the agent).
    AgentActivity {
        subtask_id: SubtaskId,
        activity: AgentActivity,
    },
    /// An agent asks the person and waits; the subtask carries the question
    /// (`pendingApproval`) until it is answered.
    ApprovalRequested {
        subtask_id: SubtaskId,
        approval: PendingApproval,
    },
    /// The question was answered (the first answer wins; every other way of answering it is
    /// withdrawn). `by`: `editor` (its message) or `planning/answer`.
    ApprovalAnswered {
        subtask_id: SubtaskId,
        request_id: String,
        answer: Answer,
        by: String,
    },
    /// Exactly one per run, always last.
    PlanFinished {
        status: PlanStatus,
        duration_ms: u64,
        /// Tokens spent by the plan's subtasks, rolled up.
        usage: Usage,
        /// The baselines against the final checks ("before: 1 failing · after: all passing").
        summary: Option<String>,
    },
}

impl RunEventKind {
    pub fn is_final(&self) -> bool {
        matches!(self, Self::PlanFinished { .. })
    }
}

/// Output events queued before new output is merged into the last one of its subtask.
pub const DEFAULT_OUTPUT_EVENT_CAP: usize = 256;
/// Longest text one merged output event keeps (its tail), in bytes.
pub const MAX_MERGED_OUTPUT_BYTES: usize = 64 * 1024;

#[derive(Default)]
struct QueueState {
    events: VecDeque<RunEvent>,
    queued_output_events: usize,
    final_taken: bool,
    sender_gone: bool,
    receiver_gone: bool,
}

struct SharedQueue {
    state: Mutex<QueueState>,
    wakeup: Notify,
    output_event_cap: usize,
}

impl SharedQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A panic while holding this lock cannot leave the queue inconsistent: keep going.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A new event queue: the driver's [`EventSender`] and the consumer's [`EventReceiver`].
pub fn event_queue(output_event_cap: usize) -> (EventSender, EventReceiver) {
    let shared = Arc::new(SharedQueue {
        state: Mutex::new(QueueState::default()),
        wakeup: Notify::new(),
        output_event_cap: output_event_cap.max(1),
    });
    (EventSender { shared: shared.clone() }, EventReceiver { shared })
}

/// The driver's end: `send` never waits for the consumer.
pub struct EventSender {
    shared: Arc<SharedQueue>,
}

impl EventSender {
    pub fn send(&self, event: RunEvent) {
        let mut state = self.shared.lock();
        if state.receiver_gone {
            return;
        }
        if let RunEventKind::SubtaskOutput { subtask_id, text } = &event.kind {
            if state.queued_output_events >= self.shared.output_event_cap
                && merge_into_last_output(&mut state.events, subtask_id, text, &event)
            {
                return;
            }
            state.queued_output_events += 1;
        }
        state.events.push_back(event);
        drop(state);
        self.shared.wakeup.notify_one();
    }

    /// Whether the consumer has gone (sending is then a no-op).
    pub fn is_closed(&self) -> bool {
        self.shared.lock().receiver_gone
    }

    /// Events waiting for the consumer (for tests and diagnostics).
    pub fn queued(&self) -> usize {
        self.shared.lock().events.len()
    }
}

impl Drop for EventSender {
    fn drop(&mut self) {
        self.shared.lock().sender_gone = true;
        self.shared.wakeup.notify_one();
    }
}

/// Appends `text` to the newest queued output event of `subtask_id`, keeping its tail within
/// [`MAX_MERGED_OUTPUT_BYTES`]. False when no such event is queued.
fn merge_into_last_output(
    events: &mut VecDeque<RunEvent>,
    subtask_id: &SubtaskId,
    text: &str,
    event: &RunEvent,
) -> bool {
    let Some(last) = events
        .iter_mut()
        .rev()
        .find(|queued| matches!(&queued.kind, RunEventKind::SubtaskOutput { subtask_id: id, .. } if id == subtask_id))
    else {
        return false;
    };
    if let RunEventKind::SubtaskOutput { text: queued_text, .. } = &mut last.kind {
        queued_text.push('\n');
        queued_text.push_str(text);
        if queued_text.len() > MAX_MERGED_OUTPUT_BYTES {
            const MARK: &str = "[... output truncated]\n";
            let mut cut = queued_text.len() - MAX_MERGED_OUTPUT_BYTES + MARK.len();
            while !queued_text.is_char_boundary(cut) {
                cut += 1;
            }
            queued_text.replace_range(..cut, MARK);
        }
    }
    last.at = event.at;
    last.progress = event.progress;
    true
}

/// The consumer's end of a run's event queue. `recv` returns `None` after `PlanFinished`.
pub struct EventReceiver {
    shared: Arc<SharedQueue>,
}

impl EventReceiver {
    /// The next event, waiting for it; `None` once `PlanFinished` has been taken (or the driver
    /// is gone without one, which only a bug can cause).
    pub async fn recv(&mut self) -> Option<RunEvent> {
        loop {
            if let Some(ready) = self.try_recv() {
                return ready;
            }
            self.shared.wakeup.notified().await;
        }
    }

    /// `Some(Some(event))` when one is queued, `Some(None)` when the stream has ended, `None`
    /// when the consumer has to wait.
    fn try_recv(&mut self) -> Option<Option<RunEvent>> {
        let mut state = self.shared.lock();
        if state.final_taken {
            return Some(None);
        }
        match state.events.pop_front() {
            Some(event) => {
                if matches!(event.kind, RunEventKind::SubtaskOutput { .. }) {
                    state.queued_output_events -= 1;
                }
                if event.kind.is_final() {
                    state.final_taken = true;
                }
                Some(Some(event))
            }
            None if state.sender_gone => Some(None),
            None => None,
        }
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_gone = true;
        state.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: RunEventKind) -> RunEvent {
        RunEvent {
            plan_id: PlanId::from_raw("p"),
            run_id: RunId::from_raw("r"),
            at: Timestamp::from_millis(1),
            progress: Progress::default(),
            kind,
        }
    }

    fn output(subtask: &str, text: &str) -> RunEvent {
        event(RunEventKind::SubtaskOutput { subtask_id: SubtaskId::from_raw(subtask), text: text.to_owned() })
    }

    fn finished() -> RunEvent {
        event(RunEventKind::PlanFinished {
            status: PlanStatus::Completed,
            duration_ms: 1,
            usage: Usage::default(),
            summary: None,
        })
    }

    #[tokio::test]
    async fn events_arrive_in_order_and_end_after_plan_finished() {
        let (sender, mut receiver) = event_queue(8);
        sender.send(event(RunEventKind::PlanStarted { title: "t".into(), total: 1 }));
        sender.send(output("a", "hello"));
        sender.send(finished());
        sender.send(output("a", "after the end"));
        assert!(matches!(receiver.recv().await.map(|e| e.kind), Some(RunEventKind::PlanStarted { .. })));
        assert_eq!(receiver.recv().await, Some(output("a", "hello")));
        assert!(receiver.recv().await.is_some_and(|e| e.kind.is_final()));
        assert_eq!(receiver.recv().await, None);
    }

    #[tokio::test]
    async fn output_beyond_the_cap_is_merged_into_the_same_subtasks_last_event() {
        let (sender, mut receiver) = event_queue(2);
        sender.send(output("a", "1"));
        sender.send(output("b", "2"));
        sender.send(output("a", "3"));
        sender.send(output("c", "4"));
        assert_eq!(sender.queued(), 3, "a's line merged, c's kept as its own event");
        sender.send(finished());
        assert_eq!(receiver.recv().await, Some(output("a", "1\n3")));
        assert_eq!(receiver.recv().await, Some(output("b", "2")));
        assert_eq!(receiver.recv().await, Some(output("c", "4")));
    }

    #[tokio::test]
    async fn merged_output_keeps_its_tail_within_the_bound() {
        let (sender, _receiver) = event_queue(1);
        sender.send(output("a", "first"));
        let line = "x".repeat(1000);
        for _ in 0..200 {
            sender.send(output("a", &line));
        }
        sender.send(output("a", "last line"));
        let state = sender.shared.lock();
        let RunEventKind::SubtaskOutput { text, .. } = &state.events[0].kind else { panic!("not output") };
        assert!(text.len() <= MAX_MERGED_OUTPUT_BYTES);
        assert!(text.starts_with("[... output truncated]"));
        assert!(text.ends_with("last line"));
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_up_on_send() {
        let (sender, mut receiver) = event_queue(8);
        let waiter = tokio::spawn(async move { receiver.recv().await });
        tokio::task::yield_now().await;
        sender.send(finished());
        let received = tokio::time::timeout(std::time::Duration::from_secs(5), waiter).await;
        assert!(matches!(received, Ok(Ok(Some(_)))));
    }

    #[tokio::test]
    async fn a_dropped_receiver_makes_sending_a_no_op_and_a_dropped_sender_ends_the_stream() {
        let (sender, receiver) = event_queue(8);
        drop(receiver);
        sender.send(output("a", "nobody listens"));
        assert_eq!(sender.queued(), 0);
        let (sender, mut receiver) = event_queue(8);
        drop(sender);
        assert_eq!(receiver.recv().await, None);
    }
}
