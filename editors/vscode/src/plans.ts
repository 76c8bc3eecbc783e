// The plans controller: feeds the model (`model.ts`) from requests and `planning/progress`, and
// tells the views when it changed. Streams subtask output into one output channel per plan and
// says when a run finishes or a step waits for a person. Commands go through it so that every
// `Plan` a request answers lands in the model at once.

import * as vscode from "vscode";

import { messageOf, type ServerConnection } from "./client";
import * as ext from "./lsp_ext";
import { PlanModel, outputLines, waitingText, type PlanEntry } from "./model";
import { oneLine } from "./presentation";
import { approvalLine } from "./record_text";

/** How many plans the view lists. */
const LIST_LIMIT = 100;

export class PlansController implements vscode.Disposable {
    readonly model = new PlanModel();
    private readonly changeEmitter = new vscode.EventEmitter<string | undefined>();
    private readonly outputChannels = new Map<string, vscode.OutputChannel>();
    private readonly subscriptions: vscode.Disposable[] = [];
    private readonly refreshing = new Map<string, Promise<void>>();

    /** Fires a plan id when one plan changed, `undefined` when the list did. */
    readonly onDidChange = this.changeEmitter.event;

    constructor(readonly connection: ServerConnection) {
        this.subscriptions.push(
            connection.onProgress((params) => this.onProgress(params)),
            connection.onDidChangeState((state) => {
                if (state.kind === "running") {
                    void this.refreshAll();
                }
            }),
        );
    }

    async refreshAll(): Promise<void> {
        try {
            const page = await this.connection.request(ext.listPlans, { limit: LIST_LIMIT });
            this.model.setSummaries(page.plans);
            this.changeEmitter.fire(undefined);
            const expanded = page.plans.filter((summary) => this.model.get(summary.id)?.plan !== undefined);
            await Promise.all(expanded.map((summary) => this.refreshPlan(summary.id)));
        } catch (error) {
            this.connection.outputChannel.appendLine(`listing plans: ${messageOf(error)}`);
        }
    }

    /** Fetches one plan again (at most one request per plan at a time). */
    refreshPlan(planId: string): Promise<void> {
        const pending = this.refreshing.get(planId);
        if (pending !== undefined) {
            return pending;
        }
        const request = this.connection
            .request(ext.getPlan, { planId })
            .then((plan) => {
                this.store(plan);
            })
            .catch((error) => {
                if (error instanceof Error && /not found/i.test(error.message)) {
                    this.model.remove(planId);
                    this.changeEmitter.fire(undefined);
                } else {
                    this.connection.outputChannel.appendLine(`fetching plan ${planId}: ${messageOf(error)}`);
                }
            })
            .finally(() => this.refreshing.delete(planId));
        this.refreshing.set(planId, request);
        return request;
    }

    /** Stores a plan a request answered and redraws it. */
    store(plan: ext.Plan): ext.Plan {
        const known = this.model.get(plan.id) !== undefined;
        this.model.setPlan(plan);
        this.changeEmitter.fire(known ? plan.id : undefined);
        return plan;
    }

    forget(planId: string): void {
        this.model.remove(planId);
        this.outputChannels.get(planId)?.dispose();
        this.outputChannels.delete(planId);
        this.changeEmitter.fire(undefined);
    }

    entry(planId: string): PlanEntry | undefined {
        return this.model.get(planId);
    }

    outputChannel(planId: string): vscode.OutputChannel {
        let channel = this.outputChannels.get(planId);
        if (channel === undefined) {
            const title = this.model.get(planId)?.title ?? planId;
            channel = vscode.window.createOutputChannel(`Codelab Planner: ${title}`.slice(0, 80));
            this.outputChannels.set(planId, channel);
        }
        return channel;
    }

    dispose(): void {
        for (const subscription of this.subscriptions) {
            subscription.dispose();
        }
        for (const channel of this.outputChannels.values()) {
            channel.dispose();
        }
        this.changeEmitter.dispose();
    }

    private onProgress(params: ext.PlanningProgressParams): void {
        const outcome = this.model.apply(params, new Date().toISOString());
        if (outcome.ignored) {
            return;
        }
        this.writeOutput(params);
        if (outcome.needsRefresh) {
            void this.refreshPlan(params.planId);
        }
        this.changeEmitter.fire(this.model.get(params.planId) !== undefined ? params.planId : undefined);
        if (outcome.waiting !== undefined) {
            void this.announceWaiting(params.planId, outcome.waiting);
        }
        if (outcome.finished !== undefined) {
            void this.announceFinished(params.planId, outcome.finished);
        }
    }

    private writeOutput(params: ext.PlanningProgressParams): void {
        const event = params.event;
        const channel = this.outputChannel(params.planId);
        const title = (subtaskId: string) =>
            this.model.get(params.planId)?.plan?.subtasks.find((subtask) => subtask.id === subtaskId)?.title ?? subtaskId;
        switch (event.kind) {
            case "planStarted":
                channel.appendLine(`── run ${params.runId} started: ${event.title ?? ""}`);
                break;
            case "subtaskStarted":
                channel.appendLine(`── ${event.title ?? title(event.subtaskId)} (attempt ${event.attempt})`);
                break;
            case "subtaskOutput":
                // One line per event (docs/protocol.md); a text with breaks in it stays several lines.
                for (const line of outputLines(event.text)) {
                    channel.appendLine(line);
                }
                break;
            case "subtaskRetrying":
                channel.appendLine(`── ${title(event.subtaskId)}: ${event.error}; retrying in ${event.delayMs} ms`);
                break;
            case "subtaskWaiting":
                channel.appendLine(`── ${title(event.subtaskId)} waits for you (Mark Done when finished):`);
                for (const line of outputLines(waitingText(event))) {
                    channel.appendLine(`   ${line}`);
                }
                break;
            case "subtaskFinished":
                channel.appendLine(`── ${title(event.subtaskId)}: ${event.status}${event.error ? ` (${event.error})` : ""}`);
                break;
            case "planFinished":
                channel.appendLine(`── run finished: ${event.status} in ${(event.durationMs / 1000).toFixed(1)}s`);
                break;
            case "approvalRequested":
                channel.appendLine(`── ${title(event.subtaskId)} asks: ${approvalLine(event.approval)} (answer in the Plans view)`);
                break;
            case "approvalAnswered":
                channel.appendLine(`── ${title(event.subtaskId)}: answered ${event.option} (${event.by})`);
                break;
            case "agentActivity":
                break;
        }
    }

    private async announceFinished(planId: string, finished: { status: ext.PlanStatus; failed: number }): Promise<void> {
        const title = this.model.get(planId)?.title ?? planId;
        const actions = finished.failed > 0 || finished.status === "failed" ? ["Show", "Retry failed"] : ["Show"];
        const show =
            finished.status === "completed" ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
        const choice = await show(`Plan "${oneLine(title)}" ${finished.status}.`, ...actions);
        if (choice === "Show") {
            await vscode.commands.executeCommand("codelabPlanner.showPlan", planId);
        } else if (choice === "Retry failed") {
            await vscode.commands.executeCommand("codelabPlanner.retry", planId);
        }
    }

    /**
     * Asks the person to do a step. A toast cannot be withdrawn; if the step ends before it is
     * answered (done elsewhere, the run cancelled), Mark Done / Mark Failed find it no longer
     * waiting and only say so (`commands.ts`).
     */
    private async announceWaiting(planId: string, waiting: { subtaskId: string; title: string; message: string }) {
        const choice = await vscode.window.showInformationMessage(
            `"${oneLine(waiting.title)}" waits for you: ${oneLine(waiting.message)} — Mark Done when you have finished.`,
            "Mark Done",
            "Mark Failed",
        );
        const target = { planId, subtaskId: waiting.subtaskId };
        if (choice === "Mark Done") {
            await vscode.commands.executeCommand("codelabPlanner.markDone", target);
        } else if (choice === "Mark Failed") {
            await vscode.commands.executeCommand("codelabPlanner.markFailed", target);
        }
    }
}
