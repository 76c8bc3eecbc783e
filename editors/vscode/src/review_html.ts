// The plan review page (HTML for the webview of `review.ts`) and the draft edits it asks for, as
// pure functions (no `vscode` import) so that `test/review.test.ts` checks them directly.

import type { PendingApproval, PermissionOption, Plan, Subtask, SubtaskInput } from "./lsp_ext";
import type { PlanEntry } from "./model";
import { formatChanges, formatDuration, formatUsage, subtaskLook } from "./presentation";
import { ANSWER_LABELS, allowAlwaysLabel } from "./record_text";

/** How many of a step's last output lines the page shows. */
const OUTPUT_LINES_SHOWN = 20;
/** How many lines of a pending change's diff the page shows (Show Diff has it all). */
const DIFF_LINES_SHOWN = 80;

export type ReviewCommand =
    | "approve"
    | "reject"
    | "revise"
    | "execute"
    | "cancel"
    | "retry"
    | "delete"
    | "showOutput"
    | "exportPlan"
    | "showChanges"
    | "revertPlan";

/** What a step's row asks of the record (`record.ts`'s commands). */
export type RecordCommand = "reviewApproval" | "showTranscript" | "showChanges" | "revertStep";

export type ReviewMessage =
    | { type: "command"; command: ReviewCommand }
    | { type: "rename" }
    | { type: "edit"; action: "remove" | "up" | "down"; subtaskId: string }
    | { type: "edit"; action: "add" }
    | { type: "answer"; subtaskId: string; option: PermissionOption }
    | { type: "record"; command: RecordCommand; subtaskId: string };

export function escapeHtml(text: string): string {
    return text
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/"/g, "&quot;")
        .replace(/'/g, "&#39;");
}

/**
 * Subtask fields only the server writes. Everything else a subtask carries — `cwd`, `timeoutSecs`,
 * `role`, and fields this extension does not know yet — goes back to `planning/update` as received.
 */
export const SERVER_WRITTEN_FIELDS = [
    "status",
    "attempts",
    "result",
    "error",
    "startedAt",
    "finishedAt",
    "usage",
    "changes",
    "pendingApproval",
] as const;

/** A received subtask as `planning/update` takes it back: a deep copy without the server-written fields. */
export function toInput(subtask: Subtask): SubtaskInput {
    const input: Record<string, unknown> = structuredClone(subtask) as unknown as Record<string, unknown>;
    for (const field of SERVER_WRITTEN_FIELDS) {
        delete input[field];
    }
    return input as unknown as SubtaskInput;
}

/**
 * The subtask list after one edit, or `undefined` when there is nothing to send. Removing a step
 * hands its own dependencies to the steps that depended on it, so the order around it holds.
 */
export async function editedSubtasks(
    plan: Plan,
    message: Extract<ReviewMessage, { type: "edit" }>,
    askForShellStep: () => Promise<{ title: string; command: string } | undefined>,
): Promise<SubtaskInput[] | undefined> {
    const inputs = plan.subtasks.map(toInput);
    if (message.action === "add") {
        const step = await askForShellStep();
        if (step === undefined) {
            return undefined;
        }
        const used = new Set(inputs.map((input) => input.id));
        let number = inputs.length + 1;
        while (used.has(`s${number}`)) {
            number += 1;
        }
        const dependedOn = new Set(inputs.flatMap((input) => input.dependsOn ?? []));
        const sinks = inputs.map((input) => input.id ?? "").filter((id) => !dependedOn.has(id));
        inputs.push({ id: `s${number}`, title: step.title, agent: "shell", command: step.command, dependsOn: sinks });
        return inputs;
    }
    const position = inputs.findIndex((input) => input.id === message.subtaskId);
    if (position < 0) {
        return undefined;
    }
    switch (message.action) {
        case "remove": {
            const [removed] = inputs.splice(position, 1);
            for (const input of inputs) {
                const dependsOn = input.dependsOn ?? [];
                if (dependsOn.includes(removed.id ?? "")) {
                    const inherited = dependsOn.filter((id) => id !== removed.id).concat(removed.dependsOn ?? []);
                    input.dependsOn = [...new Set(inherited)];
                }
            }
            return inputs;
        }
        case "up":
        case "down": {
            const target = message.action === "up" ? position - 1 : position + 1;
            if (target < 0 || target >= inputs.length) {
                return undefined;
            }
            [inputs[position], inputs[target]] = [inputs[target], inputs[position]];
            return inputs;
        }
    }
}

function button(label: string, message: ReviewMessage, primary = false): string {
    const data = escapeHtml(JSON.stringify(message));
    return `<button class="${primary ? "primary" : "secondary"}" data-message="${data}">${escapeHtml(label)}</button>`;
}

function actionButtons(plan: Plan): string {
    const buttons: string[] = [];
    switch (plan.status) {
        case "draft":
            buttons.push(
                button("Approve", { type: "command", command: "approve" }, true),
                button("Approve and Execute", { type: "command", command: "execute" }),
                button("Revise…", { type: "command", command: "revise" }),
                button("Reject", { type: "command", command: "reject" }),
                button("Rename…", { type: "rename" }),
            );
            break;
        case "approved":
            buttons.push(button("Execute", { type: "command", command: "execute" }, true));
            break;
        case "running":
            buttons.push(button("Cancel", { type: "command", command: "cancel" }, true));
            break;
        case "failed":
        case "cancelled":
        case "interrupted":
            buttons.push(button("Retry", { type: "command", command: "retry" }, true));
            break;
        default:
            break;
    }
    const changed = plan.subtasks.some((subtask) => subtask.changes !== undefined);
    if (changed) {
        buttons.push(button("Changes", { type: "command", command: "showChanges" }));
    }
    if (changed && plan.status !== "running") {
        buttons.push(button("Revert plan", { type: "command", command: "revertPlan" }));
    }
    buttons.push(button("Output", { type: "command", command: "showOutput" }));
    buttons.push(button("Export", { type: "command", command: "exportPlan" }));
    if (plan.status !== "running") {
        buttons.push(button("Delete", { type: "command", command: "delete" }));
    }
    return buttons.join("\n");
}

/** A diff with its added and removed lines marked, at most `DIFF_LINES_SHOWN` lines. */
function diffHtml(diff: string): string {
    const lines = diff.replace(/\n$/, "").split("\n");
    const shown = lines.slice(0, DIFF_LINES_SHOWN).map((line) => {
        const kind = line.startsWith("@@") ? "hunk" : line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "ctx";
        return `<span class="${kind}">${escapeHtml(line)}</span>`;
    });
    const more = lines.length > shown.length ? `\n<span class="more">… ${lines.length - shown.length} more lines: Show Diff</span>` : "";
    return `<pre class="diff">${shown.join("\n")}${more}</pre>`;
}

/** The question an agent waits on, its diff, and the answers. */
function approvalBlock(subtask: Subtask, approval: PendingApproval): string {
    const answer = (label: string, option: PermissionOption, primary = false) =>
        button(label, { type: "answer", subtaskId: subtask.id, option }, primary);
    const summary = approval.summary !== undefined ? ` <code>${escapeHtml(approval.summary)}</code>` : "";
    const buttons = [
        answer(ANSWER_LABELS.allow_once, "allow_once", true),
        answer(allowAlwaysLabel(approval), "allow_always"),
        answer(ANSWER_LABELS.reject_once, "reject_once"),
    ];
    if (approval.diff !== undefined) {
        buttons.push(button("Show Diff", { type: "record", command: "reviewApproval", subtaskId: subtask.id }));
    }
    const diff = approval.diff !== undefined ? diffHtml(approval.diff) : "";
    return `<div class="approval"><div><strong>Asks you:</strong> ${escapeHtml(approval.question)}${summary}</div>${diff}<div class="answers">${buttons.join("")}</div></div>`;
}

/** What the record offers for a step: its transcript, its changes, reverting them. */
function recordButtons(subtask: Subtask): string {
    const buttons: string[] = [];
    if (["coder", "debug", "ask"].includes(subtask.agent) && subtask.attempts > 0) {
        buttons.push(button("Transcript", { type: "record", command: "showTranscript", subtaskId: subtask.id }));
    }
    if (subtask.changes !== undefined) {
        buttons.push(button("Changes", { type: "record", command: "showChanges", subtaskId: subtask.id }));
        if (!["running", "waiting"].includes(subtask.status)) {
            buttons.push(button("Revert this step", { type: "record", command: "revertStep", subtaskId: subtask.id }));
        }
    }
    return buttons.length === 0 ? "" : `<div class="record">${buttons.join("")}</div>`;
}

function subtaskRow(entry: PlanEntry, subtask: Subtask, editable: boolean): string {
    const look = subtaskLook(entry, subtask);
    const details: string[] = [];
    if (subtask.pendingApproval !== undefined) {
        details.push(approvalBlock(subtask, subtask.pendingApproval));
    }
    if (subtask.command !== undefined) {
        details.push(`<code class="command">$ ${escapeHtml(subtask.command)}</code>`);
    }
    if (subtask.description !== "" && subtask.description !== subtask.title) {
        details.push(`<div class="description">${escapeHtml(subtask.description)}</div>`);
    }
    if (subtask.error !== undefined) {
        details.push(`<div class="error">${escapeHtml(subtask.error)}</div>`);
    } else if (subtask.result !== undefined) {
        details.push(`<div class="result">${escapeHtml(subtask.result)}</div>`);
    }
    // The tail of a finished step's output, one line per line (a running step's output goes to the
    // Output channel: re-rendering the page for every line would reload it all the time).
    const output = entry.output.get(subtask.id);
    if (output !== undefined && subtask.status !== "running") {
        const lines = output.replace(/\n$/, "").split("\n");
        const shown = lines.slice(-OUTPUT_LINES_SHOWN);
        const more = lines.length > shown.length ? `<div class="more">… ${lines.length - shown.length} earlier lines in the Output panel</div>` : "";
        details.push(`<div class="output">${more}<pre>${escapeHtml(shown.join("\n"))}</pre></div>`);
    }
    const changed = formatChanges(subtask.changes);
    if (changed !== undefined) {
        details.push(`<div class="changes">changed ${escapeHtml(changed)}</div>`);
    }
    details.push(recordButtons(subtask));
    const edits = editable
        ? [
              button("↑", { type: "edit", action: "up", subtaskId: subtask.id }),
              button("↓", { type: "edit", action: "down", subtaskId: subtask.id }),
              button("Remove", { type: "edit", action: "remove", subtaskId: subtask.id }),
          ].join("")
        : "";
    const estimate = subtask.estimateSecs !== undefined ? formatDuration(subtask.estimateSecs * 1000) : "—";
    return `<tr class="status-${escapeHtml(subtask.status)}">
<td><code>${escapeHtml(subtask.id)}</code></td>
<td><strong>${escapeHtml(subtask.title)}</strong>${details.join("")}</td>
<td>${escapeHtml(subtask.agent)}</td>
<td>${escapeHtml(subtask.dependsOn.join(", ") || "—")}</td>
<td>${escapeHtml(estimate)}</td>
<td>${escapeHtml(look.detail || subtask.status)}</td>
<td class="edits">${edits}</td>
</tr>`;
}

export function reviewHtml(entry: PlanEntry, cspSource: string, nonce: string): string {
    const plan = entry.plan;
    if (plan === undefined) {
        return "<p>Loading…</p>";
    }
    const editable = plan.status === "draft";
    const classification = plan.classification;
    const facts: string[] = [
        `<dt>Status</dt><dd>${escapeHtml(plan.status)} · version ${plan.version}</dd>`,
        `<dt>Goal</dt><dd>${escapeHtml(plan.goal)}</dd>`,
    ];
    if (classification !== undefined) {
        const kind = classification.isAtomic ? "atomic" : "complex";
        facts.push(
            `<dt>Classification</dt><dd>${kind} · ${escapeHtml(classification.agent)} · ${escapeHtml(classification.confidence)} confidence (${escapeHtml(classification.method)}): ${escapeHtml(classification.reason)}</dd>`,
        );
    }
    if (plan.planner !== undefined) {
        const note = plan.plannerNote !== undefined ? ` — ${escapeHtml(plan.plannerNote)}` : "";
        facts.push(`<dt>Planner</dt><dd>${escapeHtml(plan.planner)}${note}</dd>`);
    }
    const estimate = plan.subtasks.reduce((sum, subtask) => sum + (subtask.estimateSecs ?? 0), 0);
    if (estimate > 0) {
        facts.push(`<dt>Estimate</dt><dd>${formatDuration(estimate * 1000)} of work in ${plan.subtasks.length} steps</dd>`);
    }
    const usage = formatUsage(entry.usage);
    if (usage !== undefined) {
        facts.push(`<dt>Usage</dt><dd>${escapeHtml(usage)}</dd>`);
    }
    if (plan.feedback !== undefined) {
        facts.push(`<dt>Feedback</dt><dd>${escapeHtml(plan.feedback)}</dd>`);
    }
    if (plan.error !== undefined) {
        facts.push(`<dt>Error</dt><dd class="error">${escapeHtml(plan.error)}</dd>`);
    }
    const rows = plan.subtasks.map((subtask) => subtaskRow(entry, subtask, editable)).join("\n");
    const addStep = editable ? button("Add shell step…", { type: "edit", action: "add" }) : "";
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<title>${escapeHtml(plan.title)}</title>
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
dt { font-weight: bold; float: left; clear: left; width: 8em; }
dd { margin-left: 9em; margin-bottom: .3em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { text-align: left; vertical-align: top; padding: .3em .5em; border-bottom: 1px solid var(--vscode-panel-border); }
.description { opacity: .8; white-space: pre-wrap; }
td code.command { display: block; margin: .2em 0; }
.error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
.result { white-space: pre-wrap; opacity: .9; }
.output pre { margin: .3em 0; padding: .3em .5em; background: var(--vscode-textCodeBlock-background); white-space: pre-wrap; }
.output .more { opacity: .7; font-size: .9em; }
button { margin: .2em; padding: .3em .8em; border: none; cursor: pointer; }
button.primary { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
.edits button { padding: .1em .4em; }
.approval { margin: .4em 0; padding: .4em .6em; border-left: 3px solid var(--vscode-editorWarning-foreground); background: var(--vscode-inputValidation-warningBackground); }
pre.diff { margin: .3em 0; padding: .3em .5em; background: var(--vscode-textCodeBlock-background); white-space: pre-wrap; }
pre.diff .add { color: var(--vscode-gitDecoration-addedResourceForeground); }
pre.diff .del { color: var(--vscode-gitDecoration-deletedResourceForeground); }
pre.diff .hunk, pre.diff .more { opacity: .7; }
.changes { opacity: .85; }
</style></head>
<body>
<h1>${escapeHtml(plan.title)}</h1>
<div class="actions">${actionButtons(plan)}</div>
<dl>${facts.join("\n")}</dl>
<table><thead><tr><th>Id</th><th>Step</th><th>Agent</th><th>After</th><th>Estimate</th><th>State</th><th></th></tr></thead>
<tbody>${rows}</tbody></table>
${addStep}
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-message]");
  if (target) { vscode.postMessage(JSON.parse(target.dataset.message)); }
});
</script>
</body></html>`;
}
