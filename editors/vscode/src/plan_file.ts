// Plan files as "New Plan from File" reads them: `*.plan.toml` (docs/plan-files.md — what Export
// writes and the server checks as you type) and the older `*.plan.json`. Pure (no `vscode`
// import), unit-tested in `test/plan_file.test.ts`. It only reshapes the file into
// `planning/create` params: the server validates the steps and names any problem.

import { parse as parseToml } from "smol-toml";

import type { SubtaskInput } from "./lsp_ext";

/** What a plan file asks for: the task (its `goal`, else its title), the title and the steps. */
export interface PlanFile {
    task: string;
    title?: string;
    subtasks: SubtaskInput[];
}

/** The glob of the files that are plan files, for document selectors and file pickers. */
export const PLAN_FILE_PATTERNS = ["**/*.plan.toml"] as const;

/** `timeout_secs` → `timeoutSecs`: plan files spell the protocol's fields in snake_case. */
export function camelCase(key: string): string {
    return key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

function isTable(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A `[[subtask]]` table as a `SubtaskInput`: every key kept (so fields added later pass), in camelCase. */
function subtaskOf(table: Record<string, unknown>): SubtaskInput {
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(table)) {
        input[camelCase(key)] = value;
    }
    return input as unknown as SubtaskInput;
}

function fromToml(text: string, name: string): PlanFile {
    let document: Record<string, unknown>;
    try {
        document = parseToml(text) as Record<string, unknown>;
    } catch (error) {
        const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new Error(`${name}: not valid TOML: ${message}`);
    }
    const title = typeof document.title === "string" && document.title.trim() !== "" ? document.title : undefined;
    const goal = typeof document.goal === "string" && document.goal.trim() !== "" ? document.goal : undefined;
    const task = goal ?? title;
    if (task === undefined) {
        throw new Error(`${name}: title: expected a string (the plan's title)`);
    }
    const tables = document.subtask;
    if (!Array.isArray(tables) || tables.length === 0 || !tables.every(isTable)) {
        throw new Error(`${name}: subtask: expected one or more [[subtask]] tables`);
    }
    return { task, title, subtasks: tables.map(subtaskOf) };
}

/** The older JSON form: `{ "task": "...", "title"?: "...", "subtasks": [SubtaskInput, ...] }`. */
function fromJson(text: string, name: string): PlanFile {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new Error(`${name}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!isTable(value) || typeof value.task !== "string") {
        throw new Error(`${name}: task: expected a string`);
    }
    if (!Array.isArray(value.subtasks) || value.subtasks.length === 0) {
        throw new Error(`${name}: subtasks: expected a non-empty list`);
    }
    return {
        task: value.task,
        title: typeof value.title === "string" ? value.title : undefined,
        subtasks: value.subtasks as SubtaskInput[],
    };
}

/** Reads a plan file by its name: `*.json` as JSON, anything else as TOML. */
export function parsePlanFile(text: string, name: string): PlanFile {
    return name.toLowerCase().endsWith(".json") ? fromJson(text, name) : fromToml(text, name);
}
