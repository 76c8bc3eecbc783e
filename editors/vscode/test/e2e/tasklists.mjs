// End-to-end test in real VS Code of a markdown task list as a plan: code-server with the packaged
// .vsix in headless Chromium (tests/vscode_tasklists.rs runs it). The person opens release.plan.md,
// whose title carries the "▶ Run all" lens; clicking it runs the list; each finished step's checkbox
// ticks in the editor (the server's workspace/applyEdit, which VS Code applies to its buffer) and on
// disk, and each step's line then shows "✓ done". Environment as for safe_edits.mjs, without a model.

import * as fs from "node:fs";
import * as path from "node:path";

import {
    editorShows,
    openFile,
    openWorkbench,
    prepareSession,
    sessionEnvironment,
    startCodeServer,
    step,
    stopCodeServer,
} from "./codeserver.mjs";
import { STEP_TIMEOUT_MS, runCommand } from "./workbench.mjs";

const session = sessionEnvironment("tests/vscode_tasklists.rs");
const { env, dirs } = session;
const list = path.join(dirs.workspace, "release.plan.md");
const TEXT = "# Ship it\n\n- [ ] Run `echo one`\n- [ ] Run `echo two`\n";

/** The titles of the code lenses the editor shows, in order. */
async function lensTitles(page) {
    return page.$$eval(".editor-instance .codelens-decoration a, .editor-instance .codelens-decoration span", (items) =>
        items.map((item) => (item.textContent ?? "").replace(/\u00a0/g, " ").trim()).filter((text) => text !== ""));
}

async function waitForLenses(page, wanted) {
    try {
        await page.waitForFunction(
            (needles) => {
                const shown = [...document.querySelectorAll(".editor-instance .codelens-decoration")]
                    .map((item) => (item.textContent ?? "").replace(/\u00a0/g, " "))
                    .join(" | ");
                return needles.every((needle) => shown.split(needle).length - 1 >= 1);
            },
            { timeout: STEP_TIMEOUT_MS },
            wanted,
        );
    } catch (error) {
        throw new Error(`lenses ${JSON.stringify(wanted)} not shown; the editor shows ${JSON.stringify(await lensTitles(page))}: ${error}`);
    }
}

/**
 * Clicks the lens `title` with the mouse, as a person does (Monaco listens for the mouse, not
 * `click()`). Lenses are drawn again whenever the server's answer changes, so a lens found a moment
 * ago may be gone: it is looked up again, a few times.
 */
async function clickLens(page, title) {
    let lastError = new Error(`no lens "${title}"`);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
        for (const anchor of await page.$$(".editor-instance .codelens-decoration a")) {
            try {
                const text = await anchor.evaluate((item) => (item.textContent ?? "").replace(/\u00a0/g, " ").trim());
                if (text === title) {
                    await anchor.click();
                    return;
                }
            } catch (error) {
                lastError = error; // redrawn meanwhile
            }
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`${lastError instanceof Error ? lastError.message : lastError}; the editor shows ${JSON.stringify(await lensTitles(page))}`);
}

async function diskBecomes(expected) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (fs.readFileSync(list, "utf8") !== expected) {
        if (Date.now() > deadline) {
            throw new Error(`the file on disk is ${JSON.stringify(fs.readFileSync(list, "utf8"))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

async function main() {
    prepareSession(session, {});
    fs.writeFileSync(list, TEXT);
    const log = fs.createWriteStream(path.join(env.artifacts, "tasklists-code-server.log"));
    const server = startCodeServer(session, log);
    let browser;
    let page;
    try {
        const url = await step("start code-server with the .vsix", () => server.url);
        ({ browser, page } = await step("open the workspace and start the extension", () => openWorkbench(session, url)));
        await step("the person opens release.plan.md and sees its lenses", async () => {
            await openFile(page, "release.plan.md", ["# Ship it", "Run `echo two`"], runCommand);
            await waitForLenses(page, ["▶ Run all", "▶ Run from here"]);
        });
        await step("Run all runs the list and ticks each step in the editor", async () => {
            await clickLens(page, "▶ Run all");
            await editorShows(page, ["- [x] Run `echo one`", "- [x] Run `echo two`"]);
        });
        await step("the disk is ticked too, and each step shows its outcome", async () => {
            await diskBecomes(TEXT.replaceAll("[ ]", "[x]"));
            await waitForLenses(page, ["✓ done", "last run: completed 2/2"]);
            await page.screenshot({ path: path.join(env.artifacts, "tasklists.png") });
        });
        console.log("vscode tasklists: ok");
    } catch (error) {
        if (page !== undefined) {
            await page.screenshot({ path: path.join(env.artifacts, "tasklists-failure.png") }).catch(() => undefined);
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
