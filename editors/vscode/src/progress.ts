// Native progress for a run: `planning/execute` and `planning/retry` carry a `workDoneToken` of
// ours, and the server's `$/progress` for it is shown as a cancellable notification whose Cancel
// button sends `window/workDoneProgress/cancel` (which cancels the run). The language client's
// own handling of server-created tokens shows them in the status bar, without a Cancel button.

import * as vscode from "vscode";
import * as lc from "vscode-languageclient/node";

import type { ServerConnection } from "./client";

let nextToken = 1;

/**
 * Starts a run with `start(token)` and shows its progress until the server's `end`. Resolves with
 * what `start` answered; the notification stays up while the run goes on.
 */
export async function withRunProgress<R>(
    connection: ServerConnection,
    title: string,
    start: (token: lc.ProgressToken) => Promise<R>,
): Promise<R> {
    const token = `codelab-planner-run-${process.pid}-${nextToken++}`;
    let finish: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (finish = resolve));
    let lastPercentage = 0;
    let report: ((value: { message?: string; increment?: number }) => void) | undefined;
    const pending: { message?: string; increment?: number }[] = [];
    const subscription = connection.onWorkDoneProgress(token, (value) => {
        if (value.kind === "end") {
            finish();
            return;
        }
        const percentage = value.percentage ?? lastPercentage;
        const update = { message: value.kind === "report" ? value.message : undefined, increment: percentage - lastPercentage };
        lastPercentage = percentage;
        if (report === undefined) {
            pending.push(update);
        } else {
            report(update);
        }
    });
    let started: R;
    try {
        started = await start(token);
    } catch (error) {
        subscription.dispose();
        throw error;
    }
    void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, cancellation) => {
            report = (update) => progress.report(update);
            for (const update of pending.splice(0)) {
                progress.report(update);
            }
            const cancelled = cancellation.onCancellationRequested(() => {
                void connection.notify(lc.WorkDoneProgressCancelNotification.type, { token });
            });
            // A server that stops mid-run sends no `end`: the connection's state ends the wait too.
            const stopped = connection.onDidChangeState((state) => {
                if (state.kind !== "running") {
                    finish();
                }
            });
            await ended;
            cancelled.dispose();
            stopped.dispose();
            subscription.dispose();
        },
    );
    return started;
}
