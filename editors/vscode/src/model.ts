// The extension's picture of the server's plans: snapshots from `planning/get` / `planning/list`,
// kept live by `planning/progress` events. Pure TypeScript (no `vscode` import, no clock of its
// own), so that `test/model.test.ts` drives it with event sequences under node's test runner.
//
// It is not a source of truth: anything it cannot apply (an unknown plan, an event of an unknown
// subtask) is reported as `needsRefresh`, and the caller fetches the plan again.

import type {
    AgentActivityEvent,
    PendingApproval,
    Plan,
    PlanStatus,
    PlanSummary,
    PlanningProgressParams,
    Progress,
    Subtask,
    SubtaskStatus,
    Usage,
} from "./lsp_ext";

/** What the extension knows about one plan. `subtasks` is absent until the full plan was fetched. */
export interface PlanEntry {
    id: string;
    sessionId: string;
    title: string;
    status: PlanStatus;
    progress: Progress;
    createdAt: string;
    version?: number;
    plan?: Plan;
    /** The run whose events are applied; events of finished runs are ignored. */
    runId?: string;
    /** Per subtask: what its agent is doing now ("editing src/lib.rs"). */
    activity: Map<string, string>;
    /** Per subtask: what it waits for a person to do (`instructions`, else `message`). */
    waitingMessage: Map<string, string>;
    /** Per subtask: the last duration reported by `subtaskFinished`. */
    durationMs: Map<string, number>;
    /** Per subtask: the tail of its output, whole lines, each ending with `\n`. */
    output: Map<string, string>;
    usage?: Usage;
    /** Duration of the last finished run. */
    runDurationMs?: number;
}

/** What applying one event did, for the caller to act on. */
export interface ApplyOutcome {
    planId: string;
    /** The model is incomplete (unknown plan or subtask, or a new run): fetch the plan again. */
    needsRefresh: boolean;
    /** The event was from a run that already finished, and was dropped. */
    ignored: boolean;
    /** Output lines (without terminators) to append to the plan's output channel. */
    output?: { subtaskId: string; title: string; lines: string[] };
    /** Set by `planFinished`. */
    finished?: { status: PlanStatus; durationMs: number; failed: number };
    /** Set by `subtaskWaiting`: a person is asked to do something. */
    waiting?: { subtaskId: string; title: string; message: string };
    /** Set by `approvalRequested` and `approvalAnswered`: the plan's pending questions changed. */
    approvalsChanged?: boolean;
}

/** A question an agent waits on, with where it is. */
export interface PendingQuestion {
    planId: string;
    planTitle: string;
    subtaskId: string;
    subtaskTitle: string;
    approval: PendingApproval;
}

/** The kept tail of one subtask's output, in characters. */
export const OUTPUT_TAIL_CHARS = 64 * 1024;
/** Finished run ids remembered per plan (enough to drop late events of the last few runs). */
const FINISHED_RUNS_KEPT = 16;

const FINISHED_SUBTASK: ReadonlySet<SubtaskStatus> = new Set(["done", "failed", "skipped", "cancelled"]);

export function emptyProgress(): Progress {
    return { total: 0, pending: 0, running: 0, waiting: 0, done: 0, failed: 0, skipped: 0, cancelled: 0, percentage: 0 };
}

/** Progress counted from the subtasks, with the protocol's rounding (finished / total, down). */
export function progressOf(subtasks: readonly Subtask[]): Progress {
    const progress = emptyProgress();
    progress.total = subtasks.length;
    for (const subtask of subtasks) {
        progress[subtask.status] = (progress[subtask.status] ?? 0) + 1;
    }
    const finished = progress.done + progress.failed + progress.skipped + progress.cancelled;
    progress.percentage = progress.total === 0 ? 0 : Math.floor((finished * 100) / progress.total);
    return progress;
}

/**
 * The lines of one `subtaskOutput` text: by the protocol one line without its terminator; a text
 * that carries line breaks anyway is split at them (a trailing break adds no empty line).
 */
export function outputLines(text: string): string[] {
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") {
        lines.pop();
    }
    return lines;
}

/** The last `OUTPUT_TAIL_CHARS` of `text`, starting at a line. */
function tailAtLine(text: string): string {
    const tail = text.slice(-OUTPUT_TAIL_CHARS);
    const firstBreak = tail.indexOf("\n");
    return firstBreak >= 0 && firstBreak < tail.length - 1 ? tail.slice(firstBreak + 1) : tail;
}

/** What a waiting step asks of a person: plain `instructions` when the server sends them, else `message`. */
export function waitingText(event: { message: string; instructions?: string }): string {
    return event.instructions !== undefined && event.instructions.trim() !== "" ? event.instructions : event.message;
}

/** "editing src/lib.rs", "running cargo test", "thinking", ... */
export function describeActivity(event: AgentActivityEvent): string | undefined {
    const what = [event.tool, event.target].filter((part) => part !== undefined && part !== "");
    switch (event.phase) {
        case "thinking":
            return event.tokens !== undefined ? `thinking (${event.tokens} tokens)` : "thinking";
        case "toolStarted": {
            const verb = TOOL_KIND_VERBS[event.toolKind ?? ""];
            if (verb !== undefined && event.target !== undefined) {
                return `${verb} ${event.target}`;
            }
            return what.length > 0 ? `${what.join(" ")}` : "using a tool";
        }
        case "toolFinished":
            return undefined;
        case "waitingForApproval":
            return what.length > 0 ? `waiting for approval: ${what.join(" ")}` : "waiting for approval";
    }
}

const TOOL_KIND_VERBS: Record<string, string> = {
    read: "reading",
    edit: "editing",
    delete: "deleting",
    move: "moving",
    search: "searching",
    execute: "running",
    think: "thinking about",
    fetch: "fetching",
};

export class PlanModel {
    private readonly entries = new Map<string, PlanEntry>();
    private readonly finishedRuns = new Map<string, string[]>();

    /** Plans, newest first (by creation time, then id). */
    plans(): PlanEntry[] {
        return [...this.entries.values()].sort((left, right) => {
            const created = right.createdAt.localeCompare(left.createdAt);
            return created !== 0 ? created : right.id.localeCompare(left.id);
        });
    }

    get(planId: string): PlanEntry | undefined {
        return this.entries.get(planId);
    }

    /** Every question an agent waits on, in the plans the model has in full, newest plan first. */
    pendingApprovals(): PendingQuestion[] {
        return this.plans().flatMap((entry) =>
            (entry.plan?.subtasks ?? []).flatMap((subtask) =>
                subtask.pendingApproval === undefined
                    ? []
                    : [
                          {
                              planId: entry.id,
                              planTitle: entry.title,
                              subtaskId: subtask.id,
                              subtaskTitle: subtask.title,
                              approval: subtask.pendingApproval,
                          },
                      ],
            ),
        );
    }

    /** Replaces the list with `summaries` (a `planning/list` page): plans not in it are dropped. */
    setSummaries(summaries: readonly PlanSummary[]): void {
        const keep = new Set(summaries.map((summary) => summary.id));
        for (const id of [...this.entries.keys()]) {
            if (!keep.has(id)) {
                this.entries.delete(id);
            }
        }
        for (const summary of summaries) {
            const entry = this.entryFor(summary.id, summary.sessionId);
            entry.title = summary.title;
            if (entry.plan === undefined || entry.plan.updatedAt <= summary.updatedAt) {
                entry.status = summary.status;
                entry.progress = summary.progress;
            }
            entry.createdAt = summary.createdAt;
        }
    }

    /** Stores a full plan (from any request answering a `Plan`). */
    setPlan(plan: Plan): void {
        const entry = this.entryFor(plan.id, plan.sessionId);
        entry.plan = structuredClone(plan);
        entry.title = plan.title;
        entry.createdAt = plan.createdAt;
        entry.status = plan.status;
        entry.progress = plan.progress;
        entry.version = plan.version;
        entry.usage = plan.usage;
        if (plan.runId !== undefined && !this.isFinishedRun(plan.id, plan.runId)) {
            entry.runId = plan.runId;
        }
        for (const subtask of plan.subtasks) {
            if (subtask.status !== "running") {
                entry.activity.delete(subtask.id);
            }
            if (subtask.status !== "waiting") {
                entry.waitingMessage.delete(subtask.id);
            }
        }
    }

    remove(planId: string): void {
        this.entries.delete(planId);
    }

    /** Applies one `planning/progress` notification. */
    apply(params: PlanningProgressParams, nowIso: string): ApplyOutcome {
        const outcome: ApplyOutcome = { planId: params.planId, needsRefresh: false, ignored: false };
        if (this.isFinishedRun(params.planId, params.runId)) {
            outcome.ignored = true;
            return outcome;
        }
        const entry = this.entries.get(params.planId);
        if (entry === undefined) {
            outcome.needsRefresh = true;
            return outcome;
        }
        if (entry.runId !== params.runId) {
            // A run this model has not seen start (or the first event of a new one).
            entry.runId = params.runId;
            entry.activity.clear();
            if (params.event.kind !== "planStarted") {
                entry.status = "running";
                outcome.needsRefresh = true;
            }
        }
        const event = params.event;
        if (event.kind === "planStarted") {
            // A retry resets statuses the events do not name: take them from a fresh snapshot.
            outcome.needsRefresh = true;
            entry.status = "running";
            entry.runDurationMs = undefined;
            if (event.title !== undefined) {
                entry.title = event.title;
            }
            if (entry.plan !== undefined) {
                entry.plan.status = "running";
                entry.plan.startedAt = nowIso;
                entry.plan.finishedAt = undefined;
            }
            return outcome;
        }
        if (event.kind === "planFinished") {
            entry.status = event.status;
            entry.progress = event.progress;
            entry.runDurationMs = event.durationMs;
            if (event.usage !== undefined) {
                entry.usage = event.usage;
            }
            entry.activity.clear();
            if (entry.plan !== undefined) {
                entry.plan.status = event.status;
                entry.plan.progress = event.progress;
                entry.plan.finishedAt = nowIso;
            }
            this.rememberFinishedRun(params.planId, params.runId);
            outcome.finished = { status: event.status, durationMs: event.durationMs, failed: event.progress.failed };
            // The snapshot has results, attempts and timestamps the events do not carry.
            outcome.needsRefresh = true;
            return outcome;
        }
        const subtask = entry.plan?.subtasks.find((candidate) => candidate.id === event.subtaskId);
        if (subtask === undefined) {
            outcome.needsRefresh = true;
            return outcome;
        }
        this.applySubtaskEvent(entry, subtask, params, nowIso, outcome);
        if (entry.plan !== undefined) {
            entry.progress = progressOf(entry.plan.subtasks);
            entry.plan.progress = entry.progress;
        }
        return outcome;
    }

    private applySubtaskEvent(
        entry: PlanEntry,
        subtask: Subtask,
        params: PlanningProgressParams,
        nowIso: string,
        outcome: ApplyOutcome,
    ): void {
        const event = params.event;
        switch (event.kind) {
            case "subtaskStarted":
                subtask.status = "running";
                subtask.attempts = event.attempt;
                subtask.startedAt = nowIso;
                subtask.finishedAt = undefined;
                subtask.error = undefined;
                subtask.result = undefined;
                entry.waitingMessage.delete(subtask.id);
                entry.durationMs.delete(subtask.id);
                break;
            case "subtaskOutput": {
                // A `subtaskOutput` text is one line without its terminator (docs/protocol.md).
                const lines = outputLines(event.text);
                const kept = (entry.output.get(subtask.id) ?? "") + lines.map((line) => `${line}\n`).join("");
                entry.output.set(subtask.id, kept.length > OUTPUT_TAIL_CHARS ? tailAtLine(kept) : kept);
                outcome.output = { subtaskId: subtask.id, title: subtask.title, lines };
                break;
            }
            case "subtaskRetrying":
                subtask.status = "running";
                subtask.error = event.error;
                entry.activity.set(subtask.id, `retrying (attempt ${event.attempt}): ${event.error}`);
                break;
            case "subtaskWaiting": {
                subtask.status = "waiting";
                entry.activity.delete(subtask.id);
                const asked = waitingText(event);
                entry.waitingMessage.set(subtask.id, asked);
                outcome.waiting = { subtaskId: subtask.id, title: subtask.title, message: asked };
                break;
            }
            case "approvalRequested":
                subtask.pendingApproval = event.approval;
                outcome.approvalsChanged = true;
                break;
            case "approvalAnswered":
                if (subtask.pendingApproval?.requestId === event.requestId) {
                    subtask.pendingApproval = undefined;
                }
                outcome.approvalsChanged = true;
                break;
            case "subtaskFinished":
                subtask.pendingApproval = undefined;
                subtask.status = event.status;
                subtask.result = event.result;
                subtask.error = event.error;
                subtask.finishedAt = nowIso;
                entry.durationMs.set(subtask.id, event.durationMs);
                entry.activity.delete(subtask.id);
                entry.waitingMessage.delete(subtask.id);
                break;
            case "agentActivity": {
                const text = describeActivity(event);
                if (text === undefined) {
                    entry.activity.delete(subtask.id);
                } else if (!FINISHED_SUBTASK.has(subtask.status)) {
                    entry.activity.set(subtask.id, text);
                }
                break;
            }
        }
    }

    private entryFor(planId: string, sessionId: string): PlanEntry {
        let entry = this.entries.get(planId);
        if (entry === undefined) {
            entry = {
                id: planId,
                sessionId,
                title: "",
                status: "draft",
                progress: emptyProgress(),
                createdAt: "",
                activity: new Map(),
                waitingMessage: new Map(),
                durationMs: new Map(),
                output: new Map(),
            };
            this.entries.set(planId, entry);
        }
        return entry;
    }

    private isFinishedRun(planId: string, runId: string): boolean {
        return this.finishedRuns.get(planId)?.includes(runId) ?? false;
    }

    private rememberFinishedRun(planId: string, runId: string): void {
        const runs = this.finishedRuns.get(planId) ?? [];
        runs.push(runId);
        this.finishedRuns.set(planId, runs.slice(-FINISHED_RUNS_KEPT));
    }
}
