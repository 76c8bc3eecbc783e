//! The MCP tools: seven, each one orchestrator call (or one use case) and a compact answer. Each
//! description says when an agent should use the tool; the arguments are the wire's bounded types,
//! so a too-long text is refused while the arguments are read.
//!
//! Steps are handed to a claimant: this client's name (from `initialize`), or the `agent` an
//! agent names itself when several share this server (subagents), with this process's id — so
//! two clients never share a claim, and a restarted client's claims lapse with their lease.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{Peer, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::present;
use crate::engine::Completion;
use crate::model::validate::SubtaskDraft;
use crate::model::{PlanId, SubtaskId};
use crate::orchestrator::{
    ClaimRequest, CompleteRequest, CreateRequest, DEFAULT_LEASE, ListRequest, NextRequest, Orchestrator,
    OrchestratorError, StartOptions,
};
use crate::wire;
use crate::wire::bounds::max;
use crate::wire::{List, Text};

/// What the server tells a client about itself in `initialize`.
const INSTRUCTIONS: &str = "Durable, dependency-aware plans shared with the user's editor. For multi-step work: \
plan_create, then plan_next / step_complete for the steps you do, plan_run for shell steps. Plans survive restarts.";

/// Most steps `plan_next` hands out at once.
const MAX_NEXT_LIMIT: usize = 20;
/// Plans `plan_list` shows when not told.
const DEFAULT_PLAN_LIST: usize = 10;

/// A step of an explicit plan.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StepArgs {
    /// Unique, e.g. "tests".
    id: Text<{ max::SUBTASK_ID }>,
    title: Text<{ max::TITLE }>,
    /// Default: shell with a command, else manual (you do it).
    agent: Option<wire::SubtaskAgent>,
    /// Shell command (shell steps).
    command: Option<Text<{ max::COMMAND }>>,
    /// Ids of steps that must be done first.
    after: Option<List<Text<{ max::SUBTASK_ID }>, { max::SUBTASKS }>>,
    description: Option<Text<{ max::DESCRIPTION }>>,
    /// Workspace-relative folder for the command.
    cwd: Option<Text<{ max::CWD }>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateArgs {
    /// What the plan achieves.
    task: Text<{ max::TASK }>,
    /// Your own steps; omit to let the planner make them.
    steps: Option<List<StepArgs, { max::SUBTASKS }>>,
    title: Option<Text<{ max::TITLE }>>,
    /// false: leave a draft for the user to review (default true).
    approve: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PlanArgs {
    plan_id: Text<{ max::ID }>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    status: Option<wire::PlanStatus>,
    /// Default 10.
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NextArgs {
    /// Default: the newest plan with a ready step.
    plan_id: Option<Text<{ max::ID }>>,
    /// Your name, when several agents share this server.
    agent: Option<Text<128>>,
    /// Steps to take, default 1.
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CompleteArgs {
    plan_id: Text<{ max::ID }>,
    step: Text<{ max::SUBTASK_ID }>,
    /// Default true; false: its dependents are skipped.
    ok: Option<bool>,
    /// What was done, or why it failed.
    result: Option<Text<{ max::RESULT }>>,
    /// As given to plan_next.
    agent: Option<Text<128>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunArgs {
    plan_id: Text<{ max::ID }>,
    /// true: only shell steps run; the others wait for plan_next (default: all steps).
    shell_only: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CancelArgs {
    plan_id: Text<{ max::ID }>,
    reason: Option<Text<{ max::REASON }>>,
}

/// The server: the orchestrator and the tool table.
#[derive(Clone)]
pub struct PlannerTools {
    orchestrator: Orchestrator,
    tool_router: ToolRouter<Self>,
}

type Answer = Result<String, String>;

#[tool_router]
impl PlannerTools {
    pub fn new(orchestrator: Orchestrator) -> Self {
        Self { orchestrator, tool_router: Self::tool_router() }
    }

    #[tool(description = "Plan multi-step work as a durable dependency graph the user sees in their editor. \
Give your own steps, or only a task to have it planned. Use before starting work of 3+ steps.")]
    async fn plan_create(&self, Parameters(args): Parameters<CreateArgs>) -> Answer {
        let subtasks = args.steps.map(|steps| steps.into_vec().into_iter().map(step_draft).collect());
        let request = CreateRequest {
            task: args.task.into_string(),
            title: args.title.map(String::from),
            subtasks,
            ..CreateRequest::default()
        };
        let plan = if args.approve.unwrap_or(true) {
            self.orchestrator.create_approved(request).await
        } else {
            self.orchestrator.create(request).await.map(|created| created.plan)
        };
        plan.map(|plan| present::plan(&plan)).map_err(failure)
    }

    #[tool(description = "A plan's status and steps with their results. Use to check progress or after a restart.")]
    async fn plan_get(&self, Parameters(args): Parameters<PlanArgs>) -> Answer {
        let plan = self.orchestrator.get(PlanId::from_raw(args.plan_id.into_string())).await.map_err(failure)?;
        Ok(present::plan(&plan))
    }

    #[tool(description = "Recent plans, newest first. Use to find a plan to resume.")]
    async fn plan_list(&self, Parameters(args): Parameters<ListArgs>) -> Answer {
        let request = ListRequest {
            status: args.status.map(Into::into),
            limit: Some(args.limit.unwrap_or(DEFAULT_PLAN_LIST)),
            ..ListRequest::default()
        };
        let page = self.orchestrator.list(request).await.map_err(failure)?;
        Ok(present::plans(&page))
    }

    #[tool(description = "Take the next ready step(s) of a plan: they are reserved for you (15 min, renewed by \
calling again) and never handed to another agent meanwhile. Use when ready to work on a step.")]
    async fn plan_next(&self, peer: Peer<RoleServer>, Parameters(args): Parameters<NextArgs>) -> Answer {
        let limit = args.limit.unwrap_or(1);
        if limit == 0 || limit > MAX_NEXT_LIMIT {
            return Err(format!("limit: must be between 1 and {MAX_NEXT_LIMIT}, got {limit}"));
        }
        let claim = ClaimRequest { claimant: claimant(&peer, args.agent.as_deref()), lease: DEFAULT_LEASE, limit };
        let request =
            NextRequest { plan_id: args.plan_id.map(|id| PlanId::from_raw(id.into_string())), claim: Some(claim) };
        let outcome = self.orchestrator.next(request).await.map_err(failure)?;
        Ok(present::next(&outcome))
    }

    #[tool(description = "Report a step you took with plan_next as done or failed, with what you did. \
Use as soon as the step is finished; its dependents become ready.")]
    async fn step_complete(&self, peer: Peer<RoleServer>, Parameters(args): Parameters<CompleteArgs>) -> Answer {
        let step = SubtaskId::from_raw(args.step.into_string());
        let completion =
            Completion { subtask_id: step.clone(), done: args.ok.unwrap_or(true), note: args.result.map(String::from) };
        let request = CompleteRequest { plan_id: PlanId::from_raw(args.plan_id.into_string()), completion };
        let plan = self
            .orchestrator
            .complete_as(request, Some(claimant(&peer, args.agent.as_deref())))
            .await
            .map_err(failure)?;
        Ok(present::completed(&plan, &step))
    }

    #[tool(description = "Run a plan in the background here: shell steps execute, other steps wait for plan_next \
unless a model is configured. Use for builds and tests; check with plan_get.")]
    async fn plan_run(&self, Parameters(args): Parameters<RunArgs>) -> Answer {
        let plan_id = PlanId::from_raw(args.plan_id.into_string());
        let options = StartOptions { agents_by_hand: args.shell_only.unwrap_or(false), ..StartOptions::default() };
        let run = self.orchestrator.approve_and_execute(plan_id, options).await.map_err(failure)?;
        // Nobody watches the events here: the run goes on; plan_get reads its state.
        Ok(present::started(&run.plan_id, &run.run_id))
    }

    #[tool(description = "Stop a running plan: its processes are killed, the plan is kept. Use when the user \
asks to stop or the work is no longer wanted.")]
    async fn plan_cancel(&self, Parameters(args): Parameters<CancelArgs>) -> Answer {
        let plan_id = PlanId::from_raw(args.plan_id.into_string());
        let outcome = self.orchestrator.cancel(plan_id, args.reason.map(String::from)).await.map_err(failure)?;
        Ok(present::cancelled(&outcome))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for PlannerTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("codelab-planner", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// Who takes steps through this connection: the agent's own name or the client's, and this
/// process (one MCP server serves one client).
fn claimant(peer: &Peer<RoleServer>, agent: Option<&str>) -> String {
    let client = peer.peer_info().map(|info| info.client_info.name.clone());
    let name = agent.map(str::to_owned).or(client).unwrap_or_else(|| "mcp client".to_owned());
    format!("{name} (mcp {})", std::process::id())
}

/// A step as the validator takes it: shell when it has a command, else done by hand.
fn step_draft(step: StepArgs) -> SubtaskDraft {
    let agent = step.agent.map(crate::model::AgentKind::from).unwrap_or(if step.command.is_some() {
        crate::model::AgentKind::Shell
    } else {
        crate::model::AgentKind::Manual
    });
    SubtaskDraft {
        id: Some(step.id.into_string()),
        title: step.title.into_string(),
        description: step.description.map(String::from),
        agent: agent.as_str().to_owned(),
        command: step.command.map(String::from),
        cwd: step.cwd.map(String::from),
        depends_on: step
            .after
            .map(|after| after.into_vec().into_iter().map(String::from).collect())
            .unwrap_or_default(),
        ..SubtaskDraft::default()
    }
}

/// An operation's failure as the tool's error text (`isError`), naming what was wrong.
fn failure(error: OrchestratorError) -> String {
    match error {
        OrchestratorError::Validation(problems) => problems.messages().join("; "),
        other => other.to_string(),
    }
}
