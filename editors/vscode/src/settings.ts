// The settings the extension hands the server: only the `codelabPlanner.*` keys the person set
// (user, workspace or folder settings). A key left at its default is not sent, so the settings
// files the server reads under the editor's settings (`codelab-planner.toml` at the workspace
// root, `~/.config/codelab-planner/config.toml`) stay in force for it. Pure: no `vscode` import.

/** Every key the server reads, as dotted keys (the server accepts them so). */
export const SERVER_KEYS = [
    "database",
    "maxParallel",
    "failurePolicy",
    "approval.plans",
    "approval.tools",
    "llm.baseUrl",
    "llm.model",
    "llm.apiKeyEnv",
    "llm.apiKeyFile",
    "llm.timeoutSecs",
    "llm.roles.classify",
    "llm.roles.plan",
    "llm.roles.agent",
    "llm.contextTokens",
    "llm.maxToolCalls",
    "llm.classify",
    "agents.withoutModel",
    "sandbox.commands",
] as const;

/** What `WorkspaceConfiguration.inspect` reports for a key: the value set at each level. */
export interface SetLevels {
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

/** The keys set at some level, the most specific level winning; defaults are left out. */
export function explicitSettings(
    keys: readonly string[],
    inspect: (key: string) => SetLevels | undefined,
): Record<string, unknown> {
    const settings: Record<string, unknown> = {};
    for (const key of keys) {
        const levels = inspect(key);
        const value = levels?.workspaceFolderValue ?? levels?.workspaceValue ?? levels?.globalValue;
        if (value !== undefined) {
            settings[key] = value;
        }
    }
    return settings;
}
