//! The pure ready-queue of a run (cargo's `dependency_queue` shape): which subtasks may start
//! now, which become ready when one finishes, and which must be skipped when one fails.
//!
//! Synchronous and deterministic: no I/O, no clock, no async. Nodes are subtask positions in
//! the plan; plan order is the tie-break everywhere. The edges come from
//! [`DependencyGraph`], which also refuses a graph that cannot be scheduled (a cycle, an unknown
//! id) — plans that reach the engine were validated, but the queue does not rely on it.

use std::collections::BTreeSet;

use crate::graph::{DependencyGraph, GraphError};
use crate::model::{Subtask, SubtaskStatus};

/// Where one node stands within this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    /// Pending, with this many dependencies not yet done.
    Waiting(usize),
    /// Pending with every dependency done; not started.
    Ready,
    Running,
    /// Started and waiting for a person: unfinished, but holds no slot.
    Parked,
    Done,
    /// Failed, skipped or cancelled in this run, or left so by an earlier one: blocks dependents.
    Blocked,
}

/// The ready-queue over one plan's subtasks.
#[derive(Debug, Clone)]
pub struct ReadyQueue {
    states: Vec<NodeState>,
    graph: DependencyGraph,
    ready: BTreeSet<usize>,
    running: usize,
    /// Nodes waiting, ready or running.
    unfinished: usize,
    /// Pending nodes that can never run because a dependency was already blocked at build time,
    /// each with the position of the blocking dependency.
    initially_blocked: Vec<(usize, usize)>,
}

impl ReadyQueue {
    /// Builds the queue from the subtasks' current statuses: `done` counts as satisfied,
    /// `pending` is to run, anything else blocks its dependents (they are reported by
    /// [`ReadyQueue::take_initially_blocked`]). Fails when the dependencies do not form a DAG.
    pub fn new(subtasks: &[Subtask]) -> Result<Self, Vec<GraphError>> {
        Ok(Self::with_graph(subtasks, DependencyGraph::build(subtasks)?))
    }

    /// A queue for subtasks whose dependency graph is unusable: no edges, so that the caller can
    /// withdraw every pending subtask with [`ReadyQueue::cancel_pending`] and say why.
    pub fn unschedulable(subtasks: &[Subtask]) -> Self {
        Self::with_graph(subtasks, DependencyGraph::without_edges(subtasks.len()))
    }

    fn with_graph(subtasks: &[Subtask], graph: DependencyGraph) -> Self {
        let states = subtasks
            .iter()
            .enumerate()
            .map(|(node, subtask)| match subtask.status {
                SubtaskStatus::Done => NodeState::Done,
                SubtaskStatus::Pending => {
                    let open =
                        graph.dependencies(node).iter().filter(|&&d| subtasks[d].status != SubtaskStatus::Done).count();
                    if open == 0 { NodeState::Ready } else { NodeState::Waiting(open) }
                }
                _ => NodeState::Blocked,
            })
            .collect();
        let mut queue =
            Self { states, graph, ready: BTreeSet::new(), running: 0, unfinished: 0, initially_blocked: Vec::new() };
        queue.block_dependents_of_initially_blocked();
        queue.ready = (0..queue.states.len()).filter(|&node| queue.states[node] == NodeState::Ready).collect();
        queue.unfinished = (0..queue.states.len()).filter(|&node| queue.is_unstarted(node)).count();
        queue
    }

    fn block_dependents_of_initially_blocked(&mut self) {
        let blocked_roots: Vec<usize> =
            (0..self.states.len()).filter(|&node| self.states[node] == NodeState::Blocked).collect();
        let mut blocked_by: Vec<Option<usize>> = vec![None; self.states.len()];
        for root in blocked_roots {
            for dependent in self.graph.transitive_dependents(root) {
                if self.is_unstarted(dependent) && blocked_by[dependent].is_none() {
                    blocked_by[dependent] = Some(root);
                }
            }
        }
        for (node, root) in blocked_by.into_iter().enumerate() {
            if let Some(root) = root {
                self.states[node] = NodeState::Blocked;
                self.initially_blocked.push((node, root));
            }
        }
    }

    /// Pending nodes that cannot run because a dependency was failed, skipped or cancelled
    /// before this run, with that dependency's position; plan order. Returns them once.
    pub fn take_initially_blocked(&mut self) -> Vec<(usize, usize)> {
        std::mem::take(&mut self.initially_blocked)
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }

    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Direct dependencies of `node`, in plan order.
    pub fn dependencies(&self, node: usize) -> &[usize] {
        self.graph.dependencies(node)
    }

    /// The ready node earliest in the plan, if any (not removed: call `mark_started`).
    pub fn next_ready(&self) -> Option<usize> {
        self.ready.first().copied()
    }

    pub fn running_count(&self) -> usize {
        self.running
    }

    pub fn mark_started(&mut self, node: usize) {
        if self.ready.remove(&node) {
            self.states[node] = NodeState::Running;
            self.running += 1;
        }
    }

    /// A started node now waits for a person: it stays unfinished (its dependents wait) but no
    /// longer holds one of the run's slots.
    pub fn mark_parked(&mut self, node: usize) {
        if self.states[node] == NodeState::Running {
            self.states[node] = NodeState::Parked;
            self.running -= 1;
        }
    }

    /// Records success; returns the dependents that became ready, in plan order.
    pub fn mark_done(&mut self, node: usize) -> Vec<usize> {
        self.leave_running(node, NodeState::Done);
        let mut newly_ready = Vec::new();
        for &dependent in self.graph.dependents(node) {
            if let NodeState::Waiting(open) = self.states[dependent] {
                if open <= 1 {
                    self.states[dependent] = NodeState::Ready;
                    self.ready.insert(dependent);
                    newly_ready.push(dependent);
                } else {
                    self.states[dependent] = NodeState::Waiting(open - 1);
                }
            }
        }
        newly_ready
    }

    /// Records a final failure (or a cancellation of a running node); returns every transitive
    /// dependent not yet started, in plan order. They are marked blocked: the caller skips them.
    pub fn mark_failed(&mut self, node: usize) -> Vec<usize> {
        self.leave_running(node, NodeState::Blocked);
        let to_skip: Vec<usize> = self
            .graph
            .transitive_dependents(node)
            .into_iter()
            .filter(|&dependent| self.is_unstarted(dependent))
            .collect();
        for &dependent in &to_skip {
            self.ready.remove(&dependent);
            self.states[dependent] = NodeState::Blocked;
        }
        self.unfinished -= to_skip.len();
        to_skip
    }

    /// Withdraws every node not yet started (for cancel and `failFast`); returns them in plan order.
    pub fn cancel_pending(&mut self) -> Vec<usize> {
        let to_cancel: Vec<usize> = (0..self.states.len()).filter(|&node| self.is_unstarted(node)).collect();
        for &node in &to_cancel {
            self.states[node] = NodeState::Blocked;
        }
        self.unfinished -= to_cancel.len();
        self.ready.clear();
        to_cancel
    }

    /// True when nothing is waiting, ready or running.
    pub fn is_drained(&self) -> bool {
        self.unfinished == 0
    }

    /// Length of the longest dependency chain when node i takes `durations[i]`.
    pub fn critical_path(&self, durations: &[u64]) -> u64 {
        self.graph.critical_path(durations)
    }

    fn is_unstarted(&self, node: usize) -> bool {
        matches!(self.states[node], NodeState::Waiting(_) | NodeState::Ready)
    }

    fn leave_running(&mut self, node: usize, next: NodeState) {
        match self.states[node] {
            NodeState::Running => {
                self.running -= 1;
                self.unfinished -= 1;
            }
            NodeState::Waiting(_) | NodeState::Ready | NodeState::Parked => self.unfinished -= 1,
            NodeState::Done | NodeState::Blocked => {}
        }
        self.ready.remove(&node);
        self.states[node] = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AgentKind, SubtaskId};

    /// `spec` like `"a b:a c:a d:b,c"`: letter-named subtasks with their dependencies.
    fn subtasks(spec: &str) -> Vec<Subtask> {
        spec.split_whitespace()
            .map(|item| {
                let (name, dependencies) = item.split_once(':').unwrap_or((item, ""));
                let mut subtask = Subtask::new(SubtaskId::from_raw(name), name.to_owned(), AgentKind::Shell);
                subtask.depends_on =
                    dependencies.split(',').filter(|d| !d.is_empty()).map(SubtaskId::from_raw).collect();
                subtask
            })
            .collect()
    }

    fn with_status(mut subtasks: Vec<Subtask>, name: &str, status: SubtaskStatus) -> Vec<Subtask> {
        for subtask in &mut subtasks {
            if subtask.id.as_str() == name {
                subtask.status = status;
            }
        }
        subtasks
    }

    /// Runs the queue to the end with every node succeeding, one at a time; returns start order.
    fn serial_order(queue: &mut ReadyQueue) -> Vec<usize> {
        let mut order = Vec::new();
        while let Some(node) = queue.next_ready() {
            queue.mark_started(node);
            order.push(node);
            queue.mark_done(node);
        }
        order
    }

    #[test]
    fn chain_runs_one_after_another() {
        let mut queue = ReadyQueue::new(&subtasks("a b:a c:b")).unwrap();
        assert_eq!(queue.next_ready(), Some(0));
        queue.mark_started(0);
        assert_eq!(queue.next_ready(), None, "b waits for a");
        assert_eq!(queue.mark_done(0), vec![1]);
        queue.mark_started(1);
        assert_eq!(queue.mark_done(1), vec![2]);
        queue.mark_started(2);
        assert!(!queue.is_drained());
        assert_eq!(queue.mark_done(2), Vec::<usize>::new());
        assert!(queue.is_drained());
    }

    #[test]
    fn diamond_releases_the_join_only_after_both_branches() {
        let mut queue = ReadyQueue::new(&subtasks("a b:a c:a d:b,c")).unwrap();
        queue.mark_started(0);
        assert_eq!(queue.mark_done(0), vec![1, 2]);
        queue.mark_started(1);
        queue.mark_started(2);
        assert_eq!(queue.running_count(), 2);
        assert_eq!(queue.mark_done(2), Vec::<usize>::new(), "d still waits for b");
        assert_eq!(queue.mark_done(1), vec![3]);
    }

    #[test]
    fn fan_out_makes_every_leaf_ready_in_plan_order() {
        let mut queue = ReadyQueue::new(&subtasks("root x:root y:root z:root")).unwrap();
        assert_eq!(serial_order(&mut queue), vec![0, 1, 2, 3]);
        assert!(queue.is_drained());
    }

    #[test]
    fn failure_in_the_middle_of_a_diamond_skips_only_its_dependents() {
        // a -> b, c -> d, and e depends on c only; f is independent.
        let mut queue = ReadyQueue::new(&subtasks("a b:a c:a d:b,c e:c f")).unwrap();
        assert_eq!(queue.next_ready(), Some(0));
        queue.mark_started(0);
        queue.mark_started(5);
        assert_eq!(queue.mark_done(0), vec![1, 2]);
        queue.mark_started(1);
        queue.mark_started(2);
        assert_eq!(queue.mark_failed(1), vec![3], "d is skipped, e is not");
        assert_eq!(queue.mark_done(2), vec![4]);
        queue.mark_started(4);
        queue.mark_done(4);
        assert!(!queue.is_drained(), "f still runs");
        queue.mark_done(5);
        assert!(queue.is_drained());
    }

    #[test]
    fn failure_skips_transitive_dependents_in_plan_order() {
        let mut queue = ReadyQueue::new(&subtasks("a b:a c:b d:c e")).unwrap();
        queue.mark_started(0);
        assert_eq!(queue.mark_failed(0), vec![1, 2, 3]);
        assert_eq!(queue.next_ready(), Some(4));
    }

    #[test]
    fn two_components_interleave_by_plan_order() {
        let mut queue = ReadyQueue::new(&subtasks("a b:a x y:x")).unwrap();
        assert_eq!(serial_order(&mut queue), vec![0, 1, 2, 3]);
        let mut queue = ReadyQueue::new(&subtasks("a x b:a y:x")).unwrap();
        let first = queue.next_ready();
        assert_eq!(first, Some(0));
        queue.mark_started(0);
        assert_eq!(queue.next_ready(), Some(1), "x does not wait for a");
    }

    #[test]
    fn done_subtasks_count_as_satisfied_and_blocked_ones_block() {
        let plan = with_status(subtasks("a b:a c:a d:c e"), "a", SubtaskStatus::Done);
        let plan = with_status(plan, "c", SubtaskStatus::Failed);
        let mut queue = ReadyQueue::new(&plan).unwrap();
        assert_eq!(queue.take_initially_blocked(), vec![(3, 2)]);
        assert!(queue.take_initially_blocked().is_empty());
        assert_eq!(serial_order(&mut queue), vec![1, 4]);
        assert!(queue.is_drained());
    }

    #[test]
    fn cancel_pending_withdraws_everything_not_started() {
        let mut queue = ReadyQueue::new(&subtasks("a b c:a")).unwrap();
        queue.mark_started(0);
        assert_eq!(queue.cancel_pending(), vec![1, 2]);
        assert_eq!(queue.next_ready(), None);
        assert!(!queue.is_drained(), "a is still running");
        assert_eq!(queue.mark_failed(0), Vec::<usize>::new());
        assert!(queue.is_drained());
    }

    #[test]
    fn a_parked_node_frees_its_slot_but_holds_its_dependents() {
        let mut queue = ReadyQueue::new(&subtasks("manual b:manual c")).unwrap();
        queue.mark_started(0);
        queue.mark_parked(0);
        assert_eq!(queue.running_count(), 0, "a step waiting for a person holds no slot");
        assert_eq!(queue.next_ready(), Some(2), "independent work goes on");
        queue.mark_started(2);
        queue.mark_done(2);
        assert!(!queue.is_drained(), "the parked step and its dependent are unfinished");
        assert_eq!(queue.mark_done(0), vec![1]);
        queue.mark_started(1);
        queue.mark_done(1);
        assert!(queue.is_drained());
        let mut queue = ReadyQueue::new(&subtasks("manual b:manual")).unwrap();
        queue.mark_started(0);
        queue.mark_parked(0);
        assert_eq!(queue.mark_failed(0), vec![1]);
        assert_eq!(queue.running_count(), 0);
        assert!(queue.is_drained());
    }

    #[test]
    fn critical_path_follows_the_longest_chain() {
        let queue = ReadyQueue::new(&subtasks("a b:a c:a d:b,c")).unwrap();
        assert_eq!(queue.critical_path(&[1, 10, 3, 2]), 13);
        let queue = ReadyQueue::new(&subtasks("a b")).unwrap();
        assert_eq!(queue.critical_path(&[4, 7]), 7);
    }

    #[test]
    fn dependencies_listed_later_in_the_plan_still_order_correctly() {
        let mut queue = ReadyQueue::new(&subtasks("late:early early")).unwrap();
        assert_eq!(serial_order(&mut queue), vec![1, 0]);
    }

    #[test]
    fn a_cycle_is_refused_and_an_unschedulable_queue_only_withdraws() {
        let errors = ReadyQueue::new(&subtasks("a:b b:a c")).expect_err("a cycle cannot be scheduled");
        assert_eq!(errors.len(), 1);
        let mut queue = ReadyQueue::unschedulable(&subtasks("a:b b:a c"));
        assert_eq!(queue.cancel_pending(), vec![0, 1, 2]);
        assert_eq!(queue.next_ready(), None);
        assert!(queue.is_drained());
    }
}
