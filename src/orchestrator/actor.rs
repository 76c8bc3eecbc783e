//! The orchestrator actor: the single owner of sessions, plan mutations and active runs. It
//! handles one [`Command`] at a time; operations themselves live in `plans.rs` (create, edit,
//! review) and `runs.rs` (execute, retry, cancel, run completion).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot, watch};

use super::complete::{CompleteRequest, CompleteRoute};
use super::prepare::{PlanningSetup, PreparedCreate, PreparedRevise};
use super::runs::{ActiveRun, CancelWait, RunEnd};
use super::{Created, ExecuteRequest, OrchestratorError, RetryRequest, RunStarted, SessionView, UpdateRequest};
use crate::config::Settings;
use crate::model::{Plan, PlanId, PlanStatus, SessionId};
use crate::panics::panic_message;
use crate::store::PlanRepository;

type Reply<T> = oneshot::Sender<Result<T, OrchestratorError>>;

/// Everything the actor can be asked to do. Closed: a new operation is a new variant.
pub(super) enum Command {
    /// Commits a create prepared off the actor.
    Create(Box<PreparedCreate>, Reply<Created>),
    Update(UpdateRequest, Reply<Plan>),
    Delete(PlanId, Reply<bool>),
    Approve(PlanId, Reply<Plan>),
    Reject(PlanId, Option<String>, Reply<Plan>),
    /// Commits a revision prepared off the actor.
    Revise(Box<PreparedRevise>, Reply<Plan>),
    Execute(ExecuteRequest, Reply<RunStarted>),
    Retry(RetryRequest, Reply<RunStarted>),
    Cancel(PlanId, Option<String>, Reply<CancelWait>),
    /// A step finished by hand, with the claimant that asks (`None`: a person).
    Complete(CompleteRequest, Option<String>, Reply<CompleteRoute>),
    /// A new follower of the plan's run in this process; `None` when it has none here.
    Follow(PlanId, Reply<Option<RunStarted>>),
    /// The controls of the plan's run in this process, if it runs here (`planning/answer`).
    LiveRun(PlanId, Reply<Option<crate::engine::RunControls>>),
    /// Marks the plan as being rolled back (no run starts meanwhile) and hands out the writer;
    /// refused while it runs.
    BeginRollback(PlanId, Reply<super::rollback::RollbackTools>),
    EndRollback(PlanId),
    /// Ends whatever the session is doing and returns it to `idle`; replies with the session and
    /// one receiver per run of the session that was cancelled.
    ResetSession(SessionId, Reply<(SessionView, Vec<oneshot::Receiver<PlanStatus>>)>),
    /// Sent by a run's watcher task when the engine has committed the final status.
    RunFinished(RunEnd),
    SetSettings(Box<Settings>, oneshot::Sender<()>),
    /// Leaves every run `interrupted` (resumable); replies with one receiver per run that resolves
    /// when it has ended.
    Shutdown {
        reply: oneshot::Sender<Vec<oneshot::Receiver<PlanStatus>>>,
    },
}

pub(super) struct Actor {
    pub repository: PlanRepository,
    pub workspace_root: PathBuf,
    pub settings: Settings,
    pub runs: HashMap<PlanId, ActiveRun>,
    /// For run watchers to report back; weak so the actor stops when every handle is gone.
    pub commands: mpsc::WeakSender<Command>,
    /// Where agents' edits and questions go (the LSP bridge), if anywhere.
    pub editor: Option<crate::engine::SharedEditor>,
    /// The LLM agents' writer and remembered approvals, shared by every run.
    pub agent_state: crate::agents::SharedAgentState,
    /// What planning off the actor uses; replaced on every settings change.
    pub planning: watch::Sender<Arc<PlanningSetup>>,
    /// Plans whose changes are being rolled back: none of them may start a run meanwhile.
    pub rolling_back: std::collections::HashSet<PlanId>,
    /// Ids of this process's runs, added before a claim is committed (read by the tail).
    pub local_runs: super::follow::LocalRuns,
}

impl Actor {
    pub fn new(
        repository: PlanRepository,
        workspace_root: PathBuf,
        settings: Settings,
        commands: mpsc::WeakSender<Command>,
        planning: watch::Sender<Arc<PlanningSetup>>,
    ) -> Self {
        Self {
            repository,
            workspace_root,
            settings,
            runs: HashMap::new(),
            commands,
            planning,
            editor: None,
            agent_state: crate::agents::SharedAgentState::new(),
            rolling_back: std::collections::HashSet::new(),
            local_runs: Default::default(),
        }
    }

    pub async fn run(mut self, mut receiver: mpsc::Receiver<Command>) {
        while let Some(command) = receiver.recv().await {
            // A panic in one operation drops its reply (the caller gets `Internal`); the actor
            // keeps serving.
            let outcome = std::panic::AssertUnwindSafe(self.handle(command)).catch_unwind().await;
            if let Err(panic) = outcome {
                tracing::error!(panic = %panic_message(&*panic), "orchestrator operation panicked");
            }
        }
        for run in self.runs.values() {
            run.cancel.cancel();
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Create(prepared, reply) => {
                let _ = reply.send(self.commit_create(*prepared).await);
            }
            Command::Update(request, reply) => {
                let _ = reply.send(self.update(request).await);
            }
            Command::Delete(plan_id, reply) => {
                let _ = reply.send(self.delete(plan_id).await);
            }
            Command::Approve(plan_id, reply) => {
                let _ = reply.send(self.approve(plan_id).await);
            }
            Command::Reject(plan_id, feedback, reply) => {
                let _ = reply.send(self.reject(plan_id, feedback).await);
            }
            Command::Revise(prepared, reply) => {
                let _ = reply.send(self.commit_revise(*prepared).await);
            }
            Command::Execute(request, reply) => {
                let _ = reply.send(self.execute(request).await);
            }
            Command::Retry(request, reply) => {
                let _ = reply.send(self.retry(request).await);
            }
            Command::Cancel(plan_id, reason, reply) => {
                let _ = reply.send(self.cancel(plan_id, reason).await);
            }
            Command::Complete(request, claimant, reply) => {
                let _ = reply.send(self.complete(request, claimant).await);
            }
            Command::Follow(plan_id, reply) => {
                let _ = reply.send(self.follow(&plan_id).await);
            }
            Command::LiveRun(plan_id, reply) => {
                let _ = reply.send(Ok(self.live_run(&plan_id)));
            }
            Command::BeginRollback(plan_id, reply) => {
                let _ = reply.send(self.begin_rollback(plan_id).await);
            }
            Command::EndRollback(plan_id) => self.end_rollback(&plan_id),
            Command::ResetSession(session_id, reply) => {
                let _ = reply.send(self.reset_session(session_id).await);
            }
            Command::RunFinished(end) => self.run_finished(end).await,
            Command::SetSettings(settings, reply) => {
                if settings.database != self.settings.database {
                    tracing::warn!("database path changes take effect after a restart");
                }
                crate::engine::process::hide_env_from_children(&settings.llm.api_key_env);
                let setup = PlanningSetup::new(self.workspace_root.clone(), settings.llm.clone());
                let _ = self.planning.send(Arc::new(setup));
                self.settings = *settings;
                let _ = reply.send(());
            }
            Command::Shutdown { reply } => {
                let waits = self.runs.values_mut().map(ActiveRun::interrupt).collect();
                let _ = reply.send(waits);
            }
        }
    }
}
