//! Steps a person does: how a live run is told that a `waiting` step was completed, and the message that tells the person what to do.
//!
//! A waiting step is not an attempt task: the driver parks it (no slot, no process) and applies
//! the person's answer when it arrives on the run's control channel. This module holds the
//! channel's types; the driver (`driver/waiting.rs`) applies them. It does no I/O.

use tokio::sync::{mpsc, oneshot};

use super::questions::AnswerRefused;
use crate::model::{Answer, Subtask, SubtaskId, SubtaskStatus};

/// The person's answer to a waiting step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub subtask_id: SubtaskId,
    /// `true` = done, `false` = failed.
    pub done: bool,
    /// The result (done) or the reason (failed), as the person wrote it.
    pub note: Option<String>,
}

/// Why a completion was not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompleteError {
    #[error("unknown subtask \"{0}\"")]
    UnknownSubtask(SubtaskId),
    #[error("subtask \"{subtask}\" is {status}, not waiting")]
    NotWaiting { subtask: SubtaskId, status: SubtaskStatus },
    #[error("the run is stopping")]
    RunStopping,
    #[error("storage error: {0}")]
    Storage(String),
}

/// What the orchestrator can tell a live run besides cancel.
pub(crate) enum RunControl {
    Complete(Completion, oneshot::Sender<Result<(), CompleteError>>),
    /// `planning/answer`: an answer to a question an agent of the run waits on.
    Answer(ApprovalReply, oneshot::Sender<Result<(), AnswerRefused>>),
}

/// An answer to an agent's question, from any client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalReply {
    pub subtask_id: SubtaskId,
    pub request_id: String,
    pub answer: Answer,
}

/// The orchestrator's end of a run's control channel. Cheap to clone.
#[derive(Clone)]
pub struct RunControls {
    sender: mpsc::UnboundedSender<RunControl>,
}

impl RunControls {
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<RunControl>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }

    /// Answers an agent's question; resolves once the subtask no longer waits (committed). The
    /// first answer wins: a question already answered is refused.
    pub async fn answer(&self, reply: ApprovalReply) -> Result<(), AnswerRefused> {
        let (sender, answer) = oneshot::channel();
        self.sender.send(RunControl::Answer(reply, sender)).map_err(|_| AnswerRefused::RunStopping)?;
        answer.await.map_err(|_| AnswerRefused::RunStopping)?
    }

    /// Applies the person's answer; resolves once it is committed.
    pub async fn complete(&self, completion: Completion) -> Result<(), CompleteError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send(RunControl::Complete(completion, reply)).map_err(|_| CompleteError::RunStopping)?;
        answer.await.map_err(|_| CompleteError::RunStopping)?
    }
}

/// What the person is asked to do, in plain words: that the step is theirs (and why, when no
/// model is configured), its title and what it involves. No method or setting names, and no
/// word on how to mark it done: each client says that in its own terms.
pub fn waiting_instructions(subtask: &Subtask) -> String {
    let mut instructions = String::new();
    if subtask.agent.needs_model() {
        instructions.push_str("No language model is configured, so this step is yours: ");
    } else {
        instructions.push_str("This step is yours: ");
    }
    let title = subtask.title.trim();
    instructions.push_str(&sentence(title));
    let description = subtask.description.trim();
    if !description.is_empty() && description != title {
        instructions.push(' ');
        instructions.push_str(&sentence(description));
    }
    instructions
}

/// The instructions and how to finish the step, for clients that show only this.
pub fn waiting_message(subtask: &Subtask) -> String {
    format!("{} Mark it done when you have finished, or failed if it cannot be done.", waiting_instructions(subtask))
}

/// `text` as one sentence: whitespace collapsed, ending in exactly one full stop (or its own
/// `!`, `?`, `…`), never "..".
fn sentence(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let bare = collapsed.trim_end_matches(['.', ';', ',', ':']);
    if bare.ends_with(['!', '?', '…']) { bare.to_owned() } else { format!("{bare}.") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AgentKind;

    #[test]
    fn the_instructions_name_the_step_and_say_why_it_waits_in_plain_words() {
        let mut step =
            Subtask::new(SubtaskId::from_raw("s1"), "Implement CSV export in reports.rs".into(), AgentKind::Coder);
        step.description = "Add an export function next to render().".into();
        let instructions = waiting_instructions(&step);
        assert_eq!(
            instructions,
            "No language model is configured, so this step is yours: Implement CSV export in reports.rs. \
             Add an export function next to render()."
        );
        let message = waiting_message(&step);
        assert!(message.starts_with(&instructions), "{message}");
        let manual = Subtask::new(SubtaskId::from_raw("s2"), "Review the diff...".into(), AgentKind::Manual);
        assert_eq!(waiting_instructions(&manual), "This step is yours: Review the diff.");
        for text in [instructions, message, waiting_message(&manual)] {
            for protocol_word in ["planning/", "withoutModel", "agents.", "llm.", "approval.", "..", "complete"] {
                assert!(!text.contains(protocol_word), "{protocol_word:?} in {text:?}");
            }
        }
    }
}
