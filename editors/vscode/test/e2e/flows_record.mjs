// Agent work on the record in real VS Code, in the workspace with the scripted model: a coder step
// asks before editing README.md; its toast goes (hidden) and the question waits in the Plans view
// (a row with Allow / diff / Deny) and the status bar; the diff view shows the proposed change
// (the file now against it, with Allow / Deny in its title bar) before anything is allowed; the
// plan page answers "Allow for this plan", which covers the next file edit unasked; the finished
// step's transcript opens as a document; Revert this step puts both files back. A screenshot
// follows every step (and the moments inside them).

import * as fs from "node:fs";
import * as path from "node:path";

import {
    STEP_TIMEOUT_MS,
    clickRowAction,
    clickWebviewButton,
    pick,
    runCommand,
    statusBarShows,
    treeRowUnder,
    webviewShows,
} from "./workbench.mjs";

const PLAN_TITLE = "Документировать запуск демо";
const STEP_TITLE = "Describe how to run the demo in README.md and docs/usage.md";

/** The plan file the flow starts from (one coder step) and the README it changes. */
function writeRecordPlan(workspace) {
    fs.writeFileSync(path.join(workspace, "README.md"), "# Demo\n\nRun it.\n");
    fs.writeFileSync(
        path.join(workspace, "record.plan.toml"),
        [`title = "${PLAN_TITLE}"`, "", "[[subtask]]", 'id = "s1"', `title = "${STEP_TITLE}"`, 'agent = "coder"', ""].join("\n"),
    );
}

/** Waits until a visible line of the editor area contains every one of `needles` (in some line each). */
async function editorAreaShows(page, needles, selector = ".editor-group-container.active") {
    try {
        await page.waitForFunction(
            (wanted, scope) => {
                const lines = [...document.querySelectorAll(`${scope} .view-lines .view-line`)].map((line) =>
                    (line.textContent ?? "").replace(/\u00a0/g, " "),
                );
                return wanted.every((needle) => lines.some((line) => line.includes(needle)));
            },
            { timeout: STEP_TIMEOUT_MS },
            needles,
            selector,
        );
    } catch (error) {
        const lines = await page.$$eval(`${selector} .view-lines .view-line`, (found) => found.map((line) => line.textContent));
        throw new Error(`the editor does not show ${JSON.stringify(needles)} (it shows ${JSON.stringify(lines)}): ${error.message}`);
    }
}

async function clickDialogButton(page, label) {
    const button = await page.waitForFunction(
        (wanted) => [...document.querySelectorAll(".monaco-dialog-box .monaco-button")].find((candidate) => (candidate.textContent ?? "").trim() === wanted),
        { timeout: STEP_TIMEOUT_MS },
        label,
    );
    await button.asElement().click();
}

export async function recordFlows(context) {
    const { page, step, dirs, watch } = context;
    const workspace = dirs.modelWorkspace;
    const readme = path.join(workspace, "README.md");
    writeRecordPlan(workspace);
    const readmeBefore = fs.readFileSync(readme, "utf8");
    const stepRow = `subtask ${STEP_TITLE}`;

    await step("a coder step asks; its toast is hidden; the question waits in the Plans view and the status bar", async () => {
        await runCommand(page, "Codelab Planner: New Plan from File");
        await pick(page, "Plan file", "record.plan.toml");
        await webviewShows(page, [PLAN_TITLE, "draft"]);
        await clickWebviewButton(page, [PLAN_TITLE, "draft"], "Approve and Execute");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) =>
                (toast.textContent ?? "").includes("Allow coder to edit `README.md`? (+2 −1 README.md)")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await context.shot("moment-record-question-toast");
        // The toast goes as it does by itself after a while (Escape hides toasts; the question
        // stays in the notification center, unanswered).
        await page.click(".part.sidebar .composite.title");
        await page.keyboard.press("Escape");
        await page.waitForFunction(
            () => ![...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) => (toast.textContent ?? "").includes("Allow coder")),
            { timeout: STEP_TIMEOUT_MS },
        );
        await treeRowUnder(page, PLAN_TITLE, `${stepRow}, running, asks: Allow coder to edit \`README.md\`? (+2 −1 README.md)`);
        await statusBarShows(page, /1 question for you/);
    });

    await step("the diff of the proposed change, before anything is allowed, with Allow and Deny beside it", async () => {
        await clickRowAction(page, stepRow, "Answer an Agent's Question");
        await page.waitForSelector(".editor-group-container.active .monaco-diff-editor", { timeout: STEP_TIMEOUT_MS });
        await editorAreaShows(page, ["Run it with `cargo run`.", "По-русски: запустите её."], ".editor-group-container.active .monaco-diff-editor .editor.modified");
        await editorAreaShows(page, ["Run it."], ".editor-group-container.active .monaco-diff-editor .editor.original");
        for (const label of ["Allow the Agent's Change", "Allow for This Plan", "Deny the Agent's Change"]) {
            await page.waitForSelector(`.editor-group-container.active .editor-actions .action-label[aria-label="${label}"]`, {
                timeout: STEP_TIMEOUT_MS,
            });
        }
        if (fs.readFileSync(readme, "utf8") !== readmeBefore) {
            throw new Error("README.md changed before the question was answered");
        }
    });

    await step("the plan page answers Allow for this plan; the next edit is not asked; the plan completes", async () => {
        await runCommand(page, "Codelab Planner: Show Plan");
        await pick(page, "Plan to show", PLAN_TITLE);
        await webviewShows(page, [PLAN_TITLE, "Asks you:", "+Run it with `cargo run`."]);
        await clickWebviewButton(page, [PLAN_TITLE, "Asks you:"], "Allow for this plan (every file edit of this plan)", "s1");
        await page.waitForFunction(
            (title) => [...document.querySelectorAll(".part.sidebar .monaco-list-row")].some((row) =>
                (row.getAttribute("aria-label") ?? "").startsWith(`plan ${title}, completed`)),
            { timeout: STEP_TIMEOUT_MS },
            PLAN_TITLE,
        );
        const usage = path.join(workspace, "docs", "usage.md");
        if (!fs.existsSync(usage) || !fs.readFileSync(readme, "utf8").includes("cargo run")) {
            throw new Error("the allowed edits did not reach the disk");
        }
        const questions = await watch.toastsMatching(/Allow coder to edit `(README.md|docs\/usage.md)`/);
        if (questions.length !== 1) {
            throw new Error(`"Allow for this plan" should have covered docs/usage.md; questions: ${JSON.stringify(questions)}`);
        }
        await treeRowUnder(page, PLAN_TITLE, `${stepRow}, done`);
    });

    await step("the finished step's transcript opens as a readable document", async () => {
        await webviewShows(page, [PLAN_TITLE, "completed", "changed 2 files +3 −1"]);
        await clickWebviewButton(page, [PLAN_TITLE, "completed"], "Transcript", "s1");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".tabs-container .tab.active")].some((tab) => (tab.textContent ?? "").includes("Transcript s1")),
            { timeout: STEP_TIMEOUT_MS },
        );
        // The editor draws only what is on screen: the start, then the end.
        await editorAreaShows(page, [`# Transcript: ${STEP_TITLE}`, "The task given to the agent", "→ `edit_file` `README.md`", "Asked the person"]);
        await context.shot("moment-record-transcript-start");
        await page.click(".editor-group-container.active .view-lines");
        await page.keyboard.down("Control");
        await page.keyboard.press("End");
        await page.keyboard.up("Control");
        await editorAreaShows(page, ["← `write_file` `docs/usage.md`: **ok**", "← `attempt_completion`: **ok**", "documented how to run it"]);
    });

    await step("Revert this step puts both files back", async () => {
        await runCommand(page, "Codelab Planner: Show Plan");
        await pick(page, "Plan to show", PLAN_TITLE);
        await clickWebviewButton(page, [PLAN_TITLE, "completed"], "Revert this step", "s1");
        await clickDialogButton(page, "Revert");
        await page.waitForFunction(
            () => [...document.querySelectorAll(".notifications-toasts .notification-toast")].some((toast) =>
                (toast.textContent ?? "").includes("Reverted README.md, docs/usage.md.")),
            { timeout: STEP_TIMEOUT_MS },
        );
        if (fs.readFileSync(readme, "utf8") !== readmeBefore) {
            throw new Error(`README.md was not reverted: ${JSON.stringify(fs.readFileSync(readme, "utf8"))}`);
        }
        if (fs.existsSync(path.join(workspace, "docs", "usage.md"))) {
            throw new Error("docs/usage.md, created by the agent, is still there");
        }
        // The page no longer offers to revert what is not in effect, and the transcript stays.
        await webviewShows(page, [PLAN_TITLE, "completed", "documented how to run it", "Transcript"], ["Revert this step", "changed 2 files"]);
        await context.shot("moment-record-reverted");
        // A revert is not a run: the plan's "completed" notification was shown once, when it completed.
        const completed = await watch.toastsMatching(new RegExp(`Plan "${PLAN_TITLE}" completed`));
        if (completed.length !== 1) {
            throw new Error(`the plan's completion was told ${completed.length} times: ${JSON.stringify(completed)}`);
        }
    });
}
