// The Plans tree view: plans → subtasks, drawn from the controller's model with the looks of
// `presentation.ts`. Expanding a plan fetches it; selecting a subtask opens its details.

import * as vscode from "vscode";

import type { PlansController } from "./plans";
import { planLook, subtaskLook, type ItemLook } from "./presentation";

export type PlanNode = { kind: "plan"; planId: string };
export type SubtaskNode = { kind: "subtask"; planId: string; subtaskId: string };
export type Node = PlanNode | SubtaskNode;

export class PlansView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
    private readonly changeEmitter = new vscode.EventEmitter<Node | undefined>();
    private readonly planNodes = new Map<string, PlanNode>();
    private readonly subscription: vscode.Disposable;
    readonly onDidChangeTreeData = this.changeEmitter.event;

    constructor(private readonly plans: PlansController) {
        this.subscription = plans.onDidChange((planId) => {
            const node = planId === undefined ? undefined : this.planNodes.get(planId);
            this.changeEmitter.fire(node);
        });
    }

    getChildren(node?: Node): Node[] {
        if (node === undefined) {
            return this.plans.model.plans().map((entry) => this.planNode(entry.id));
        }
        if (node.kind === "subtask") {
            return [];
        }
        const entry = this.plans.entry(node.planId);
        if (entry?.plan === undefined) {
            void this.plans.refreshPlan(node.planId);
            return [];
        }
        return entry.plan.subtasks.map((subtask) => ({ kind: "subtask", planId: node.planId, subtaskId: subtask.id }));
    }

    getParent(node: Node): Node | undefined {
        return node.kind === "subtask" ? this.planNode(node.planId) : undefined;
    }

    getTreeItem(node: Node): vscode.TreeItem {
        const entry = this.plans.entry(node.planId);
        if (entry === undefined) {
            return new vscode.TreeItem(node.planId);
        }
        if (node.kind === "plan") {
            const expanded = entry.status === "running" || entry.status === "draft";
            const item = treeItem(
                planLook(entry),
                expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
            );
            item.id = `plan:${entry.id}`;
            return item;
        }
        const subtask = entry.plan?.subtasks.find((candidate) => candidate.id === node.subtaskId);
        if (subtask === undefined) {
            return new vscode.TreeItem(node.subtaskId);
        }
        const item = treeItem(subtaskLook(entry, subtask), vscode.TreeItemCollapsibleState.None);
        item.id = `subtask:${entry.id}/${subtask.id}`;
        item.command = { command: "codelabPlanner.showSubtask", title: "Show Subtask", arguments: [node] };
        return item;
    }

    dispose(): void {
        this.subscription.dispose();
        this.changeEmitter.dispose();
    }

    /** One node object per plan, so that `fire(node)` redraws exactly that plan. */
    private planNode(planId: string): PlanNode {
        let node = this.planNodes.get(planId);
        if (node === undefined) {
            node = { kind: "plan", planId };
            this.planNodes.set(planId, node);
        }
        return node;
    }
}

function treeItem(look: ItemLook, collapsible: vscode.TreeItemCollapsibleState): vscode.TreeItem {
    const item = new vscode.TreeItem(look.label, collapsible);
    item.description = look.description;
    item.tooltip = look.tooltip;
    item.contextValue = look.contextValue;
    item.iconPath = new vscode.ThemeIcon(
        look.icon,
        look.iconColor !== undefined ? new vscode.ThemeColor(look.iconColor) : undefined,
    );
    item.accessibilityInformation = { label: look.ariaLabel };
    return item;
}
