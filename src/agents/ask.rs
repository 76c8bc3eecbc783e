//! Asking the person about a tool call the policy wants confirmed. The question is kept with the
//! subtask (`pendingApproval`, through the driver) and open on the run's question desk, so any
//! client can answer it with `planning/answer`; it is also put to the editor as
//! `window/showMessageRequest`. The first answer wins, from whichever side; the other is
//! withdrawn (the editor's request is no longer awaited — the bridge cancels it — or the desk's
//! question is closed). A file change's question carries its diff, and the editor's message a
//! `+N −M path` line. The question and its answer, with what "Allow for this plan" covers, go
//! into the transcript.

use super::approval::{ALLOW, ALLOW_FOR_PLAN, Action, DENY, Decision};
use super::record::record;
use super::tools::{Stop, ToolEnv};
use crate::confine::InsidePath;
use crate::diff::{DiffSides, line_counts, unified_diff};
use crate::engine::{ActivityPhase, AgentActivity, AgentSignal};
use crate::model::record::{TranscriptEntry, TranscriptKind, change_line};
use crate::model::{Answer, PendingApproval, Timestamp};

/// Lines of diff a question carries at most.
const MAX_QUESTION_DIFF_LINES: usize = 400;

/// A file change the person is asked about: its path and its content now and after.
pub(crate) struct ChangePreview {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl ChangePreview {
    fn summary(&self) -> String {
        let (added, removed) = line_counts(self.before.as_deref(), self.after.as_deref());
        change_line(&self.path, added, removed)
    }

    fn diff(&self) -> String {
        let sides = DiffSides {
            before_path: &self.path,
            after_path: &self.path,
            before: self.before.as_deref(),
            after: self.after.as_deref(),
        };
        unified_diff(sides, MAX_QUESTION_DIFF_LINES)
    }
}

/// Decides a change of one file (`action` writes or deletes `path`): the policy first; when it
/// wants the person, `propose` computes the content after from the current one (`None`: the file
/// is gone; its error is the tool's, and nothing is asked), and the question carries the diff.
pub(crate) async fn approve_change(
    env: &ToolEnv,
    action: Action,
    path: &InsidePath,
    propose: impl FnOnce(Option<&str>) -> Result<Option<String>, Stop>,
) -> Result<(), Stop> {
    match super::tools::policy(env, &action, None) {
        Decision::Allow => return Ok(()),
        Decision::Deny(reason) => return Err(Stop::Tool(format!("denied: {reason}"))),
        Decision::Confirm => {}
    }
    let label = format!("{}: preview {}", env.agent, path.relative);
    let before = env.writer.read(env.write_context(&label), path).await?.map(|read| read.text);
    let after = propose(before.as_deref())?;
    let preview = ChangePreview { path: path.relative.clone(), before, after };
    super::tools::confirm(env, action, None, Some(preview)).await
}

/// What the action works on: the file or the command.
pub(crate) fn target_of(action: &Action) -> String {
    match action {
        Action::Execute { command } => command.clone(),
        Action::Write { path } | Action::Delete { path } | Action::CreateDirectory { path } => path.clone(),
        Action::Move { from, .. } => from.clone(),
    }
}

/// Asks the person and waits for the first answer (a dismissed message is a denial).
pub(crate) async fn ask_person(
    env: &ToolEnv,
    action: &Action,
    question: String,
    preview: Option<ChangePreview>,
) -> Result<Answer, Stop> {
    let Some(editor) = env.io.editor.clone() else {
        return Err(Stop::Tool(
            "denied: this needs the person's approval and no editor can ask (set approval.tools to \"auto\")"
                .to_owned(),
        ));
    };
    let request_id = ulid::Ulid::new().to_string();
    // The question is stored with the plan and sent to every client: never with the key in it.
    let question = env.redact(question);
    let target = env.redact(target_of(action));
    let kind = action.kind();
    let summary = preview.as_ref().map(ChangePreview::summary);
    let diff = preview.as_ref().map(|preview| env.redact(preview.diff()));
    let mut open = env.io.questions.open(env.origin.subtask_id.clone(), request_id.clone());
    let pending = PendingApproval {
        request_id: request_id.clone(),
        question: question.clone(),
        tool_kind: kind,
        target: target.clone(),
        summary: summary.clone(),
        diff: diff.clone(),
        asked_at: Timestamp::now(),
    };
    env.io.signals.send(AgentSignal::ApprovalAsked(pending));
    let mut asked = TranscriptEntry::new(Timestamp::now(), TranscriptKind::Approval);
    asked.text = Some(match &diff {
        Some(diff) => format!("{question}\n{diff}"),
        None => question.clone(),
    });
    asked.tool_kind = Some(kind);
    asked.target = Some(target.clone());
    asked.outcome = Some("asked".to_owned());
    record(env, asked.clone());
    let activity = AgentActivity {
        agent: env.agent,
        phase: ActivityPhase::WaitingForApproval,
        tool: Some("approval".to_owned()),
        kind: Some(kind),
        target: Some(target.clone()),
        tokens: None,
    };
    env.io.signals.send(AgentSignal::Activity(activity));
    let message = match &summary {
        Some(summary) => format!("{question} ({summary})"),
        None => question.clone(),
    };
    let (answer, by) = {
        let _pause = env.io.clock.pause();
        let actions = vec![ALLOW.to_owned(), ALLOW_FOR_PLAN.to_owned(), DENY.to_owned()];
        tokio::select! {
            chosen = editor.ask(message, actions) => {
                let answer = Answer::parse(chosen.map_err(|cause| {
                    tracing::warn!(%cause, "the editor could not ask; taken as a denial");
                }).ok().flatten().as_deref());
                if open.claim() {
                    (answer, "editor")
                } else {
                    (open.answered().await.unwrap_or(Answer::Deny), "planning/answer")
                }
            }
            answered = open.answered() => (answered.unwrap_or(Answer::Deny), "planning/answer"),
            () = env.io.cancel.cancelled() => return Err(Stop::Cancelled),
        }
    };
    let title = answer.title();
    env.io.signals.send(AgentSignal::ApprovalAnswered {
        request_id,
        question,
        answer,
        answer_text: format!("{title} ({}) from {by}", answer.acp_kind()),
        by: by.to_owned(),
    });
    let scope = match answer {
        Answer::AllowForPlan => format!(", which covers {}", kind.plan_scope()),
        Answer::AllowOnce => ", this call only".to_owned(),
        Answer::Deny => String::new(),
    };
    asked.at = Timestamp::now();
    asked.text = Some(format!("answered \"{title}\"{scope} (from {by})"));
    asked.outcome = Some(answer.acp_kind().to_owned());
    record(env, asked);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_sums_up_and_diffs_the_change() {
        let preview = ChangePreview {
            path: "README.md".into(),
            before: Some("# Demo\n".into()),
            after: Some("# Demo\n\nUsage: run it.\n".into()),
        };
        assert_eq!(preview.summary(), "+2 −0 README.md");
        assert!(preview.diff().contains("+Usage: run it."), "{}", preview.diff());
    }
}
