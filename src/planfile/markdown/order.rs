//! The dependencies a task list's order implies (when a step writes none out):
//!
//! - a step depends on the step before it;
//! - a run of `[P]` steps all depend on what came before the run, and the step after the run
//!   depends on every step of it;
//! - a phase (a heading) starts after the phase before it ends: after each of its steps that no
//!   other step of it depends on;
//! - consecutive user-story phases (spec-kit) all start after the phase before them, side by
//!   side, and the phase after them waits for every one of them.

use std::collections::HashSet;

/// A step as the order sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placed {
    pub id: String,
    /// The phase (heading) it is under, in file order.
    pub phase: usize,
    /// Marked `[P]`.
    pub parallel: bool,
    /// Written-out dependencies: they replace the order's for this step, which still takes its
    /// place in the order for the steps after it.
    pub explicit: Option<Vec<String>>,
}

/// What the steps after a point depend on, inside one phase.
#[derive(Debug, Clone, Default)]
struct Frontier {
    /// What the next step that is not `[P]` depends on, and what a new `[P]` run starts after.
    base: Vec<String>,
    /// The `[P]` run in progress.
    run: Vec<String>,
}

impl Frontier {
    fn starting_after(ids: Vec<String>) -> Self {
        Frontier { base: ids, run: Vec::new() }
    }

    /// The ids a step placed now depends on; the step then takes its place.
    fn place(&mut self, id: &str, parallel: bool) -> Vec<String> {
        if parallel {
            self.run.push(id.to_owned());
            return self.base.clone();
        }
        if !self.run.is_empty() {
            self.base = std::mem::take(&mut self.run);
        }
        std::mem::replace(&mut self.base, vec![id.to_owned()])
    }
}

/// The steps of a phase (`steps[range]`, with their dependencies) that no other step of it
/// depends on, in order.
fn phase_end(steps: &[Placed], dependencies: &[Vec<String>], range: std::ops::Range<usize>) -> Vec<String> {
    let needed: HashSet<&str> = dependencies[range.clone()].iter().flatten().map(String::as_str).collect();
    steps[range].iter().map(|step| step.id.clone()).filter(|id| !needed.contains(id.as_str())).collect()
}

/// The implied dependencies of every step, in the order given.
pub(super) fn dependencies(steps: &[Placed], story_phases: &HashSet<usize>) -> Vec<Vec<String>> {
    let mut result: Vec<Vec<String>> = Vec::with_capacity(steps.len());
    let mut frontier = Frontier::default();
    let mut phase: Option<usize> = None;
    let mut phase_start = 0;
    // While in a group of consecutive story phases: where each of them starts, and the ends of
    // the ones already finished.
    let mut story_start: Option<Vec<String>> = None;
    let mut story_ends: Vec<String> = Vec::new();
    for step in steps {
        // The steps of a phase are contiguous: a phase is what lies under its heading.
        if phase != Some(step.phase) {
            let ended = phase_end(steps, &result, phase_start..result.len());
            phase_start = result.len();
            let was_story = phase.is_some_and(|phase| story_phases.contains(&phase));
            let is_story = story_phases.contains(&step.phase);
            if was_story {
                story_ends.extend(ended.iter().cloned());
            }
            frontier = match (was_story, is_story) {
                (true, true) => Frontier::starting_after(story_start.clone().unwrap_or_default()),
                (false, true) => {
                    story_start = Some(ended.clone());
                    Frontier::starting_after(ended)
                }
                (true, false) => {
                    story_start = None;
                    Frontier::starting_after(unique(std::mem::take(&mut story_ends)))
                }
                (false, false) => Frontier::starting_after(ended),
            };
            phase = Some(step.phase);
        }
        let implied = frontier.place(&step.id, step.parallel);
        result.push(unique(step.explicit.clone().unwrap_or(implied)));
    }
    result
}

fn unique(ids: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, phase: usize, parallel: bool) -> Placed {
        Placed { id: id.to_owned(), phase, parallel, explicit: None }
    }

    fn shape(steps: &[Placed], stories: &[usize]) -> Vec<(String, Vec<String>)> {
        let stories: HashSet<usize> = stories.iter().copied().collect();
        steps.iter().map(|step| step.id.clone()).zip(dependencies(steps, &stories)).collect()
    }

    fn deps(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs.iter().map(|(id, deps)| (id.to_string(), deps.iter().map(|dep| dep.to_string()).collect())).collect()
    }

    #[test]
    fn steps_follow_each_other_and_parallel_runs_fan_out_and_in() {
        let steps = [step("a", 0, false), step("b", 0, true), step("c", 0, true), step("d", 0, false)];
        assert_eq!(shape(&steps, &[]), deps(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &["b", "c"])]));
    }

    #[test]
    fn a_phase_waits_for_the_parallel_end_of_the_one_before() {
        let steps = [step("a", 1, true), step("b", 1, true), step("c", 2, false)];
        assert_eq!(shape(&steps, &[]), deps(&[("a", &[]), ("b", &[]), ("c", &["a", "b"])]));
    }

    #[test]
    fn written_dependencies_replace_the_order_and_the_phase_waits_for_every_loose_end() {
        let mut steps = vec![step("t1", 1, true), step("t2", 1, true), step("m", 1, false), step("next", 2, false)];
        steps[2].explicit = Some(vec!["t2".into()]);
        assert_eq!(shape(&steps, &[]), deps(&[("t1", &[]), ("t2", &[]), ("m", &["t2"]), ("next", &["t1", "m"])]));
    }

    #[test]
    fn story_phases_start_together_and_the_next_phase_waits_for_all() {
        let steps = [
            step("setup", 1, false),
            step("us1a", 2, false),
            step("us1b", 2, false),
            step("us2a", 3, true),
            step("us2b", 3, true),
            step("polish", 4, false),
        ];
        assert_eq!(
            shape(&steps, &[2, 3]),
            deps(&[
                ("setup", &[]),
                ("us1a", &["setup"]),
                ("us1b", &["us1a"]),
                ("us2a", &["setup"]),
                ("us2b", &["setup"]),
                ("polish", &["us1b", "us2a", "us2b"]),
            ])
        );
    }
}
