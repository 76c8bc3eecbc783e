// The palette and view commands, one factory per command (rust-analyzer's shape). A command takes
// what it acts on from its argument (a tree node, a plan id, or `{ planId, subtaskId }`) and asks
// with a quick pick when there is none. Errors are shown, never thrown into the void.

import * as vscode from "vscode";

import { API_KEY_SECRET, messageOf, type ServerConnection } from "./client";
import { detailsUri } from "./details";
import * as ext from "./lsp_ext";
import type { PlanEntry } from "./model";
import type { PlansController } from "./plans";
import { oneLine, planLook } from "./presentation";
import { parsePlanFile } from "./plan_file";
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
        // Only a plan the server approved runs at once; a draft (a multi-step plan, an unsure
        // verdict) waits on its review page for the person to approve it.
        if (plan.status === "approved") {
            return startRun(ctx, plan.id);
        }
        return ctx.review.show(plan.id);
    };
}

/** The plan files "New Plan from File" offers: `*.plan.toml` (what Export writes), and the older `*.plan.json`. */
const PLAN_FILE_GLOB = "**/*.{plan.toml,plan.json}";

function newPlanFromFile(ctx: Ctx): Cmd {
    return async (argument) => {
        let uri = argument instanceof vscode.Uri ? argument : undefined;
        if (uri === undefined) {
            const files = await vscode.workspace.findFiles(PLAN_FILE_GLOB, "**/node_modules/**", 200);
            if (files.length === 0) {
                void vscode.window.showInformationMessage(
                    "Codelab Planner: no plan file (*.plan.toml) in the workspace. Export a plan to start one.",
                );
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
        // The editor's text when the file is open (saved or not), else the file on disk.
        const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri!.toString());
        const text = open?.getText() ?? new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
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

/** Runs a plan; a draft is approved first (the person asked to execute it: that is the approval). */
async function startRun(ctx: Ctx, planId: string): Promise<ext.RunStartedResult> {
    if (ctx.plans.entry(planId)?.status === "draft") {
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
        const title = ctx.plans.entry(planId)?.title ?? planId;
        const revised = await vscode.window.withProgress(
            {
                location: vscode.ProgressLocation.Notification,
                title: `Codelab Planner: revising "${oneLine(title)}"…`,
                cancellable: true,
            },
            (_progress, cancellation) =>
                ctx.connection.request(ext.revisePlan, { planId, feedback: feedback.trim() }, cancellation),
        );
        return ctx.plans.store(revised);
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

/** Every step that waits for a person, from fresh snapshots of the plans that have one. */
async function waitingSteps(ctx: Ctx) {
    await ctx.plans.refreshAll();
    const withWaiting = ctx.plans.model.plans().filter((entry) => (entry.progress.waiting ?? 0) > 0);
    await Promise.all(withWaiting.map((entry) => ctx.plans.refreshPlan(entry.id)));
    return ctx.plans.model.plans().flatMap((entry) =>
        (entry.plan?.subtasks ?? [])
            .filter((subtask) => subtask.status === "waiting")
            .map((subtask) => ({
                label: oneLine(subtask.title),
                description: oneLine(entry.title),
                detail: oneLine(entry.waitingMessage.get(subtask.id) ?? ""),
                target: { planId: entry.id, subtaskId: subtask.id },
            })),
    );
}

/** The waiting subtask named by the argument, else one the user picks. */
async function targetWaitingSubtask(ctx: Ctx, argument: unknown): Promise<SubtaskTarget | undefined> {
    const given = subtaskOf(argument);
    if (given !== undefined) {
        return given;
    }
    const waiting = await waitingSteps(ctx);
    if (waiting.length === 0) {
        void vscode.window.showInformationMessage("Codelab Planner: no step waits for you.");
        return undefined;
    }
    return (await vscode.window.showQuickPick(waiting, { placeHolder: "Step that waits for you", ignoreFocusOut: true }))
        ?.target;
}

/** The step's status now (a fresh snapshot), and its title. */
async function currentStatus(ctx: Ctx, target: SubtaskTarget) {
    await ctx.plans.refreshPlan(target.planId);
    const subtask = ctx.plans.entry(target.planId)?.plan?.subtasks.find((candidate) => candidate.id === target.subtaskId);
    return { status: subtask?.status, title: oneLine(subtask?.title ?? target.subtaskId) };
}

/** A question about a step that has ended since it was asked (done elsewhere, its run cancelled) is dropped, and said so. */
function noLongerWaiting(title: string, status: string | undefined): undefined {
    vscode.window.setStatusBarMessage(`Codelab Planner: "${title}" no longer waits (${status ?? "gone"})`, 8000);
    return undefined;
}

function completeSubtask(ctx: Ctx, status: "done" | "failed"): Cmd {
    return async (argument) => {
        const target = await targetWaitingSubtask(ctx, argument);
        if (target === undefined) {
            return undefined;
        }
        const before = await currentStatus(ctx, target);
        if (before.status !== "waiting") {
            return noLongerWaiting(before.title, before.status);
        }
        const result = await vscode.window.showInputBox({
            prompt: status === "done" ? `What was done in "${before.title}"? (optional)` : `What went wrong in "${before.title}"? (optional)`,
            ignoreFocusOut: true,
        });
        if (result === undefined) {
            return undefined;
        }
        const params: ext.CompleteSubtaskParams = { ...target, status };
        if (result.trim() !== "") {
            params.result = result.trim();
        }
        try {
            return ctx.plans.store(await ctx.connection.request(ext.completeSubtask, params));
        } catch (error) {
            // The step may have ended while the person typed: that is no error of theirs.
            const after = await currentStatus(ctx, target);
            if (after.status !== "waiting") {
                return noLongerWaiting(after.title, after.status);
            }
            throw error;
        }
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
