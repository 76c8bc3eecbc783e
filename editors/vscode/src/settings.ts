// The extension's settings as the server takes them, and finding the server's binary. Pure (no
// `vscode` import), unit-tested in `test/settings.test.ts`.
//
// Only the `codelabPlanner.*` keys the person set (user, workspace or folder settings) are sent: a
// key left at its default is not, so the settings files the server reads under the editor's
// settings (`codelab-planner.toml` at the workspace root, `~/.config/codelab-planner/config.toml`)
// stay in force for it.

import * as fs from "node:fs";
import * as path from "node:path";

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

/** Settings only the extension reads; the server would report them as unknown keys. */
const CLIENT_ONLY_KEYS = ["server", "trace"];

/**
 * The section without the extension's own keys and without unset values: every setting has an
 * input box in the Settings editor, so "not set" is an empty string (or `0` for `maxParallel`),
 * which the server must not see as a value.
 */
export function withoutClientKeys(section: unknown): Record<string, unknown> {
    const copy = withoutUnset(section as Record<string, unknown>);
    for (const key of CLIENT_ONLY_KEYS) {
        delete copy[key];
    }
    return copy;
}

function withoutUnset(section: Record<string, unknown>, prefix = ""): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(section)) {
        const dotted = prefix === "" ? key : `${prefix}.${key}`;
        if (typeof value === "string" && value.trim() === "") {
            continue;
        }
        if (value === null || (UNSET_AS_ZERO.includes(dotted) && value === 0)) {
            continue;
        }
        copy[key] = typeof value === "object" && !Array.isArray(value) ? withoutUnset(value as Record<string, unknown>, dotted) : value;
    }
    return copy;
}

/** Numeric settings whose `0` means "not set, use the server's default". */
const UNSET_AS_ZERO = ["maxParallel"];

/** The absolute path of `command` when it names an executable file (a path, or a name on `PATH`). */
export function findExecutable(command: string, searchPath = process.env.PATH ?? ""): string | undefined {
    const executable = (candidate: string) => {
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return fs.statSync(candidate).isFile();
        } catch {
            return false;
        }
    };
    if (command.includes("/") || command.includes(path.sep) || path.isAbsolute(command)) {
        return executable(command) ? path.resolve(command) : undefined;
    }
    const names = process.platform === "win32" ? [command, `${command}.exe`] : [command];
    for (const directory of searchPath.split(path.delimiter).filter((entry) => entry !== "")) {
        for (const name of names) {
            const candidate = path.join(directory, name);
            if (executable(candidate)) {
                return candidate;
            }
        }
    }
    return undefined;
}
