// The status bar: the server's state and the running plan in one item, and a warning item when no
// language model is configured (with a link to the settings). Reads the connection and the
// model; sends nothing.

import * as vscode from "vscode";

import { UNTRUSTED, describeState, type ServerConnection } from "./client";
import type { PlansController } from "./plans";

/** True when neither `llm.model` nor any role model is set, or no base URL is. */
export function modelConfigured(section: vscode.WorkspaceConfiguration): boolean {
    const set = (key: string) => {
        const value = section.get<string | null>(key);
        return typeof value === "string" && value.trim() !== "";
    };
    const anyModel = ["llm.model", "llm.roles.classify", "llm.roles.plan", "llm.roles.agent"].some(set);
    return anyModel && set("llm.baseUrl");
}

export class StatusBar implements vscode.Disposable {
    private readonly server = vscode.window.createStatusBarItem("codelabPlanner.server", vscode.StatusBarAlignment.Left, 10);
    private readonly noModel = vscode.window.createStatusBarItem("codelabPlanner.noModel", vscode.StatusBarAlignment.Left, 9);
    /** How many questions agents wait on: a click answers one (never only a toast that hides). */
    private readonly questions = vscode.window.createStatusBarItem("codelabPlanner.questions", vscode.StatusBarAlignment.Left, 11);
    private readonly subscriptions: vscode.Disposable[];

    constructor(
        private readonly connection: ServerConnection,
        private readonly plans: PlansController,
    ) {
        this.server.name = "Codelab Planner";
        this.noModel.name = "Codelab Planner: model";
        this.noModel.text = "$(warning) Planner: no model";
        this.noModel.tooltip =
            "No language model is configured: tasks are classified by keywords, planned from templates, and coder / debug / ask steps wait for you. Click to configure.";
        this.noModel.command = {
            title: "Configure a model",
            command: "workbench.action.openSettings",
            arguments: ["codelabPlanner.llm"],
        };
        this.noModel.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        this.questions.name = "Codelab Planner: questions";
        this.questions.command = "codelabPlanner.reviewApproval";
        this.questions.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        this.subscriptions = [
            connection.onDidChangeState(() => this.update()),
            plans.onDidChange(() => this.update()),
            vscode.workspace.onDidChangeConfiguration((change) => {
                if (change.affectsConfiguration("codelabPlanner.llm")) {
                    this.update();
                }
            }),
        ];
        this.update();
        this.server.show();
    }

    update(): void {
        const state = this.connection.state;
        const running = this.plans.model.plans().filter((entry) => entry.status === "running");
        const waiting = this.plans.model.plans().reduce((sum, entry) => sum + (entry.progress.waiting ?? 0), 0);
        if (state.kind === "stopped" && state.reason === UNTRUSTED) {
            this.server.text = "$(shield) Planner: untrusted";
            this.server.tooltip = "Codelab Planner runs no server in an untrusted workspace (plans run its commands). Click to manage trust.";
            this.server.command = "workbench.trust.manage";
        } else if (state.kind !== "running") {
            this.server.text = `$(${state.kind === "starting" ? "sync~spin" : "error"}) Planner: ${state.kind}`;
            this.server.tooltip = `Codelab Planner server: ${describeState(state)}`;
            this.server.command = "codelabPlanner.restartServer";
        } else if (running.length > 0) {
            const first = running[0];
            const done = first.progress.total - first.progress.pending - first.progress.running - (first.progress.waiting ?? 0);
            const more = running.length > 1 ? ` +${running.length - 1}` : "";
            this.server.text = `$(sync~spin) ${first.title} ${done}/${first.progress.total}${more}`;
            this.server.tooltip = `Running: ${running.map((entry) => entry.title).join(", ")}`;
            this.server.command = { title: "Show Plan", command: "codelabPlanner.showPlan", arguments: [first.id] };
        } else {
            this.server.text = waiting > 0 ? `$(person) Planner: ${waiting} waiting` : "$(checklist) Planner";
            this.server.tooltip = `Codelab Planner server: ${describeState(state)}`;
            this.server.command = "workbench.view.extension.codelabPlanner";
        }
        if (waiting > 0 && state.kind === "running") {
            this.server.text += running.length > 0 ? ` · ${waiting} waiting` : "";
        }
        const questions = this.plans.model.pendingApprovals();
        if (questions.length > 0 && state.kind === "running") {
            this.questions.text = `$(question) ${questions.length} ${questions.length === 1 ? "question" : "questions"} for you`;
            this.questions.tooltip = questions.map((question) => `${question.subtaskTitle}: ${question.approval.question}`).join("\n");
            this.questions.show();
        } else {
            this.questions.hide();
        }
        if (modelConfigured(vscode.workspace.getConfiguration("codelabPlanner"))) {
            this.noModel.hide();
        } else {
            this.noModel.show();
        }
    }

    dispose(): void {
        for (const subscription of this.subscriptions) {
            subscription.dispose();
        }
        this.server.dispose();
        this.noModel.dispose();
        this.questions.dispose();
    }
}
