// The flows a person drives with no model, in the first workspace: the server found from the User
// setting, every setting typeable, a long Russian task planned as a draft, revised, edited on its
// review page (every other field survives), approved and executed, each waiting step marked done
// from the command palette (a stale notification answered late does nothing wrong), output one
// line per line; plan files checked, created from and run from a lens; cancel, retry, and the
// progress notification's Cancel.

import * as fs from "node:fs";
import * as path from "node:path";

import {
    STEP_TIMEOUT_MS,
    answerInputBox,
    clickProgressCancel,
    clickToastButton,
    clickRowAction,
    clickWebviewButton,
    editorShowsLines,
    openFile,
    pick,
    pickFirst,
    runCommand,
    statusBarShows,
    treeRow,
    treeRowUnder,
    webviewShows,
} from "./workbench.mjs";

export const RUSSIAN_TASK =
    "Добавить проверку входных данных в функцию parse модуля конфигурации, чтобы пустые строки отклонялись с понятной ошибкой, с тестами и документацией";
const RUSSIAN_TITLE_START = "Добавить проверку входных данных";

/** The plan whose title starts with `title`, as the command line shows it. */
function planNamed(context, title) {
    const listed = JSON.parse(context.cli(context.dirs.workspace, "list")).plans;
    const summary = listed.find((plan) => plan.title.startsWith(title));
    if (summary === undefined) {
        throw new Error(`no plan "${title}…" in ${JSON.stringify(listed.map((plan) => plan.title))}`);
    }
    return JSON.parse(context.cli(context.dirs.workspace, "show", summary.id));
}

/**
 * Searches the Settings editor for `key` and answers its input box (an input's aria-label is the
 * setting's key); a setting the editor can only send to settings.json has none, and fails.
 */
export async function settingInput(page, key) {
    const search = ".settings-editor .settings-header .suggest-input-container .monaco-editor textarea";
    await page.waitForSelector(search, { timeout: STEP_TIMEOUT_MS });
    await page.click(search);
    await page.keyboard.down("Control");
    await page.keyboard.press("KeyA");
    await page.keyboard.up("Control");
    await page.keyboard.type(key);
    try {
        return await page.waitForSelector(`.settings-editor .settings-tree-container .setting-item-control input[aria-label="${key}"]`, {
            visible: true,
            timeout: STEP_TIMEOUT_MS / 4,
        });
    } catch (error) {
        const shown = await page.$$eval(".settings-editor .settings-tree-container .setting-item", (items) => items.map((item) => (item.textContent ?? "").slice(0, 160)));
        throw new Error(`${key} has no input box in the Settings editor (it shows ${JSON.stringify(shown)}): ${error.message}`);
    }
}

/** Marks every waiting step of the plan titled `title` done from the palette, until it completes. */
async function markEveryWaitingStepDone(context, title, note) {
    const { page } = context;
    for (let round = 1; round <= 10; round += 1) {
        const state = await page.waitForFunction(
            (wanted) => {
                const labels = [...document.querySelectorAll(".part.sidebar .monaco-list-row")].map((row) => row.getAttribute("aria-label") ?? "");
                if (labels.some((label) => label.startsWith(`plan ${wanted}`) && / completed/.test(label))) {
                    return "completed";
                }
                return labels.some((label) => label.startsWith(`plan ${wanted}`) && /waiting/.test(label)) ? "waiting" : undefined;
            },
            { timeout: STEP_TIMEOUT_MS },
            title,
        ).catch((error) => {
            throw new Error(`plan "${title}…" neither waits nor completed: ${error.message}`);
        });
        if ((await state.jsonValue()) === "completed") {
            return round - 1;
        }
        await runCommand(page, "Codelab Planner: Mark Done");
        const stepTitle = await pickFirst(page, "Step that waits for you");
        await answerInputBox(page, "What was done in", `${note} ${round}`);
        await treeRowUnder(page, title, `subtask ${stepTitle}, done`);
    }
    throw new Error(`${title}: still waiting after 10 steps`);
}

export async function openWorkspace(context) {
    const { page, step, url, dirs } = context;
    await step("open the workspace; the server starts from the User setting", async () => {
        await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`, { timeout: STEP_TIMEOUT_MS });
        await page.waitForSelector(".monaco-workbench .part.activitybar", { timeout: STEP_TIMEOUT_MS });
        const container = '.part.activitybar [aria-label="Codelab Planner"]';
        await page.waitForSelector(container, { timeout: STEP_TIMEOUT_MS });
        await page.click(container);
        // Running with no plan running: just "Planner" (not starting, restarting or stopped).
        await statusBarShows(page, /^\s*Planner\s*$/);
        await statusBarShows(page, /no model/);
    });
}

export async function noModelFlows(context) {
    const { page, step, dirs } = context;
    await openWorkspace(context);

    await step("every setting has an input box in the Settings editor", async () => {
        await runCommand(page, "Preferences: Open Settings (UI)");
        for (const key of ["codelabPlanner.server.path", "codelabPlanner.llm.baseUrl", "codelabPlanner.llm.model", "codelabPlanner.maxParallel", "codelabPlanner.database"]) {
            await settingInput(page, key);
        }
        await page.keyboard.down("Control");
        await page.keyboard.press("KeyW");
        await page.keyboard.up("Control");
    });

    let planTitle;
    await step("New Task: a long Russian task opens for review as a draft and does not run", async () => {
        await runCommand(page, "Codelab Planner: New Task");
        await answerInputBox(page, "Describe the task", RUSSIAN_TASK);
        await treeRow(page, `plan ${RUSSIAN_TITLE_START}`);
        await webviewShows(page, [RUSSIAN_TITLE_START, "draft · version 1", "Approve", "Classification"]);
        const plan = planNamed(context, RUSSIAN_TITLE_START);
        if (plan.status !== "draft" || plan.runId !== undefined) {
            throw new Error(`the new plan ran unasked: ${plan.status} ${plan.runId}`);
        }
        planTitle = plan.title;
    });

    await step("an unsure verdict (low confidence, one line) opens for review too and does not run", async () => {
        await runCommand(page, "Codelab Planner: New Task");
        await answerInputBox(page, "Describe the task", "hmm maybe something with the parser");
        await webviewShows(page, ["hmm maybe something with the parser", "draft · version 1", "low confidence"]);
        const plan = planNamed(context, "hmm maybe something");
        if (plan.status !== "draft" || plan.runId !== undefined) {
            throw new Error(`the unsure plan ran unasked: ${plan.status} ${plan.runId}`);
        }
        await runCommand(page, "Codelab Planner: Show Plan");
        await pick(page, "Plan to show", RUSSIAN_TITLE_START);
    });

    await step("Revise… on the review page", async () => {
        await clickWebviewButton(page, [RUSSIAN_TITLE_START, "draft · version 1"], "Revise…");
        await answerInputBox(page, "What should change?", "добавь шаг: запустить make lint");
        await webviewShows(page, [RUSSIAN_TITLE_START, "draft · version 2", "Запустить make lint"]);
    });

    await step("remove a step on the review page: every other field of every step is unchanged", async () => {
        const before = planNamed(context, RUSSIAN_TITLE_START);
        const removed = before.subtasks.find((subtask) => subtask.agent !== "shell" && before.subtasks.some((other) => other.dependsOn.includes(subtask.id)));
        if (!before.subtasks.some((subtask) => subtask.cwd === "service")) {
            throw new Error(`the template plan has no step in service/: ${JSON.stringify(before.subtasks)}`);
        }
        await clickWebviewButton(page, [RUSSIAN_TITLE_START, "draft · version 2"], "Remove", removed.id);
        await webviewShows(page, [RUSSIAN_TITLE_START, "draft · version 3"]);
        const after = planNamed(context, RUSSIAN_TITLE_START);
        const kept = before.subtasks.filter((subtask) => subtask.id !== removed.id);
        if (after.subtasks.length !== kept.length) {
            throw new Error(`expected ${kept.length} steps, got ${after.subtasks.length}`);
        }
        for (const [index, subtask] of kept.entries()) {
            const { dependsOn: _before, ...expected } = subtask;
            const { dependsOn: _after, ...actual } = after.subtasks[index];
            if (JSON.stringify(actual) !== JSON.stringify(expected)) {
                throw new Error(`step ${subtask.id} changed:\nbefore ${JSON.stringify(expected)}\nafter  ${JSON.stringify(actual)}`);
            }
        }
        for (const field of ["goal", "sourceFile", "classification", "planner", "feedback"]) {
            if (JSON.stringify(after[field]) !== JSON.stringify(before[field])) {
                throw new Error(`the plan's ${field} changed`);
            }
        }
    });

    await step("Approve and Execute; a step waits with what to do", async () => {
        await clickWebviewButton(page, [RUSSIAN_TITLE_START, "draft · version 3"], "Approve");
        await treeRow(page, `plan ${RUSSIAN_TITLE_START}`);
        await webviewShows(page, [RUSSIAN_TITLE_START, "approved · version 3", "Execute"]);
        await clickWebviewButton(page, [RUSSIAN_TITLE_START, "approved · version 3"], "Execute");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) =>
                /waits for you: .*Mark Done when you have finished/.test(toast.textContent ?? "")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await context.shot("moment-waiting-step-notification");
    });

    await step("a stale notification: its step is marked done in the tree, then its Mark Done is clicked", async () => {
        // The notification seen in the last step (it may have hidden since, on a slow machine).
        const told = await context.watch.toastsMatching(/"[^"]+" waits for you/);
        const stepTitle = /"([^"]+)" waits for you/.exec(told.at(-1)?.message ?? "")?.[1];
        if (stepTitle === undefined) {
            throw new Error(`no notification said a step waits: ${JSON.stringify(told)}`);
        }
        await clickRowAction(page, `subtask ${stepTitle}, waiting`, "Mark Done");
        await answerInputBox(page, "What was done", "прочитал код");
        await treeRowUnder(page, RUSSIAN_TITLE_START, `subtask ${stepTitle}, done`);
        // Its toast, or (once the toast has hidden) the same notification in the notification
        // center, at the end of its list.
        const toastShows = await page.evaluate(
            (wanted) => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) => (toast.textContent ?? "").includes(wanted)),
            `"${stepTitle}" waits for you`,
        );
        if (!toastShows) {
            await runCommand(page, "Notifications: Show Notifications");
            await page.hover(".notifications-center .notifications-list-container");
            await page.mouse.wheel({ deltaY: 5000 });
        }
        await clickToastButton(page, `"${stepTitle}" waits for you`, "Mark Done");
        await statusBarShows(page, /no longer waits/);
        if (!toastShows) {
            await runCommand(page, "Notifications: Hide Notifications");
        }
    });

    await step("every other waiting step marked done from the palette; the plan completes", async () => {
        const marked = await markEveryWaitingStepDone(context, RUSSIAN_TITLE_START, "сделано");
        if (marked < 1) {
            throw new Error("no other step waited");
        }
        await treeRow(page, `plan ${RUSSIAN_TITLE_START}`);
        const plan = planNamed(context, RUSSIAN_TITLE_START);
        if (plan.status !== "completed") {
            throw new Error(`the plan is ${plan.status}`);
        }
        planTitle = plan.title;
    });

    await step("the output of make test: one line per line in the details, the review page and the Output channel", async () => {
        const plan = planNamed(context, RUSSIAN_TITLE_START);
        const shell = plan.subtasks.find((subtask) => subtask.cwd === "service" && subtask.status === "done");
        const row = await page.waitForSelector(`.part.sidebar .monaco-list-row[aria-label^="subtask ${shell.title}, done"]`, {
            timeout: STEP_TIMEOUT_MS,
        });
        await row.click();
        await editorShowsLines(page, ["running 3 tests", "all 3 passed"]);
        await runCommand(page, "Codelab Planner: Show Plan");
        await pick(page, "Plan to show", planTitle.slice(0, 30));
        await webviewShows(page, [RUSSIAN_TITLE_START, "completed · version", "running 3 tests\nall 3 passed"]);
        // The plan's Output channel: each output event on its own line.
        await clickWebviewButton(page, [RUSSIAN_TITLE_START, "completed · version"], "Output");
        await page.waitForFunction(
            () => {
                const lines = [...document.querySelectorAll(".part.panel .view-lines .view-line")].map((line) =>
                    (line.textContent ?? "").replace(/\u00a0/g, " ").trim(),
                );
                return lines.includes("running 3 tests") && lines.includes("all 3 passed");
            },
            { timeout: STEP_TIMEOUT_MS },
        );
    });

    await step("a plan file's problem shows as a diagnostic", async () => {
        await openFile(page, "service/проверка.plan.toml");
        await page.waitForFunction(
            () => document.querySelectorAll(".editor-group-container.active .squiggly-error").length > 0,
            { timeout: STEP_TIMEOUT_MS },
        );
        await statusBarShows(page, /1\s*$|Errors: 1/);
    });

    await step("New Plan from File reads a plan.toml; approve and execute it", async () => {
        await runCommand(page, "Codelab Planner: New Plan from File");
        await pick(page, "Plan file", "build.plan.toml");
        await treeRow(page, "plan Собрать и проверить");
        await webviewShows(page, ["Собрать и проверить", "draft · version 1", "$ mkdir -p out"]);
        await clickWebviewButton(page, ["Собрать и проверить", "draft · version 1"], "Approve and Execute");
        await treeRow(page, "subtask Run tests, done");
        if (!fs.existsSync(path.join(dirs.workspace, "out", "built.txt"))) {
            throw new Error("the build step did not run");
        }
        await webviewShows(page, ["Собрать и проверить", "completed · version", "build step 1 of 2\nbuild step 2 of 2"]);
    });

    await step("the Run plan lens of a plan file runs it", async () => {
        await openFile(page, "build.plan.toml");
        const lens = await page.waitForFunction(
            () =>
                [...document.querySelectorAll(".editor-group-container.active .codelens-decoration a")].find((link) =>
                    (link.textContent ?? "").includes("Run plan")),
            { timeout: STEP_TIMEOUT_MS },
        );
        const runs = JSON.parse(context.cli(dirs.workspace, "list")).plans.filter((plan) => plan.title.startsWith("Собрать")).length;
        await lens.asElement().click();
        await page.waitForFunction(
            (count) => [...document.querySelectorAll(".part.sidebar .monaco-list-row")].filter((row) =>
                (row.getAttribute("aria-label") ?? "").startsWith("plan Собрать и проверить") && / completed/.test(row.getAttribute("aria-label") ?? "")).length > count,
            { timeout: STEP_TIMEOUT_MS },
            runs - 1,
        );
    });

    await step("a long step from a plan file is cancelled while it runs", async () => {
        await runCommand(page, "Codelab Planner: New Plan from File");
        await pick(page, "Plan file", "slow.plan.toml");
        await webviewShows(page, ["Long wait", "draft · version 1"]);
        await clickWebviewButton(page, ["Long wait", "draft · version 1"], "Approve and Execute");
        await treeRow(page, "subtask Wait ten minutes, running");
        await runCommand(page, "Codelab Planner: Cancel");
        await pick(page, "Plan to cancel", "Long wait");
        await treeRow(page, "plan Long wait, cancelled");
        await treeRow(page, "subtask Wait ten minutes, cancelled");
    });

    await step("a no-model plan: cancelled while a step waits, retried, cancelled from the progress notification", async () => {
        const task = "Fix the crash when the config file is empty and add a regression test";
        await runCommand(page, "Codelab Planner: New Task");
        await answerInputBox(page, "Describe the task", task);
        await webviewShows(page, ["Fix the crash", "draft · version 1"]);
        await clickWebviewButton(page, ["Fix the crash", "draft · version 1"], "Approve and Execute");
        const waiting = () =>
            page.waitForFunction(
                () => [...document.querySelectorAll(".part.sidebar .monaco-list-row")].some((row) =>
                    /^plan Fix the crash.*waiting/.test(row.getAttribute("aria-label") ?? "")),
                { timeout: STEP_TIMEOUT_MS },
            );
        await waiting();
        await runCommand(page, "Codelab Planner: Cancel");
        await pick(page, "Plan to cancel", "Fix the crash");
        await webviewShows(page, ["Fix the crash", "cancelled · version", "Retry"]);
        await clickWebviewButton(page, ["Fix the crash", "cancelled · version"], "Retry");
        await waiting();
        await clickProgressCancel(page, "Fix the crash");
        await webviewShows(page, ["Fix the crash", "cancelled · version", "Retry"]);
    });
}
