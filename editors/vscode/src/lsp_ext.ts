// The planning protocol as the extension uses it. Every type comes from `protocol.generated.ts`,
// which `npm run gen-protocol` generates from the server's JSON Schema (docs/protocol.schema.json,
// generated from the Rust wire types): a field the server adds, renames or drops changes the
// types here, and `test/protocol.test.ts` fails while the generated file is stale. This is the
// only file of the extension that spells a method name; each is checked against the schema's
// methods at compile time (`satisfies`), and `ServerConnection.request` takes its params and
// result types from the schema's entry. Pure: no `vscode` import, so the unit tests use it.

import type { NotificationMethods, RequestMethods, RunEvent, SubtaskAgent } from "./protocol.generated";

export type * from "./protocol.generated";

export type AgentName = SubtaskAgent;

/** The `agentActivity` event (the tool's ACP kind travels as `toolKind`: `kind` is the tag). */
export type AgentActivityEvent = Extract<RunEvent, { kind: "agentActivity" }>;

/** A request method of the protocol. */
export type RequestMethod = keyof RequestMethods;
export type ParamsOf<M extends RequestMethod> = RequestMethods[M]["params"];
export type ResultOf<M extends RequestMethod> = RequestMethods[M]["result"];

export const classify = "planning/classify" as const satisfies RequestMethod;
export const createPlan = "planning/create" as const satisfies RequestMethod;
export const getPlan = "planning/get" as const satisfies RequestMethod;
export const listPlans = "planning/list" as const satisfies RequestMethod;
export const updatePlan = "planning/update" as const satisfies RequestMethod;
export const deletePlan = "planning/delete" as const satisfies RequestMethod;
export const approvePlan = "planning/approve" as const satisfies RequestMethod;
export const rejectPlan = "planning/reject" as const satisfies RequestMethod;
export const revisePlan = "planning/revise" as const satisfies RequestMethod;
export const executePlan = "planning/execute" as const satisfies RequestMethod;
export const cancelPlan = "planning/cancel" as const satisfies RequestMethod;
export const retryPlan = "planning/retry" as const satisfies RequestMethod;
export const planStatus = "planning/status" as const satisfies RequestMethod;
/** Extension: every stored version of a plan, oldest first. */
export const planHistory = "planning/history" as const satisfies RequestMethod;
/** Extension: a session's FSM state. */
export const getSession = "planning/session" as const satisfies RequestMethod;
/** Extension: back to `idle` from any state. */
export const resetSession = "planning/resetSession" as const satisfies RequestMethod;
/** Second wave: ends a `waiting` subtask (default `done`). */
export const completeSubtask = "planning/complete" as const satisfies RequestMethod;
/** Second wave: the plan as `*.plan.toml` text. */
export const exportPlan = "planning/export" as const satisfies RequestMethod;
/** Third wave (the extension does not use them yet; the server may answer -32601). */
export const transcript = "planning/transcript" as const satisfies RequestMethod;
export const changes = "planning/changes" as const satisfies RequestMethod;
export const rollback = "planning/rollback" as const satisfies RequestMethod;
export const answer = "planning/answer" as const satisfies RequestMethod;
export const nextSteps = "planning/next" as const satisfies RequestMethod;
export const importPlan = "planning/import" as const satisfies RequestMethod;

export const planningProgress = "planning/progress" as const satisfies keyof NotificationMethods;

/** Every method the extension knows, requests then the notification; `test/protocol.test.ts` checks it against the schema. */
export const ALL_METHODS: readonly string[] = [
    classify,
    createPlan,
    getPlan,
    listPlans,
    updatePlan,
    deletePlan,
    approvePlan,
    rejectPlan,
    revisePlan,
    executePlan,
    cancelPlan,
    retryPlan,
    planStatus,
    planHistory,
    getSession,
    resetSession,
    completeSubtask,
    exportPlan,
    transcript,
    changes,
    rollback,
    answer,
    nextSteps,
    importPlan,
    planningProgress,
];
