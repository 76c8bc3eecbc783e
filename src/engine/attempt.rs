//! One attempt of one subtask as a spawned task: the agent call raced against the per-attempt
//! timeout, and the backoff wait between attempts. What comes back is a [`TaskReport`].
//!
//! No store, no status changes here: the driver applies the report.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::agent::{
    AgentError, AgentIo, AgentOutcome, AgentRequest, AgentSignal, AttemptClock, OutputSink, SignalSink, SubtaskExecutor,
};
use super::events::{EventSender, RunEvent, RunEventKind};
use crate::model::{PlanId, Progress, RunId, SubtaskId, Timestamp};

/// What a spawned task of the run reports to the driver.
pub(super) enum TaskReport {
    Attempt {
        node: usize,
        outcome: Result<AgentOutcome, AgentError>,
    },
    /// The wait before the next attempt ended; `cancelled` when the attempt's token fired.
    BackoffOver {
        node: usize,
        cancelled: bool,
    },
}

/// Extra time after the kill grace for an agent to return once its attempt timed out.
const TIMEOUT_RETURN_SLACK: Duration = Duration::from_secs(1);

/// Runs one attempt: the executor's future, bounded by `timeout` (on expiry the attempt's token is
/// cancelled so the agent stops its processes, and the error is `timed out after N s`).
pub(super) async fn run_attempt(
    node: usize,
    executor: Option<Arc<dyn SubtaskExecutor>>,
    request: AgentRequest,
    io: AgentIo,
    timeout: Option<Duration>,
) -> TaskReport {
    let Some(executor) = executor else {
        let message = format!("no executor for agent {}", request.subtask.agent);
        return TaskReport::Attempt { node, outcome: Err(AgentError::Unavailable(message)) };
    };
    let token = io.cancel.clone();
    let kill_grace = io.kill_grace;
    let clock = io.clock.clone();
    let attempt = executor.execute(request, io);
    let Some(limit) = timeout else {
        return TaskReport::Attempt { node, outcome: attempt.await };
    };
    tokio::pin!(attempt);
    let outcome = tokio::select! {
        outcome = &mut attempt => outcome,
        () = expiry(limit, &clock) => {
            token.cancel();
            // Let the agent stop its process group; dropping the future would SIGKILL it anyway.
            let _ = tokio::time::timeout(kill_grace + TIMEOUT_RETURN_SLACK, &mut attempt).await;
            Err(AgentError::Failed { message: format!("timed out after {} s", limit.as_secs()), output: None })
        }
    };
    TaskReport::Attempt { node, outcome }
}

/// Resolves when `limit` of unpaused time has passed since the attempt started: time the agent
/// spends waiting for the person (an approval, a question) does not count.
async fn expiry(limit: Duration, clock: &AttemptClock) {
    let started = tokio::time::Instant::now();
    loop {
        let (paused_for, paused_now) = clock.paused();
        if paused_now {
            // The notification can be missed between the check and the wait; re-check now and then.
            let _ = tokio::time::timeout(PAUSE_RECHECK, clock.resumed()).await;
            continue;
        }
        let counted = started.elapsed().saturating_sub(paused_for);
        if counted >= limit {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(limit - counted) => {}
            () = clock.resumed() => {}
        }
    }
}

/// How often a paused clock is looked at again if a resume notification was missed.
const PAUSE_RECHECK: Duration = Duration::from_millis(500);

/// Waits `delay` before the next attempt, or until `cancel` fires.
pub(super) async fn wait_backoff(node: usize, delay: Duration, cancel: CancellationToken) -> TaskReport {
    tokio::select! {
        () = tokio::time::sleep(delay) => TaskReport::BackoffOver { node, cancelled: false },
        () = cancel.cancelled() => TaskReport::BackoffOver { node, cancelled: true },
    }
}

/// The progress last committed, shared with output sinks so output events carry it.
pub(super) type SharedProgress = Arc<Mutex<Progress>>;

/// An output sink that turns each line into a `SubtaskOutput` event (never waits).
pub(super) fn output_sink(
    events: Arc<EventSender>,
    progress: SharedProgress,
    plan_id: PlanId,
    run_id: RunId,
    subtask_id: SubtaskId,
) -> OutputSink {
    OutputSink::new(move |text| {
        let progress = *progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        events.send(RunEvent {
            plan_id: plan_id.clone(),
            run_id: run_id.clone(),
            at: Timestamp::now(),
            progress,
            kind: RunEventKind::SubtaskOutput { subtask_id: subtask_id.clone(), text },
        });
    })
}

/// Where one attempt's signals go: activity straight out as events (no store), usage and
/// approval answers to the driver's loop (tagged with `node`), which records them with the subtask.
pub(super) fn signal_sink(
    events: Arc<EventSender>,
    progress: SharedProgress,
    to_driver: tokio::sync::mpsc::UnboundedSender<(usize, AgentSignal)>,
    (plan_id, run_id, subtask_id): (PlanId, RunId, SubtaskId),
    node: usize,
) -> SignalSink {
    SignalSink::new(move |signal| match signal {
        AgentSignal::Activity(activity) => {
            let progress = *progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let kind = RunEventKind::AgentActivity { subtask_id: subtask_id.clone(), activity };
            events.send(RunEvent {
                plan_id: plan_id.clone(),
                run_id: run_id.clone(),
                at: Timestamp::now(),
                progress,
                kind,
            });
        }
        other => {
            let _ = to_driver.send((node, other));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn time_spent_paused_does_not_count_against_the_timeout() {
        let clock = AttemptClock::default();
        let started = tokio::time::Instant::now();
        let expires = expiry(Duration::from_secs(10), &clock);
        tokio::pin!(expires);
        assert!(tokio::time::timeout(Duration::from_secs(4), &mut expires).await.is_err());
        let pause = clock.pause();
        assert!(tokio::time::timeout(Duration::from_secs(60), &mut expires).await.is_err(), "no expiry while paused");
        drop(pause);
        expires.await;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_secs(70) && elapsed < Duration::from_secs(72), "{elapsed:?}");
        assert!(clock.paused().0 >= Duration::from_secs(60));
    }
}
