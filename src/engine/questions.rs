//! The questions a run's agents wait on, and the one place an answer is taken: the first answer
//! wins, whoever gives it — the editor's `window/showMessageRequest` (seen by the agent) or
//! `planning/answer` from any client (through the run's driver). The loser finds the question
//! gone and is told so; the agent then stops waiting for the other.
//!
//! A [`QuestionDesk`] is shared by a run's driver and its attempts (in `AgentIo`); an agent opens
//! a question with [`QuestionDesk::open`] and holds the [`OpenQuestion`] while it waits. No I/O,
//! no store: the driver records the question with the subtask, from the agent's signals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use crate::model::{Answer, SubtaskId};

/// The run's open questions, by request id. Cheap to clone.
#[derive(Clone, Default)]
pub struct QuestionDesk {
    open: Arc<Mutex<HashMap<String, Waiting>>>,
}

struct Waiting {
    subtask_id: SubtaskId,
    reply: oneshot::Sender<Answer>,
}

/// Why an answer was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerRefused {
    /// Never asked, already answered (the first answer won) or no longer waited on.
    #[error("question {0} is not waiting for an answer (already answered, or its step moved on)")]
    NotOpen(String),
    #[error("question {request_id} belongs to subtask {actual}, not {given}")]
    OtherSubtask { request_id: String, actual: SubtaskId, given: SubtaskId },
    #[error("unknown subtask \"{0}\"")]
    UnknownSubtask(SubtaskId),
    #[error("the run is stopping")]
    RunStopping,
    #[error("storage error: {0}")]
    Storage(String),
}

impl QuestionDesk {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Waiting>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens a question of `subtask_id`; it stays open until answered or the handle is dropped.
    pub fn open(&self, subtask_id: SubtaskId, request_id: String) -> OpenQuestion {
        let (reply, answer) = oneshot::channel();
        self.lock().insert(request_id.clone(), Waiting { subtask_id, reply });
        OpenQuestion { desk: self.clone(), request_id, answer }
    }

    /// Answers an open question (`planning/answer`). The first answer wins: a question already
    /// answered is [`AnswerRefused::NotOpen`].
    pub fn answer(&self, subtask_id: &SubtaskId, request_id: &str, answer: Answer) -> Result<(), AnswerRefused> {
        let mut open = self.lock();
        let Some(waiting) = open.get(request_id) else {
            return Err(AnswerRefused::NotOpen(request_id.to_owned()));
        };
        if &waiting.subtask_id != subtask_id {
            return Err(AnswerRefused::OtherSubtask {
                request_id: request_id.to_owned(),
                actual: waiting.subtask_id.clone(),
                given: subtask_id.clone(),
            });
        }
        let Some(waiting) = open.remove(request_id) else { return Err(AnswerRefused::NotOpen(request_id.to_owned())) };
        drop(open);
        // The agent may have stopped waiting (cancelled) just now: then nobody needs the answer.
        let _ = waiting.reply.send(answer);
        Ok(())
    }

    /// Whether the question is still open.
    pub fn is_open(&self, request_id: &str) -> bool {
        self.lock().contains_key(request_id)
    }
}

/// A question an agent waits on. Dropping it withdraws the question.
pub struct OpenQuestion {
    desk: QuestionDesk,
    request_id: String,
    answer: oneshot::Receiver<Answer>,
}

impl OpenQuestion {
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Takes the answer the agent got itself (the editor's): `true` when it is the first, so it
    /// stands; `false` when another answer came first (then [`OpenQuestion::answered`] has it).
    pub fn claim(&self) -> bool {
        self.desk.lock().remove(&self.request_id).is_some()
    }

    /// Resolves with the answer given through the desk (`planning/answer`).
    pub async fn answered(&mut self) -> Option<Answer> {
        (&mut self.answer).await.ok()
    }
}

impl Drop for OpenQuestion {
    fn drop(&mut self) {
        self.desk.lock().remove(&self.request_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_answer_wins_and_the_second_is_refused() {
        let desk = QuestionDesk::new();
        let step = SubtaskId::from_raw("s1");
        let mut question = desk.open(step.clone(), "q1".into());
        assert!(desk.is_open("q1"));
        let other = SubtaskId::from_raw("s2");
        assert!(matches!(desk.answer(&other, "q1", Answer::Deny), Err(AnswerRefused::OtherSubtask { .. })));
        desk.answer(&step, "q1", Answer::AllowForPlan).unwrap();
        assert_eq!(question.answered().await, Some(Answer::AllowForPlan));
        assert!(!question.claim(), "the editor's later answer loses");
        assert_eq!(desk.answer(&step, "q1", Answer::AllowOnce), Err(AnswerRefused::NotOpen("q1".into())));
    }

    #[test]
    fn an_editor_answer_claimed_first_closes_the_question_and_dropping_withdraws_it() {
        let desk = QuestionDesk::new();
        let step = SubtaskId::from_raw("s1");
        let question = desk.open(step.clone(), "q1".into());
        assert!(question.claim());
        assert!(desk.answer(&step, "q1", Answer::Deny).is_err());
        let later = desk.open(step.clone(), "q2".into());
        drop(later);
        assert!(!desk.is_open("q2"));
    }
}
