// The planning protocol, mirrored from `src/lsp/ext.rs` and `docs/protocol.md` (with the second-wave
// additions of `shared/protocol.md`). This is the only file of the extension that spells a method
// name; `tests/e2e/protocol_drift.rs` checks that it names every method of the server.
//
// Types only, no behaviour: the wire is camelCase, optional fields are absent (never null).

import * as lc from "vscode-languageclient";

export type PlanStatus =
    | "draft"
    | "approved"
    | "running"
    | "completed"
    | "failed"
    | "cancelled"
    | "rejected"
    | "interrupted";

export type SubtaskStatus = "pending" | "running" | "waiting" | "done" | "failed" | "skipped" | "cancelled";

export type AgentName = "coder" | "debug" | "ask" | "shell" | "manual";

export interface Classification {
    isAtomic: boolean;
    agent: "code" | "plan" | "debug" | "explain";
    confidence: "high" | "medium" | "low";
    reason: string;
    method: "keywords" | "llm";
}

export interface Usage {
    promptTokens: number;
    completionTokens: number;
    calls: number;
}

export interface SubtaskInput {
    id?: string;
    title: string;
    description?: string;
    agent: AgentName;
    command?: string;
    dependsOn?: string[];
    timeoutSecs?: number;
    maxAttempts?: number;
    estimateSecs?: number;
}

export interface Subtask {
    id: string;
    title: string;
    description: string;
    agent: AgentName;
    command?: string;
    dependsOn: string[];
    status: SubtaskStatus;
    attempts: number;
    maxAttempts: number;
    timeoutSecs?: number;
    estimateSecs?: number;
    result?: string;
    error?: string;
    startedAt?: string;
    finishedAt?: string;
    usage?: Usage;
}

export interface Progress {
    total: number;
    pending: number;
    running: number;
    waiting?: number;
    done: number;
    failed: number;
    skipped: number;
    cancelled: number;
    percentage: number;
}

export interface Plan {
    id: string;
    sessionId: string;
    title: string;
    goal: string;
    status: PlanStatus;
    version: number;
    classification?: Classification;
    subtasks: Subtask[];
    progress: Progress;
    createdAt: string;
    updatedAt: string;
    approvedAt?: string;
    startedAt?: string;
    finishedAt?: string;
    error?: string;
    runId?: string;
    feedback?: string;
    planner?: "llm" | "template" | "user";
    plannerNote?: string;
    usage?: Usage;
}

export interface PlanSummary {
    id: string;
    sessionId: string;
    title: string;
    status: PlanStatus;
    progress: Progress;
    createdAt: string;
    updatedAt: string;
}

export interface Session {
    id: string;
    state: string;
}

export interface PlanVersion {
    version: number;
    title: string;
    subtasks: Subtask[];
    createdAt: string;
    reason: string;
}

// ----------------------------------------------------------------------------------------------
// Params and results

export interface ClassifyParams {
    task: string;
}

export interface CreatePlanParams {
    task: string;
    sessionId?: string;
    title?: string;
    mode?: "auto" | "plan" | "direct";
    subtasks?: SubtaskInput[];
    context?: { notes?: string; files?: string[] };
    workDoneToken?: lc.ProgressToken;
    partialResultToken?: lc.ProgressToken;
}

export interface CreatePlanResult {
    plan: Plan;
    session: Session;
}

export interface PlanIdParams {
    planId: string;
}

export interface ListPlansParams {
    sessionId?: string;
    status?: PlanStatus;
    limit?: number;
    cursor?: string;
}

export interface ListPlansResult {
    plans: PlanSummary[];
    nextCursor?: string;
}

export interface UpdatePlanParams {
    planId: string;
    version: number;
    title?: string;
    subtasks?: SubtaskInput[];
}

export interface RejectPlanParams {
    planId: string;
    feedback?: string;
}

export interface RevisePlanParams {
    planId: string;
    feedback: string;
}

export interface ExecutePlanParams {
    planId: string;
    maxParallel?: number;
    failurePolicy?: "continue" | "failFast";
    workDoneToken?: lc.ProgressToken;
}

export interface RunStartedResult {
    planId: string;
    runId: string;
    status: "running";
}

export interface CancelPlanParams {
    planId: string;
    reason?: string;
}

export interface CancelPlanResult {
    planId: string;
    cancelled: boolean;
    status: PlanStatus;
}

export interface RetryPlanParams {
    planId: string;
    subtaskIds?: string[];
    workDoneToken?: lc.ProgressToken;
}

export interface PlanStatusResult {
    planId: string;
    status: PlanStatus;
    progress: Progress;
    running: string[];
    runId?: string;
    startedAt?: string;
    elapsedMs?: number;
}

export interface PlanHistoryResult {
    planId: string;
    versions: PlanVersion[];
}

export interface SessionParams {
    sessionId: string;
}

export interface CompleteSubtaskParams {
    planId: string;
    subtaskId: string;
    status?: "done" | "failed";
    result?: string;
}

/** `planning/export`: `format` is `"toml"` (default) or `"md"` (a markdown task list). */
export interface ExportPlanParams {
    planId: string;
    format?: "toml" | "md";
}

export interface ExportPlanResult {
    text: string;
}

// ----------------------------------------------------------------------------------------------
// Requests

export const classify = new lc.RequestType<ClassifyParams, Classification, void>("planning/classify");
export const createPlan = new lc.RequestType<CreatePlanParams, CreatePlanResult, void>("planning/create");
export const getPlan = new lc.RequestType<PlanIdParams, Plan, void>("planning/get");
export const listPlans = new lc.RequestType<ListPlansParams, ListPlansResult, void>("planning/list");
export const updatePlan = new lc.RequestType<UpdatePlanParams, Plan, void>("planning/update");
export const deletePlan = new lc.RequestType<PlanIdParams, { deleted: boolean }, void>("planning/delete");
export const approvePlan = new lc.RequestType<PlanIdParams, Plan, void>("planning/approve");
export const rejectPlan = new lc.RequestType<RejectPlanParams, Plan, void>("planning/reject");
export const revisePlan = new lc.RequestType<RevisePlanParams, Plan, void>("planning/revise");
export const executePlan = new lc.RequestType<ExecutePlanParams, RunStartedResult, void>("planning/execute");
export const cancelPlan = new lc.RequestType<CancelPlanParams, CancelPlanResult, void>("planning/cancel");
export const retryPlan = new lc.RequestType<RetryPlanParams, RunStartedResult, void>("planning/retry");
export const planStatus = new lc.RequestType<PlanIdParams, PlanStatusResult, void>("planning/status");
/** Extension: every stored version of a plan, oldest first. */
export const planHistory = new lc.RequestType<PlanIdParams, PlanHistoryResult, void>("planning/history");
/** Extension: a session's FSM state. */
export const getSession = new lc.RequestType<SessionParams, Session, void>("planning/session");
/** Extension: back to `idle` from any state. */
export const resetSession = new lc.RequestType<SessionParams, Session, void>("planning/resetSession");
/** Second wave: ends a `waiting` subtask (default `done`). */
export const completeSubtask = new lc.RequestType<CompleteSubtaskParams, Plan, void>("planning/complete");
/** Second wave: the plan as `*.plan.toml` text, or a markdown task list with `format: "md"`. */
export const exportPlan = new lc.RequestType<ExportPlanParams, ExportPlanResult, void>("planning/export");

/** A step handed to an outside agent until `expiresAt`. */
export interface StepClaim {
    subtaskId: string;
    claimant: string;
    claimedAt: string;
    expiresAt: string;
}

export interface NextResult {
    planId?: string;
    ready: Subtask[];
    claims?: StepClaim[];
}

/** Third wave: the steps a person or an outside agent can take now, with who holds each. */
export const nextSubtasks = new lc.RequestType<PlanIdParams, NextResult, void>("planning/next");

export interface ImportParams {
    /** Absolute, or relative to the workspace root. */
    path: string;
}

/** Third wave: a markdown task list (spec-kit, Kiro, a checklist) or Taskmaster `tasks.json` as a draft plan
 *  that remembers its file; its checkboxes tick as steps finish. */
export const importPlan = new lc.RequestType<ImportParams, Plan, void>("planning/import");

// ----------------------------------------------------------------------------------------------
// Notifications

/** One event of a run, tagged by `kind`. Every run sends exactly one `planFinished`, last. */
export type RunEvent =
    | { kind: "planStarted"; title?: string; total?: number }
    | { kind: "subtaskStarted"; subtaskId: string; attempt: number; title?: string }
    | { kind: "subtaskOutput"; subtaskId: string; text: string }
    | { kind: "subtaskRetrying"; subtaskId: string; attempt: number; delayMs: number; error: string }
    | { kind: "subtaskWaiting"; subtaskId: string; message: string }
    | {
          kind: "subtaskFinished";
          subtaskId: string;
          status: SubtaskStatus;
          result?: string;
          error?: string;
          durationMs: number;
          usage?: Usage;
      }
    | AgentActivityEvent
    | { kind: "planFinished"; status: PlanStatus; progress: Progress; durationMs: number; usage?: Usage };

/**
 * Rate-bounded signs of life of an LLM agent. The shared contract also names an ACP tool `kind`
 * (`read`, `edit`, `execute`, ...), which cannot share the event's own `kind` tag on the wire; the
 * client reads it from `toolKind` and shows `tool` / `target` either way.
 */
export interface AgentActivityEvent {
    kind: "agentActivity";
    subtaskId: string;
    phase: "thinking" | "toolStarted" | "toolFinished" | "waitingForApproval";
    tool?: string;
    toolKind?: string;
    target?: string;
    tokens?: number;
}

export interface PlanningProgressParams {
    planId: string;
    runId: string;
    event: RunEvent;
}

export const planningProgress = new lc.NotificationType<PlanningProgressParams>("planning/progress");

/** Every method of the planning protocol, in the order of `ALL_METHODS` plus the second wave. */
export const ALL_METHODS: readonly string[] = [
    classify.method,
    createPlan.method,
    getPlan.method,
    listPlans.method,
    updatePlan.method,
    deletePlan.method,
    approvePlan.method,
    rejectPlan.method,
    revisePlan.method,
    executePlan.method,
    cancelPlan.method,
    retryPlan.method,
    planStatus.method,
    planHistory.method,
    getSession.method,
    resetSession.method,
    completeSubtask.method,
    exportPlan.method,
    planningProgress.method,
];
