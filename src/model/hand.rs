//! Work done by hand — by a person or an agent outside the planner: which steps can be taken now
//! (`next`), who holds one ([`Claim`]), and the guards that finish a step by hand and, when every
//! step of a plan nobody runs is finished, the plan.
//!
//! Which steps are ready, precisely:
//! - a `running` or `interrupted` plan: its `waiting` steps (the run reached them and waits for a
//!   person);
//! - an `approved` plan (no run drives it): its `pending` steps whose dependencies are all `done`;
//! - any other plan: none (a draft needs approval; a finished plan is finished).
//!
//! No I/O; callers pass `now`.

use super::ids::{SubtaskId, Timestamp};
use super::plan::{GuardError, Plan, Subtask};
use super::status::{PlanStatus, SubtaskStatus};
use crate::graph::DependencyGraph;

/// A step handed to one claimant (an MCP client, an agent) until `expires_at`: nobody else is
/// handed it meanwhile. Finishing the step ends the claim; so does the lease running out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub subtask_id: SubtaskId,
    pub claimant: String,
    pub claimed_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Claim {
    /// Whether the claim still holds at `now`.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

impl Plan {
    /// The steps a person or an outside agent can take now, in plan order (see the module doc).
    pub fn ready_by_hand(&self) -> Vec<&Subtask> {
        match self.status {
            PlanStatus::Running | PlanStatus::Interrupted => {
                self.subtasks.iter().filter(|subtask| subtask.status == SubtaskStatus::Waiting).collect()
            }
            PlanStatus::Approved => self
                .subtasks
                .iter()
                .filter(|subtask| subtask.status == SubtaskStatus::Pending && self.dependencies_done(subtask))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether every dependency of `subtask` is `done`.
    pub fn dependencies_done(&self, subtask: &Subtask) -> bool {
        subtask
            .depends_on
            .iter()
            .all(|dependency| self.subtask(dependency).is_some_and(|found| found.status == SubtaskStatus::Done))
    }

    /// Finishes a ready step of an `approved` plan by hand: `done` (its dependents may become
    /// ready) or `failed` (its pending dependents are `skipped`). Returns the ids of every subtask
    /// it changed, the step first. When every step is then finished the plan ends too: see
    /// [`Plan::end_if_finished_by_hand`].
    pub fn finish_step_by_hand(
        &mut self,
        now: Timestamp,
        subtask_id: &SubtaskId,
        done: bool,
        note: Option<String>,
    ) -> Result<Vec<SubtaskId>, GuardError> {
        if self.status != PlanStatus::Approved {
            return Err(GuardError::PlanState {
                action: "complete a step of",
                status: self.status,
                allowed: self.allowed_actions(),
            });
        }
        let Some(position) = self.subtasks.iter().position(|subtask| &subtask.id == subtask_id) else {
            return Ok(Vec::new());
        };
        let waiting_for: Vec<SubtaskId> = self.subtasks[position]
            .depends_on
            .iter()
            .filter(|dependency| self.subtask(dependency).is_none_or(|found| found.status != SubtaskStatus::Done))
            .cloned()
            .collect();
        if !waiting_for.is_empty() {
            return Err(GuardError::DependenciesNotDone { subtask: subtask_id.clone(), waiting_for });
        }
        self.subtasks[position].finish_by_hand(now, done, note)?;
        let mut changed = vec![subtask_id.clone()];
        if !done {
            let graph = DependencyGraph::build(&self.subtasks).map_err(|_| self.subtasks[position].refuse("fail"))?;
            let reason = format!("dependency \"{subtask_id}\" failed");
            for dependent in graph.transitive_dependents(position) {
                let subtask = &mut self.subtasks[dependent];
                if subtask.status == SubtaskStatus::Pending && subtask.skip(now, reason.clone()).is_ok() {
                    changed.push(subtask.id.clone());
                }
            }
        }
        self.updated_at = now;
        Ok(changed)
    }

    /// An `approved` plan whose steps are all finished (by hand) ends: `completed` when every
    /// one is done, else `failed`. Returns the new status, `None` when it is not finished.
    pub fn end_if_finished_by_hand(&mut self, now: Timestamp) -> Option<PlanStatus> {
        let progress = self.progress();
        if self.status != PlanStatus::Approved || progress.total == 0 || progress.finished() != progress.total {
            return None;
        }
        let status = if progress.done == progress.total { PlanStatus::Completed } else { PlanStatus::Failed };
        self.error = (status == PlanStatus::Failed).then(|| {
            format!("{} of {} subtasks failed, {} skipped", progress.failed, progress.total, progress.skipped)
        });
        self.started_at =
            self.started_at.or_else(|| self.subtasks.iter().filter_map(|subtask| subtask.started_at).min());
        self.status = status;
        self.finished_at = Some(now);
        self.updated_at = now;
        Some(status)
    }
}

impl Subtask {
    /// A person's (or an outside agent's) answer for a step nobody runs: `pending` or `waiting` →
    /// `done` (the note, if any, is the result) or `failed` (the note is the error). A pending
    /// step counts one attempt.
    pub fn finish_by_hand(&mut self, now: Timestamp, done: bool, note: Option<String>) -> Result<(), GuardError> {
        match self.status {
            SubtaskStatus::Waiting => self.finish_waiting(now, done, note),
            SubtaskStatus::Pending => {
                self.attempts += 1;
                self.started_at = Some(now);
                self.status = SubtaskStatus::Waiting;
                self.finish_waiting(now, done, note)
            }
            _ => Err(self.refuse("complete")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentKind, SessionId};

    fn step(id: &str, after: &[&str]) -> Subtask {
        let mut subtask = Subtask::new(SubtaskId::from_raw(id), format!("step {id}"), AgentKind::Manual);
        subtask.depends_on = after.iter().map(|id| SubtaskId::from_raw(*id)).collect();
        subtask
    }

    /// a → b → d, a → c: approved.
    fn approved() -> Plan {
        let subtasks = vec![step("a", &[]), step("b", &["a"]), step("c", &["a"]), step("d", &["b"])];
        let mut plan =
            Plan::new_draft(SessionId::from_raw("s"), "t".into(), "g".into(), subtasks, Timestamp::from_millis(0));
        plan.approve(Timestamp::from_millis(1)).unwrap();
        plan
    }

    fn ids(subtasks: &[&Subtask]) -> Vec<String> {
        subtasks.iter().map(|subtask| subtask.id.to_string()).collect()
    }

    #[test]
    fn an_approved_plan_is_worked_through_step_by_step_to_completed() {
        let mut plan = approved();
        assert_eq!(ids(&plan.ready_by_hand()), ["a"]);
        let a = SubtaskId::from_raw("a");
        assert_eq!(plan.finish_step_by_hand(Timestamp::from_millis(5), &a, true, None).unwrap(), [a]);
        assert_eq!(ids(&plan.ready_by_hand()), ["b", "c"]);
        let refused = plan.finish_step_by_hand(Timestamp::from_millis(6), &SubtaskId::from_raw("d"), true, None);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "cannot complete subtask \"d\" before its dependencies: b not done"
        );
        for id in ["b", "c", "d"] {
            plan.finish_step_by_hand(Timestamp::from_millis(7), &SubtaskId::from_raw(id), true, None).unwrap();
            assert_eq!(plan.status, PlanStatus::Approved);
        }
        assert_eq!(plan.end_if_finished_by_hand(Timestamp::from_millis(9)), Some(PlanStatus::Completed));
        assert_eq!(
            (plan.started_at, plan.finished_at),
            (Some(Timestamp::from_millis(5)), Some(Timestamp::from_millis(9)))
        );
        assert_eq!(plan.subtasks[0].attempts, 1);
        assert!(plan.ready_by_hand().is_empty());
    }

    #[test]
    fn a_failed_step_skips_what_depends_on_it_and_the_plan_fails() {
        let mut plan = approved();
        plan.finish_step_by_hand(Timestamp::from_millis(2), &SubtaskId::from_raw("a"), true, None).unwrap();
        let b = SubtaskId::from_raw("b");
        let changed = plan.finish_step_by_hand(Timestamp::from_millis(3), &b, false, Some("broke".into())).unwrap();
        assert_eq!(changed, [b.clone(), SubtaskId::from_raw("d")]);
        assert_eq!(plan.subtasks[3].status, SubtaskStatus::Skipped);
        assert_eq!(plan.end_if_finished_by_hand(Timestamp::from_millis(4)), None, "c is still pending");
        plan.finish_step_by_hand(Timestamp::from_millis(5), &SubtaskId::from_raw("c"), true, None).unwrap();
        assert_eq!(plan.end_if_finished_by_hand(Timestamp::from_millis(6)), Some(PlanStatus::Failed));
        assert_eq!(plan.error.as_deref(), Some("1 of 4 subtasks failed, 1 skipped"));
    }

    #[test]
    fn a_running_plan_hands_out_its_waiting_steps_and_a_draft_nothing() {
        let mut plan = approved();
        plan.subtasks[0].status = SubtaskStatus::Done;
        plan.subtasks[1].status = SubtaskStatus::Waiting;
        plan.status = PlanStatus::Running;
        assert_eq!(ids(&plan.ready_by_hand()), ["b"]);
        let refused = plan.finish_step_by_hand(Timestamp::from_millis(2), &SubtaskId::from_raw("c"), true, None);
        assert!(matches!(refused, Err(GuardError::PlanState { .. })));
        plan.status = PlanStatus::Draft;
        assert!(plan.ready_by_hand().is_empty());
        let claim = Claim {
            subtask_id: SubtaskId::from_raw("b"),
            claimant: "agent".into(),
            claimed_at: Timestamp::from_millis(0),
            expires_at: Timestamp::from_millis(10),
        };
        assert!(claim.holds_at(Timestamp::from_millis(9)) && !claim.holds_at(Timestamp::from_millis(10)));
    }
}
