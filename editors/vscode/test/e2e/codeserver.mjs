// A code-server session for the end-to-end tests in real VS Code: the scratch folders, the user
// settings, code-server with the packaged .vsix, headless Chromium on the workspace, and the
// editor's text. Shared by safe_edits.mjs and tasklists.mjs; every wait has a hard timeout.

import { spawn, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import puppeteer from "puppeteer-core";

import { STEP_TIMEOUT_MS } from "./workbench.mjs";

/** The value of an environment variable the Rust test sets; throws naming `runner` without it. */
export function required(name, runner) {
    const value = process.env[name];
    if (value === undefined || value === "") {
        throw new Error(`${name} is not set (run this through ${runner})`);
    }
    return value;
}

/** The paths every session needs, from the environment the Rust test sets. */
export function sessionEnvironment(runner) {
    const env = {
        codeServer: required("CODELAB_E2E_CODE_SERVER", runner),
        chromium: required("CODELAB_E2E_CHROMIUM", runner),
        vsix: required("CODELAB_E2E_VSIX", runner),
        artifacts: required("CODELAB_E2E_ARTIFACTS", runner),
        scratch: required("CODELAB_E2E_SCRATCH", runner),
    };
    required("CODELAB_PLANNER_SERVER_PATH", runner);
    const dirs = {
        workspace: path.join(env.scratch, "workspace"),
        userData: path.join(env.scratch, "user-data"),
        extensions: path.join(env.scratch, "extensions"),
        browser: path.join(env.scratch, "browser"),
        xdg: path.join(env.scratch, "xdg"),
    };
    return { env, dirs };
}

/** Makes the folders and writes the user settings (quiet workbench, no auto-save) plus `extra`. */
export function prepareSession({ env, dirs }, extra) {
    for (const dir of Object.values(dirs)) {
        fs.mkdirSync(dir, { recursive: true });
    }
    fs.mkdirSync(env.artifacts, { recursive: true });
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
        ...extra,
    };
    fs.mkdirSync(path.join(dirs.userData, "User"), { recursive: true });
    fs.writeFileSync(path.join(dirs.userData, "User", "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
    fs.writeFileSync(path.join(env.scratch, "config.yaml"), "auth: none\ncert: false\n");
}

function childEnvironment(dirs) {
    return {
        ...process.env,
        XDG_CONFIG_HOME: path.join(dirs.xdg, "config"),
        XDG_DATA_HOME: path.join(dirs.xdg, "data"),
        XDG_CACHE_HOME: path.join(dirs.xdg, "cache"),
    };
}

/** Installs the .vsix and starts code-server on the workspace; `url` resolves once it listens. */
export function startCodeServer({ env, dirs }, log) {
    const environment = childEnvironment(dirs);
    execFileSync(
        env.codeServer,
        ["--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions, "--install-extension", env.vsix],
        { env: environment, stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 },
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
        { env: environment, stdio: ["ignore", "pipe", "pipe"], detached: true },
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

/** Stops code-server's process group. */
export function stopCodeServer(server) {
    if (server.child.pid !== undefined && server.child.exitCode === null) {
        try {
            process.kill(-server.child.pid, "SIGTERM");
        } catch {
            // already gone
        }
    }
}

/** Headless Chromium on the workspace, with the extension started (its status bar item settled). */
export async function openWorkbench({ env, dirs }, url) {
    const browser = await puppeteer.launch({
        executablePath: env.chromium,
        headless: true,
        userDataDir: dirs.browser,
        defaultViewport: { width: 1280, height: 800 },
        args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage();
    await page.goto(`${url}/?folder=${encodeURIComponent(dirs.workspace)}`, { timeout: STEP_TIMEOUT_MS });
    const container = '.part.activitybar [aria-label="Codelab Planner"]';
    await page.waitForSelector(container, { timeout: STEP_TIMEOUT_MS });
    await page.click(container);
    await page.waitForFunction(
        () => [...document.querySelectorAll(".part.statusbar .statusbar-item")].some((item) =>
            /Planner/.test(item.textContent ?? "") && !/starting/.test(item.textContent ?? "")),
        { timeout: STEP_TIMEOUT_MS },
    );
    return { browser, page };
}

/** Runs one named step of a test, printing how long it took; a failure names the step. */
export async function step(name, action) {
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
export async function editorText(page) {
    return page.$eval(".editor-instance .monaco-editor .view-lines", (lines) =>
        [...lines.querySelectorAll(".view-line")]
            .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
            .map((line) => (line.textContent ?? "").replace(/\u00a0/g, " "))
            .join("\n"),
    );
}

/** Waits until the active editor shows every one of `needles`. */
export async function editorShows(page, needles) {
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

/** Opens `relative` with Go to File and waits for it to show `needles`. */
export async function openFile(page, relative, needles, runCommand) {
    await runCommand(page, "Go to File...");
    await page.keyboard.type(relative);
    const name = path.basename(relative);
    await page.waitForFunction(
        (wanted) => [...document.querySelectorAll(".quick-input-widget .monaco-list-row")].some((row) =>
            (row.getAttribute("aria-label") ?? "").includes(wanted)),
        { timeout: STEP_TIMEOUT_MS },
        name,
    );
    await page.keyboard.press("Enter");
    await editorShows(page, needles);
}
