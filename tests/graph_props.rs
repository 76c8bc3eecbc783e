//! Property tests for `codelab_planner::graph::DependencyGraph` on random DAGs.
//!
//! A DAG is generated with edges only from a lower to a higher *rank*, then the plan order is a
//! random permutation of the ranks, so plan order and dependency order disagree. Each property
//! is checked against a brute-force answer computed from the raw edge list, not from the graph.

use std::collections::HashSet;

use codelab_planner::graph::{DependencyGraph, GraphError};
use codelab_planner::model::{SubtaskId, SubtaskStatus};
use proptest::prelude::*;

/// A DAG in plan order: `dependencies[i]` are the plan positions node i depends on.
#[derive(Debug, Clone)]
struct RandomDag {
    dependencies: Vec<Vec<usize>>,
}

impl RandomDag {
    fn node_count(&self) -> usize {
        self.dependencies.len()
    }

    fn edges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.dependencies
            .iter()
            .enumerate()
            .flat_map(|(dependent, dependencies)| dependencies.iter().map(move |&dependency| (dependency, dependent)))
    }

    fn id(position: usize) -> SubtaskId {
        SubtaskId::from_raw(format!("t{position}"))
    }

    fn nodes(&self) -> Vec<(SubtaskId, Vec<SubtaskId>)> {
        self.dependencies
            .iter()
            .enumerate()
            .map(|(position, dependencies)| {
                (Self::id(position), dependencies.iter().map(|&dependency| Self::id(dependency)).collect())
            })
            .collect()
    }

    fn graph(&self) -> DependencyGraph {
        DependencyGraph::from_edges(&self.nodes()).expect("a generated DAG is valid")
    }

    /// Everything reachable from `start` along dependency → dependent edges, by repeated scans.
    fn reachable_dependents(&self, start: usize) -> Vec<usize> {
        let mut reached = vec![false; self.node_count()];
        let mut changed = true;
        while changed {
            changed = false;
            for (dependency, dependent) in self.edges() {
                if (dependency == start || reached[dependency]) && !reached[dependent] {
                    reached[dependent] = true;
                    changed = true;
                }
            }
        }
        (0..self.node_count()).filter(|&node| reached[node]).collect()
    }
}

fn random_dag() -> impl Strategy<Value = RandomDag> {
    (1usize..40)
        .prop_flat_map(|node_count| {
            let rank_edges = proptest::collection::vec((0..node_count, 0..node_count), 0..node_count * 3);
            let plan_order = Just((0..node_count).collect::<Vec<usize>>()).prop_shuffle();
            (Just(node_count), rank_edges, plan_order)
        })
        .prop_map(|(node_count, rank_edges, position_of_rank)| {
            let mut dependencies = vec![Vec::new(); node_count];
            for (first, second) in rank_edges {
                if first == second {
                    continue;
                }
                // The lower rank is the dependency; this is what makes the graph acyclic.
                let (low, high) = (first.min(second), first.max(second));
                let (dependency, dependent) = (position_of_rank[low], position_of_rank[high]);
                if !dependencies[dependent].contains(&dependency) {
                    dependencies[dependent].push(dependency);
                }
            }
            RandomDag { dependencies }
        })
}

fn random_statuses(node_count: usize) -> impl Strategy<Value = Vec<SubtaskStatus>> {
    proptest::collection::vec(proptest::sample::select(SubtaskStatus::ALL.to_vec()), node_count)
}

proptest! {
    #[test]
    fn topological_order_respects_every_edge(dag in random_dag()) {
        let order = dag.graph().topological_order();
        let mut position_in_order = vec![usize::MAX; dag.node_count()];
        for (rank, &node) in order.iter().enumerate() {
            prop_assert_eq!(position_in_order[node], usize::MAX, "node {} appears twice", node);
            position_in_order[node] = rank;
        }
        prop_assert_eq!(order.len(), dag.node_count());
        for (dependency, dependent) in dag.edges() {
            prop_assert!(position_in_order[dependency] < position_in_order[dependent]);
        }
    }

    #[test]
    fn topological_order_takes_the_earliest_available_node_each_step(dag in random_dag()) {
        let order = dag.graph().topological_order();
        let mut placed = vec![false; dag.node_count()];
        for &node in &order {
            let earliest_available = (0..dag.node_count())
                .find(|&candidate| !placed[candidate] && dag.dependencies[candidate].iter().all(|&dependency| placed[dependency]));
            prop_assert_eq!(Some(node), earliest_available);
            placed[node] = true;
        }
    }

    #[test]
    fn ready_is_exactly_the_pending_nodes_with_all_dependencies_done(
        (dag, statuses) in random_dag().prop_flat_map(|dag| {
            let node_count = dag.node_count();
            (Just(dag), random_statuses(node_count))
        })
    ) {
        let ready = dag.graph().ready(&statuses);
        let expected: Vec<usize> = (0..dag.node_count())
            .filter(|&node| statuses[node] == SubtaskStatus::Pending)
            .filter(|&node| dag.dependencies[node].iter().all(|&dependency| statuses[dependency] == SubtaskStatus::Done))
            .collect();
        prop_assert_eq!(ready, expected);
    }

    #[test]
    fn levels_respect_edges_and_cover_every_node_once(dag in random_dag()) {
        let levels = dag.graph().levels();
        let mut level_of = vec![usize::MAX; dag.node_count()];
        for (level, nodes) in levels.iter().enumerate() {
            prop_assert!(!nodes.is_empty(), "level {} is empty", level);
            prop_assert!(nodes.windows(2).all(|pair| pair[0] < pair[1]), "level {} not in plan order", level);
            for &node in nodes {
                prop_assert_eq!(level_of[node], usize::MAX);
                level_of[node] = level;
            }
        }
        prop_assert!(level_of.iter().all(|&level| level != usize::MAX));
        for node in 0..dag.node_count() {
            let expected = dag.dependencies[node].iter().map(|&dependency| level_of[dependency] + 1).max().unwrap_or(0);
            prop_assert_eq!(level_of[node], expected, "node {} is one past its deepest dependency", node);
        }
    }

    #[test]
    fn transitive_dependents_equal_brute_force_reachability(dag in random_dag(), pick in any::<prop::sample::Index>()) {
        let graph = dag.graph();
        let node = pick.index(dag.node_count());
        prop_assert_eq!(graph.transitive_dependents(node), dag.reachable_dependents(node));
    }

    #[test]
    fn neighbour_lists_match_the_edge_list(dag in random_dag()) {
        let graph = dag.graph();
        for node in 0..dag.node_count() {
            let mut dependencies = dag.dependencies[node].clone();
            dependencies.sort_unstable();
            prop_assert_eq!(graph.dependencies(node), dependencies.as_slice());
            let dependents: Vec<usize> = (0..dag.node_count()).filter(|&other| dag.dependencies[other].contains(&node)).collect();
            prop_assert_eq!(graph.dependents(node), dependents.as_slice());
        }
    }

    #[test]
    fn critical_path_equals_the_brute_force_longest_path(
        (dag, durations) in random_dag().prop_flat_map(|dag| {
            let node_count = dag.node_count();
            (Just(dag), proptest::collection::vec(0u64..1_000, node_count))
        })
    ) {
        let graph = dag.graph();
        let longest = graph.critical_path(&durations);
        // Brute force: relax edges node_count times (Bellman-Ford for the longest path in a DAG).
        let mut finish = durations.clone();
        for _ in 0..dag.node_count() {
            for (dependency, dependent) in dag.edges() {
                finish[dependent] = finish[dependent].max(finish[dependency] + durations[dependent]);
            }
        }
        prop_assert_eq!(longest, finish.iter().copied().max().unwrap_or(0));
    }

    #[test]
    fn a_back_edge_makes_build_fail_with_a_real_cycle(dag in random_dag(), pick in any::<prop::sample::Index>()) {
        prop_assert!(DependencyGraph::from_edges(&dag.nodes()).is_ok(), "valid before the back edge");
        let edges: Vec<(usize, usize)> = dag.edges().collect();
        prop_assume!(!edges.is_empty());
        let (dependency, dependent) = edges[pick.index(edges.len())];
        // Adding "dependency depends on dependent" closes a cycle through the existing edge.
        let mut nodes = dag.nodes();
        nodes[dependency].1.push(RandomDag::id(dependent));
        let errors = DependencyGraph::from_edges(&nodes).expect_err("a back edge makes a cycle");
        prop_assert!(!errors.is_empty());
        let edge_set: HashSet<(String, String)> = nodes
            .iter()
            .flat_map(|(id, dependencies)| dependencies.iter().map(move |dep| (id.as_str().to_owned(), dep.as_str().to_owned())))
            .collect();
        for error in &errors {
            let GraphError::Cycle { path } = error else {
                return Err(TestCaseError::fail(format!("expected only cycles, got {error}")));
            };
            prop_assert!(path.len() >= 3, "a cycle of two or more nodes: {}", error);
            prop_assert_eq!(path.first(), path.last());
            let inner: HashSet<&SubtaskId> = path[..path.len() - 1].iter().collect();
            prop_assert_eq!(inner.len(), path.len() - 1, "the path repeats a node: {}", error);
            for step in path.windows(2) {
                let edge = (step[0].as_str().to_owned(), step[1].as_str().to_owned());
                prop_assert!(edge_set.contains(&edge), "{} -> {} is not a dependency in {}", edge.0, edge.1, error);
            }
        }
    }
}
