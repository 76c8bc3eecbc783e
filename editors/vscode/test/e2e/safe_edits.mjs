// End-to-end test in real VS Code of an agent editing a file the person has open and dirty:
// code-server with the packaged .vsix, driven through headless Chromium (puppeteer-core), against
// the scripted model (tests/vscode_safe_edits.rs starts it and scripts read_file, edit_file 41 → 42,
// attempt_completion). The person opens src/lib.rs and types an unsaved Russian line at its end; a coder step
// runs; the person's text survives beside the agent's edit, the tab stays dirty, the file on disk is
// unchanged until they save; saving writes both. Environment as for run.mjs, plus
// CODELAB_E2E_MODEL_URL (the scripted model's base URL). Every wait has a hard timeout.

import * as fs from "node:fs";
import * as path from "node:path";

import {
    editorShows,
    editorText,
    openFile,
    openWorkbench,
    prepareSession,
    required,
    sessionEnvironment,
    startCodeServer,
    step,
    stopCodeServer,
} from "./codeserver.mjs";
import { STEP_TIMEOUT_MS, pick, runCommand, treeRow } from "./workbench.mjs";

const RUNNER = "tests/vscode_safe_edits.rs";
const session = sessionEnvironment(RUNNER);
const { env, dirs } = session;
const model = required("CODELAB_E2E_MODEL_URL", RUNNER);
const lib = path.join(dirs.workspace, "src", "lib.rs");
const DISK_TEXT = "pub fn answer() -> u32 {\n    41\n}\n";
const TYPED = "// несохранённая правка: не трогать";

function prepare() {
    prepareSession(session, {
        "codelabPlanner.llm.baseUrl": model,
        "codelabPlanner.llm.model": "scripted",
        "codelabPlanner.approval.tools": "auto",
    });
    fs.mkdirSync(path.dirname(lib), { recursive: true });
    fs.writeFileSync(lib, DISK_TEXT);
    const plan = {
        task: "make the answer 42",
        title: "Answer 42",
        subtasks: [{ id: "edit", title: "Make the answer 42", agent: "coder", description: "Change 41 to 42 in src/lib.rs" }],
    };
    fs.writeFileSync(path.join(dirs.workspace, "edit.plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
}

async function tabIsDirty(page, name) {
    return page.$$eval(".tabs-container .tab", (tabs, wanted) =>
        tabs.some((tab) => (tab.getAttribute("aria-label") ?? "").includes(wanted) && tab.classList.contains("dirty")), name);
}

/** Waits (hard timeout) until the file's content satisfies `check`; there is no event to wait on. */
async function diskBecomes(check, what) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (!check(fs.readFileSync(lib, "utf8"))) {
        if (Date.now() > deadline) {
            throw new Error(`the file on disk never ${what}: ${JSON.stringify(fs.readFileSync(lib, "utf8"))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

async function main() {
    prepare();
    const log = fs.createWriteStream(path.join(env.artifacts, "safe-edits-code-server.log"));
    const server = startCodeServer(session, log);
    let browser;
    let page;
    try {
        const url = await step("start code-server with the .vsix", () => server.url);
        ({ browser, page } = await step("open the workspace and start the extension", () => openWorkbench(session, url)));
        await step("the person opens src/lib.rs and types a line they do not save", async () => {
            await openFile(page, "src/lib.rs", ["pub fn answer() -> u32 {", "41"], runCommand);
            await page.click(".editor-instance .monaco-editor .view-lines");
            // At the end of the file (Enter after a `//` line would make VS Code continue the comment).
            await page.keyboard.down("Control");
            await page.keyboard.press("End");
            await page.keyboard.up("Control");
            await page.keyboard.type(TYPED);
            await editorShows(page, [TYPED, "41"]);
            if (!(await tabIsDirty(page, "lib.rs"))) {
                throw new Error("the lib.rs tab is not marked dirty after typing");
            }
        });
        await step("a coder step edits the same file", async () => {
            await runCommand(page, "Codelab Planner: New Plan from File");
            await pick(page, "Plan file", "edit.plan.json");
            await treeRow(page, "plan Answer 42, draft");
            await runCommand(page, "Codelab Planner: Approve");
            await pick(page, "Plan to approve", "Answer 42");
            await treeRow(page, "plan Answer 42, approved");
            await runCommand(page, "Codelab Planner: Execute");
            await pick(page, "Plan to execute", "Answer 42");
            await treeRow(page, "plan Answer 42, completed");
        });
        await step("the person's unsaved line survives beside the agent's edit; the disk is unchanged", async () => {
            await page.keyboard.press("Escape");
            const tab = await page.waitForSelector('.tabs-container .tab[aria-label*="lib.rs"]', { timeout: STEP_TIMEOUT_MS });
            await tab.click();
            await editorShows(page, [TYPED, "    42"]);
            const text = await editorText(page);
            if (text.includes("    41")) {
                throw new Error(`the old line is still in the editor: ${JSON.stringify(text)}`);
            }
            if (!(await tabIsDirty(page, "lib.rs"))) {
                throw new Error("the tab is no longer dirty: something saved the person's work");
            }
            const disk = fs.readFileSync(lib, "utf8");
            if (disk !== DISK_TEXT) {
                throw new Error(`the file on disk changed before the person saved: ${JSON.stringify(disk)}`);
            }
            await page.screenshot({ path: path.join(env.artifacts, "safe-edits.png") });
        });
        await step("saving writes the person's line and the agent's edit", async () => {
            await page.click(".editor-instance .monaco-editor .view-lines");
            await page.keyboard.down("Control");
            await page.keyboard.press("KeyS");
            await page.keyboard.up("Control");
            await diskBecomes((text) => text.includes(TYPED) && text.includes("    42") && !text.includes("    41"), "got both changes");
        });
        console.log("vscode safe edits: ok");
    } catch (error) {
        if (page !== undefined) {
            await page.screenshot({ path: path.join(env.artifacts, "safe-edits-failure.png") }).catch(() => undefined);
        }
        console.error(`${error instanceof Error ? error.message : error}`);
        console.error(`screenshots and logs: ${env.artifacts}; VS Code logs: ${path.join(dirs.userData, "logs")}`);
        process.exitCode = 1;
    } finally {
        await browser?.close().catch(() => undefined);
        stopCodeServer(server);
        log.end();
    }
}

await main();
