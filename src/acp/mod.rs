//! `codelab-planner acp`: the Agent Client Protocol face, over stdio, for Zed and JetBrains IDEs.
//! Built on the `agent-client-protocol` crate (v1 of the protocol).
//!
//! - `initialize` (with `loadSession`), `session/new` (the orchestrator starts on the first
//!   session's `cwd`: its `.codelab/planner.db`, or `--db`), `session/prompt` (planned, shown as
//!   plan entries, run: `session.rs`), `session/cancel` (cancels the session's run),
//!   `session/load` (the session's newest plan shown again, its run followed if it runs).
//! - Approvals and edits of agents go through `bridge.rs` (`session/request_permission`, diffs).
//! - What ACP has no method for: `_codelab/revise`, `_codelab/retry`, `_codelab/edit`,
//!   `_codelab/run` (a reviewed draft: with `approval.plans = "always"` a prompt stops at the
//!   draft) and `_codelab/complete` (a step done by the person), extension methods (`ext.rs`).
//!
//! A session's id is the orchestrator's session id, so a stored plan's session can be loaded by a
//! later connection. It converts and presents only; every operation is one method of the
//! orchestrator's handle. The prompt's work runs in its own task: the connection's dispatch loop
//! never waits for a run (a `session/cancel` is read while a prompt runs).

mod bridge;
mod ext;
mod present;
mod session;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    AgentCapabilities, CancelNotification, ContentBlock, InitializeRequest, InitializeResponse, LoadSessionRequest,
    LoadSessionResponse, NewSessionRequest, NewSessionResponse, PromptRequest, PromptResponse, StopReason,
};
use agent_client_protocol::{Agent, Client, Responder, Stdio, V1};

use crate::config::{PlanApproval, Settings};
use crate::engine::SharedEditor;
use crate::model::{PlanId, SessionId};
use crate::orchestrator::{
    CreateRequest, ListRequest, Orchestrator, OrchestratorConfig, OrchestratorError, StartOptions,
};

/// How the ACP agent starts.
#[derive(Debug, Clone, Default)]
pub struct AcpOptions {
    /// `--db PATH` (relative to the first session's folder).
    pub database: Option<PathBuf>,
    pub settings: Settings,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a session remembers: its current plan and whether its turn was cancelled.
#[derive(Default, Clone)]
struct SessionState {
    plan: Option<PlanId>,
    cancelled: Arc<AtomicBool>,
}

/// The agent's state, shared by the handlers.
struct AcpAgent {
    options: AcpOptions,
    orchestrator: tokio::sync::OnceCell<Orchestrator>,
    sessions: Mutex<HashMap<String, SessionState>>,
    bridge: Arc<bridge::AcpBridge>,
}

impl AcpAgent {
    /// The orchestrator, started on the first session's folder.
    async fn orchestrator(&self, cwd: &std::path::Path) -> Result<Orchestrator, agent_client_protocol::Error> {
        let started = self
            .orchestrator
            .get_or_try_init(|| async {
                let config = OrchestratorConfig {
                    workspace_root: cwd.to_path_buf(),
                    database: self.options.database.as_ref().map(|path| cwd.join(path)),
                    settings: self.options.settings.clone(),
                    editor: Some(SharedEditor(self.bridge.clone())),
                };
                let (orchestrator, _) = Orchestrator::start(config).await?;
                orchestrator.observe_changes(self.bridge.clone()).await?;
                Ok(orchestrator)
            })
            .await
            .map_err(failure)?;
        Ok(started.clone())
    }

    fn started(&self) -> Result<Orchestrator, agent_client_protocol::Error> {
        self.orchestrator.get().cloned().ok_or_else(|| invalid("no session: call session/new first"))
    }

    fn session(&self, id: &str) -> Result<SessionState, agent_client_protocol::Error> {
        lock(&self.sessions).get(id).cloned().ok_or_else(|| invalid(&format!("unknown session \"{id}\"")))
    }

    fn remember_plan(&self, session: &str, plan: PlanId) {
        lock(&self.sessions).entry(session.to_owned()).or_default().plan = Some(plan);
    }
}

/// An operation's failure as an ACP error: bad input is invalid params, the rest internal.
pub(crate) fn failure(error: OrchestratorError) -> agent_client_protocol::Error {
    match error {
        OrchestratorError::Validation(problems) => invalid(&problems.messages().join("; ")),
        OrchestratorError::InvalidParams(_)
        | OrchestratorError::PlanNotFound(_)
        | OrchestratorError::SessionNotFound(_)
        | OrchestratorError::InvalidState { .. }
        | OrchestratorError::StaleVersion { .. } => invalid(&error.to_string()),
        other => agent_client_protocol::Error::new(-32603, other.to_string()),
    }
}

pub(crate) fn invalid(message: &str) -> agent_client_protocol::Error {
    agent_client_protocol::Error::new(-32602, message.to_owned())
}

/// Registers an extension method; its work runs in its own task (a revise may call the model),
/// so the connection goes on reading meanwhile.
macro_rules! ext_method {
    ($builder:expr, $agent:expr, $request:ty, $work:path) => {{
        let agent = $agent.clone();
        $builder.on_receive_request(
            async move |request: $request,
                        responder: Responder<ext::ExtResult, V1>,
                        connection: ConnectionTo<Client>| {
                let agent = agent.clone();
                let spawner = connection.clone();
                spawner.spawn(async move { answer(responder, $work(&agent, request, connection).await) })
            },
            agent_client_protocol::on_receive_request!(),
        )
    }};
}

/// Serves ACP on stdin/stdout until the client closes it; returns the process exit code.
pub async fn serve_stdio(options: AcpOptions) -> i32 {
    let agent = Arc::new(AcpAgent {
        options,
        orchestrator: tokio::sync::OnceCell::new(),
        sessions: Mutex::new(HashMap::new()),
        bridge: Arc::new(bridge::AcpBridge::default()),
    });
    let served = {
        let (on_new, on_load, on_prompt, on_cancel) = (agent.clone(), agent.clone(), agent.clone(), agent.clone());
        let builder = Agent
            .v1()
            .name("codelab-planner")
            .on_receive_request(
                async move |request: InitializeRequest, responder: Responder<InitializeResponse, V1>, _connection| {
                    responder.respond(
                        InitializeResponse::new(request.protocol_version)
                            .agent_capabilities(AgentCapabilities::new().load_session(true)),
                    )
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: NewSessionRequest, responder: Responder<NewSessionResponse, V1>, _connection| {
                    let agent = on_new.clone();
                    match agent.orchestrator(&request.cwd).await {
                        Ok(_) => {
                            let id = SessionId::generate().to_string();
                            lock(&agent.sessions).insert(id.clone(), SessionState::default());
                            responder.respond(NewSessionResponse::new(id))
                        }
                        Err(error) => responder.respond_with_error(error),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: LoadSessionRequest,
                            responder: Responder<LoadSessionResponse, V1>,
                            connection: ConnectionTo<Client>| {
                    let agent = on_load.clone();
                    match load(&agent, &request, connection).await {
                        Ok(()) => responder.respond(LoadSessionResponse::new()),
                        Err(error) => responder.respond_with_error(error),
                    }
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_request(
                async move |request: PromptRequest,
                            responder: Responder<PromptResponse, V1>,
                            connection: ConnectionTo<Client>| {
                    let agent = on_prompt.clone();
                    let spawner = connection.clone();
                    spawner.spawn(async move {
                        prompt(&agent, request, responder, connection).await;
                        Ok(())
                    })
                },
                agent_client_protocol::on_receive_request!(),
            )
            .on_receive_notification(
                async move |notification: CancelNotification, connection: ConnectionTo<Client>| {
                    let agent = on_cancel.clone();
                    let session = notification.session_id.to_string();
                    let Ok(state) = agent.session(&session) else { return Ok(()) };
                    state.cancelled.store(true, Ordering::SeqCst);
                    let (Some(plan), Ok(orchestrator)) = (state.plan, agent.started()) else { return Ok(()) };
                    connection.spawn(async move {
                        if let Err(error) =
                            orchestrator.cancel(plan, Some("cancelled from the editor".to_owned())).await
                        {
                            tracing::warn!(%error, "session/cancel could not cancel the run");
                        }
                        Ok(())
                    })
                },
                agent_client_protocol::on_receive_notification!(),
            );
        let builder = ext_method!(builder, agent, ext::ReviseRequest, ext::revise);
        let builder = ext_method!(builder, agent, ext::EditRequest, ext::edit);
        let builder = ext_method!(builder, agent, ext::RetryStepsRequest, ext::retry);
        let builder = ext_method!(builder, agent, ext::CompleteStepRequest, ext::complete);
        ext_method!(builder, agent, ext::RunRequest, ext::run).connect_to(Stdio::new()).await
    };
    if let Some(orchestrator) = agent.orchestrator.get() {
        orchestrator.shutdown().await;
    }
    match served {
        Ok(()) => 0,
        Err(error) => {
            tracing::error!(%error, "the ACP connection failed");
            1
        }
    }
}

/// Answers an extension request.
fn answer(
    responder: Responder<ext::ExtResult, V1>,
    result: Result<ext::ExtResult, agent_client_protocol::Error>,
) -> Result<(), agent_client_protocol::Error> {
    match result {
        Ok(value) => responder.respond(value),
        Err(error) => responder.respond_with_error(error),
    }
}

/// A prompt's turn: plan the text, show the plan, run it, show the run (see `session.rs`).
async fn prompt(
    agent: &AcpAgent,
    request: PromptRequest,
    responder: Responder<PromptResponse, V1>,
    connection: ConnectionTo<Client>,
) {
    let session = request.session_id.to_string();
    let state = match (agent.session(&session), agent.started()) {
        (Ok(state), Ok(orchestrator)) => (state, orchestrator),
        (Err(error), _) | (_, Err(error)) => {
            let _ = responder.respond_with_error(error);
            return;
        }
    };
    let (state, orchestrator) = state;
    state.cancelled.store(false, Ordering::SeqCst);
    let task: Vec<String> = request
        .prompt
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text(text) => Some(text.text.clone()),
            _ => None,
        })
        .collect();
    agent.bridge.point_at(connection.clone(), session.clone());
    let create = CreateRequest {
        task: task.join("\n"),
        session_id: Some(SessionId::from_raw(session.clone())),
        ..CreateRequest::default()
    };
    let mut turn =
        session::Turn { connection, session: session.clone(), responder: Some(responder), cancelled: state.cancelled };
    let planned = match orchestrator.create(create).await {
        Ok(created) => created.plan,
        Err(error) => return turn_failed(turn, error),
    };
    agent.remember_plan(&session, planned.id.clone());
    turn.send(present::plan_update(&planned, &[]));
    if agent.options.settings.plan_approval == PlanApproval::Always {
        // The person reviews the draft first: `_codelab/revise`, `_codelab/edit`, `_codelab/run`.
        turn.send(present::message(format!(
            "plan {} is ready for review: change it with _codelab/revise or _codelab/edit, run it with _codelab/run\n",
            planned.id
        )));
        turn.end(StopReason::EndTurn);
        return;
    }
    match orchestrator.approve_and_execute(planned.id.clone(), StartOptions::default()).await {
        Ok(run) => {
            let plan = orchestrator.get(planned.id.clone()).await.unwrap_or(planned);
            session::show_run(plan, run, turn).await;
        }
        Err(error) => turn_failed(turn, error),
    }
}

fn turn_failed(mut turn: session::Turn, error: OrchestratorError) {
    if let Some(responder) = turn.responder.take() {
        let _ = responder.respond_with_error(failure(error));
    }
}

/// `session/load`: the session's newest plan shown again (as entries), its run followed when it
/// runs (here or in another process).
async fn load(
    agent: &AcpAgent,
    request: &LoadSessionRequest,
    connection: ConnectionTo<Client>,
) -> Result<(), agent_client_protocol::Error> {
    let orchestrator = agent.orchestrator(&request.cwd).await?;
    let session = request.session_id.to_string();
    let list = ListRequest {
        session_id: Some(SessionId::from_raw(session.clone())),
        limit: Some(1),
        ..ListRequest::default()
    };
    let page = orchestrator.list(list).await.map_err(failure)?;
    let Some(summary) = page.plans.into_iter().next() else {
        return Err(invalid(&format!("session \"{session}\" has no plan to load")));
    };
    let plan = orchestrator.get(summary.id.clone()).await.map_err(failure)?;
    let state = SessionState { plan: Some(plan.id.clone()), cancelled: Arc::new(AtomicBool::new(false)) };
    lock(&agent.sessions).insert(session.clone(), state.clone());
    agent.bridge.point_at(connection.clone(), session.clone());
    let turn = session::Turn { connection: connection.clone(), session, responder: None, cancelled: state.cancelled };
    turn.send(present::plan_update(&plan, &[]));
    if let Some(run) = orchestrator.follow(plan.id.clone()).await.map_err(failure)? {
        connection.spawn(async move {
            session::show_run(plan, run, turn).await;
            Ok(())
        })?;
    }
    Ok(())
}
