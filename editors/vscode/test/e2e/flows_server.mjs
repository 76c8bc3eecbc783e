// The server's life and the scripted model: a killed server is restarted and the plans come back;
// a missing binary is one error with Open Settings / Locate…, and Locate… brings the server back;
// then, in a workspace with a model (the scripted OpenAI-compatible server), a task is planned by
// the model, revised (a progress notification while the model answers), approved and executed,
// and the coder's file edit is allowed from its question.

import * as fs from "node:fs";
import * as path from "node:path";

import {
    STEP_TIMEOUT_MS,
    answerFileDialog,
    answerInputBox,
    clickToastButton,
    clickWebviewButton,
    runCommand,
    statusBarShows,
    treeRow,
    webviewShows,
} from "./workbench.mjs";
import { settingInput } from "./flows.mjs";

/** Pids of the language servers running under `rootPid` (code-server, started by this test). */
function serverPidsUnder(serverPath, rootPid) {
    const real = fs.realpathSync(serverPath);
    const parentOf = new Map();
    const servers = [];
    for (const name of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(name)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
            parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
            if (fs.readlinkSync(`/proc/${name}/exe`) === real) {
                servers.push(Number(name));
            }
        } catch {
            // the process ended while we looked
        }
    }
    const descends = (pid) => {
        for (let current = pid, depth = 0; current > 1 && depth < 64; current = parentOf.get(current) ?? 0, depth += 1) {
            if (current === rootPid) {
                return true;
            }
        }
        return false;
    };
    return servers.filter(descends);
}

export async function serverFlows(context) {
    const { page, step, url, dirs, env, watch } = context;

    await step("the server is killed: the extension says so, restarts it and lists the plans again", async () => {
        const plansBefore = await page.$$eval(".part.sidebar .monaco-list-row", (rows) =>
            rows.map((row) => row.getAttribute("aria-label") ?? "").filter((label) => label.startsWith("plan ")).map((label) => label.split(",")[0]),
        );
        const [before, ...others] = serverPidsUnder(env.server, context.codeServer.pid);
        if (before === undefined || others.length > 0) {
            throw new Error(`expected one server under code-server, found ${JSON.stringify([before, ...others])}`);
        }
        process.kill(before, "SIGKILL");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) =>
                /server stopped unexpectedly; restarting in/.test(toast.textContent ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await statusBarShows(page, /^\s*Planner\s*$/);
        const after = serverPidsUnder(env.server, context.codeServer.pid);
        if (after.length !== 1 || after[0] === before) {
            throw new Error(`expected a new server, found ${JSON.stringify(after)} (the killed one was ${before})`);
        }
        await runCommand(page, "Codelab Planner: Refresh Plans");
        for (const plan of plansBefore) {
            await treeRow(page, plan);
        }
        // The deliberate kill's own notice is the one restart toast this test allows.
        await watch.acceptAll();
        await runCommand(page, "Notifications: Clear All Notifications");
    });

    await step("a missing binary: one error with Open Settings and Locate…; Locate… brings the server back", async () => {
        const missing = path.join(dirs.workspace, "no-such-dir", "codelab-planner");
        watch.expectError(/was not found/);
        // The person types a wrong path into the Settings editor.
        await runCommand(page, "Preferences: Open User Settings");
        const input = await settingInput(page, "codelabPlanner.server.path");
        await input.click({ clickCount: 3 });
        await page.keyboard.type(missing);
        await page.keyboard.press("Tab");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) => /was not found/.test(toast.textContent ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await context.shot("moment-missing-binary-error");
        await clickToastButton(page, "was not found", "Locate…");
        // Where a person installs it: a bin folder of its own (the build folder's `codelab-planner.d`
        // beside the binary makes the workbench's dialog complete the typed name to another file).
        const installed = path.join(path.dirname(dirs.workspace), "installed-bin", "codelab-planner");
        fs.mkdirSync(path.dirname(installed), { recursive: true });
        fs.rmSync(installed, { force: true });
        fs.symlinkSync(env.server, installed);
        await answerFileDialog(page, installed);
        await statusBarShows(page, /^\s*Planner\s*$/);
        const errors = (await watch.toastsMatching(/./)).slice(watch.checked).filter((toast) => toast.severity === "error");
        if (errors.length !== 1 || !/Open Settings/.test(errors[0].buttons.join()) || !/Locate…/.test(errors[0].buttons.join())) {
            throw new Error(`expected one error with Open Settings and Locate…, got ${JSON.stringify(errors)}`);
        }
        const settings = JSON.parse(fs.readFileSync(path.join(dirs.userData, "User", "settings.json"), "utf8"));
        if (settings["codelabPlanner.server.path"] !== installed) {
            throw new Error(`Locate… did not write the User setting: ${settings["codelabPlanner.server.path"]}`);
        }
        await page.keyboard.down("Control");
        await page.keyboard.press("KeyW");
        await page.keyboard.up("Control");
        await runCommand(page, "Codelab Planner: Refresh Plans");
        await statusBarShows(page, /^\s*Planner\s*$/);
    });

    const task = "Add a --verbose flag to the CLI, then write tests and update the docs";
    await step("with a model: the task is planned by the model and opens for review", async () => {
        await page.goto(`${url}/?folder=${encodeURIComponent(dirs.modelWorkspace)}`, { timeout: STEP_TIMEOUT_MS });
        await page.waitForSelector(".monaco-workbench .part.activitybar", { timeout: STEP_TIMEOUT_MS });
        const container = '.part.activitybar [aria-label="Codelab Planner"]';
        await page.waitForSelector(container, { timeout: STEP_TIMEOUT_MS });
        await page.click(container);
        await statusBarShows(page, /^\s*Planner\s*$/);
        await runCommand(page, "Codelab Planner: New Task");
        await answerInputBox(page, "Describe the task", task);
        await webviewShows(page, ["Флаг --verbose", "draft · version 1", "Planner", "llm"]);
    });

    await step("Revise… shows progress while the model answers", async () => {
        await clickWebviewButton(page, ["Флаг --verbose", "draft · version 1"], "Revise…");
        await answerInputBox(page, "What should change?", "и запусти тесты в конце");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) =>
                /revising "Флаг --verbose/.test(toast.textContent ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await context.shot("moment-revise-progress");
        await webviewShows(page, ["Флаг --verbose", "draft · version 2", "Run the tests"]);
    });

    await step("Approve and Execute; Allow the coder's edit from its question; the plan completes", async () => {
        await clickWebviewButton(page, ["Флаг --verbose", "draft · version 2"], "Approve and Execute");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) => /Allow coder to/.test(toast.textContent ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await context.shot("moment-tool-approval-question");
        await clickToastButton(page, "Allow coder to", "Allow");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".part.sidebar .monaco-list-row")].some((row) =>
                /^plan Флаг --verbose.*completed/.test(row.getAttribute("aria-label") ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        const notes = path.join(dirs.modelWorkspace, "NOTES.md");
        if (!fs.existsSync(notes) || !fs.readFileSync(notes, "utf8").includes("--verbose")) {
            throw new Error("the allowed edit did not reach the disk");
        }
    });
}
