// The extension's entry points: `activate` wires the server connection, the plans controller, the
// views and the commands; `deactivate` stops the server. Nothing else lives here.

import * as vscode from "vscode";

import { ServerConnection } from "./client";
import { allCommands, reported } from "./commands";
import { DETAILS_SCHEME, SubtaskDetails } from "./details";
import { PlansController } from "./plans";
import { PlansView } from "./plans_view";
import { AgentRecord, RECORD_SCHEME } from "./record";
import { ReviewPanels } from "./review";
import { StatusBar } from "./status";

let connection: ServerConnection | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const outputChannel = vscode.window.createOutputChannel("Codelab Planner");
    connection = new ServerConnection(context, outputChannel);
    const plans = new PlansController(connection);
    const view = new PlansView(plans);
    const review = new ReviewPanels(plans);
    const details = new SubtaskDetails(plans);
    const record = new AgentRecord(plans);
    context.subscriptions.push(
        outputChannel,
        plans,
        view,
        review,
        details,
        new StatusBar(connection, plans),
        vscode.window.createTreeView("codelabPlanner.plans", { treeDataProvider: view, showCollapseAll: true }),
        vscode.workspace.registerTextDocumentContentProvider(DETAILS_SCHEME, details),
        record,
        vscode.workspace.registerTextDocumentContentProvider(RECORD_SCHEME, record),
    );
    const ctx = { extension: context, connection, plans, review };
    for (const [name, command] of Object.entries({ ...allCommands(ctx), ...record.commands() })) {
        context.subscriptions.push(vscode.commands.registerCommand(`codelabPlanner.${name}`, reported(name, command, outputChannel)));
    }
    await connection.start();
}

export async function deactivate(): Promise<void> {
    await connection?.dispose();
    connection = undefined;
}
