//! `Plan` and `Subtask` with their guards: every status change goes through a method here that
//! checks the transition and returns a typed [`GuardError`] when it is not allowed.
//!
//! This module does no I/O and reads no clock: callers pass `now`.

use super::ids::{PlanId, RunId, SessionId, SubtaskId, Timestamp};
use super::status::{AgentKind, Classification, PlanStatus, PlannerKind, SubtaskRole, SubtaskStatus};
use super::usage::Usage;

/// A refused transition: what was attempted, from which status, and what would have been allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("cannot {action} a plan that is {status}")]
    PlanState { action: &'static str, status: PlanStatus, allowed: Vec<&'static str> },
    #[error("cannot approve a plan without subtasks")]
    EmptyPlan,
    #[error("cannot {action} subtask \"{subtask}\" while it is {status}")]
    SubtaskState { action: &'static str, subtask: SubtaskId, status: SubtaskStatus },
    #[error("cannot complete subtask \"{subtask}\" before its dependencies: {} not done", join_ids(.waiting_for))]
    DependenciesNotDone { subtask: SubtaskId, waiting_for: Vec<SubtaskId> },
}

fn join_ids(ids: &[SubtaskId]) -> String {
    ids.iter().map(SubtaskId::as_str).collect::<Vec<_>>().join(", ")
}

/// One unit of work in a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subtask {
    pub id: SubtaskId,
    pub title: String,
    pub description: String,
    pub agent: AgentKind,
    /// `baseline`: a check run before the change; its failure is its result, never the plan's.
    pub role: SubtaskRole,
    /// Required for `shell`, absent for the others (enforced by validation).
    pub command: Option<String>,
    /// Where a `shell` command runs, relative to the workspace root (validated to stay inside it);
    /// `None` = the root. Lets a monorepo's steps run in each project's own directory.
    pub cwd: Option<String>,
    pub depends_on: Vec<SubtaskId>,
    pub status: SubtaskStatus,
    /// Attempts started so far (across runs; reset by a manual retry of this subtask).
    pub attempts: u32,
    pub max_attempts: u32,
    pub timeout_secs: Option<u64>,
    /// Planner's estimate, for display and the plan total.
    pub estimate_secs: Option<u64>,
    pub result: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Language-model tokens spent on this subtask, over every attempt (zero for shell steps).
    pub usage: Usage,
    /// The question its agent waits on, while it waits (kept with the subtask, so every client
    /// sees it).
    pub pending_approval: Option<super::PendingApproval>,
    /// The files its agents changed (filled when read from the store; never written with it).
    pub changes: Option<super::ChangeSummary>,
}

impl Subtask {
    /// A fresh pending subtask with the agent's default attempts and timeout.
    pub fn new(id: SubtaskId, title: String, agent: AgentKind) -> Self {
        Self {
            id,
            title,
            description: String::new(),
            agent,
            role: SubtaskRole::Step,
            command: None,
            cwd: None,
            depends_on: Vec::new(),
            status: SubtaskStatus::Pending,
            attempts: 0,
            max_attempts: agent.default_max_attempts(),
            timeout_secs: agent.default_timeout_secs(),
            estimate_secs: None,
            result: None,
            error: None,
            started_at: None,
            finished_at: None,
            usage: Usage::default(),
            pending_approval: None,
            changes: None,
        }
    }

    /// A check run before the change, to compare against (see [`SubtaskRole::Baseline`]).
    pub fn is_baseline(&self) -> bool {
        self.role == SubtaskRole::Baseline
    }

    pub(super) fn refuse(&self, action: &'static str) -> GuardError {
        GuardError::SubtaskState { action, subtask: self.id.clone(), status: self.status }
    }

    /// Starts an attempt: only from `pending`, or from `failed` when retried.
    pub fn start(&mut self, now: Timestamp) -> Result<(), GuardError> {
        if !matches!(self.status, SubtaskStatus::Pending | SubtaskStatus::Failed) {
            return Err(self.refuse("start"));
        }
        self.status = SubtaskStatus::Running;
        self.attempts += 1;
        self.error = None;
        self.started_at = Some(now);
        self.finished_at = None;
        Ok(())
    }

    /// Records an attempt that failed but will be retried: stays `running`, keeps the error.
    pub fn note_attempt_failed(&mut self, error: String) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Running {
            return Err(self.refuse("retry"));
        }
        self.error = Some(error);
        Ok(())
    }

    /// Begins the next attempt of a running subtask after a retryable failure.
    pub fn begin_next_attempt(&mut self) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Running {
            return Err(self.refuse("retry"));
        }
        self.attempts += 1;
        Ok(())
    }

    pub fn complete(&mut self, now: Timestamp, result: String) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Running {
            return Err(self.refuse("complete"));
        }
        self.status = SubtaskStatus::Done;
        self.result = Some(result);
        self.error = None;
        self.finished_at = Some(now);
        Ok(())
    }

    /// Fails for good (attempts exhausted or not retryable). `result` keeps any partial output.
    pub fn fail(&mut self, now: Timestamp, error: String, partial_result: Option<String>) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Running {
            return Err(self.refuse("fail"));
        }
        self.status = SubtaskStatus::Failed;
        self.error = Some(error);
        if partial_result.is_some() {
            self.result = partial_result;
        }
        self.finished_at = Some(now);
        Ok(())
    }

    /// Not run because a dependency failed or was skipped: only from `pending`.
    pub fn skip(&mut self, now: Timestamp, reason: String) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Pending {
            return Err(self.refuse("skip"));
        }
        self.status = SubtaskStatus::Skipped;
        self.error = Some(reason);
        self.finished_at = Some(now);
        Ok(())
    }

    /// The run reached a step a person does: `pending` → `waiting` (counts as an attempt).
    pub fn wait_for_person(&mut self, now: Timestamp) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Pending {
            return Err(self.refuse("wait for"));
        }
        self.status = SubtaskStatus::Waiting;
        self.attempts += 1;
        self.error = None;
        self.started_at = Some(now);
        self.finished_at = None;
        Ok(())
    }

    /// The person's answer to a `waiting` step: `done` (with an optional note as the result) or
    /// `failed` (the note becomes the error).
    pub fn finish_waiting(&mut self, now: Timestamp, done: bool, note: Option<String>) -> Result<(), GuardError> {
        if self.status != SubtaskStatus::Waiting {
            return Err(self.refuse("complete"));
        }
        if done {
            self.status = SubtaskStatus::Done;
            self.result = Some(note.unwrap_or_else(|| "done by hand".to_owned()));
            self.error = None;
        } else {
            self.status = SubtaskStatus::Failed;
            self.error = Some(note.unwrap_or_else(|| "marked failed by hand".to_owned()));
        }
        self.finished_at = Some(now);
        Ok(())
    }

    /// Cancelled by the user or by `failFast`: from `pending`, `running` or `waiting`.
    pub fn cancel(&mut self, now: Timestamp, reason: String) -> Result<(), GuardError> {
        if !matches!(self.status, SubtaskStatus::Pending | SubtaskStatus::Running | SubtaskStatus::Waiting) {
            return Err(self.refuse("cancel"));
        }
        self.status = SubtaskStatus::Cancelled;
        self.error = Some(reason);
        self.finished_at = Some(now);
        Ok(())
    }

    /// A baseline that can no longer run before the change: `done`, saying so.
    fn close_unrun_baseline(&mut self, now: Timestamp) {
        self.status = SubtaskStatus::Done;
        self.result = Some(super::check::CheckOutcome::NotRun.baseline_verdict());
        self.error = None;
        self.finished_at = Some(now);
    }

    /// Puts a subtask back to `pending` for a new run (retry/resume). Clears the run's outputs.
    /// `reset_attempts` is true for a subtask the user asked to retry by name.
    pub fn reset_for_rerun(&mut self, reset_attempts: bool) {
        self.status = SubtaskStatus::Pending;
        self.result = None;
        self.error = None;
        self.started_at = None;
        self.finished_at = None;
        if reset_attempts {
            self.attempts = 0;
        }
    }
}

/// Counts of subtasks by status. `percentage` = finished / total × 100, rounded down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: u32,
    pub pending: u32,
    pub running: u32,
    pub done: u32,
    pub failed: u32,
    pub skipped: u32,
    pub cancelled: u32,
    /// Reached by the run and waiting for a person.
    pub waiting: u32,
}

impl Progress {
    pub fn of(statuses: impl IntoIterator<Item = SubtaskStatus>) -> Self {
        let mut progress = Progress::default();
        for status in statuses {
            progress.add(status, 1);
        }
        progress
    }

    /// The counter of one status.
    fn count_mut(&mut self, status: SubtaskStatus) -> &mut u32 {
        match status {
            SubtaskStatus::Pending => &mut self.pending,
            SubtaskStatus::Running => &mut self.running,
            SubtaskStatus::Done => &mut self.done,
            SubtaskStatus::Failed => &mut self.failed,
            SubtaskStatus::Skipped => &mut self.skipped,
            SubtaskStatus::Cancelled => &mut self.cancelled,
            SubtaskStatus::Waiting => &mut self.waiting,
        }
    }

    /// Counts `count` more subtasks in `status`.
    pub fn add(&mut self, status: SubtaskStatus, count: u32) {
        self.total += count;
        *self.count_mut(status) += count;
    }

    /// One subtask moved from `from` to `to`.
    pub fn shift(&mut self, from: SubtaskStatus, to: SubtaskStatus) {
        let from_count = self.count_mut(from);
        *from_count = from_count.saturating_sub(1);
        *self.count_mut(to) += 1;
    }

    pub fn finished(&self) -> u32 {
        self.done + self.failed + self.skipped + self.cancelled
    }

    pub fn percentage(&self) -> u32 {
        (self.finished() * 100).checked_div(self.total).unwrap_or(0)
    }
}

/// A plan: a goal, an ordered list of subtasks with dependencies, and its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: PlanId,
    pub session_id: SessionId,
    pub title: String,
    pub goal: String,
    pub status: PlanStatus,
    /// Increases on every edit of the title or the subtask list.
    pub version: u64,
    pub classification: Option<Classification>,
    pub subtasks: Vec<Subtask>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub approved_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
    /// The current or last run.
    pub run_id: Option<RunId>,
    /// Feedback given with the last reject or revise.
    pub feedback: Option<String>,
    /// The plan file it was made from (`*.plan.toml`), as given when it was created.
    pub source_file: Option<String>,
    /// Who wrote the current subtasks.
    pub planner: PlannerKind,
    /// Why the language model's plan was not used, when it was not.
    pub planner_note: Option<String>,
    /// Tokens the language model spent classifying and planning this plan (all versions).
    pub planning_usage: Usage,
}

impl Plan {
    /// A new draft at version 1.
    pub fn new_draft(
        session_id: SessionId,
        title: String,
        goal: String,
        subtasks: Vec<Subtask>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: PlanId::generate(),
            session_id,
            title,
            goal,
            status: PlanStatus::Draft,
            version: 1,
            classification: None,
            subtasks,
            created_at: now,
            updated_at: now,
            approved_at: None,
            started_at: None,
            finished_at: None,
            error: None,
            run_id: None,
            feedback: None,
            source_file: None,
            planner: PlannerKind::Template,
            planner_note: None,
            planning_usage: Usage::default(),
        }
    }

    pub fn progress(&self) -> Progress {
        Progress::of(self.subtasks.iter().map(|subtask| subtask.status))
    }

    /// Tokens spent on the plan: planning and every subtask, rolled up.
    pub fn usage(&self) -> Usage {
        let mut total = self.planning_usage;
        for subtask in &self.subtasks {
            total.add(subtask.usage);
        }
        total
    }

    pub fn subtask(&self, id: &SubtaskId) -> Option<&Subtask> {
        self.subtasks.iter().find(|subtask| &subtask.id == id)
    }

    pub fn subtask_mut(&mut self, id: &SubtaskId) -> Option<&mut Subtask> {
        self.subtasks.iter_mut().find(|subtask| &subtask.id == id)
    }

    /// How the baselines compare with the final checks ("before: 1 failing · after: all
    /// passing"); `None` without a baseline. See [`super::check::summary`].
    pub fn check_summary(&self) -> Option<String> {
        super::check::summary(self)
    }

    /// Sum of the subtasks' estimates, in seconds.
    pub fn estimate_secs(&self) -> u64 {
        self.subtasks.iter().filter_map(|subtask| subtask.estimate_secs).sum()
    }

    /// The user actions that make sense in the current status (for `invalidState.allowed`).
    pub fn allowed_actions(&self) -> Vec<&'static str> {
        self.status.allowed_actions()
    }

    pub(super) fn refuse(&self, action: &'static str) -> GuardError {
        GuardError::PlanState { action, status: self.status, allowed: self.allowed_actions() }
    }

    /// Only a draft can be edited (title, subtasks, revise).
    pub fn ensure_editable(&self) -> Result<(), GuardError> {
        if self.status == PlanStatus::Draft { Ok(()) } else { Err(self.refuse("edit")) }
    }

    /// Replaces the title and/or subtasks of a draft; `version` + 1.
    pub fn edit(
        &mut self,
        now: Timestamp,
        title: Option<String>,
        subtasks: Option<Vec<Subtask>>,
    ) -> Result<(), GuardError> {
        self.ensure_editable()?;
        if let Some(title) = title {
            self.title = title;
        }
        if let Some(subtasks) = subtasks {
            self.subtasks = subtasks;
        }
        self.version += 1;
        self.updated_at = now;
        Ok(())
    }

    /// draft → approved, only with at least one subtask.
    pub fn approve(&mut self, now: Timestamp) -> Result<(), GuardError> {
        if self.status != PlanStatus::Draft {
            return Err(self.refuse("approve"));
        }
        if self.subtasks.is_empty() {
            return Err(GuardError::EmptyPlan);
        }
        self.status = PlanStatus::Approved;
        self.approved_at = Some(now);
        self.updated_at = now;
        Ok(())
    }

    /// draft → rejected.
    pub fn reject(&mut self, now: Timestamp, feedback: Option<String>) -> Result<(), GuardError> {
        if self.status != PlanStatus::Draft {
            return Err(self.refuse("reject"));
        }
        self.status = PlanStatus::Rejected;
        self.feedback = feedback;
        self.updated_at = now;
        Ok(())
    }

    /// approved → running (a first run).
    pub fn start_run(&mut self, now: Timestamp, run_id: RunId) -> Result<(), GuardError> {
        if self.status != PlanStatus::Approved {
            return Err(self.refuse("execute"));
        }
        self.begin_running(now, run_id);
        Ok(())
    }

    /// failed | cancelled | interrupted → running, with the chosen subtasks (or every one that is
    /// not done) and their transitive dependents back to `pending`. `rerun` lists what to reset.
    /// A baseline is never run again after the change: once any other step has started, a
    /// baseline in `rerun` that is done stays done, and one that never finished is closed as
    /// `done` with "not run before the change" (its dependents may still run).
    pub fn start_retry(
        &mut self,
        now: Timestamp,
        run_id: RunId,
        rerun: &[SubtaskId],
        named_by_user: bool,
    ) -> Result<(), GuardError> {
        if !matches!(self.status, PlanStatus::Failed | PlanStatus::Cancelled | PlanStatus::Interrupted) {
            return Err(self.refuse("retry"));
        }
        let changed = self.subtasks.iter().any(|subtask| {
            !subtask.is_baseline()
                && (subtask.attempts > 0
                    || matches!(subtask.status, SubtaskStatus::Done | SubtaskStatus::Failed | SubtaskStatus::Waiting))
        });
        for subtask in &mut self.subtasks {
            if !rerun.contains(&subtask.id) {
                continue;
            }
            if subtask.is_baseline() && changed {
                if subtask.status != SubtaskStatus::Done {
                    subtask.close_unrun_baseline(now);
                }
                continue;
            }
            subtask.reset_for_rerun(named_by_user);
        }
        self.begin_running(now, run_id);
        Ok(())
    }

    fn begin_running(&mut self, now: Timestamp, run_id: RunId) {
        self.status = PlanStatus::Running;
        self.started_at = Some(now);
        self.finished_at = None;
        self.error = None;
        self.run_id = Some(run_id);
        self.updated_at = now;
    }

    /// running → completed | failed | cancelled, derived from the subtasks: `completed` only if
    /// every subtask is done; `cancelled` when `cancelled` is set; otherwise `failed`.
    pub fn finish_run(&mut self, now: Timestamp, cancelled: bool) -> Result<PlanStatus, GuardError> {
        if self.status != PlanStatus::Running {
            return Err(self.refuse("finish"));
        }
        let progress = self.progress();
        let status = if cancelled {
            PlanStatus::Cancelled
        } else if progress.done == progress.total {
            PlanStatus::Completed
        } else {
            PlanStatus::Failed
        };
        self.error = match status {
            PlanStatus::Completed => None,
            PlanStatus::Cancelled => Some("cancelled".to_owned()),
            _ => {
                Some(format!("{} of {} subtasks failed, {} skipped", progress.failed, progress.total, progress.skipped))
            }
        };
        self.status = status;
        self.finished_at = Some(now);
        self.updated_at = now;
        Ok(status)
    }

    /// running → interrupted (found running after a crash, or the server shut down); running
    /// subtasks go back to pending. A `waiting` subtask stays `waiting`: the person can still
    /// complete it, and `planning/retry` resumes the plan.
    pub fn interrupt(&mut self, now: Timestamp) -> Vec<SubtaskId> {
        let mut reset = Vec::new();
        if self.status == PlanStatus::Running {
            self.status = PlanStatus::Interrupted;
            self.updated_at = now;
            self.error = Some("the server stopped while the plan was running".to_owned());
            for subtask in &mut self.subtasks {
                if subtask.status == SubtaskStatus::Running {
                    subtask.status = SubtaskStatus::Pending;
                    subtask.started_at = None;
                    // Its agent is gone: nobody waits for an answer any more.
                    subtask.pending_approval = None;
                    reset.push(subtask.id.clone());
                }
            }
        }
        reset
    }
}
