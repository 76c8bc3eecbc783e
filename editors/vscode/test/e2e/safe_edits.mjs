// End-to-end test in real VS Code of an agent editing a file the person has open and dirty:
// code-server with the packaged .vsix, driven through headless Chromium (puppeteer-core), against
// the scripted model (tests/vscode_safe_edits.rs starts it and scripts read_file, edit_file 41 → 42,
// attempt_completion). The person opens src/lib.rs and types an unsaved Russian line at its end; a coder step
// runs; the person's text survives beside the agent's edit, the tab stays dirty, the file on disk is
// unchanged until they save; saving writes both. Environment as for run.mjs, plus
// CODELAB_E2E_MODEL_URL (the scripted model's base URL). Every wait has a hard timeout.

import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import puppeteer from "puppeteer-core";

import { STEP_TIMEOUT_MS, pick, runCommand, treeRow } from "./workbench.mjs";

function required(name) {
    const value = process.env[name];
    if (value === undefined || value === "") {
        throw new Error(`${name} is not set (run this through tests/vscode_safe_edits.rs)`);
    }
    return value;
}

const env = {
    codeServer: required("CODELAB_E2E_CODE_SERVER"),
    chromium: required("CODELAB_E2E_CHROMIUM"),
    vsix: required("CODELAB_E2E_VSIX"),
    artifacts: required("CODELAB_E2E_ARTIFACTS"),
    scratch: required("CODELAB_E2E_SCRATCH"),
    model: required("CODELAB_E2E_MODEL_URL"),
};
required("CODELAB_PLANNER_SERVER_PATH");

const dirs = {
    workspace: path.join(env.scratch, "workspace"),
    userData: path.join(env.scratch, "user-data"),
    extensions: path.join(env.scratch, "extensions"),
    browser: path.join(env.scratch, "browser"),
    xdg: path.join(env.scratch, "xdg"),
};
const lib = path.join(dirs.workspace, "src", "lib.rs");
const DISK_TEXT = "pub fn answer() -> u32 {\n    41\n}\n";
const TYPED = "// несохранённая правка: не трогать";

function prepare() {
    for (const dir of Object.values(dirs)) {
        fs.mkdirSync(dir, { recursive: true });
    }
    fs.mkdirSync(env.artifacts, { recursive: true });
    fs.mkdirSync(path.dirname(lib), { recursive: true });
    fs.writeFileSync(lib, DISK_TEXT);
    const plan = {
        task: "make the answer 42",
        title: "Answer 42",
        subtasks: [{ id: "edit", title: "Make the answer 42", agent: "coder", description: "Change 41 to 42 in src/lib.rs" }],
    };
    fs.writeFileSync(path.join(dirs.workspace, "edit.plan.json"), `${JSON.stringify(plan, null, 2)}\n`);
    const settings = {
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "chat.disableAIFeatures": true,
        "window.restoreWindows": "none",
        "files.autoSave": "off",
        "editor.autoClosingBrackets": "never",
        "codelabPlanner.llm.baseUrl": env.model,
        "codelabPlanner.llm.model": "scripted",
        "codelabPlanner.approval.tools": "auto",
    };
    fs.mkdirSync(path.join(dirs.userData, "User"), { recursive: true });
    fs.writeFileSync(path.join(dirs.userData, "User", "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
    fs.writeFileSync(path.join(env.scratch, "config.yaml"), "auth: none\ncert: false\n");
}

const childEnvironment = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(dirs.xdg, "config"),
    XDG_DATA_HOME: path.join(dirs.xdg, "data"),
    XDG_CACHE_HOME: path.join(dirs.xdg, "cache"),
};

function startCodeServer(log) {
    execFileSync(
        env.codeServer,
        ["--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions, "--install-extension", env.vsix],
        { env: childEnvironment, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 },
    );
    const child = spawn(
        env.codeServer,
        [
            "--config", path.join(env.scratch, "config.yaml"),
            "--bind-addr", "127.0.0.1:0",
            "--auth", "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--disable-getting-started-override",
            "--user-data-dir", dirs.userData,
            "--extensions-dir", dirs.extensions,
            dirs.workspace,
        ],
        { env: childEnvironment, stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const url = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("code-server did not start listening in time")), STEP_TIMEOUT_MS);
        const onData = (chunk) => {
            log.write(chunk.toString());
            const match = /HTTP server listening on (http:\/\/[^\s]+)/.exec(chunk.toString());
            if (match) {
                clearTimeout(timer);
                resolve(match[1].replace(/\/$/, ""));
            }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("exit", (code) => reject(new Error(`code-server exited with ${code} before listening`)));
    });
    return { child, url };
}

async function step(name, action) {
    const started = Date.now();
    try {
        const result = await action();
        console.log(`  ok  ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
        return result;
    } catch (error) {
        throw new Error(`step "${name}" failed: ${error instanceof Error ? error.message : error}`);
    }
}

/** The text of the active editor's visible lines (Monaco renders spaces as non-breaking ones). */
async function editorText(page) {
    return page.$eval(".editor-instance .monaco-editor .view-lines", (lines) =>
        [...lines.querySelectorAll(".view-line")]
            .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
            .map((line) => (line.textContent ?? "").replace(/\u00a0/g, " "))
            .join("\n"),
    );
}

async function editorShows(page, needles) {
    await page.waitForFunction(
        (wanted) => {
            const lines = document.querySelector(".editor-instance .monaco-editor .view-lines");
            const text = (lines?.textContent ?? "").replace(/\u00a0/g, " ");
            return wanted.every((needle) => text.includes(needle));
        },
        { timeout: STEP_TIMEOUT_MS },
        needles,
    );
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
    const server = startCodeServer(log);
    let browser;
    let page;
    try {
        const url = await step("start code-server with the .vsix", () => server.url);
        browser = await puppeteer.launch({
            executablePath: env.chromium,
            headless: true,
            userDataDir: dirs.browser,
            defaultViewport: { width: 1280, height: 800 },
            args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"],
        });
        page = await browser.newPage();
        await step("open the workspace and start the extension", async () => {
            await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`, { timeout: STEP_TIMEOUT_MS });
            const container = '.part.activitybar [aria-label="Codelab Planner"]';
            await page.waitForSelector(container, { timeout: STEP_TIMEOUT_MS });
            await page.click(container);
            await page.waitForFunction(
                () => [...document.querySelectorAll(".part.statusbar .statusbar-item")].some((item) =>
                    /Planner/.test(item.textContent ?? "") && !/starting/.test(item.textContent ?? "")),
                { timeout: STEP_TIMEOUT_MS },
            );
        });
        await step("the person opens src/lib.rs and types a line they do not save", async () => {
            await runCommand(page, "Go to File...");
            await page.keyboard.type("src/lib.rs");
            await page.waitForFunction(
                () => [...document.querySelectorAll(".quick-input-widget .monaco-list-row")].some((row) =>
                    (row.getAttribute("aria-label") ?? "").includes("lib.rs")),
                { timeout: STEP_TIMEOUT_MS },
            );
            await page.keyboard.press("Enter");
            await editorShows(page, ["pub fn answer() -> u32 {", "41"]);
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
        if (server.child.pid !== undefined && server.child.exitCode === null) {
            try {
                process.kill(-server.child.pid, "SIGTERM");
            } catch {
                // already gone
            }
        }
        log.end();
    }
}

await main();
