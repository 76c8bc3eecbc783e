//! Tests of the session FSM against an independently written table: every (state, event) pair,
//! the refusal message, names, and liveness (every state reachable from idle and back).

use std::collections::{BTreeSet, HashSet, VecDeque};

use codelab_planner::fsm::{SessionEvent, SessionState, TransitionError, allowed_events, transition};

/// The expected table, written by hand from the seed reference plus the rebuild's additions.
/// `reset` is listed separately: it is legal from every state.
const EXPECTED_EDGES: &[(&str, &str, &str)] = &[
    ("idle", "receive_message", "classify"),
    ("classify", "is_atomic_true", "execution"),
    ("classify", "is_atomic_false", "plan_required"),
    ("classify", "classify_error", "idle"),
    ("plan_required", "route_to_architect", "architect_planning"),
    ("architect_planning", "plan_created", "plan_review"),
    ("architect_planning", "planning_failed", "error_handling"),
    ("plan_review", "plan_approved", "plan_execution"),
    ("plan_review", "plan_rejected", "idle"),
    ("plan_review", "plan_modification_requested", "architect_planning"),
    ("plan_execution", "plan_execution_completed", "completed"),
    ("plan_execution", "plan_execution_failed", "error_handling"),
    ("plan_execution", "plan_cancelled", "completed"),
    ("execution", "all_subtasks_done", "completed"),
    ("execution", "subtask_failed", "error_handling"),
    ("execution", "plan_cancelled", "completed"),
    ("error_handling", "requires_replanning", "architect_planning"),
    ("error_handling", "retry_subtask", "execution"),
    ("error_handling", "plan_approved", "plan_execution"),
    ("error_handling", "plan_cancelled", "completed"),
];

const STATE_NAMES: [&str; 9] = [
    "idle",
    "classify",
    "plan_required",
    "architect_planning",
    "plan_review",
    "plan_execution",
    "execution",
    "error_handling",
    "completed",
];

const EVENT_NAMES: [&str; 18] = [
    "receive_message",
    "is_atomic_true",
    "is_atomic_false",
    "classify_error",
    "route_to_architect",
    "plan_created",
    "planning_failed",
    "plan_approved",
    "plan_rejected",
    "plan_modification_requested",
    "plan_execution_completed",
    "plan_execution_failed",
    "all_subtasks_done",
    "subtask_failed",
    "requires_replanning",
    "retry_subtask",
    "plan_cancelled",
    "reset",
];

fn state(name: &str) -> SessionState {
    SessionState::parse(name).unwrap_or_else(|| panic!("unknown state name {name}"))
}

fn event(name: &str) -> SessionEvent {
    SessionEvent::parse(name).unwrap_or_else(|| panic!("unknown event name {name}"))
}

/// The expected target of `(from, on)`, from the hand-written table.
fn expected_target(from: &str, on: &str) -> Option<&'static str> {
    if on == "reset" {
        return Some("idle");
    }
    EXPECTED_EDGES
        .iter()
        .find(|(edge_from, edge_event, _)| *edge_from == from && *edge_event == on)
        .map(|(_, _, to)| *to)
}

#[test]
fn names_are_the_seeds_snake_case_names_and_round_trip() {
    let state_names: Vec<&str> = SessionState::ALL.iter().map(|state| state.as_str()).collect();
    assert_eq!(state_names, STATE_NAMES);
    let event_names: Vec<&str> = SessionEvent::ALL.iter().map(|event| event.as_str()).collect();
    assert_eq!(event_names, EVENT_NAMES);
    for name in STATE_NAMES {
        assert_eq!(state(name).to_string(), name);
    }
    for name in EVENT_NAMES {
        assert_eq!(event(name).to_string(), name);
    }
    assert_eq!(SessionState::parse("Idle"), None);
    assert_eq!(SessionState::parse(""), None);
    assert_eq!(SessionEvent::parse("receive-message"), None);
}

#[test]
fn every_state_event_pair_matches_the_expected_table() {
    let mut legal_pairs = 0;
    for from in STATE_NAMES {
        for on in EVENT_NAMES {
            let outcome = transition(state(from), event(on));
            match expected_target(from, on) {
                Some(to) => {
                    legal_pairs += 1;
                    assert_eq!(outcome, Ok(state(to)), "{from} --{on}--> should land in {to}");
                }
                None => {
                    let error = outcome.expect_err(&format!("{from} --{on}--> should be refused"));
                    assert_eq!(error.state, state(from));
                    assert_eq!(error.event, event(on));
                }
            }
        }
    }
    assert_eq!(legal_pairs, EXPECTED_EDGES.len() + STATE_NAMES.len());
}

#[test]
fn refusals_list_exactly_the_allowed_events_in_their_message() {
    for from in STATE_NAMES {
        let expected_allowed: Vec<SessionEvent> = EXPECTED_EDGES
            .iter()
            .filter(|(edge_from, _, _)| *edge_from == from)
            .map(|(_, on, _)| event(on))
            .chain([SessionEvent::Reset])
            .collect();
        assert_eq!(allowed_events(state(from)), expected_allowed, "allowed events in {from}");
        for on in EVENT_NAMES.iter().filter(|on| expected_target(from, on).is_none()) {
            let error: TransitionError = transition(state(from), event(on)).unwrap_err();
            let allowed_set: BTreeSet<&str> = error.allowed.iter().map(|event| event.as_str()).collect();
            let expected_set: BTreeSet<&str> = expected_allowed.iter().map(|event| event.as_str()).collect();
            assert_eq!(allowed_set, expected_set);
            let message = error.to_string();
            assert!(message.contains(on), "{message} should name the event");
            assert!(message.contains(from), "{message} should name the state");
            let listed = message.split("allowed events: ").nth(1).expect("message lists allowed events");
            let listed_names: Vec<&str> = listed.split(", ").collect();
            let expected_names: Vec<&str> = expected_allowed.iter().map(|event| event.as_str()).collect();
            assert_eq!(listed_names, expected_names, "message {message}");
        }
    }
}

fn reachable_from(start: SessionState) -> HashSet<SessionState> {
    let mut seen = HashSet::from([start]);
    let mut queue = VecDeque::from([start]);
    while let Some(current) = queue.pop_front() {
        for next_event in allowed_events(current) {
            let next = transition(current, next_event).expect("allowed events are legal");
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    seen
}

#[test]
fn every_state_is_reachable_from_idle_without_reset() {
    let mut seen = HashSet::from([SessionState::Idle]);
    let mut queue = VecDeque::from([SessionState::Idle]);
    while let Some(current) = queue.pop_front() {
        for next_event in allowed_events(current).into_iter().filter(|event| *event != SessionEvent::Reset) {
            let next = transition(current, next_event).expect("allowed events are legal");
            if seen.insert(next) {
                queue.push_back(next);
            }
        }
    }
    assert_eq!(seen.len(), SessionState::ALL.len(), "reached {seen:?}");
}

#[test]
fn idle_is_reachable_from_every_reachable_state() {
    for reachable in reachable_from(SessionState::Idle) {
        assert!(reachable_from(reachable).contains(&SessionState::Idle), "{reachable} cannot get back to idle");
        assert_eq!(transition(reachable, SessionEvent::Reset), Ok(SessionState::Idle));
    }
}

#[test]
fn every_event_is_legal_in_at_least_one_state() {
    for on in SessionEvent::ALL {
        let legal_somewhere = SessionState::ALL.iter().any(|from| transition(*from, on).is_ok());
        assert!(legal_somewhere, "{on} is never legal");
        let listed_somewhere = SessionState::ALL.iter().any(|from| allowed_events(*from).contains(&on));
        assert!(listed_somewhere, "{on} is never listed as allowed");
    }
}

#[test]
fn complex_and_atomic_paths_walk_end_to_end() {
    use SessionEvent as E;
    let walk = |events: &[SessionEvent]| {
        events.iter().try_fold(SessionState::Idle, |current, next_event| transition(current, *next_event))
    };
    let complex = [E::ReceiveMessage, E::IsAtomicFalse, E::RouteToArchitect, E::PlanCreated];
    assert_eq!(walk(&complex), Ok(SessionState::PlanReview));
    let revised = [&complex[..], &[E::PlanModificationRequested, E::PlanCreated, E::PlanApproved]].concat();
    assert_eq!(walk(&revised), Ok(SessionState::PlanExecution));
    let failed_then_retried =
        [&revised[..], &[E::PlanExecutionFailed, E::PlanApproved, E::PlanExecutionCompleted]].concat();
    assert_eq!(walk(&failed_then_retried), Ok(SessionState::Completed));
    let atomic = [E::ReceiveMessage, E::IsAtomicTrue, E::SubtaskFailed, E::RetrySubtask, E::AllSubtasksDone, E::Reset];
    assert_eq!(walk(&atomic), Ok(SessionState::Idle));
    let refused = walk(&[E::ReceiveMessage, E::PlanApproved]);
    assert_eq!(refused.map_err(|error| error.state), Err(SessionState::Classify));
}
