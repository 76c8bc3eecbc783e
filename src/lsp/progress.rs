//! Showing one run to the client: each `RunEvent` becomes a `planning/progress` notification and,
//! when a token is available, a `$/progress` begin/report/end; after each subtask starts or ends
//! and after the run ends, the client is asked to refresh code lenses when it can
//! (`workspace/codeLens/refresh`; the store already holds the new status). Every run this server
//! shows goes through [`show_run`], whichever request started it.
//!
//! The token is the request's `workDoneToken`, or one created with
//! `window/workDoneProgress/create` when the client advertised `window.workDoneProgress`. The
//! token is remembered (token → plan) while the run lasts so `window/workDoneProgress/cancel`
//! can find the plan. The forwarding task is spawned: handlers never wait for a run.
//!
//! The first time in this process that a step waits for a person because no language model is
//! configured, the client also gets one `window/showMessage` (info) saying what that means.

use std::sync::Arc;

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Progress as ProgressNotification;
use tower_lsp_server::ls_types::{
    MessageType, NumberOrString, ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport,
};

use crate::engine::{ActivityPhase, EventReceiver, RunEvent, RunEventKind};
use crate::model::{RunId, SubtaskId};
use crate::orchestrator::{Orchestrator, RunStarted};

use super::ext::{PlanningProgress, RunStartedResult};
use super::server::SharedState;
use crate::wire::convert::{run_event_to_wire, run_started_to_wire};

/// Starts showing `run` to the client; returns at once with the request's answer.
pub fn show_run(
    client: Client,
    shared: Arc<SharedState>,
    run: RunStarted,
    request_token: Option<ProgressToken>,
) -> RunStartedResult {
    let result = run_started_to_wire(&run.plan_id, &run.run_id);
    tokio::spawn(forward_run(client, shared, run, request_token));
    result
}

/// Shows every run another process owns on the workspace's database (a command line's, an MCP
/// server's) like the server's own, from the moment it is seen until its `planFinished`. Returns
/// once the database is followed.
pub async fn show_other_runs(client: Client, shared: Arc<SharedState>, orchestrator: &Orchestrator) {
    let mut runs = match orchestrator.follow_other_runs().await {
        Ok(runs) => runs,
        Err(failure) => {
            tracing::warn!("cannot follow other processes' runs: {failure}");
            return;
        }
    };
    tokio::spawn(async move {
        while let Some(run) = runs.recv().await {
            tracing::info!(plan = %run.plan_id, run = %run.run_id, "showing a run of another process");
            show_run(client.clone(), shared.clone(), run, None);
        }
    });
}

async fn forward_run(client: Client, shared: Arc<SharedState>, run: RunStarted, request_token: Option<ProgressToken>) {
    let RunStarted { plan_id, run_id, title, events, elsewhere } = run;
    let cancellable = Some(!elsewhere);
    let token = match request_token {
        Some(token) => Some(token),
        None => create_token(&client, &shared, &run_id).await,
    };
    if let Some(token) = &token {
        shared.remember_progress_token(token.clone(), plan_id.clone());
        send_work_done(
            &client,
            token,
            WorkDoneProgress::Begin(WorkDoneProgressBegin { title, cancellable, message: None, percentage: Some(0) }),
        )
        .await;
    }
    let finished = forward_events(&client, &shared, token.as_ref(), cancellable, events).await;
    if let Some(token) = &token {
        if !finished {
            let end = WorkDoneProgressEnd { message: Some("stopped".to_owned()) };
            send_work_done(&client, token, WorkDoneProgress::End(end)).await;
        }
        shared.forget_progress_token(token);
    }
    tracing::debug!(plan = %plan_id, run = %run_id, "run forwarding ended");
}

/// Forwards until `PlanFinished`; true when it was seen.
async fn forward_events(
    client: &Client,
    shared: &SharedState,
    token: Option<&ProgressToken>,
    cancellable: Option<bool>,
    mut events: EventReceiver,
) -> bool {
    let mut text = RunProgressText::default();
    while let Some(event) = events.recv().await {
        let notifications = run_event_to_wire(&event);
        if notifications.is_empty() {
            tell_notice(client, &event).await;
        }
        for params in notifications {
            client.send_notification::<PlanningProgress>(params).await;
        }
        if let RunEventKind::SubtaskWaiting { agent, .. } = &event.kind {
            if agent.needs_model() && shared.first_no_model_notice() {
                client.show_message(MessageType::INFO, NO_MODEL_NOTICE).await;
            }
        }
        if changes_lenses(&event.kind) && shared.client_supports_code_lens_refresh() {
            refresh_lenses(client.clone());
        }
        let Some(token) = token else {
            if event.kind.is_final() {
                return true;
            }
            continue;
        };
        match text.observe(&event) {
            Some(WorkDoneUpdate::Report(message)) => {
                let report = WorkDoneProgressReport {
                    cancellable,
                    message: Some(message),
                    percentage: Some(event.progress.percentage()),
                };
                send_work_done(client, token, WorkDoneProgress::Report(report)).await;
            }
            Some(WorkDoneUpdate::End(message)) => {
                send_work_done(client, token, WorkDoneProgress::End(WorkDoneProgressEnd { message: Some(message) }))
                    .await;
                return true;
            }
            None => {}
        }
    }
    false
}

/// Whether `event` changes what a plan file's lenses show (a status, not output or the start).
fn changes_lenses(event: &RunEventKind) -> bool {
    !matches!(
        event,
        RunEventKind::SubtaskOutput { .. }
            | RunEventKind::PlanStarted { .. }
            | RunEventKind::AgentActivity { .. }
            | RunEventKind::StorageRetrying { .. }
    )
}

/// Asks the client to refresh code lenses, without waiting for its answer.
fn refresh_lenses(client: Client) {
    tokio::spawn(async move {
        if let Err(failure) = client.code_lens_refresh().await {
            tracing::debug!("workspace/codeLens/refresh failed: {}", failure.message);
        }
    });
}

/// The one-time notice when a step waits because no language model is configured.
pub const NO_MODEL_NOTICE: &str = "codelab-planner: no language model is configured, so coding, debugging and \
question steps wait for you: do each one yourself, then mark it done. Build, test and other shell steps still run by \
themselves.";
/// A notice of the run goes to the person once, as `window/showMessage`.
async fn tell_notice(client: &Client, event: &RunEvent) {
    if let RunEventKind::StorageRetrying { error } = &event.kind {
        let message = format!(
            "codelab-planner: cannot record the progress of plan {} ({error}); retrying until it succeeds — free disk space if it is full",
            event.plan_id
        );
        client.show_message(MessageType::WARNING, message).await;
    }
}

async fn create_token(client: &Client, shared: &SharedState, run_id: &RunId) -> Option<ProgressToken> {
    if !shared.client_supports_work_done_progress() {
        return None;
    }
    let token = NumberOrString::String(format!("codelab-planner/run/{run_id}"));
    match client.create_work_done_progress(token.clone()).await {
        Ok(()) => Some(token),
        Err(failure) => {
            tracing::warn!("window/workDoneProgress/create failed: {}", failure.message);
            None
        }
    }
}

async fn send_work_done(client: &Client, token: &ProgressToken, value: WorkDoneProgress) {
    let params = ProgressParams { token: token.clone(), value: ProgressParamsValue::WorkDone(value) };
    client.send_notification::<ProgressNotification>(params).await;
}

/// What a run event changes in the `$/progress` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkDoneUpdate {
    Report(String),
    End(String),
}

/// Tracks the running subtasks' titles to write `3/7 · running: Run tests`.
#[derive(Debug, Default)]
pub struct RunProgressText {
    running: Vec<(SubtaskId, String)>,
}

impl RunProgressText {
    /// The report or end message for `event`; `None` for output and the start (begin is sent
    /// separately).
    pub fn observe(&mut self, event: &RunEvent) -> Option<WorkDoneUpdate> {
        let progress = event.progress;
        let counts = format!("{}/{}", progress.finished(), progress.total);
        match &event.kind {
            RunEventKind::PlanStarted { .. }
            | RunEventKind::SubtaskOutput { .. }
            | RunEventKind::StorageRetrying { .. } => None,
            RunEventKind::SubtaskStarted { subtask_id, title, .. } => {
                if !self.running.iter().any(|(id, _)| id == subtask_id) {
                    self.running.push((subtask_id.clone(), title.clone()));
                }
                Some(WorkDoneUpdate::Report(self.report(&counts)))
            }
            RunEventKind::SubtaskRetrying { subtask_id, attempt, .. } => Some(WorkDoneUpdate::Report(format!(
                "{} · retrying {subtask_id} (attempt {attempt})",
                self.report(&counts)
            ))),
            RunEventKind::SubtaskWaiting { title, .. } => {
                Some(WorkDoneUpdate::Report(format!("{} · waiting for you: {title}", self.report(&counts))))
            }
            RunEventKind::ApprovalRequested { approval, .. } => {
                Some(WorkDoneUpdate::Report(format!("{counts} · waiting for you: {}", approval.question)))
            }
            RunEventKind::ApprovalAnswered { .. } => Some(WorkDoneUpdate::Report(self.report(&counts))),
            RunEventKind::AgentActivity { activity, .. } => match activity.phase {
                ActivityPhase::ToolFinished => None,
                _ => Some(WorkDoneUpdate::Report(format!("{counts} · {}", activity.describe()))),
            },
            RunEventKind::SubtaskFinished { subtask_id, .. } => {
                self.running.retain(|(id, _)| id != subtask_id);
                Some(WorkDoneUpdate::Report(self.report(&counts)))
            }
            RunEventKind::PlanFinished { status, duration_ms, summary, .. } => {
                let seconds = *duration_ms as f64 / 1000.0;
                let mut end = format!("{status} {}/{} in {seconds:.1}s", progress.done, progress.total);
                if let Some(summary) = summary {
                    end.push_str(&format!(" · {summary}"));
                }
                Some(WorkDoneUpdate::End(end))
            }
        }
    }

    fn report(&self, counts: &str) -> String {
        if self.running.is_empty() {
            counts.to_owned()
        } else {
            let titles: Vec<&str> = self.running.iter().map(|(_, title)| title.as_str()).collect();
            format!("{counts} · running: {}", titles.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PlanId, PlanStatus, Progress, SubtaskStatus, Timestamp};

    fn event(progress: Progress, kind: RunEventKind) -> RunEvent {
        RunEvent {
            plan_id: PlanId::from_raw("p"),
            run_id: RunId::from_raw("r"),
            at: Timestamp::from_millis(0),
            progress,
            kind,
        }
    }

    #[test]
    fn report_and_end_messages() {
        let mut text = RunProgressText::default();
        let running = Progress { total: 7, done: 3, running: 1, pending: 3, ..Default::default() };
        let started = event(
            running,
            RunEventKind::SubtaskStarted {
                subtask_id: SubtaskId::from_raw("t"),
                title: "Run tests".into(),
                attempt: 1,
            },
        );
        assert_eq!(text.observe(&started), Some(WorkDoneUpdate::Report("3/7 · running: Run tests".into())));
        let done = Progress { total: 7, done: 4, pending: 3, ..Default::default() };
        let finished = event(
            done,
            RunEventKind::SubtaskFinished {
                subtask_id: SubtaskId::from_raw("t"),
                title: "Run tests".into(),
                status: SubtaskStatus::Done,
                result: None,
                error: None,
                duration_ms: 1,
            },
        );
        assert_eq!(text.observe(&finished), Some(WorkDoneUpdate::Report("4/7".into())));
        let waiting = event(
            Progress { total: 7, done: 4, waiting: 1, pending: 2, ..Default::default() },
            RunEventKind::SubtaskWaiting {
                subtask_id: SubtaskId::from_raw("w"),
                title: "Review the diff".into(),
                agent: crate::model::AgentKind::Manual,
                message: "This step is yours".into(),
                instructions: "This step is yours".into(),
            },
        );
        assert_eq!(
            text.observe(&waiting),
            Some(WorkDoneUpdate::Report("4/7 · waiting for you: Review the diff".into()))
        );
        let all_done = Progress { total: 7, done: 7, ..Default::default() };
        let end = event(
            all_done,
            RunEventKind::PlanFinished {
                status: PlanStatus::Completed,
                duration_ms: 12_400,
                usage: crate::model::Usage::default(),
                summary: None,
            },
        );
        assert_eq!(text.observe(&end), Some(WorkDoneUpdate::End("completed 7/7 in 12.4s".into())));
    }
}
