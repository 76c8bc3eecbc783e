// Agent work on the record in VS Code: the questions agents wait on (answered from the Plans view,
// the plan page, the status bar or the diff view, never only from a toast that hides), the real
// diff of a proposed file change (`vscode.diff` of two read-only documents, with Allow / Deny in
// its title bar), a step's transcript and a plan's changes as read-only documents, and Revert
// this step / Revert plan (`planning/rollback`). The texts come from `record_text.ts`.

import * as vscode from "vscode";

import { messageOf } from "./client";
import * as ext from "./lsp_ext";
import type { PendingQuestion } from "./model";
import type { PlansController } from "./plans";
import { oneLine } from "./presentation";
import {
    ANSWER_LABELS,
    allowAlwaysLabel,
    applyUnifiedDiff,
    approvalLine,
    changesText,
    rollbackSummary,
    transcriptMarkdown,
} from "./record_text";

/** Read-only documents of the record: transcripts, changes, and the two sides of a proposed change. */
export const RECORD_SCHEME = "codelab-planner-record";

type Target = { planId: string; subtaskId: string };

function targetOf(argument: unknown): Target | undefined {
    if (typeof argument === "object" && argument !== null) {
        const candidate = argument as { planId?: unknown; subtaskId?: unknown };
        if (typeof candidate.planId === "string" && typeof candidate.subtaskId === "string") {
            return { planId: candidate.planId, subtaskId: candidate.subtaskId };
        }
    }
    if (argument instanceof vscode.Uri && argument.scheme === RECORD_SCHEME) {
        const query = new URLSearchParams(argument.query);
        const planId = query.get("plan");
        const subtaskId = query.get("step");
        return planId !== null && subtaskId !== null ? { planId, subtaskId } : undefined;
    }
    return undefined;
}

function planIdOf(argument: unknown): string | undefined {
    if (typeof argument === "string") {
        return argument;
    }
    if (typeof argument === "object" && argument !== null && typeof (argument as { planId?: unknown }).planId === "string") {
        return (argument as { planId: string }).planId;
    }
    return undefined;
}

export class AgentRecord implements vscode.TextDocumentContentProvider, vscode.Disposable {
    /** The text of each open record document, by URI. */
    private readonly texts = new Map<string, string>();
    private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changeEmitter.event;

    constructor(private readonly plans: PlansController) {}

    provideTextDocumentContent(uri: vscode.Uri): string {
        return this.texts.get(uri.toString()) ?? "(closed: open it again from the Plans view)\n";
    }

    dispose(): void {
        this.changeEmitter.dispose();
    }

    /** The commands of `package.json` this file implements, by name. */
    commands(): Record<string, (...args: unknown[]) => Promise<unknown>> {
        return {
            allowOnce: (argument) => this.answer(argument, "allow_once"),
            allowForPlan: (argument) => this.answer(argument, "allow_always"),
            deny: (argument) => this.answer(argument, "reject_once"),
            reviewApproval: (argument) => this.reviewApproval(argument),
            showTranscript: (argument) => this.showTranscript(argument),
            showChanges: (argument) => this.showChanges(argument),
            revertStep: (argument) => this.revert(argument, "step"),
            revertPlan: (argument) => this.revert(argument, "plan"),
        };
    }

    private async open(name: string, target: Target | { planId: string }, text: string, language: string) {
        const query = new URLSearchParams({ plan: target.planId, ...("subtaskId" in target ? { step: target.subtaskId } : {}) });
        const uri = vscode.Uri.from({ scheme: RECORD_SCHEME, path: `/${name}`, query: query.toString() });
        this.texts.set(uri.toString(), text);
        this.changeEmitter.fire(uri);
        const document = await vscode.workspace.openTextDocument(uri);
        await vscode.languages.setTextDocumentLanguage(document, language);
        return vscode.window.showTextDocument(document, { preview: false });
    }

    /** The question named by the argument (a node, a URI of its diff, `{ planId, subtaskId }`), else one picked. */
    private async question(argument: unknown): Promise<PendingQuestion | undefined> {
        const target = targetOf(argument);
        if (target !== undefined) {
            await this.plans.refreshPlan(target.planId);
            const found = this.plans.model
                .pendingApprovals()
                .find((question) => question.planId === target.planId && question.subtaskId === target.subtaskId);
            if (found === undefined) {
                vscode.window.setStatusBarMessage("Codelab Planner: that step no longer waits for an answer", 8000);
            }
            return found;
        }
        await this.plans.refreshAll();
        const withQuestions = this.plans.model.plans().filter((entry) => entry.status === "running");
        await Promise.all(withQuestions.map((entry) => this.plans.refreshPlan(entry.id)));
        const questions = this.plans.model.pendingApprovals();
        if (questions.length === 0) {
            void vscode.window.showInformationMessage("Codelab Planner: no agent waits for an answer.");
            return undefined;
        }
        const picked = await vscode.window.showQuickPick(
            questions.map((question) => ({
                label: oneLine(approvalLine(question.approval)),
                description: oneLine(question.subtaskTitle),
                detail: oneLine(question.planTitle),
                question,
            })),
            { placeHolder: "Question an agent waits on", ignoreFocusOut: true },
        );
        return picked?.question;
    }

    private async answer(argument: unknown, option: ext.PermissionOption): Promise<unknown> {
        const question = await this.question(argument);
        if (question === undefined) {
            return undefined;
        }
        const { planId, subtaskId, approval } = question;
        try {
            await this.plans.connection.request(ext.answer, { planId, subtaskId, requestId: approval.requestId, option });
        } catch (error) {
            // Answered meanwhile (from the editor's message or another client): not the person's fault.
            await this.plans.refreshPlan(planId);
            if (this.plans.model.pendingApprovals().some((pending) => pending.approval.requestId === approval.requestId)) {
                throw error;
            }
            vscode.window.setStatusBarMessage(`Codelab Planner: already answered (${messageOf(error)})`, 8000);
            return undefined;
        }
        this.plans.connection.outputChannel.appendLine(`answered "${approval.question}": ${option}`);
        await this.closeDiffOf(approval.requestId);
        await this.plans.refreshPlan(planId);
        return undefined;
    }

    /** The diff of a proposed change, side by side, with Allow / Deny in its title bar. */
    private async reviewApproval(argument: unknown): Promise<unknown> {
        const question = await this.question(argument);
        if (question === undefined) {
            return undefined;
        }
        const { approval } = question;
        const diff = approval.diff;
        if (diff === undefined) {
            return this.askInDialog(question);
        }
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        let before = "";
        if (folder !== undefined && !diff.startsWith("--- /dev/null")) {
            const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, approval.target)).then(
                (opened) => opened,
                () => undefined,
            );
            before = document?.getText() ?? "";
        }
        const after = applyUnifiedDiff(before, diff);
        if (after === undefined) {
            // The file changed since the agent asked, or the diff was cut: show the diff as it is.
            return this.open(`${approval.target}.diff`, question, diff, "diff");
        }
        const side = (name: string, text: string) => {
            const query = new URLSearchParams({ plan: question.planId, step: question.subtaskId, question: approval.requestId });
            const uri = vscode.Uri.from({ scheme: RECORD_SCHEME, path: `/${name}/${approval.target}`, query: query.toString() });
            this.texts.set(uri.toString(), text);
            this.changeEmitter.fire(uri);
            return uri;
        };
        const title = `${approval.target} ↔ proposed change (${approval.summary ?? oneLine(question.subtaskTitle)})`;
        await vscode.commands.executeCommand("vscode.diff", side("now", before), side("proposed", after), title, { preview: false });
        return undefined;
    }

    /** A question without a diff (a command): asked in a dialog that stays until it is answered. */
    private async askInDialog(question: PendingQuestion): Promise<unknown> {
        const { approval } = question;
        const always = allowAlwaysLabel(approval);
        const chosen = await vscode.window.showWarningMessage(
            approval.question,
            { modal: true, detail: `${question.subtaskTitle}\n${approval.target}` },
            ANSWER_LABELS.allow_once,
            always,
            ANSWER_LABELS.reject_once,
        );
        const option: ext.PermissionOption | undefined =
            chosen === ANSWER_LABELS.allow_once ? "allow_once" : chosen === always ? "allow_always" : chosen === ANSWER_LABELS.reject_once ? "reject_once" : undefined;
        return option === undefined ? undefined : this.answer(question, option);
    }

    private async closeDiffOf(requestId: string): Promise<void> {
        const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
        const stale = tabs.filter((tab) => {
            const input = tab.input;
            return input instanceof vscode.TabInputTextDiff && input.modified.scheme === RECORD_SCHEME && input.modified.query.includes(`question=${requestId}`);
        });
        if (stale.length > 0) {
            await vscode.window.tabGroups.close(stale);
        }
    }

    /** The step named by the argument, else one the person picks among those `wanted` takes. */
    private async stepOf(argument: unknown, wanted: (subtask: ext.Subtask) => boolean, placeHolder: string) {
        const given = targetOf(argument);
        if (given !== undefined) {
            return given;
        }
        await this.plans.refreshAll();
        await Promise.all(this.plans.model.plans().slice(0, 20).map((entry) => this.plans.refreshPlan(entry.id)));
        const steps = this.plans.model.plans().flatMap((entry) =>
            (entry.plan?.subtasks ?? []).filter(wanted).map((subtask) => ({
                label: oneLine(subtask.title),
                description: oneLine(entry.title),
                target: { planId: entry.id, subtaskId: subtask.id },
            })),
        );
        if (steps.length === 0) {
            void vscode.window.showInformationMessage("Codelab Planner: no step to choose from.");
            return undefined;
        }
        return (await vscode.window.showQuickPick(steps, { placeHolder, ignoreFocusOut: true }))?.target;
    }

    /** The plan named by the argument, else one with changes the person picks. */
    private async planOf(argument: unknown, placeHolder: string): Promise<string | undefined> {
        const given = planIdOf(argument);
        if (given !== undefined) {
            return given;
        }
        const step = await this.stepOf(undefined, (subtask) => subtask.changes !== undefined, placeHolder);
        return step?.planId;
    }

    private async showTranscript(argument: unknown): Promise<unknown> {
        const agentStep = (subtask: ext.Subtask) => ["coder", "debug", "ask"].includes(subtask.agent) && subtask.attempts > 0;
        const target = await this.stepOf(argument, agentStep, "Step whose transcript to show");
        if (target === undefined) {
            return undefined;
        }
        const transcript = await this.plans.connection.request(ext.transcript, target);
        const title = this.plans.entry(target.planId)?.plan?.subtasks.find((subtask) => subtask.id === target.subtaskId)?.title ?? target.subtaskId;
        const name = `Transcript ${target.subtaskId} (attempt ${transcript.attempt ?? 0}).md`;
        return this.open(name, target, transcriptMarkdown(title, target.subtaskId, transcript), "markdown");
    }

    private async showChanges(argument: unknown): Promise<unknown> {
        const target = targetOf(argument);
        const planId = target?.planId ?? (await this.planOf(argument, "A step of the plan whose changes to show"));
        if (planId === undefined) {
            return undefined;
        }
        const result = await this.plans.connection.request(ext.changes, target ?? { planId });
        const title = this.plans.entry(planId)?.title ?? planId;
        const name = target !== undefined ? `Changes ${target.subtaskId}.diff` : "Changes of the plan.diff";
        return this.open(name, target ?? { planId }, changesText(oneLine(title), result.changes), "diff");
    }

    private async revert(argument: unknown, scope: "step" | "plan"): Promise<unknown> {
        const changed = (subtask: ext.Subtask) => subtask.changes !== undefined && !["running", "waiting"].includes(subtask.status);
        const target = scope === "step" ? await this.stepOf(argument, changed, "Step whose changes to revert") : undefined;
        const planId = target?.planId ?? (scope === "plan" ? await this.planOf(argument, "A step of the plan to revert") : undefined);
        if (planId === undefined) {
            return undefined;
        }
        const entry = this.plans.entry(planId);
        const step = target !== undefined ? entry?.plan?.subtasks.find((subtask) => subtask.id === target.subtaskId) : undefined;
        const what =
            step !== undefined
                ? `Revert the files "${oneLine(step.title)}" changed, and every later change the plan made to them?`
                : `Revert every file the agents of "${oneLine(entry?.title ?? planId)}" changed?`;
        const confirmed = await vscode.window.showWarningMessage(
            what,
            { modal: true, detail: "Files changed since by you (or anything else) are left as they are. Open files are reverted in the editor, where Undo brings the change back." },
            "Revert",
        );
        if (confirmed !== "Revert") {
            return undefined;
        }
        const result = await this.plans.connection.request(ext.rollback, target ?? { planId });
        await this.plans.refreshPlan(planId);
        const summary = rollbackSummary(result);
        this.plans.connection.outputChannel.appendLine(`revert ${target?.subtaskId ?? planId}: ${summary}`);
        if (result.conflicts.length > 0) {
            void vscode.window.showWarningMessage(`Codelab Planner: ${summary}`);
        } else {
            void vscode.window.showInformationMessage(`Codelab Planner: ${summary}`);
        }
        return result;
    }
}
