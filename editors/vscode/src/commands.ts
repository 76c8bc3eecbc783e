// The palette and view commands, one factory per command (rust-analyzer's shape). A command takes
// what it acts on from its argument (a tree node, a plan id, or `{ planId, subtaskId }`) and asks
// with a quick pick when there is none. Errors are shown, never thrown into the void.

import * as vscode from "vscode";

import { API_KEY_SECRET, messageOf, type ServerConnection } from "./client";
import { detailsUri } from "./details";
import * as ext from "./lsp_ext";
import type { PlanEntry } from "./model";
import type { PlansController } from "./plans";
import { planLook } from "./presentation";
import { withRunProgress } from "./progress";
import type { ReviewPanels } from "./review";

export interface Ctx {
    extension: vscode.ExtensionContext;
    connection: ServerConnection;
    plans: PlansController;
    review: ReviewPanels;
}

type Cmd = (...args: unknown[]) => Promise<unknown>;
type SubtaskTarget = { planId: string; subtaskId: string };

const RETRYABLE: ext.PlanStatus[] = ["failed", "cancelled", "interrupted"];

/** Every command of `package.json`, by its name after `codelabPlanner.`. */
export function allCommands(ctx: Ctx): Record<string, Cmd> {
    return {
        newTask: newTask(ctx),
        newPlanFromFile: newPlanFromFile(ctx),
        execute: execute(ctx),
        cancel: cancel(ctx),
        retry: retry(ctx),
        approve: approve(ctx),
        reject: reject(ctx),
        revise: revise(ctx),
        delete: deletePlan(ctx),
        showPlan: showPlan(ctx),
        showOutput: showOutput(ctx),
        showSubtask: showSubtask(ctx),
        exportPlan: exportPlan(ctx),
        markDone: completeSubtask(ctx, "done"),
        markFailed: completeSubtask(ctx, "failed"),
        restartServer: async () => ctx.connection.restart("asked by the user"),
        setApiKey: setApiKey(ctx),
        refresh: async () => ctx.plans.refreshAll(),
    };
}

/** Wraps a command so that a failure is shown to the user and written to the log. */
export function reported(name: string, command: Cmd, log: vscode.OutputChannel): Cmd {
    return async (...args) => {
        log.appendLine(`command ${name}`);
        try {
            return await command(...args);
        } catch (error) {
            log.appendLine(`command ${name} failed: ${messageOf(error)}`);
            void vscode.window.showErrorMessage(`Codelab Planner: ${name}: ${messageOf(error)}`);
            return undefined;
        }
    };
}

function planIdOf(argument: unknown): string | undefined {
    if (typeof argument === "string") {
        return argument;
    }
    if (typeof argument === "object" && argument !== null && "planId" in argument) {
        const planId = (argument as { planId: unknown }).planId;
        return typeof planId === "string" ? planId : undefined;
    }
    return undefined;
}

function subtaskOf(argument: unknown): SubtaskTarget | undefined {
    if (typeof argument === "object" && argument !== null && "subtaskId" in argument) {
        const target = argument as { planId: unknown; subtaskId: unknown };
        if (typeof target.planId === "string" && typeof target.subtaskId === "string") {
            return { planId: target.planId, subtaskId: target.subtaskId };
        }
    }
    return undefined;
}

/** The plan named by the argument, else one the user picks among those in `statuses`. */
async function targetPlan(ctx: Ctx, argument: unknown, statuses: ext.PlanStatus[] | "any", action: string) {
    const given = planIdOf(argument);
    if (given !== undefined) {
        return given;
    }
    await ctx.plans.refreshAll();
    const candidates = ctx.plans.model.plans().filter((entry) => statuses === "any" || statuses.includes(entry.status));
    if (candidates.length === 0) {
        const which = statuses === "any" ? "" : ` (${statuses.join(", ")})`;
        void vscode.window.showInformationMessage(`Codelab Planner: no plan to ${action}${which}.`);
        return undefined;
    }
    const picked = await vscode.window.showQuickPick(
        candidates.map((entry: PlanEntry) => {
            const look = planLook(entry);
            return { label: look.label, description: look.description, planId: entry.id };
        }),
        { placeHolder: `Plan to ${action}`, matchOnDescription: true, ignoreFocusOut: true },
    );
    return picked?.planId;
}

function newTask(ctx: Ctx): Cmd {
    return async (argument) => {
        const task =
            typeof argument === "string"
                ? argument
                : await vscode.window.showInputBox({
                      prompt: "Describe the task",
                      placeHolder: "Add CSV export to reports, with tests",
                      ignoreFocusOut: true,
                  });
        if (task === undefined || task.trim() === "") {
            return undefined;
        }
        const created = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: "Codelab Planner: planning…" },
            () => ctx.connection.request(ext.createPlan, { task: task.trim() }),
        );
        const plan = ctx.plans.store(created.plan);
        if (plan.classification?.isAtomic === true && plan.status !== "rejected") {
            return startRun(ctx, plan.id);
        }
        return ctx.review.show(plan.id);
    };
}

/** A JSON plan file: `{ "task": "...", "title"?: "...", "subtasks": [SubtaskInput, ...] }`. */
interface PlanFile {
    task: string;
    title?: string;
    subtasks: ext.SubtaskInput[];
}

function parsePlanFile(text: string, name: string): PlanFile {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new Error(`${name}: not JSON (${messageOf(error)})`);
    }
    const file = value as Partial<PlanFile>;
    if (typeof file !== "object" || file === null || typeof file.task !== "string") {
        throw new Error(`${name}: task: expected a string`);
    }
    if (!Array.isArray(file.subtasks) || file.subtasks.length === 0) {
        throw new Error(`${name}: subtasks: expected a non-empty list`);
    }
    return { task: file.task, title: typeof file.title === "string" ? file.title : undefined, subtasks: file.subtasks };
}

function newPlanFromFile(ctx: Ctx): Cmd {
    return async (argument) => {
        let uri = argument instanceof vscode.Uri ? argument : undefined;
        if (uri === undefined) {
            const files = await vscode.workspace.findFiles("**/*.plan.json", "**/node_modules/**", 200);
            if (files.length === 0) {
                void vscode.window.showInformationMessage("Codelab Planner: no *.plan.json file in the workspace.");
                return undefined;
            }
            const picked = await vscode.window.showQuickPick(
                files.map((file) => ({ label: vscode.workspace.asRelativePath(file), uri: file })),
                { placeHolder: "Plan file", ignoreFocusOut: true },
            );
            uri = picked?.uri;
        }
        if (uri === undefined) {
            return undefined;
        }
        const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
        const file = parsePlanFile(text, vscode.workspace.asRelativePath(uri));
        const created = await ctx.connection.request(ext.createPlan, {
            task: file.task,
            title: file.title,
            mode: "plan",
            subtasks: file.subtasks,
        });
        ctx.plans.store(created.plan);
        return ctx.review.show(created.plan.id);
    };
}

async function startRun(ctx: Ctx, planId: string): Promise<ext.RunStartedResult> {
    const entry = ctx.plans.entry(planId);
    if (entry?.status === "draft" && entry.plan?.classification?.isAtomic !== true) {
        ctx.plans.store(await ctx.connection.request(ext.approvePlan, { planId }));
    }
    const title = ctx.plans.entry(planId)?.title ?? planId;
    const started = await withRunProgress(ctx.connection, title, (workDoneToken) =>
        ctx.connection.request(ext.executePlan, { planId, workDoneToken }),
    );
    await ctx.plans.refreshPlan(planId);
    return started;
}

function execute(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, ["approved", "draft"], "execute");
        return planId === undefined ? undefined : startRun(ctx, planId);
    };
}

function cancel(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, ["running"], "cancel");
        if (planId === undefined) {
            return undefined;
        }
        const result = await ctx.connection.request(ext.cancelPlan, { planId, reason: "cancelled in the editor" });
        if (!result.cancelled) {
            void vscode.window.showInformationMessage(`Codelab Planner: nothing to cancel (the plan is ${result.status}).`);
        }
        await ctx.plans.refreshPlan(planId);
        return result;
    };
}

function retry(ctx: Ctx): Cmd {
    return async (argument) => {
        const subtask = subtaskOf(argument);
        const planId = subtask?.planId ?? (await targetPlan(ctx, argument, RETRYABLE, "retry"));
        if (planId === undefined) {
            return undefined;
        }
        const subtaskIds = subtask !== undefined ? [subtask.subtaskId] : undefined;
        const title = ctx.plans.entry(planId)?.title ?? planId;
        const started = await withRunProgress(ctx.connection, title, (workDoneToken) =>
            ctx.connection.request(ext.retryPlan, { planId, subtaskIds, workDoneToken }),
        );
        await ctx.plans.refreshPlan(planId);
        return started;
    };
}

function approve(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, ["draft"], "approve");
        return planId === undefined ? undefined : ctx.plans.store(await ctx.connection.request(ext.approvePlan, { planId }));
    };
}

function reject(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, ["draft"], "reject");
        if (planId === undefined) {
            return undefined;
        }
        const feedback = await vscode.window.showInputBox({ prompt: "Why reject it? (optional)" });
        if (feedback === undefined) {
            return undefined;
        }
        const params = feedback.trim() === "" ? { planId } : { planId, feedback: feedback.trim() };
        return ctx.plans.store(await ctx.connection.request(ext.rejectPlan, params));
    };
}

function revise(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, ["draft"], "revise");
        if (planId === undefined) {
            return undefined;
        }
        const feedback = await vscode.window.showInputBox({
            prompt: "What should change?",
            placeHolder: "also run clippy; drop the docs step",
            ignoreFocusOut: true,
        });
        if (feedback === undefined || feedback.trim() === "") {
            return undefined;
        }
        return ctx.plans.store(await ctx.connection.request(ext.revisePlan, { planId, feedback: feedback.trim() }));
    };
}

function deletePlan(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, "any", "delete");
        if (planId === undefined) {
            return undefined;
        }
        const title = ctx.plans.entry(planId)?.title ?? planId;
        const answer = await vscode.window.showWarningMessage(`Delete plan "${title}"?`, { modal: true }, "Delete");
        if (answer !== "Delete") {
            return undefined;
        }
        const result = await ctx.connection.request(ext.deletePlan, { planId });
        ctx.plans.forget(planId);
        return result;
    };
}

function showPlan(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, "any", "show");
        return planId === undefined ? undefined : ctx.review.show(planId);
    };
}

function showOutput(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, "any", "show the output of");
        if (planId !== undefined) {
            ctx.plans.outputChannel(planId).show(true);
        }
    };
}

function showSubtask(ctx: Ctx): Cmd {
    return async (argument) => {
        const target = subtaskOf(argument);
        if (target === undefined) {
            return undefined;
        }
        const title = ctx.plans.entry(target.planId)?.plan?.subtasks.find((s) => s.id === target.subtaskId)?.title ?? "";
        const document = await vscode.workspace.openTextDocument(detailsUri(target.planId, target.subtaskId, title));
        return vscode.window.showTextDocument(document, { preview: true, preserveFocus: true });
    };
}

function exportPlan(ctx: Ctx): Cmd {
    return async (argument) => {
        const planId = await targetPlan(ctx, argument, "any", "export");
        if (planId === undefined) {
            return undefined;
        }
        const exported = await ctx.connection.request(ext.exportPlan, { planId });
        const document = await vscode.workspace.openTextDocument({ content: exported.text, language: "toml" });
        return vscode.window.showTextDocument(document);
    };
}

/** The waiting subtask named by the argument, else one the user picks. */
async function targetWaitingSubtask(ctx: Ctx, argument: unknown): Promise<SubtaskTarget | undefined> {
    const given = subtaskOf(argument);
    if (given !== undefined) {
        return given;
    }
    const waiting = ctx.plans.model.plans().flatMap((entry) =>
        (entry.plan?.subtasks ?? [])
            .filter((subtask) => subtask.status === "waiting")
            .map((subtask) => ({
                label: subtask.title,
                description: entry.title,
                detail: entry.waitingMessage.get(subtask.id),
                target: { planId: entry.id, subtaskId: subtask.id },
            })),
    );
    if (waiting.length === 0) {
        void vscode.window.showInformationMessage("Codelab Planner: no step waits for you.");
        return undefined;
    }
    return (await vscode.window.showQuickPick(waiting, { placeHolder: "Step", ignoreFocusOut: true }))?.target;
}

function completeSubtask(ctx: Ctx, status: "done" | "failed"): Cmd {
    return async (argument) => {
        const target = await targetWaitingSubtask(ctx, argument);
        if (target === undefined) {
            return undefined;
        }
        const result = await vscode.window.showInputBox({
            prompt: status === "done" ? "What was done? (optional)" : "What went wrong? (optional)",
        });
        if (result === undefined) {
            return undefined;
        }
        const params: ext.CompleteSubtaskParams = { ...target, status };
        if (result.trim() !== "") {
            params.result = result.trim();
        }
        return ctx.plans.store(await ctx.connection.request(ext.completeSubtask, params));
    };
}

function setApiKey(ctx: Ctx): Cmd {
    return async () => {
        const key = await vscode.window.showInputBox({
            prompt: "API key of the language model (kept in the editor's secret storage; empty removes it)",
            password: true,
            ignoreFocusOut: true,
        });
        if (key === undefined) {
            return undefined;
        }
        if (key.trim() === "") {
            await ctx.extension.secrets.delete(API_KEY_SECRET);
        } else {
            await ctx.extension.secrets.store(API_KEY_SECRET, key.trim());
        }
        return undefined;
    };
}
