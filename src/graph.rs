//! The dependency graph of a plan's subtasks, on petgraph: validation (unknown ids,
//! self-dependencies, cycles reported as paths), topological order, display levels, the ready
//! set, transitive dependents and the critical path.
//!
//! Pure and synchronous: no I/O, no clock. Nodes are subtask *positions* in the plan (0-based),
//! so callers index `plan.subtasks` directly; plan order is the tie-break everywhere.
//! Not this module's job: id shape, duplicate ids and duplicate dependencies (see
//! `crate::model::validate`); a duplicated id names its first occurrence here.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::model::{Subtask, SubtaskId, SubtaskStatus};

/// A problem that makes a set of subtasks unusable as a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// `subtasks[{index}].dependsOn[{position}]: unknown subtask "{dependency}"`
    #[error("subtasks[{index}].dependsOn[{position}]: unknown subtask \"{dependency}\"")]
    UnknownDependency { index: usize, position: usize, dependency: SubtaskId },
    #[error("subtasks[{index}].dependsOn[{position}]: subtask \"{subtask}\" depends on itself")]
    SelfDependency { index: usize, position: usize, subtask: SubtaskId },
    /// The cycle as a path that ends where it starts: `a -> b -> c -> a`, where `x -> y` reads
    /// "x depends on y". It starts at the cycle's subtask earliest in the plan.
    #[error("dependency cycle: {}", .path.iter().map(SubtaskId::as_str).collect::<Vec<_>>().join(" -> "))]
    Cycle { path: Vec<SubtaskId> },
}

/// A validated, acyclic dependency graph over subtask positions.
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    /// Edges point from a dependency to its dependent (execution order); node weight = position.
    graph: DiGraph<usize, ()>,
    /// `dependencies_of[i]`: positions node i depends on, ascending, without repeats.
    dependencies_of: Vec<Vec<usize>>,
    /// `dependents_of[i]`: positions that depend on node i, ascending.
    dependents_of: Vec<Vec<usize>>,
}

impl DependencyGraph {
    /// Builds the graph from a plan's subtasks. Returns every problem found: each unknown
    /// dependency and self-dependency by field path, and each distinct cycle as a path.
    pub fn build(subtasks: &[Subtask]) -> Result<Self, Vec<GraphError>> {
        let nodes: Vec<(&SubtaskId, &[SubtaskId])> =
            subtasks.iter().map(|subtask| (&subtask.id, subtask.depends_on.as_slice())).collect();
        Self::build_from_nodes(&nodes)
    }

    /// Same as [`DependencyGraph::build`] from `(id, dependencies)` pairs.
    pub fn from_edges(nodes: &[(SubtaskId, Vec<SubtaskId>)]) -> Result<Self, Vec<GraphError>> {
        let nodes: Vec<(&SubtaskId, &[SubtaskId])> =
            nodes.iter().map(|(id, dependencies)| (id, dependencies.as_slice())).collect();
        Self::build_from_nodes(&nodes)
    }

    /// `len` nodes and no edges: every node is independent. Never fails.
    pub fn without_edges(len: usize) -> Self {
        let mut graph = DiGraph::with_capacity(len, 0);
        for position in 0..len {
            graph.add_node(position);
        }
        Self { graph, dependencies_of: vec![Vec::new(); len], dependents_of: vec![Vec::new(); len] }
    }

    fn build_from_nodes(nodes: &[(&SubtaskId, &[SubtaskId])]) -> Result<Self, Vec<GraphError>> {
        let mut position_by_id: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
        for (position, (id, _)) in nodes.iter().enumerate() {
            position_by_id.entry(id.as_str()).or_insert(position);
        }
        let mut errors = Vec::new();
        let mut dependencies_of = Vec::with_capacity(nodes.len());
        for (index, (id, dependencies)) in nodes.iter().enumerate() {
            let mut resolved = Vec::with_capacity(dependencies.len());
            for (position, dependency) in dependencies.iter().enumerate() {
                if dependency == *id {
                    errors.push(GraphError::SelfDependency { index, position, subtask: (*id).clone() });
                    continue;
                }
                match position_by_id.get(dependency.as_str()) {
                    // A duplicate id naming an earlier node can still resolve to `index` itself.
                    Some(&target) if target == index => {
                        errors.push(GraphError::SelfDependency { index, position, subtask: (*id).clone() });
                    }
                    Some(&target) => resolved.push(target),
                    None => {
                        errors.push(GraphError::UnknownDependency { index, position, dependency: dependency.clone() })
                    }
                }
            }
            resolved.sort_unstable();
            resolved.dedup();
            dependencies_of.push(resolved);
        }
        let graph = Self::from_dependency_lists(dependencies_of);
        errors.extend(graph.find_cycles(nodes));
        if errors.is_empty() { Ok(graph) } else { Err(errors) }
    }

    /// Assembles the petgraph graph and the dependent lists; does not check for cycles.
    fn from_dependency_lists(dependencies_of: Vec<Vec<usize>>) -> Self {
        let node_count = dependencies_of.len();
        let edge_count = dependencies_of.iter().map(Vec::len).sum();
        let mut graph = DiGraph::with_capacity(node_count, edge_count);
        for position in 0..node_count {
            graph.add_node(position);
        }
        let mut dependents_of = vec![Vec::new(); node_count];
        for (dependent, dependencies) in dependencies_of.iter().enumerate() {
            for &dependency in dependencies {
                graph.add_edge(NodeIndex::new(dependency), NodeIndex::new(dependent), ());
                // Dependents are pushed in ascending `dependent` order, so each list is sorted.
                dependents_of[dependency].push(dependent);
            }
        }
        Self { graph, dependencies_of, dependents_of }
    }

    /// One cycle per strongly connected component with more than one node, in plan order of
    /// each cycle's first subtask.
    fn find_cycles(&self, nodes: &[(&SubtaskId, &[SubtaskId])]) -> Vec<GraphError> {
        let mut cycle_starts_and_paths: Vec<(usize, Vec<usize>)> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| {
                let members: Vec<usize> = component.iter().map(|node| node.index()).collect();
                let start = members.iter().copied().min().unwrap_or_default();
                (start, self.cycle_through(start, &members))
            })
            .collect();
        cycle_starts_and_paths.sort_unstable_by_key(|(start, _)| *start);
        cycle_starts_and_paths
            .into_iter()
            .map(|(_, path)| GraphError::Cycle {
                path: path.into_iter().map(|position| nodes[position].0.clone()).collect(),
            })
            .collect()
    }

    /// The shortest path `start -> ... -> start` following "depends on" edges inside one
    /// strongly connected component (`members`), as positions. Neighbours are explored in plan
    /// order, so the result is deterministic.
    fn cycle_through(&self, start: usize, members: &[usize]) -> Vec<usize> {
        let mut in_component = HashMap::with_capacity(members.len());
        for &member in members {
            in_component.insert(member, None::<usize>);
        }
        let mut queue = VecDeque::from([start]);
        while let Some(current) = queue.pop_front() {
            for &next in &self.dependencies_of[current] {
                if next == start {
                    return Self::unwind_cycle(start, current, &in_component);
                }
                if let Some(parent @ None) = in_component.get_mut(&next) {
                    *parent = Some(current);
                    queue.push_back(next);
                }
            }
        }
        // Unreachable for a real component of two or more nodes; keep a well-formed answer.
        vec![start, start]
    }

    fn unwind_cycle(start: usize, last: usize, parents: &HashMap<usize, Option<usize>>) -> Vec<usize> {
        let mut reversed = vec![start, last];
        let mut current = last;
        while current != start {
            match parents.get(&current).copied().flatten() {
                Some(parent) => {
                    reversed.push(parent);
                    current = parent;
                }
                None => break,
            }
        }
        if current != start {
            reversed.push(start);
        }
        reversed.reverse();
        reversed
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Direct dependencies of `node`, in plan order. Empty for a position outside the graph.
    pub fn dependencies(&self, node: usize) -> &[usize] {
        self.dependencies_of.get(node).map_or(&[], Vec::as_slice)
    }

    /// Direct dependents of `node`, in plan order. Empty for a position outside the graph.
    pub fn dependents(&self, node: usize) -> &[usize] {
        self.dependents_of.get(node).map_or(&[], Vec::as_slice)
    }

    /// A topological order; among ready nodes the one earliest in the plan comes first.
    pub fn topological_order(&self) -> Vec<usize> {
        let mut unfinished_dependencies: Vec<usize> = self.dependencies_of.iter().map(Vec::len).collect();
        let mut available: BinaryHeap<Reverse<usize>> = unfinished_dependencies
            .iter()
            .enumerate()
            .filter(|(_, count)| **count == 0)
            .map(|(node, _)| Reverse(node))
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(Reverse(node)) = available.pop() {
            order.push(node);
            for &dependent in &self.dependents_of[node] {
                unfinished_dependencies[dependent] -= 1;
                if unfinished_dependencies[dependent] == 0 {
                    available.push(Reverse(dependent));
                }
            }
        }
        order
    }

    /// Levels for display: level 0 has no dependencies, level k depends on something in k-1.
    /// Each level lists its nodes in plan order.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let mut level_of = vec![0usize; self.len()];
        for node in self.topological_order() {
            level_of[node] =
                self.dependencies_of[node].iter().map(|&dependency| level_of[dependency] + 1).max().unwrap_or(0);
        }
        let mut levels: Vec<Vec<usize>> = Vec::new();
        for (node, &level) in level_of.iter().enumerate() {
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            levels[level].push(node);
        }
        levels
    }

    /// Pending nodes whose dependencies are all `done`, in plan order. `statuses[i]` is node i's;
    /// a node without a status is neither pending nor done.
    pub fn ready(&self, statuses: &[SubtaskStatus]) -> Vec<usize> {
        let is_done = |node: usize| statuses.get(node) == Some(&SubtaskStatus::Done);
        (0..self.len())
            .filter(|&node| statuses.get(node) == Some(&SubtaskStatus::Pending))
            .filter(|&node| self.dependencies_of[node].iter().all(|&dependency| is_done(dependency)))
            .collect()
    }

    /// Every node that depends on `node` directly or indirectly, in plan order, without `node`.
    pub fn transitive_dependents(&self, node: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut queue: VecDeque<usize> = self.dependents(node).iter().copied().collect();
        for &direct in &queue {
            seen[direct] = true;
        }
        while let Some(current) = queue.pop_front() {
            for &dependent in &self.dependents_of[current] {
                if !seen[dependent] {
                    seen[dependent] = true;
                    queue.push_back(dependent);
                }
            }
        }
        seen.iter().enumerate().filter(|(_, seen)| **seen).map(|(position, _)| position).collect()
    }

    /// Length of the longest path when node i takes `durations[i]` (any unit); a node without a
    /// duration takes 0. Saturates instead of overflowing.
    pub fn critical_path(&self, durations: &[u64]) -> u64 {
        let mut finish_of = vec![0u64; self.len()];
        let mut longest = 0;
        for node in self.topological_order() {
            let start = self.dependencies_of[node].iter().map(|&dependency| finish_of[dependency]).max().unwrap_or(0);
            finish_of[node] = start.saturating_add(durations.get(node).copied().unwrap_or(0));
            longest = longest.max(finish_of[node]);
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds from `[("b", &["a"]), ...]`: each id with the ids it depends on.
    fn graph_of(nodes: &[(&str, &[&str])]) -> Result<DependencyGraph, Vec<GraphError>> {
        DependencyGraph::from_edges(&edges_of(nodes))
    }

    fn edges_of(nodes: &[(&str, &[&str])]) -> Vec<(SubtaskId, Vec<SubtaskId>)> {
        nodes
            .iter()
            .map(|(id, dependencies)| {
                (
                    SubtaskId::from_raw(*id),
                    dependencies.iter().map(|dependency| SubtaskId::from_raw(*dependency)).collect(),
                )
            })
            .collect()
    }

    fn messages(errors: &[GraphError]) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    fn chain() -> DependencyGraph {
        graph_of(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["c"])]).unwrap()
    }

    /// a; b and c depend on a; d depends on b and c.
    fn diamond() -> DependencyGraph {
        graph_of(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["c", "b"])]).unwrap()
    }

    #[test]
    fn empty_graph_has_nothing_to_order() {
        let graph = graph_of(&[]).unwrap();
        assert!(graph.is_empty());
        assert_eq!(graph.topological_order(), Vec::<usize>::new());
        assert!(graph.levels().is_empty());
        assert_eq!(graph.critical_path(&[]), 0);
    }

    #[test]
    fn chain_orders_levels_and_sums_its_critical_path() {
        let graph = chain();
        assert_eq!(graph.len(), 4);
        assert_eq!(graph.topological_order(), vec![0, 1, 2, 3]);
        assert_eq!(graph.levels(), vec![vec![0], vec![1], vec![2], vec![3]]);
        assert_eq!(graph.dependencies(2), &[1]);
        assert_eq!(graph.dependents(2), &[3]);
        assert_eq!(graph.transitive_dependents(1), vec![2, 3]);
        assert_eq!(graph.transitive_dependents(3), Vec::<usize>::new());
        assert_eq!(graph.critical_path(&[1, 2, 3, 4]), 10);
    }

    #[test]
    fn chain_declared_backwards_still_orders_dependencies_first() {
        let graph = graph_of(&[("d", &["c"]), ("c", &["b"]), ("b", &["a"]), ("a", &[])]).unwrap();
        assert_eq!(graph.topological_order(), vec![3, 2, 1, 0]);
        assert_eq!(graph.levels(), vec![vec![3], vec![2], vec![1], vec![0]]);
    }

    #[test]
    fn diamond_lists_neighbours_in_plan_order() {
        let graph = diamond();
        assert_eq!(graph.dependencies(3), &[1, 2], "declared as [c, b], listed in plan order");
        assert_eq!(graph.dependents(0), &[1, 2]);
        assert_eq!(graph.topological_order(), vec![0, 1, 2, 3]);
        assert_eq!(graph.levels(), vec![vec![0], vec![1, 2], vec![3]]);
        assert_eq!(graph.transitive_dependents(0), vec![1, 2, 3]);
        assert_eq!(graph.transitive_dependents(2), vec![3]);
    }

    #[test]
    fn diamond_critical_path_takes_the_slower_branch() {
        let graph = diamond();
        assert_eq!(graph.critical_path(&[1, 10, 2, 1]), 12);
        assert_eq!(graph.critical_path(&[1, 2, 10, 1]), 12);
        assert_eq!(graph.critical_path(&[5]), 5, "missing durations count as 0");
    }

    #[test]
    fn topological_order_prefers_the_earliest_available_node() {
        // z (position 0) depends on y (position 2); x (position 1) is free.
        let graph = graph_of(&[("z", &["y"]), ("x", &[]), ("y", &[])]).unwrap();
        assert_eq!(graph.topological_order(), vec![1, 2, 0]);
        assert_eq!(graph.levels(), vec![vec![1, 2], vec![0]]);
    }

    #[test]
    fn wide_fan_out_is_one_level_of_dependents() {
        let mut nodes: Vec<(String, Vec<String>)> = vec![("root".to_owned(), vec![])];
        for leaf in 1..=50 {
            nodes.push((format!("leaf{leaf}"), vec!["root".to_owned()]));
        }
        let edges: Vec<(SubtaskId, Vec<SubtaskId>)> = nodes
            .iter()
            .map(|(id, deps)| {
                (SubtaskId::from_raw(id.clone()), deps.iter().cloned().map(SubtaskId::from_raw).collect())
            })
            .collect();
        let graph = DependencyGraph::from_edges(&edges).unwrap();
        let leaves: Vec<usize> = (1..=50).collect();
        assert_eq!(graph.dependents(0), leaves.as_slice());
        assert_eq!(graph.levels(), vec![vec![0], leaves.clone()]);
        assert_eq!(graph.transitive_dependents(0), leaves);
        let mut durations = vec![3u64; 51];
        durations[17] = 40;
        assert_eq!(graph.critical_path(&durations), 43);
    }

    #[test]
    fn two_components_interleave_by_plan_order() {
        let graph = graph_of(&[("a1", &[]), ("b1", &[]), ("a2", &["a1"]), ("b2", &["b1"]), ("b3", &["b2"])]).unwrap();
        assert_eq!(graph.topological_order(), vec![0, 1, 2, 3, 4]);
        assert_eq!(graph.levels(), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(graph.transitive_dependents(0), vec![2]);
        assert_eq!(graph.transitive_dependents(1), vec![3, 4]);
        assert_eq!(graph.critical_path(&[5, 1, 5, 1, 1]), 10);
    }

    #[test]
    fn ready_set_follows_statuses() {
        use SubtaskStatus::{Done, Failed, Pending, Running, Skipped};
        let graph = diamond();
        assert_eq!(graph.ready(&[Pending, Pending, Pending, Pending]), vec![0]);
        assert_eq!(graph.ready(&[Done, Pending, Pending, Pending]), vec![1, 2]);
        assert_eq!(graph.ready(&[Done, Running, Pending, Pending]), vec![2], "running is not ready");
        assert_eq!(graph.ready(&[Done, Done, Pending, Pending]), vec![2], "d still waits for c");
        assert_eq!(graph.ready(&[Done, Done, Done, Pending]), vec![3]);
        assert_eq!(graph.ready(&[Done, Failed, Done, Pending]), Vec::<usize>::new(), "a failed dependency blocks");
        assert_eq!(graph.ready(&[Done, Skipped, Done, Pending]), Vec::<usize>::new(), "a skipped dependency blocks");
        assert_eq!(graph.ready(&[Done, Done, Done, Done]), Vec::<usize>::new());
        assert_eq!(graph.ready(&[Pending]), vec![0], "nodes without a status are never ready");
    }

    #[test]
    fn unknown_dependency_names_its_field_path() {
        let errors = graph_of(&[("test", &[]), ("deploy", &["build"])]).unwrap_err();
        assert_eq!(messages(&errors), vec![r#"subtasks[1].dependsOn[0]: unknown subtask "build""#]);
        assert_eq!(
            errors[0],
            GraphError::UnknownDependency { index: 1, position: 0, dependency: SubtaskId::from_raw("build") }
        );
    }

    #[test]
    fn self_dependency_is_reported_once_and_not_as_a_cycle() {
        let errors = graph_of(&[("a", &[]), ("b", &["a", "b"])]).unwrap_err();
        assert_eq!(messages(&errors), vec![r#"subtasks[1].dependsOn[1]: subtask "b" depends on itself"#]);
    }

    #[test]
    fn two_node_cycle_is_reported_as_a_path() {
        let errors = graph_of(&[("a", &["b"]), ("b", &["a"])]).unwrap_err();
        assert_eq!(messages(&errors), vec!["dependency cycle: a -> b -> a"]);
    }

    #[test]
    fn one_node_cycle_is_a_self_dependency() {
        let errors = graph_of(&[("a", &["a"])]).unwrap_err();
        assert_eq!(
            errors,
            vec![GraphError::SelfDependency { index: 0, position: 0, subtask: SubtaskId::from_raw("a") }]
        );
    }

    #[test]
    fn three_node_cycle_starts_at_the_earliest_subtask() {
        let errors = graph_of(&[("x", &[]), ("c", &["a"]), ("a", &["b"]), ("b", &["c", "x"])]).unwrap_err();
        assert_eq!(messages(&errors), vec!["dependency cycle: c -> a -> b -> c"]);
        let errors = graph_of(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]).unwrap_err();
        assert_eq!(errors, vec![GraphError::Cycle { path: ["a", "b", "c", "a"].map(SubtaskId::from_raw).to_vec() }]);
    }

    #[test]
    fn every_problem_is_collected_including_separate_cycles() {
        let errors = graph_of(&[("a", &["b"]), ("b", &["a", "ghost"]), ("c", &["c"]), ("d", &["e"]), ("e", &["d"])])
            .unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![
                r#"subtasks[1].dependsOn[1]: unknown subtask "ghost""#,
                r#"subtasks[2].dependsOn[0]: subtask "c" depends on itself"#,
                "dependency cycle: a -> b -> a",
                "dependency cycle: d -> e -> d",
            ]
        );
    }

    #[test]
    fn cycle_inside_a_larger_component_is_the_shortest_through_its_first_node() {
        // a -> b -> c -> a and a -> c: the shortest way back to a is a -> c -> a.
        let errors = graph_of(&[("a", &["b", "c"]), ("b", &["c"]), ("c", &["a"])]).unwrap_err();
        assert_eq!(messages(&errors), vec!["dependency cycle: a -> c -> a"]);
    }

    #[test]
    fn duplicate_ids_resolve_to_the_first_occurrence_without_panicking() {
        let graph = graph_of(&[("a", &[]), ("b", &["a"]), ("a", &["b"])]).unwrap();
        assert_eq!(graph.dependencies(2), &[1]);
        assert_eq!(graph.dependents(0), &[1]);
        let errors = graph_of(&[("a", &[]), ("a", &["a"])]).unwrap_err();
        assert_eq!(messages(&errors), vec![r#"subtasks[1].dependsOn[0]: subtask "a" depends on itself"#]);
    }

    #[test]
    fn repeated_dependency_makes_one_edge() {
        let graph = graph_of(&[("a", &[]), ("b", &["a", "a"])]).unwrap();
        assert_eq!(graph.dependencies(1), &[0]);
        assert_eq!(graph.topological_order(), vec![0, 1]);
    }

    #[test]
    fn build_reads_subtask_dependencies() {
        use crate::model::AgentKind;
        let mut first = Subtask::new(SubtaskId::from_raw("build"), "Build".to_owned(), AgentKind::Shell);
        first.command = Some("make".to_owned());
        let mut second = Subtask::new(SubtaskId::from_raw("test"), "Test".to_owned(), AgentKind::Coder);
        second.depends_on = vec![SubtaskId::from_raw("build")];
        let graph = DependencyGraph::build(&[first.clone(), second.clone()]).unwrap();
        assert_eq!(graph.dependents(0), &[1]);
        first.depends_on = vec![SubtaskId::from_raw("test")];
        let errors = DependencyGraph::build(&[first, second]).unwrap_err();
        assert_eq!(messages(&errors), vec!["dependency cycle: build -> test -> build"]);
    }

    #[test]
    fn out_of_range_positions_have_no_neighbours() {
        let graph = chain();
        assert!(graph.dependencies(99).is_empty());
        assert!(graph.dependents(99).is_empty());
        assert!(graph.transitive_dependents(99).is_empty());
    }
}
