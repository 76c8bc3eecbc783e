//! What the client sees while `planning/create` (or `planning/revise`) plans: with a
//! `partialResultToken`, the subtasks parsed so far as `$/progress { token, value: { subtasks } }`,
//! every one sent before the reply; with a `workDoneToken`, a cancellable "Planning…" progress
//! whose cancel (`window/workDoneProgress/cancel`) aborts the model call.
//!
//! It does not plan: it only builds the [`PlanningHooks`] the orchestrator calls back and
//! forwards what comes through them.

use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::notification::Progress as ProgressNotification;
use tower_lsp_server::ls_types::{
    ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress, WorkDoneProgressBegin, WorkDoneProgressEnd,
};

use super::ext::{PartialResultParams, PartialResultProgress, PartialSubtasks};
use super::server::SharedState;
use crate::model::validate::SubtaskDraft;
use crate::orchestrator::PlanningHooks;
use crate::wire::convert::subtask_draft_to_input;

/// The progress of one planning request. Dropping it (the request was cancelled) forgets its
/// work-done token; [`PlanningProgress::finish`] also ends the progress and flushes the partials.
pub struct PlanningProgress {
    client: Client,
    shared: Arc<SharedState>,
    work_done: Option<ProgressToken>,
    partials: Option<(mpsc::UnboundedSender<Vec<SubtaskDraft>>, tokio::task::JoinHandle<()>)>,
}

impl PlanningProgress {
    /// Starts the progress the tokens ask for and returns the hooks for the orchestrator.
    pub async fn begin(
        client: Client,
        shared: Arc<SharedState>,
        work_done: Option<ProgressToken>,
        partial_result: Option<ProgressToken>,
    ) -> (Self, PlanningHooks) {
        let mut hooks = PlanningHooks::default();
        if let Some(token) = &work_done {
            shared.remember_planning_token(token.clone(), hooks.cancel.clone());
            let begin = WorkDoneProgressBegin {
                title: "Planning…".to_owned(),
                cancellable: Some(true),
                message: None,
                percentage: None,
            };
            send_work_done(&client, token, WorkDoneProgress::Begin(begin)).await;
        }
        let partials = partial_result.map(|token| {
            let (sender, receiver) = mpsc::unbounded_channel::<Vec<SubtaskDraft>>();
            let forwarder = tokio::spawn(forward_partials(client.clone(), token, receiver));
            let hook_sender = sender.clone();
            hooks.on_subtasks = Some(Arc::new(move |subtasks: Vec<SubtaskDraft>| {
                let _ = hook_sender.send(subtasks);
            }));
            (sender, forwarder)
        });
        (Self { client, shared, work_done, partials }, hooks)
    }

    /// Sends every partial result still queued, then ends the work-done progress with `message`.
    pub async fn finish(mut self, hooks: PlanningHooks, message: &str) {
        drop(hooks); // The orchestrator's copy of the partial-result sender.
        if let Some((sender, forwarder)) = self.partials.take() {
            drop(sender);
            let _ = forwarder.await;
        }
        if let Some(token) = self.work_done.take() {
            let end = WorkDoneProgressEnd { message: Some(message.to_owned()) };
            send_work_done(&self.client, &token, WorkDoneProgress::End(end)).await;
            self.shared.forget_planning_token(&token);
        }
        let_queued_notifications_out().await;
    }
}

/// tower-lsp-server writes queued client notifications and handler responses from one task,
/// choosing between the two queues in turn; a response produced in the same poll as the last
/// notification can overtake it. Yielding twice (before the response exists) lets the writer
/// take everything queued first, whichever order the server's task polls its parts in.
async fn let_queued_notifications_out() {
    for _ in 0..2 {
        tokio::task::yield_now().await;
    }
}

impl Drop for PlanningProgress {
    fn drop(&mut self) {
        if let Some(token) = &self.work_done {
            self.shared.forget_planning_token(token);
        }
    }
}

async fn forward_partials(
    client: Client,
    token: ProgressToken,
    mut receiver: mpsc::UnboundedReceiver<Vec<SubtaskDraft>>,
) {
    while let Some(drafts) = receiver.recv().await {
        let subtasks = drafts.iter().filter_map(subtask_draft_to_input).collect();
        let params = PartialResultParams { token: token.clone(), value: PartialSubtasks { subtasks } };
        client.send_notification::<PartialResultProgress>(params).await;
    }
}

async fn send_work_done(client: &Client, token: &ProgressToken, value: WorkDoneProgress) {
    let params = ProgressParams { token: token.clone(), value: ProgressParamsValue::WorkDone(value) };
    client.send_notification::<ProgressNotification>(params).await;
}
