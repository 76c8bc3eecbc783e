//! The dependency graph of a plan's subtasks, on petgraph: validation (unknown ids,
//! self-dependencies, cycles reported as paths), topological order, display levels, the ready
//! set, transitive dependents and the critical path.
//!
//! Pure and synchronous: no I/O, no clock. Nodes are subtask *positions* in the plan (0-based),
//! so callers index `plan.subtasks` directly; plan order is the tie-break everywhere.

use crate::model::{Subtask, SubtaskId, SubtaskStatus};

/// A problem that makes a set of subtasks unusable as a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// `subtasks[{index}].dependsOn[{position}]: unknown subtask "{dependency}"`
    #[error("subtasks[{index}].dependsOn[{position}]: unknown subtask \"{dependency}\"")]
    UnknownDependency { index: usize, position: usize, dependency: SubtaskId },
    #[error("subtasks[{index}].dependsOn[{position}]: subtask \"{subtask}\" depends on itself")]
    SelfDependency { index: usize, position: usize, subtask: SubtaskId },
    /// The cycle as a path that ends where it starts: `a -> b -> c -> a`.
    #[error("dependency cycle: {}", .path.iter().map(SubtaskId::as_str).collect::<Vec<_>>().join(" -> "))]
    Cycle { path: Vec<SubtaskId> },
}

/// A validated, acyclic dependency graph over subtask positions.
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    _private: (),
}

impl DependencyGraph {
    /// Builds the graph from a plan's subtasks. Returns every problem found: each unknown
    /// dependency and self-dependency by field path, and each distinct cycle as a path.
    pub fn build(subtasks: &[Subtask]) -> Result<Self, Vec<GraphError>> {
        todo!("graph helper {}", subtasks.len())
    }

    /// Same as [`DependencyGraph::build`] from `(id, dependencies)` pairs.
    pub fn from_edges(nodes: &[(SubtaskId, Vec<SubtaskId>)]) -> Result<Self, Vec<GraphError>> {
        todo!("graph helper {}", nodes.len())
    }

    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Direct dependencies of `node`, in plan order.
    pub fn dependencies(&self, node: usize) -> &[usize] {
        todo!("{node}")
    }

    /// Direct dependents of `node`, in plan order.
    pub fn dependents(&self, node: usize) -> &[usize] {
        todo!("{node}")
    }

    /// A topological order; among ready nodes the one earliest in the plan comes first.
    pub fn topological_order(&self) -> Vec<usize> {
        todo!()
    }

    /// Levels for display: level 0 has no dependencies, level k depends on something in k-1.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        todo!()
    }

    /// Pending nodes whose dependencies are all `done`, in plan order. `statuses[i]` is node i's.
    pub fn ready(&self, statuses: &[SubtaskStatus]) -> Vec<usize> {
        todo!("{}", statuses.len())
    }

    /// Every node that depends on `node` directly or indirectly, in plan order, without `node`.
    pub fn transitive_dependents(&self, node: usize) -> Vec<usize> {
        todo!("{node}")
    }

    /// Length of the longest path when node i takes `durations[i]` (any unit).
    pub fn critical_path(&self, durations: &[u64]) -> u64 {
        todo!("{}", durations.len())
    }
}
