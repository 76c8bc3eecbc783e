// Plans and events for the unit tests, shaped exactly as the server sends them (docs/protocol.md).

import type { Plan, PlanningProgressParams, RunEvent, Subtask } from "../src/lsp_ext";

export function subtask(id: string, overrides: Partial<Subtask> = {}): Subtask {
    return {
        id,
        title: `Step ${id}`,
        description: "",
        agent: "shell",
        command: `echo ${id}`,
        dependsOn: [],
        status: "pending",
        attempts: 0,
        maxAttempts: 1,
        ...overrides,
    };
}

export function plan(id: string, subtasks: Subtask[], overrides: Partial<Plan> = {}): Plan {
    return {
        id,
        sessionId: `session-${id}`,
        title: `Plan ${id}`,
        goal: "build and test",
        status: "approved",
        version: 1,
        subtasks,
        progress: {
            total: subtasks.length,
            pending: subtasks.length,
            running: 0,
            waiting: 0,
            done: 0,
            failed: 0,
            skipped: 0,
            cancelled: 0,
            percentage: 0,
        },
        createdAt: "2026-11-24T16:00:57.123Z",
        updatedAt: "2026-11-24T16:00:57.123Z",
        ...overrides,
    };
}

export function event(planId: string, runId: string, body: RunEvent): PlanningProgressParams {
    return { planId, runId, event: body };
}

export const NOW = "2026-11-24T16:01:00.000Z";
