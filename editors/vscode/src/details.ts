// Read-only documents for a subtask's details (status, command, result or error, and the tail of
// its output), under the `codelab-planner` scheme, updated live while they are open.

import * as vscode from "vscode";

import type { PlansController } from "./plans";
import { subtaskLook } from "./presentation";

export const DETAILS_SCHEME = "codelab-planner";

export function detailsUri(planId: string, subtaskId: string, title: string): vscode.Uri {
    const safeTitle = title.replace(/[^A-Za-z0-9 ._-]/g, "").slice(0, 60) || subtaskId;
    return vscode.Uri.from({ scheme: DETAILS_SCHEME, path: `/${safeTitle}.log`, query: `${planId}/${subtaskId}` });
}

export class SubtaskDetails implements vscode.TextDocumentContentProvider, vscode.Disposable {
    private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
    private readonly subscription: vscode.Disposable;
    readonly onDidChange = this.changeEmitter.event;

    constructor(private readonly plans: PlansController) {
        this.subscription = plans.onDidChange((planId) => {
            for (const document of vscode.workspace.textDocuments) {
                if (document.uri.scheme === DETAILS_SCHEME && (planId === undefined || document.uri.query.startsWith(`${planId}/`))) {
                    this.changeEmitter.fire(document.uri);
                }
            }
        });
    }

    provideTextDocumentContent(uri: vscode.Uri): string {
        const [planId, subtaskId] = uri.query.split("/");
        const entry = this.plans.entry(planId ?? "");
        const subtask = entry?.plan?.subtasks.find((candidate) => candidate.id === subtaskId);
        if (entry === undefined || subtask === undefined) {
            return `subtask ${subtaskId ?? "?"} of plan ${planId ?? "?"} is not known (deleted, or not loaded yet)\n`;
        }
        const look = subtaskLook(entry, subtask);
        const lines = [`${subtask.title} (${subtask.id}) — ${look.description}`, "", look.tooltip, ""];
        const output = entry.output.get(subtask.id);
        lines.push("── output of this session" + (output === undefined ? ": none yet" : ":"));
        if (output !== undefined) {
            lines.push(output.replace(/\n$/, ""));
        }
        return lines.join("\n");
    }

    dispose(): void {
        this.subscription.dispose();
        this.changeEmitter.dispose();
    }
}
