// Plan review as a webview: goal, classification, subtasks with dependencies and estimates, and
// buttons for Approve / Reject / Revise / Execute. A draft can be edited in place (title, remove,
// move up/down, add a shell step); every edit is one `planning/update` at the plan's version.
// The HTML is built by `review_html.ts` (pure); this file only wires messages to commands.

import * as vscode from "vscode";

import { messageOf } from "./client";
import * as ext from "./lsp_ext";
import type { PlansController } from "./plans";
import { reviewHtml, type ReviewMessage, editedSubtasks } from "./review_html";

export class ReviewPanels implements vscode.Disposable {
    private readonly panels = new Map<string, vscode.WebviewPanel>();
    private readonly shown = new Map<string, string>();
    private readonly subscription: vscode.Disposable;

    constructor(private readonly plans: PlansController) {
        this.subscription = plans.onDidChange((planId) => {
            if (planId === undefined) {
                for (const id of this.panels.keys()) {
                    this.render(id);
                }
            } else {
                this.render(planId);
            }
        });
    }

    async show(planId: string): Promise<void> {
        await this.plans.refreshPlan(planId);
        let panel = this.panels.get(planId);
        if (panel === undefined) {
            // The page does not take the keyboard focus: a quick pick opened meanwhile would close.
            const showOptions = { viewColumn: vscode.ViewColumn.Active, preserveFocus: true };
            panel = vscode.window.createWebviewPanel("codelabPlanner.review", "Plan", showOptions, {
                enableScripts: true,
                retainContextWhenHidden: false,
            });
            this.panels.set(planId, panel);
            panel.onDidDispose(() => {
                this.panels.delete(planId);
                this.shown.delete(planId);
            });
            panel.webview.onDidReceiveMessage((message: ReviewMessage) => void this.onMessage(planId, message));
        } else {
            panel.reveal(undefined, true);
        }
        this.render(planId);
    }

    dispose(): void {
        this.subscription.dispose();
        for (const panel of this.panels.values()) {
            panel.dispose();
        }
    }

    private render(planId: string): void {
        const panel = this.panels.get(planId);
        const entry = this.plans.entry(planId);
        if (panel === undefined) {
            return;
        }
        if (entry?.plan === undefined) {
            panel.webview.html = "<p>This plan no longer exists.</p>";
            return;
        }
        panel.title = `Plan: ${entry.title}`;
        // Setting the HTML reloads the page: only when what it shows changed.
        const html = reviewHtml(entry, panel.webview.cspSource, PAGE_NONCE);
        if (this.shown.get(planId) !== html) {
            this.shown.set(planId, html);
            panel.webview.html = html;
        }
    }

    private async onMessage(planId: string, message: ReviewMessage): Promise<void> {
        const entry = this.plans.entry(planId);
        try {
            switch (message.type) {
                case "command":
                    await vscode.commands.executeCommand(`codelabPlanner.${message.command}`, planId);
                    return;
                case "answer": {
                    const command = { allow_once: "allowOnce", allow_always: "allowForPlan", reject_once: "deny" }[message.option];
                    await vscode.commands.executeCommand(`codelabPlanner.${command}`, { planId, subtaskId: message.subtaskId });
                    return;
                }
                case "record":
                    await vscode.commands.executeCommand(`codelabPlanner.${message.command}`, { planId, subtaskId: message.subtaskId });
                    return;
                case "rename": {
                    const title = await vscode.window.showInputBox({ prompt: "Plan title", value: entry?.title });
                    if (title !== undefined && title.trim() !== "" && entry?.version !== undefined) {
                        this.plans.store(
                            await this.plans.connection.request(ext.updatePlan, {
                                planId,
                                version: entry.version,
                                title: title.trim(),
                            }),
                        );
                    }
                    return;
                }
                case "edit": {
                    const plan = entry?.plan;
                    if (plan === undefined) {
                        return;
                    }
                    const subtasks = await editedSubtasks(plan, message, askForShellStep);
                    if (subtasks !== undefined) {
                        this.plans.store(
                            await this.plans.connection.request(ext.updatePlan, { planId, version: plan.version, subtasks }),
                        );
                    }
                    return;
                }
            }
        } catch (error) {
            void vscode.window.showErrorMessage(`Codelab Planner: ${messageOf(error)}`);
            await this.plans.refreshPlan(planId);
        }
    }
}

async function askForShellStep(): Promise<{ title: string; command: string } | undefined> {
    const command = await vscode.window.showInputBox({ prompt: "Shell command of the new step", placeHolder: "cargo test" });
    if (command === undefined || command.trim() === "") {
        return undefined;
    }
    const title = await vscode.window.showInputBox({ prompt: "Title of the new step", value: `Run ${command.trim()}` });
    return title === undefined || title.trim() === "" ? undefined : { title: title.trim(), command: command.trim() };
}

/** One nonce per extension session: the page's only script carries it. */
const PAGE_NONCE = nonce();

function nonce(): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let text = "";
    for (let index = 0; index < 32; index += 1) {
        text += alphabet.charAt(Math.floor(Math.random() * alphabet.length));
    }
    return text;
}
