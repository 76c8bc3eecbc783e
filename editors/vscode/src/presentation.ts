// How plans and subtasks look in the Plans view: labels, descriptions, icons, context values and
// the accessible labels the end-to-end test reads. Pure functions of the model (no `vscode`
// import), unit-tested in `test/presentation.test.ts`; `plans_view.ts` turns them into TreeItems.

import type { ChangeSummary, PlanStatus, Subtask, SubtaskStatus, Usage } from "./lsp_ext";
import type { PlanEntry } from "./model";
import { approvalLine } from "./record_text";

export interface ItemLook {
    label: string;
    description: string;
    /** The description without the agent (subtasks only). */
    detail?: string;
    tooltip: string;
    /** A codicon id, e.g. `pass` or `sync~spin`. */
    icon: string;
    /** A theme color id for the icon, if any. */
    iconColor?: string;
    /**
     * `plan:<status>` or `subtask:<status>`, then tags the menus of `package.json` also match on:
     * ` approval` (an agent waits for an answer), ` agent` (a model worked on it: a transcript),
     * ` changes` (its agents changed files), ` revertible` (a plan with changes, not running).
     */
    contextValue: string;
    /** What a screen reader (and the end-to-end test) reads. */
    ariaLabel: string;
}

const PLAN_ICONS: Record<PlanStatus, [string, string | undefined]> = {
    draft: ["edit", undefined],
    approved: ["check", undefined],
    running: ["sync~spin", undefined],
    completed: ["pass", "testing.iconPassed"],
    failed: ["error", "testing.iconFailed"],
    cancelled: ["circle-slash", undefined],
    rejected: ["thumbsdown", undefined],
    interrupted: ["debug-pause", "list.warningForeground"],
};

const SUBTASK_ICONS: Record<SubtaskStatus, [string, string | undefined]> = {
    pending: ["circle-large-outline", undefined],
    running: ["sync~spin", undefined],
    waiting: ["person", "list.warningForeground"],
    done: ["pass", "testing.iconPassed"],
    failed: ["error", "testing.iconFailed"],
    skipped: ["debug-step-over", undefined],
    cancelled: ["circle-slash", undefined],
};

/** Text on one line: its lines trimmed and joined with spaces (a tree row or a toast shows one line). */
export function oneLine(text: string): string {
    return text
        .split(/\r\n|\r|\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .join(" ");
}

/** `35ms`, `1.2s`, `42s`, `3m 05s`, `1h 02m`. */
export function formatDuration(milliseconds: number): string {
    if (milliseconds < 1000) {
        return `${Math.round(milliseconds)}ms`;
    }
    if (milliseconds < 10_000) {
        return `${(milliseconds / 1000).toFixed(1)}s`;
    }
    const seconds = Math.round(milliseconds / 1000);
    if (seconds < 60) {
        return `${seconds}s`;
    }
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
        return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
    }
    return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** `3 files +4 −2`. */
export function formatChanges(changes: ChangeSummary | undefined): string | undefined {
    if (changes === undefined || changes.files === 0) {
        return undefined;
    }
    return `${changes.files} ${changes.files === 1 ? "file" : "files"} +${changes.added} \u2212${changes.removed}`;
}

const MODEL_AGENTS = new Set(["coder", "debug", "ask"]);

/** `1,234 tokens · 3 calls`. */
export function formatUsage(usage: Usage | undefined): string | undefined {
    if (usage === undefined || (usage.calls === 0 && usage.promptTokens + usage.completionTokens === 0)) {
        return undefined;
    }
    const tokens = (usage.promptTokens + usage.completionTokens).toLocaleString("en-US");
    return `${tokens} tokens · ${usage.calls} ${usage.calls === 1 ? "call" : "calls"}`;
}

export function planLook(entry: PlanEntry): ItemLook {
    const progress = entry.progress;
    const finished = progress.done + progress.failed + progress.skipped + progress.cancelled;
    const parts: string[] = [entry.status];
    if (progress.total > 0) {
        parts.push(`${finished}/${progress.total}`);
    }
    if (entry.status === "running" && progress.total > 0) {
        parts.push(`${progress.percentage}%`);
    }
    if ((progress.waiting ?? 0) > 0) {
        parts.push(`${progress.waiting} waiting`);
    }
    if (progress.failed > 0 && entry.status !== "failed") {
        parts.push(`${progress.failed} failed`);
    }
    if (entry.runDurationMs !== undefined && entry.status !== "running") {
        parts.push(formatDuration(entry.runDurationMs));
    }
    const usage = formatUsage(entry.usage);
    if (usage !== undefined) {
        parts.push(usage);
    }
    const [icon, iconColor] = PLAN_ICONS[entry.status] ?? ["question", undefined];
    const title = entry.title === "" ? entry.id : oneLine(entry.title);
    const subtasks = entry.plan?.subtasks ?? [];
    const asking = subtasks.filter((subtask) => subtask.pendingApproval !== undefined).length;
    if (asking > 0) {
        parts.unshift(`${asking} ${asking === 1 ? "question" : "questions"} for you`);
    }
    const revertible = entry.status !== "running" && subtasks.some((subtask) => subtask.changes !== undefined);
    const tooltipLines = [title, `status: ${entry.status}`, `progress: ${finished}/${progress.total}`];
    if (entry.plan?.error !== undefined) {
        tooltipLines.push(`error: ${entry.plan.error}`);
    }
    if (entry.plan?.plannerNote !== undefined) {
        tooltipLines.push(`planner: ${entry.plan.plannerNote}`);
    }
    return {
        label: title,
        description: parts.join(" · "),
        tooltip: tooltipLines.join("\n"),
        icon,
        iconColor,
        contextValue: `plan:${entry.status}${revertible ? " revertible" : ""}`,
        ariaLabel: `plan ${title}, ${parts.join(", ")}`,
    };
}

export function subtaskLook(entry: PlanEntry, subtask: Subtask): ItemLook {
    // What is happening first (the view truncates on the right), the agent last.
    const parts: string[] = [];
    const activity = entry.activity.get(subtask.id);
    const waiting = entry.waitingMessage.get(subtask.id);
    const approval = subtask.pendingApproval;
    if (approval !== undefined) {
        parts.push(`asks: ${oneLine(approvalLine(approval))}`);
    } else if (subtask.status === "running" && activity !== undefined) {
        parts.push(activity);
    } else if (subtask.status === "waiting") {
        parts.push(waiting !== undefined ? `waiting: ${oneLine(waiting)}` : "waiting for you");
    } else if (subtask.status !== "pending" || subtask.attempts > 0) {
        parts.push(subtask.status);
    }
    if (subtask.attempts > 1) {
        parts.push(`attempt ${subtask.attempts}/${subtask.maxAttempts}`);
    }
    const duration = entry.durationMs.get(subtask.id) ?? durationBetween(subtask.startedAt, subtask.finishedAt);
    if (duration !== undefined && subtask.status !== "running") {
        parts.push(formatDuration(duration));
    }
    const changed = formatChanges(subtask.changes);
    if (changed !== undefined) {
        parts.push(`changed ${changed}`);
    }
    const usage = formatUsage(subtask.usage);
    if (usage !== undefined) {
        parts.push(usage);
    }
    const [statusIcon, statusColor] = SUBTASK_ICONS[subtask.status] ?? ["question", undefined];
    const [icon, iconColor] = approval !== undefined ? ["question", "list.warningForeground"] : [statusIcon, statusColor];
    const tooltipLines = [`${subtask.title} (${subtask.id})`, `status: ${subtask.status}`];
    if (subtask.command !== undefined) {
        tooltipLines.push(`$ ${subtask.command}`);
    }
    if (subtask.dependsOn.length > 0) {
        tooltipLines.push(`after: ${subtask.dependsOn.join(", ")}`);
    }
    if (waiting !== undefined) {
        tooltipLines.push(`asks: ${waiting}`);
    }
    if (approval !== undefined) {
        tooltipLines.push(`asks: ${approvalLine(approval)}`);
    }
    if (subtask.result !== undefined) {
        tooltipLines.push(`result: ${subtask.result}`);
    }
    if (subtask.error !== undefined) {
        tooltipLines.push(`error: ${subtask.error}`);
    }
    return {
        label: oneLine(subtask.title),
        description: [...parts, subtask.agent].join(" · "),
        detail: parts.join(" · "),
        tooltip: tooltipLines.join("\n"),
        icon,
        iconColor,
        contextValue: [
            `subtask:${subtask.status}`,
            approval !== undefined ? " approval" : "",
            MODEL_AGENTS.has(subtask.agent) && subtask.attempts > 0 ? " agent" : "",
            subtask.changes !== undefined ? " changes" : "",
        ].join(""),
        ariaLabel: [`subtask ${oneLine(subtask.title)}`, subtask.status, ...parts.filter((part) => part !== subtask.status), subtask.agent].join(", "),
    };
}

function durationBetween(startedAt: string | undefined, finishedAt: string | undefined): number | undefined {
    if (startedAt === undefined || finishedAt === undefined) {
        return undefined;
    }
    const duration = Date.parse(finishedAt) - Date.parse(startedAt);
    return Number.isFinite(duration) && duration >= 0 ? duration : undefined;
}
