// Agent work on the record, as text a person reads: a step's transcript as a Markdown document,
// a plan's changes as one diff document, what a rollback did in one sentence, and the proposed
// content of a pending file change (its unified diff applied to the file as it is now), for the
// real diff view. Pure (no `vscode` import): `test/record.test.ts` checks them.

import type { FileChange, PendingApproval, RollbackResult, TranscriptEntry, TranscriptResult } from "./lsp_ext";

/** The labels of the three answers, as the server's own question shows them. */
export const ANSWER_LABELS = { allow_once: "Allow", allow_always: "Allow for this plan", reject_once: "Deny" } as const;

/** "Allow for this plan" with what it covers: "Allow for this plan (every file edit of this plan)". */
export function allowAlwaysLabel(approval: PendingApproval): string {
    return approval.scope !== undefined ? `${ANSWER_LABELS.allow_always} (${approval.scope})` : ANSWER_LABELS.allow_always;
}

/** The question on one line with the change: "Allow coder to edit `README.md`? (+2 −1 README.md)". */
export function approvalLine(approval: PendingApproval): string {
    return approval.summary !== undefined ? `${approval.question} (${approval.summary})` : approval.question;
}

/**
 * The text after applying a unified diff (`---`/`+++` headers, `@@ -a,b +c,d @@` hunks) to
 * `before`, or `undefined` when it does not apply (the file changed since, or the diff was cut).
 */
export function applyUnifiedDiff(before: string, diff: string): string | undefined {
    const lines = before === "" ? [] : before.split(/(?<=\n)/);
    const out: string[] = [];
    let position = 0;
    const diffLines = diff.split("\n");
    if (diffLines.at(-1) === "") {
        diffLines.pop();
    }
    let index = 0;
    while (index < diffLines.length && !diffLines[index].startsWith("@@")) {
        if (!diffLines[index].startsWith("---") && !diffLines[index].startsWith("+++")) {
            return undefined;
        }
        index += 1;
    }
    // The line a `\ No newline at end of file` marker speaks of, to drop its break.
    let last: { list: "out" | "old"; at: number } | undefined;
    for (; index < diffLines.length; index += 1) {
        const line = diffLines[index];
        const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
        if (hunk !== null) {
            const start = Number(hunk[1]) - (hunk[2] === "0" ? 0 : 1);
            if (start < position || start > lines.length) {
                return undefined;
            }
            out.push(...lines.slice(position, start));
            position = start;
            continue;
        }
        const body = line.slice(1);
        switch (line[0]) {
            case " ":
            case "-": {
                const current = lines[position];
                if (current === undefined || current.replace(/\n$/, "") !== body) {
                    return undefined;
                }
                if (line[0] === " ") {
                    out.push(current);
                    last = { list: "out", at: out.length - 1 };
                } else {
                    last = { list: "old", at: position };
                }
                position += 1;
                break;
            }
            case "+":
                out.push(`${body}\n`);
                last = { list: "out", at: out.length - 1 };
                break;
            case "\\":
                if (last?.list === "out") {
                    out[last.at] = out[last.at].replace(/\n$/, "");
                }
                break;
            default:
                return undefined;
        }
    }
    out.push(...lines.slice(position));
    return out.join("");
}

function fence(text: string, language = ""): string {
    const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
    const ticks = "`".repeat(longest + 1);
    return `${ticks}${language}\n${text.replace(/\n$/, "")}\n${ticks}`;
}

function prettyArguments(text: string | undefined): string {
    if (text === undefined || text.trim() === "") {
        return "";
    }
    try {
        return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
        return text;
    }
}

function entryTime(entry: TranscriptEntry): string {
    const match = /T(\d\d:\d\d:\d\d)/.exec(entry.at);
    return match === null ? entry.at : match[1];
}

function entryMarkdown(entry: TranscriptEntry): string {
    const time = entryTime(entry);
    const target = entry.target !== undefined ? ` \`${entry.target}\`` : "";
    const tool = entry.tool ?? "tool";
    const text = entry.text ?? "";
    switch (entry.kind) {
        case "message":
            return entry.role === "user"
                ? `### ${time} · The task given to the agent\n\n${fence(text)}`
                : `### ${time} · The model\n\n${text}`;
        case "toolCall":
            return `### ${time} · → \`${tool}\`${target}\n\n${fence(prettyArguments(entry.arguments), "json")}`;
        case "toolResult":
            return `### ${time} · ← \`${tool}\`${target}: **${entry.outcome ?? "?"}**\n\n${fence(text)}`;
        case "approval":
            return entry.outcome === "asked"
                ? `### ${time} · Asked the person\n\n${fence(text, text.includes("\n@@") ? "diff" : "")}`
                : `### ${time} · Answer: **${entry.outcome ?? "?"}**\n\n${text}`;
        case "note":
            return `> ${time} · ${text}`;
    }
}

/** A step's transcript as a Markdown document. */
export function transcriptMarkdown(title: string, subtaskId: string, transcript: TranscriptResult): string {
    const attempt = transcript.attempt ?? 0;
    const head = [`# Transcript: ${title}`, `Step \`${subtaskId}\`, attempt ${attempt}.`];
    if (attempt === 0 || transcript.entries.length === 0) {
        head.push("No language model worked on this step, so it has no transcript.");
        return `${head.join("\n\n")}\n`;
    }
    if (transcript.dropped > 0) {
        head.push(`_${transcript.dropped} earlier entries were dropped to keep the record bounded._`);
    }
    return `${[...head, ...transcript.entries.map(entryMarkdown)].join("\n\n")}\n`;
}

/** Every change of a plan (or a step) as one diff document, a header line per file. */
export function changesText(title: string, changes: readonly FileChange[]): string {
    if (changes.length === 0) {
        return `# ${title}: no file changes are recorded\n`;
    }
    const parts = changes.map((change) => {
        const from = change.from !== undefined ? ` (from ${change.from})` : "";
        const undone = change.rolledBack === true ? " · rolled back" : "";
        const counts = `+${change.added ?? 0} \u2212${change.removed ?? 0}`;
        return `# ${change.subtaskId} (attempt ${change.attempt}) · ${change.change} ${change.path}${from} · ${counts}${undone}\n${change.diff}`;
    });
    return parts.join("\n");
}

/** What a rollback did, in one sentence. */
export function rollbackSummary(result: RollbackResult): string {
    if (result.restored.length === 0 && result.conflicts.length === 0) {
        return "Nothing to revert.";
    }
    const parts: string[] = [];
    if (result.restored.length > 0) {
        parts.push(`Reverted ${result.restored.join(", ")}.`);
    }
    for (const conflict of result.conflicts) {
        parts.push(`Left ${conflict.path}: ${conflict.reason}.`);
    }
    return parts.join(" ");
}
