//! The driver's handling of steps a person does: parking a step in `waiting` (no slot, no
//! process), applying the person's answer from the run's control channel, and what cancel and
//! an interrupted run do to a waiting step.
//!
//! Same single owner and same commit-then-emit rule as the rest of the driver; nothing here
//! spawns work.

use tokio::sync::oneshot;

use super::{Driver, StopReason};
use crate::engine::events::RunEventKind;
use crate::engine::manual::{CompleteError, Completion, RunControl, waiting_instructions, waiting_message};
use crate::model::{FailurePolicy, SubtaskStatus};

impl Driver {
    /// The queue started `node`, and a person does it: `pending` → `waiting`, its slot freed.
    pub(super) fn begin_waiting(&mut self, node: usize) {
        if let Err(error) = self.plan.subtasks[node].wait_for_person(Self::now()) {
            tracing::error!(%error, "ready subtask refused to wait");
            self.queue.mark_failed(node);
            return;
        }
        self.queue.mark_parked(node);
        self.waiting.insert(node);
        self.first_started[node] = Some(std::time::Instant::now());
        let subtask = &self.plan.subtasks[node];
        let message = waiting_message(subtask);
        let kind = RunEventKind::SubtaskWaiting {
            subtask_id: subtask.id.clone(),
            title: subtask.title.clone(),
            agent: subtask.agent,
            message: message.clone(),
            instructions: waiting_instructions(subtask),
        };
        self.shift(SubtaskStatus::Pending, SubtaskStatus::Waiting);
        self.mark_dirty(node);
        let to = Some(SubtaskStatus::Waiting.as_str().to_owned());
        self.push_plan_event("subtaskWaiting", Some(node), Some(SubtaskStatus::Pending), to, Some(message));
        self.push_run_event(kind);
    }

    pub(super) fn on_control(&mut self, control: RunControl) {
        match control {
            RunControl::Complete(completion, reply) => self.on_completion(completion, reply),
            RunControl::Answer(answer, reply) => self.on_answer(answer, reply),
        }
    }

    fn on_completion(&mut self, completion: Completion, reply: oneshot::Sender<Result<(), CompleteError>>) {
        let Some(node) = self.plan.subtasks.iter().position(|subtask| subtask.id == completion.subtask_id) else {
            let _ = reply.send(Err(CompleteError::UnknownSubtask(completion.subtask_id)));
            return;
        };
        if !self.waiting.contains(&node) {
            let status = self.plan.subtasks[node].status;
            let _ = reply.send(Err(CompleteError::NotWaiting { subtask: completion.subtask_id, status }));
            return;
        }
        if let Err(error) = self.plan.subtasks[node].finish_waiting(Self::now(), completion.done, completion.note) {
            tracing::error!(%error, "cannot complete a waiting subtask");
            let _ = reply.send(Err(CompleteError::RunStopping));
            return;
        }
        self.waiting.remove(&node);
        self.batch.replies.push(reply);
        self.record_finished(node, SubtaskStatus::Waiting);
        if completion.done {
            self.queue.mark_done(node);
            return;
        }
        let failed_id = self.plan.subtasks[node].id.clone();
        for dependent in self.queue.mark_failed(node) {
            self.skip(dependent, format!("dependency \"{failed_id}\" failed"));
        }
        if self.config.failure_policy == FailurePolicy::FailFast && self.stop.is_none() {
            self.begin_stop(StopReason::FailFast { failed: failed_id.to_string() });
        }
    }

    /// Cancel and `failFast` end every waiting step (`cancelled`).
    pub(super) fn cancel_waiting(&mut self, reason: &str) {
        for node in std::mem::take(&mut self.waiting) {
            if let Err(error) = self.plan.subtasks[node].cancel(Self::now(), reason.to_owned()) {
                tracing::error!(%error, "cannot cancel a waiting subtask");
            }
            self.queue.mark_failed(node);
            self.record_finished(node, SubtaskStatus::Waiting);
        }
    }

    /// The server is going away (the run is interrupted): the waiting steps are let go of but stay
    /// `waiting` in the store, so `planning/complete` and `planning/retry` work on the stored plan.
    /// Completions that arrived meanwhile are refused (the run is stopping).
    pub(super) fn release_waiting(&mut self) {
        while let Ok(control) = self.controls.try_recv() {
            match control {
                RunControl::Complete(_, reply) => {
                    let _ = reply.send(Err(CompleteError::RunStopping));
                }
                RunControl::Answer(_, reply) => {
                    let _ = reply.send(Err(crate::engine::questions::AnswerRefused::RunStopping));
                }
            }
        }
        for node in std::mem::take(&mut self.waiting) {
            self.queue.mark_failed(node);
        }
    }
}
