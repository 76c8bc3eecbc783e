// The connection to the codelab-planner language server: finds the binary, starts it over stdio
// with a `LanguageClient` (plan files are its documents: diagnostics, lenses), hands it the
// settings and the API key, and restarts it with backoff when it dies. A binary that is not there
// is one error with "Open Settings" / "Locate…", never a restart loop; an untrusted workspace
// runs no server (it would run the workspace's commands) until it is trusted. It knows nothing
// about plans: `commands.ts` and the views send requests through `request()` and listen to
// `onProgress`.

import * as path from "node:path";
import * as fs from "node:fs";
import * as vscode from "vscode";
import * as lc from "vscode-languageclient/node";

import { planningProgress, type ParamsOf, type PlanningProgressParams, type RequestMethod, type ResultOf } from "./lsp_ext";
import { SERVER_KEYS, explicitSettings, findExecutable, withoutClientKeys } from "./settings";

export const SERVER_PATH_ENV = "CODELAB_PLANNER_SERVER_PATH";
const SERVER_PATH_SETTING = "codelabPlanner.server.path";
const OPEN_SETTINGS = "Open Settings";
const LOCATE = "Locate…";
export const UNTRUSTED = "the workspace is not trusted";
export const API_KEY_SECRET = "codelabPlanner.apiKey";
const RESTART_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];
/** A server that ran this long before dying starts the backoff from the beginning again. */
const STABLE_RUN_MS = 60_000;

export type ServerState =
    | { kind: "starting" }
    | { kind: "running"; version?: string }
    | { kind: "restarting"; inMs: number; reason: string }
    | { kind: "stopped"; reason: string };

/** Where the binary comes from: env var, then setting, then one bundled in the extension, then PATH. */
export function resolveServerPath(extensionPath: string): { command: string; source: string } {
    const fromEnv = process.env[SERVER_PATH_ENV];
    if (fromEnv !== undefined && fromEnv.trim() !== "") {
        return { command: fromEnv, source: `$${SERVER_PATH_ENV}` };
    }
    const fromSetting = vscode.workspace.getConfiguration("codelabPlanner").get<string | null>("server.path");
    if (typeof fromSetting === "string" && fromSetting.trim() !== "") {
        return { command: fromSetting, source: "codelabPlanner.server.path" };
    }
    const bundled = path.join(extensionPath, "server", process.platform === "win32" ? "codelab-planner.exe" : "codelab-planner");
    if (fs.existsSync(bundled)) {
        return { command: bundled, source: "bundled" };
    }
    return { command: "codelab-planner", source: "PATH" };
}

/** The `codelabPlanner` keys the person set, as the server reads them (see `settings.ts`). */
export function serverSettings(): Record<string, unknown> {
    const section = vscode.workspace.getConfiguration("codelabPlanner");
    return withoutClientKeys(explicitSettings(SERVER_KEYS, (key) => section.inspect(key)));
}

export class ServerConnection implements vscode.Disposable {
    private client: lc.LanguageClient | undefined;
    private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
    private readonly progressEmitter = new vscode.EventEmitter<PlanningProgressParams>();
    private readonly subscriptions: vscode.Disposable[] = [];
    private restartTimer: NodeJS.Timeout | undefined;
    private crashesInARow = 0;
    /** Which client is current: a stopped one's late "closed" is ignored. */
    private generation = 0;
    private startedAt = 0;
    private disposed = false;
    private sandboxNoticeShown = false;
    private currentState: ServerState = { kind: "stopped", reason: "not started" };

    readonly onDidChangeState = this.stateEmitter.event;
    readonly onProgress = this.progressEmitter.event;

    constructor(
        private readonly context: vscode.ExtensionContext,
        readonly outputChannel: vscode.OutputChannel,
    ) {
        this.subscriptions.push(
            vscode.workspace.onDidGrantWorkspaceTrust(() => void this.start()),
            vscode.workspace.onDidChangeConfiguration((change) => void this.configurationChanged(change)),
            context.secrets.onDidChange((change) => {
                if (change.key === API_KEY_SECRET) {
                    void this.restart("the API key changed");
                }
            }),
        );
    }

    get state(): ServerState {
        return this.currentState;
    }

    async start(): Promise<void> {
        if (this.disposed) {
            return;
        }
        clearTimeout(this.restartTimer);
        if (!vscode.workspace.isTrusted) {
            this.outputChannel.appendLine("the workspace is not trusted: the server starts once it is");
            this.setState({ kind: "stopped", reason: UNTRUSTED });
            return;
        }
        this.setState({ kind: "starting" });
        const { command, source } = resolveServerPath(this.context.extensionPath);
        if (findExecutable(command) === undefined) {
            this.serverMissing(command, source);
            return;
        }
        this.outputChannel.appendLine(`starting ${command} --stdio (from ${source})`);
        const client = new lc.LanguageClient(
            "codelabPlanner",
            "Codelab Planner",
            { command, args: ["--stdio"], options: { env: await this.serverEnvironment() } },
            this.clientOptions(this.generation),
        );
        this.client = client;
        client.onNotification(planningProgress, (params: PlanningProgressParams) => this.progressEmitter.fire(params));
        try {
            await client.start();
        } catch (error) {
            if (this.client === client) {
                // A binary that cannot start now will not start in a second either: one error.
                this.client = undefined;
                this.cannotStart(`cannot start ${command} (from ${source}): ${messageOf(error)}`);
            }
            return;
        }
        this.startedAt = Date.now();
        this.setState({ kind: "running", version: client.initializeResult?.serverInfo?.version });
        this.tellSandboxOnce(client.initializeResult?.capabilities?.experimental);
    }

    async restart(reason: string): Promise<void> {
        this.outputChannel.appendLine(`restarting the server: ${reason}`);
        this.crashesInARow = 0;
        await this.stopClient();
        await this.start();
    }

    /** Sends a request (typed by the schema); fails with a clear message when the server is not running. */
    async request<M extends RequestMethod>(method: M, params: ParamsOf<M>, token?: vscode.CancellationToken): Promise<ResultOf<M>> {
        const client = this.client;
        if (client === undefined || !client.isRunning()) {
            throw new Error(`the Codelab Planner server is not running (${describeState(this.currentState)})`);
        }
        // A RequestType sends the params as one object (a bare method name with a trailing
        // `undefined` token would send them by position, as an array).
        return client.sendRequest(new lc.RequestType<ParamsOf<M>, ResultOf<M>, void>(method), params, token);
    }

    /** Sends a notification; fails when the server is not running. */
    async notify<P>(type: lc.NotificationType<P>, params: P): Promise<void> {
        const client = this.client;
        if (client === undefined || !client.isRunning()) {
            throw new Error(`the Codelab Planner server is not running (${describeState(this.currentState)})`);
        }
        await client.sendNotification(type, params);
    }

    /** Listens to `$/progress` for a token of ours (none arrive while the server is down). */
    onWorkDoneProgress(
        token: lc.ProgressToken,
        handler: (value: lc.WorkDoneProgressBegin | lc.WorkDoneProgressReport | lc.WorkDoneProgressEnd) => void,
    ): vscode.Disposable {
        const client = this.client;
        if (client === undefined) {
            return new vscode.Disposable(() => undefined);
        }
        return client.onProgress(lc.WorkDoneProgress.type, token, handler);
    }

    async dispose(): Promise<void> {
        this.disposed = true;
        clearTimeout(this.restartTimer);
        for (const subscription of this.subscriptions) {
            subscription.dispose();
        }
        await this.stopClient();
        this.stateEmitter.dispose();
        this.progressEmitter.dispose();
    }

    /** Says once per session when agents' commands run without the sandbox. */
    private tellSandboxOnce(experimental: unknown): void {
        const sandbox = (experimental as { sandbox?: { enforced?: boolean; note?: string } } | undefined)?.sandbox;
        if (this.sandboxNoticeShown || sandbox === undefined || sandbox.enforced !== false) {
            return;
        }
        this.sandboxNoticeShown = true;
        this.outputChannel.appendLine(`sandbox: ${sandbox.note ?? "not enforced"}`);
        void vscode.window.showWarningMessage(`Codelab Planner: ${sandbox.note ?? "agents' commands are not sandboxed"}`);
    }

    private clientOptions(generation: number): lc.LanguageClientOptions {
        return {
            // Every file is synchronised: agents read and edit open files through their buffers,
            // unsaved changes included (the server answers plan-file features only for plan files).
            documentSelector: [{ scheme: "file" }],
            outputChannel: this.outputChannel,
            initializationOptions: serverSettings(),
            middleware: {
                workspace: {
                    configuration: async (params, token, next) => {
                        const result = await next(params, token);
                        if (!Array.isArray(result)) {
                            return result;
                        }
                        return result.map((section, index) =>
                            params.items[index]?.section === "codelabPlanner" && section !== null
                                ? serverSettings()
                                : section,
                        );
                    },
                },
            },
            errorHandler: {
                error: () => ({ action: lc.ErrorAction.Continue }),
                closed: () => {
                    // A client stopped on purpose (a restart, new settings) is not a crash.
                    if (generation === this.generation) {
                        this.onServerClosed();
                    }
                    return { action: lc.CloseAction.DoNotRestart, handled: true };
                },
            },
        };
    }

    private onServerClosed(): void {
        if (this.disposed) {
            return;
        }
        if (Date.now() - this.startedAt > STABLE_RUN_MS) {
            this.crashesInARow = 0;
        }
        this.client = undefined;
        this.scheduleRestart("the server stopped unexpectedly");
    }

    private scheduleRestart(reason: string): void {
        if (this.currentState.kind === "restarting" || this.disposed) {
            return; // a failed start also reports the close: one restart is enough
        }
        if (this.crashesInARow >= RESTART_DELAYS_MS.length) {
            this.outputChannel.appendLine(`${reason}; not restarting after ${this.crashesInARow} attempts in a row`);
            this.setState({ kind: "stopped", reason: `${reason} (gave up after ${this.crashesInARow} restarts)` });
            void vscode.window
                .showErrorMessage(`Codelab Planner: ${reason}. The server is not restarted again.`, "Restart Server", "Show Log")
                .then((choice) => this.afterChoice(choice));
            return;
        }
        const delay = RESTART_DELAYS_MS[this.crashesInARow];
        this.crashesInARow += 1;
        this.outputChannel.appendLine(`${reason}; restarting in ${delay / 1000}s`);
        this.setState({ kind: "restarting", inMs: delay, reason });
        void vscode.window
            .showWarningMessage(`Codelab Planner: ${reason}; restarting in ${delay / 1000}s.`, "Show Log")
            .then((choice) => this.afterChoice(choice));
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => void this.start(), delay);
    }

    private afterChoice(choice: string | undefined): void {
        if (choice === "Show Log") {
            this.outputChannel.show(true);
        } else if (choice === "Restart Server") {
            void this.restart("asked by the user");
        } else if (choice === OPEN_SETTINGS) {
            void vscode.commands.executeCommand("workbench.action.openSettings", SERVER_PATH_SETTING);
        } else if (choice === LOCATE) {
            void this.locateServer();
        }
    }

    /** The binary is not there: one error that says where it looked and how to fix it. */
    private serverMissing(command: string, source: string): void {
        const where = source === "PATH" ? "on PATH" : `(from ${source})`;
        this.cannotStart(
            `the server binary ${command} was not found ${where}. Set codelabPlanner.server.path to the codelab-planner binary`,
        );
    }

    private cannotStart(reason: string): void {
        this.outputChannel.appendLine(reason);
        this.setState({ kind: "stopped", reason });
        void vscode.window
            .showErrorMessage(`Codelab Planner: ${reason}.`, OPEN_SETTINGS, LOCATE)
            .then((choice) => this.afterChoice(choice));
    }

    /** "Locate…": the person picks the binary; it goes into the User settings (which restarts the server). */
    private async locateServer(): Promise<void> {
        const picked = await vscode.window.showOpenDialog({
            canSelectFiles: true,
            canSelectFolders: false,
            canSelectMany: false,
            openLabel: "Use this server",
            title: "The codelab-planner binary",
        });
        const file = picked?.[0];
        if (file === undefined) {
            return;
        }
        if (findExecutable(file.fsPath) === undefined) {
            void vscode.window
                .showErrorMessage(`Codelab Planner: ${file.fsPath} is not an executable file.`, LOCATE)
                .then((choice) => this.afterChoice(choice));
            return;
        }
        await vscode.workspace
            .getConfiguration("codelabPlanner")
            .update("server.path", file.fsPath, vscode.ConfigurationTarget.Global);
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.generation += 1;
        clearTimeout(this.restartTimer);
        if (client !== undefined) {
            try {
                await client.stop(5_000);
            } catch (error) {
                this.outputChannel.appendLine(`stopping the server: ${messageOf(error)}`);
            }
        }
        this.setState({ kind: "stopped", reason: "stopped" });
    }

    /** The editor's environment, plus the API key under the name `llm.apiKeyEnv` gives. */
    private async serverEnvironment(): Promise<NodeJS.ProcessEnv> {
        const environment: NodeJS.ProcessEnv = { ...process.env };
        const apiKey = await this.context.secrets.get(API_KEY_SECRET);
        const keyName = vscode.workspace.getConfiguration("codelabPlanner").get<string>("llm.apiKeyEnv") ?? "OPENAI_API_KEY";
        if (apiKey !== undefined && apiKey !== "" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(keyName)) {
            environment[keyName] = apiKey;
        }
        return environment;
    }

    private async configurationChanged(change: vscode.ConfigurationChangeEvent): Promise<void> {
        const needsRestart = ["server.path", "database", "llm.apiKeyEnv"].some((key) =>
            change.affectsConfiguration(`codelabPlanner.${key}`),
        );
        if (needsRestart) {
            await this.restart("settings that apply at start changed");
        } else if (change.affectsConfiguration("codelabPlanner") && this.client?.isRunning()) {
            // Without settings the server pulls the section (through the middleware above).
            await this.client.sendNotification(lc.DidChangeConfigurationNotification.type, { settings: null });
        }
    }

    private setState(state: ServerState): void {
        this.currentState = state;
        this.stateEmitter.fire(state);
    }
}

export function describeState(state: ServerState): string {
    switch (state.kind) {
        case "starting":
            return "starting";
        case "running":
            return state.version !== undefined ? `running ${state.version}` : "running";
        case "restarting":
            return `${state.reason}; restarting in ${Math.round(state.inMs / 1000)}s`;
        case "stopped":
            return state.reason;
    }
}

export function messageOf(error: unknown): string {
    if (error instanceof lc.ResponseError) {
        return error.message;
    }
    return error instanceof Error ? error.message : String(error);
}
