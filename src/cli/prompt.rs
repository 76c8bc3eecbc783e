//! Steps that wait for a person (`subtaskWaiting`) during a command-line run. In a terminal the
//! person is asked, one step at a time, while the rest of the run goes on: `y` completes the step
//! (its dependents run), `f` fails it (its dependents are skipped), `s` leaves it waiting for now.
//! Each question is shown once; lines printed meanwhile are followed by a short reminder of the
//! keys, not by the question again. Under `--json` or with no terminal on stdin nobody can
//! answer: the step is left waiting (never failed, so `codelab-planner complete` still takes
//! it), the rest of the run goes on, and when nothing else can move the command says how to
//! finish it and exits with a failure code, the plan kept to be resumed.
//!
//! It decides and asks; the answer is applied by `Orchestrator::complete`. It does not show the
//! run (that is `display`) nor handle Ctrl-C (that is the run loop in `run`).

use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal};

use tokio::sync::mpsc;

use super::Cli;
use super::display::Display;
use crate::engine::Completion;
use crate::model::{PlanId, SubtaskId, SubtaskStatus};
use crate::orchestrator::CompleteRequest;

/// One waiting step the person is asked about.
struct Question {
    subtask_id: SubtaskId,
    message: String,
}

/// The person's answer to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Done,
    Failed,
    Later,
    Unclear,
}

fn parse_reply(line: &str) -> Reply {
    match line.trim().to_lowercase().as_str() {
        "y" | "yes" | "d" | "done" => Reply::Done,
        "f" | "failed" | "fail" => Reply::Failed,
        "s" | "skip" | "later" => Reply::Later,
        _ => Reply::Unclear,
    }
}

/// The waiting steps of one run and the person's answers.
pub(crate) struct ManualSteps {
    plan_id: PlanId,
    interactive: bool,
    queue: VecDeque<Question>,
    asking: Option<Question>,
    /// Steps the person left waiting ("skip for now").
    left_waiting: Vec<SubtaskId>,
    lines: Option<mpsc::UnboundedReceiver<String>>,
}

impl ManualSteps {
    pub fn new(plan_id: PlanId, json: bool) -> Self {
        let interactive = !json && std::io::stdin().is_terminal();
        Self { plan_id, interactive, queue: VecDeque::new(), asking: None, left_waiting: Vec::new(), lines: None }
    }

    /// Whether the person can be asked (a terminal on stdin, no `--json`).
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// Whether a question is on the terminal (the run loop then waits for [`Self::next_line`]).
    pub fn asking(&self) -> bool {
        self.asking.is_some()
    }

    /// The next line the person typed; `None` at the end of input.
    pub async fn next_line(&mut self) -> Option<String> {
        match self.lines.as_mut() {
            Some(lines) => lines.recv().await,
            None => std::future::pending().await,
        }
    }

    /// A step went `waiting`: ask about it, or leave it waiting when nobody can answer (the
    /// display has already said what it needs).
    pub fn waiting(&mut self, display: &mut Display, subtask_id: SubtaskId, instructions: String) {
        if !self.interactive {
            self.left_waiting.push(subtask_id);
            return;
        }
        self.queue.push_back(Question { subtask_id, message: instructions });
        self.ask_next(display);
    }

    /// Applies a line the person typed (or the end of input) to the question on the terminal.
    pub async fn answer(&mut self, cli: &Cli, display: &mut Display, line: Option<String>) {
        let Some(question) = self.asking.take() else { return };
        display.resume();
        let Some(line) = line else {
            // The terminal closed: nobody will answer; everything asked stays waiting.
            self.lines = None;
            self.interactive = false;
            self.left_waiting.push(question.subtask_id);
            self.left_waiting.extend(self.queue.drain(..).map(|question| question.subtask_id));
            return;
        };
        match parse_reply(&line) {
            Reply::Done => self.complete(cli, display, question.subtask_id, true, None).await,
            Reply::Failed => {
                let reason = Some("marked failed at the terminal".to_owned());
                self.complete(cli, display, question.subtask_id, false, reason).await;
            }
            Reply::Later => {
                display.note(&format!("⏸ {}  left waiting for now", question.subtask_id));
                self.left_waiting.push(question.subtask_id);
            }
            Reply::Unclear => self.queue.push_front(question),
        }
        self.ask_next(display);
    }

    fn ask_next(&mut self, display: &mut Display) {
        if self.asking.is_some() {
            return;
        }
        let Some(question) = self.queue.pop_front() else { return };
        display.pause(
            format!("⏸ {}  {} — done? [y]es / [f]ailed / [s]kip for now ", question.subtask_id, question.message),
            format!("{}: [y/f/s] ", question.subtask_id),
        );
        if self.lines.is_none() {
            self.lines = Some(read_lines());
        }
        self.asking = Some(question);
    }

    async fn complete(&self, cli: &Cli, display: &Display, subtask_id: SubtaskId, done: bool, note: Option<String>) {
        let completion = Completion { subtask_id: subtask_id.clone(), done, note };
        let request = CompleteRequest { plan_id: self.plan_id.clone(), completion };
        if let Err(failure) = cli.orchestrator.complete(request).await {
            display.note(&format!("! {subtask_id}: cannot record the answer: {failure}"));
        }
    }

    /// When the person left steps waiting and nothing else can run any more (nothing running, no
    /// pending step whose dependencies are all done, nothing left to ask), the steps left
    /// waiting; the run loop then stops watching and the plan is kept (`interrupted` at exit).
    pub async fn stuck(&self, cli: &Cli) -> Option<Vec<SubtaskId>> {
        if self.left_waiting.is_empty() || self.asking.is_some() || !self.queue.is_empty() {
            return None;
        }
        let plan = cli.orchestrator.get(self.plan_id.clone()).await.ok()?;
        let status_of =
            |id: &SubtaskId| plan.subtasks.iter().find(|subtask| &subtask.id == id).map(|subtask| subtask.status);
        let can_move = plan.subtasks.iter().any(|subtask| match subtask.status {
            SubtaskStatus::Running => true,
            SubtaskStatus::Pending => subtask.depends_on.iter().all(|id| status_of(id) == Some(SubtaskStatus::Done)),
            _ => false,
        });
        (!can_move).then(|| self.left_waiting.clone())
    }
}

/// Lines from stdin, read on a thread of their own (a read cannot be cancelled; the process
/// exits with `std::process::exit`, so a thread still reading does not hold it up).
fn read_lines() -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if sender.send(line).is_err() => break,
                Ok(_) => {}
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_by_their_first_letter_or_word() {
        assert_eq!(parse_reply("y\n"), Reply::Done);
        assert_eq!(parse_reply(" Yes "), Reply::Done);
        assert_eq!(parse_reply("f"), Reply::Failed);
        assert_eq!(parse_reply("s"), Reply::Later);
        assert_eq!(parse_reply("maybe"), Reply::Unclear);
        assert_eq!(parse_reply(""), Reply::Unclear);
    }
}
