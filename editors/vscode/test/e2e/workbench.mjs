// What the end-to-end test does in the VS Code workbench (code-server in headless Chromium): the
// command palette, quick picks, input boxes, the Plans tree, webviews, notifications, the status
// bar. Every helper waits for a DOM state with a hard timeout and fails with what it saw instead.

export const STEP_TIMEOUT_MS = 60_000;

const QUICK_INPUT = ".quick-input-widget";

async function quickInputOpen(page, timeout = STEP_TIMEOUT_MS) {
    await page.waitForFunction(
        (selector) => {
            const widget = document.querySelector(selector);
            return widget !== null && widget.style.display !== "none" && document.activeElement?.closest(selector) !== null;
        },
        { timeout },
        QUICK_INPUT,
    );
}

/**
 * Opens the command palette and runs `title`. A webview that has just opened may hold the keyboard
 * focus, so the side bar's title is clicked first, and F1 is pressed again while no palette shows.
 */
export async function runCommand(page, title) {
    let lastError;
    for (let attempt = 1; attempt <= 3; attempt += 1) {
        await page.click(".part.sidebar .composite.title");
        await page.keyboard.press("F1");
        try {
            await quickInputOpen(page, 10_000);
            await acceptRow(page, title, 15_000);
            return;
        } catch (error) {
            lastError = error;
            await page.keyboard.press("Escape");
        }
    }
    throw lastError;
}

/** Waits for the quick pick a command opens (its placeholder) and picks the row with `text`. */
export async function pick(page, placeholder, text) {
    await page.waitForFunction(
        (selector, wanted) => {
            const widget = document.querySelector(selector);
            const input = widget?.querySelector("input");
            return widget?.style.display !== "none" && (input?.getAttribute("placeholder") ?? "").includes(wanted);
        },
        { timeout: STEP_TIMEOUT_MS },
        QUICK_INPUT,
        placeholder,
    );
    await acceptRow(page, text);
}

/** Waits until a row of the Plans view has an accessible label starting with `label`. */
export async function treeRow(page, label) {
    try {
        await page.waitForFunction(
            (wanted) =>
                [...document.querySelectorAll(".part.sidebar .monaco-list-row")].some((row) =>
                    (row.getAttribute("aria-label") ?? "").startsWith(wanted),
                ),
            { timeout: STEP_TIMEOUT_MS },
            label,
        );
    } catch (error) {
        const rows = await page.$$eval(".part.sidebar .monaco-list-row", (found) => found.map((row) => row.getAttribute("aria-label")));
        const toasts = await page.$$eval(".notifications-toasts .notification-toast", (found) => found.map((toast) => toast.textContent));
        throw new Error(
            `no row "${label}…" in the side bar (rows: ${JSON.stringify(rows)}; notifications: ${JSON.stringify(toasts)}): ${error.message}`,
        );
    }
}

/**
 * Waits until a webview frame's text contains every one of `needles` and none of `absent`
 * (webviews are nested iframes, and a re-rendered page replaces its frame, so the search starts
 * over a few times).
 */
export async function webviewShows(page, needles, absent = []) {
    let lastError;
    for (let attempt = 1; attempt <= 12; attempt += 1) {
        const frames = page.frames().filter((frame) => frame !== page.mainFrame());
        try {
            await Promise.any(
                frames.map(async (frame) =>
                    frame.waitForFunction(
                        (wanted, unwanted) => {
                            const text = document.body?.innerText ?? "";
                            return wanted.every((needle) => text.includes(needle)) && !unwanted.some((needle) => text.includes(needle));
                        },
                        { timeout: 5_000 },
                        needles,
                        absent,
                    ),
                ),
            );
            return;
        } catch (error) {
            lastError = error;
        }
    }
    const without = absent.length > 0 ? ` without ${JSON.stringify(absent)}` : "";
    throw new Error(`no webview shows ${JSON.stringify(needles)}${without}: ${lastError?.message ?? lastError}`);
}

/** Clicks the button `label` of the notification whose text contains `text`. */
export async function clickToastButton(page, text, label) {
    const button = await page
        .waitForFunction(
            (wanted, buttonLabel) => {
                // A toast, or the same notification in the notification center once its toast hid.
                const toasts = [
                    ...document.querySelectorAll(".notifications-toasts .notification-toast, .notifications-center .notification-list-item"),
                ];
                const toast = toasts.find((candidate) => (candidate.textContent ?? "").includes(wanted));
                return [...(toast?.querySelectorAll(".monaco-button") ?? [])].find(
                    (candidate) => (candidate.textContent ?? "").trim() === buttonLabel,
                );
            },
            { timeout: STEP_TIMEOUT_MS },
            text,
            label,
        )
        .catch(async (error) => {
            const toasts = await page.$$eval(".notifications-toasts .notification-toast", (found) =>
                found.map((toast) => toast.textContent),
            );
            throw new Error(`no notification "${text}" with a ${label} button (toasts: ${JSON.stringify(toasts)}): ${error.message}`);
        });
    const element = button.asElement();
    // A new toast slides in: click once it has stopped moving, or the click lands where it was.
    let previous = null;
    for (let frame = 0; frame < 100; frame += 1) {
        const box = await element.boundingBox();
        if (box !== null && previous !== null && box.x === previous.x && box.y === previous.y) {
            break;
        }
        previous = box;
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
    }
    await element.click();
}

/**
 * Clicks Cancel on the progress notification of the run titled `title` (the extension shows a
 * run's `$/progress` as a notification; its button sends `window/workDoneProgress/cancel`).
 */
export async function clickProgressCancel(page, title) {
    await clickToastButton(page, title, "Cancel");
}

/**
 * Drags the sash right of the side bar so the screenshot shows whole descriptions. Best effort
 * (the screenshot is an artifact, not a check): answers whether the side bar got wider.
 */
export async function widenSideBar(page, pixels) {
    const width = () => page.evaluate(() => document.querySelector(".part.sidebar").getBoundingClientRect().width);
    const before = await width();
    const sash = await page.evaluateHandle(() => {
        const right = document.querySelector(".part.sidebar").getBoundingClientRect().right;
        return [...document.querySelectorAll(".monaco-sash.vertical")].find((candidate) => {
            const box = candidate.getBoundingClientRect();
            return box.width > 0 && Math.abs(box.left + box.width / 2 - right) < 8;
        });
    });
    const box = await sash.asElement()?.boundingBox();
    if (box === undefined || box === null) {
        return false;
    }
    const x = box.x + box.width / 2;
    const y = box.y + box.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + pixels / 2, y, { steps: 4 });
    await page.mouse.move(x + pixels, y, { steps: 4 });
    await page.mouse.up();
    return (await width()) > before + 50;
}

export async function statusBarShows(page, pattern) {
    await page.waitForFunction(
        (source) =>
            [...document.querySelectorAll(".part.statusbar .statusbar-item")].some((item) =>
                new RegExp(source).test(item.textContent ?? ""),
            ),
        { timeout: STEP_TIMEOUT_MS },
        pattern.source,
    );
}

/** Waits for an input box whose prompt contains `prompt`, types `text` and accepts it. */
export async function answerInputBox(page, prompt, text) {
    await page.waitForFunction(
        (selector, wanted) => {
            const widget = document.querySelector(selector);
            return widget?.style.display !== "none" && (widget?.querySelector(".quick-input-message")?.textContent ?? "").includes(wanted);
        },
        { timeout: STEP_TIMEOUT_MS },
        QUICK_INPUT,
        prompt,
    );
    await page.click(`${QUICK_INPUT} .quick-input-box input`);
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
}

/** Types `text` into the open quick input and accepts the focused row once it contains `text`. */
async function acceptRow(page, text, timeout = STEP_TIMEOUT_MS) {
    // A webview that re-renders may take the focus: type into the quick input's own box.
    await page.click(`${QUICK_INPUT} .quick-input-box input`);
    await page.keyboard.press("End");
    await page.keyboard.type(text);
    try {
        await page.waitForFunction(
            (selector, wanted) => {
                const row = document.querySelector(`${selector} .monaco-list-row.focused`);
                return row !== null && row.textContent.toLowerCase().includes(wanted.toLowerCase());
            },
            { timeout },
            QUICK_INPUT,
            text,
        );
    } catch (error) {
        const rows = await page.$$eval(`${QUICK_INPUT} .monaco-list-row`, (found) => found.map((row) => row.textContent));
        throw new Error(`no focused row with "${text}" in the quick input (rows: ${JSON.stringify(rows)}): ${error.message}`);
    }
    await page.keyboard.press("Enter");
}

/**
 * What `action` answers, or false when the frame it uses went away meanwhile (a webview that
 * re-renders replaces its frame; puppeteer may throw that before returning a promise).
 */
async function settle(action) {
    try {
        return await action();
    } catch {
        return false;
    }
}

/** The webview frame whose page shows every one of `needles`. */
async function webviewFrame(page, needles) {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
        for (const frame of page.frames().filter((candidate) => candidate !== page.mainFrame())) {
            const found = await settle(() =>
                frame.evaluate((wanted) => wanted.every((needle) => (document.body?.innerText ?? "").includes(needle)), needles),
            );
            if (found) {
                return frame;
            }
        }
        await webviewShows(page, needles).catch(() => undefined);
    }
    throw new Error(`no webview shows ${JSON.stringify(needles)}`);
}

/**
 * Clicks the button `label` on the webview page that shows `needles` (the review page); `near`
 * picks the button in the table row of the subtask with that id.
 */
export async function clickWebviewButton(page, needles, label, near) {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
        const frame = await webviewFrame(page, needles);
        const clicked = await settle(() =>
            frame.evaluate(
                (wanted, rowId) => {
                    const scope =
                        rowId === undefined
                            ? [document]
                            : [...document.querySelectorAll("tr")].filter((row) => row.querySelector("td code")?.textContent === rowId);
                    for (const root of scope) {
                        const button = [...root.querySelectorAll("button")].find((candidate) => candidate.textContent.trim() === wanted);
                        if (button) {
                            button.click();
                            return true;
                        }
                    }
                    return false;
                },
                label,
                near,
            ),
        ); // false when the page was replaced while we looked: look again
        if (clicked) {
            return;
        }
    }
    throw new Error(`no "${label}" button${near === undefined ? "" : ` in the row of ${near}`} on the page showing ${JSON.stringify(needles)}`);
}

/** Opens a workspace file with Quick Open. */
export async function openFile(page, relativePath) {
    await page.click(".part.sidebar .composite.title");
    await page.keyboard.down("Control");
    await page.keyboard.press("KeyP");
    await page.keyboard.up("Control");
    await quickInputOpen(page, 10_000);
    // A row shows the file's name, and its folder apart: type the name (names are unique here).
    await acceptRow(page, relativePath.split("/").at(-1));
    await page.waitForFunction(
        (name) => [...document.querySelectorAll(".tabs-container .tab.active")].some((tab) => (tab.textContent ?? "").includes(name)),
        { timeout: STEP_TIMEOUT_MS },
        relativePath.split("/").at(-1),
    );
}

/** The lines of the active text editor, as rendered (spaces normalised). */
export async function editorLines(page) {
    return page.$$eval(".editor-group-container.active .editor-instance .view-lines .view-line", (lines) =>
        lines
            .map((line) => ({ top: parseFloat(line.style.top || "0"), text: (line.textContent ?? "").replace(/\u00a0/g, " ") }))
            .sort((left, right) => left.top - right.top)
            .map((line) => line.text),
    );
}

/** Waits until the active editor shows every one of `wanted` as a line of its own. */
export async function editorShowsLines(page, wanted) {
    try {
        await page.waitForFunction(
            (needles) => {
                const lines = [...document.querySelectorAll(".editor-group-container.active .editor-instance .view-lines .view-line")].map(
                    (line) => (line.textContent ?? "").replace(/\u00a0/g, " ").trim(),
                );
                return needles.every((needle) => lines.includes(needle));
            },
            { timeout: STEP_TIMEOUT_MS },
            wanted,
        );
    } catch (error) {
        throw new Error(`the editor does not show the lines ${JSON.stringify(wanted)} (it shows ${JSON.stringify(await editorLines(page))}): ${error.message}`);
    }
}

/** Answers the workbench's own file dialog (a quick input in a remote window) with a path. */
export async function answerFileDialog(page, file) {
    await quickInputOpen(page);
    await page.click(`${QUICK_INPUT} .quick-input-box input`);
    await page.keyboard.down("Control");
    await page.keyboard.press("KeyA");
    await page.keyboard.up("Control");
    await page.keyboard.type(file);
    await page.waitForFunction(
        (selector, wanted) => document.querySelector(`${selector} .quick-input-box input`)?.value === wanted,
        { timeout: STEP_TIMEOUT_MS },
        QUICK_INPUT,
        file,
    );
    // The simple dialog lists the typed path's folder while the person types; an Enter that comes
    // before it has looked at the file is answered "Please select a file." and the dialog stays.
    // Enter, and every other time the dialog's own OK button ("Use this server"), as a person
    // would when Enter seems not to take.
    for (let attempt = 1; attempt <= 10; attempt += 1) {
        const button = attempt % 2 === 0 ? await page.$(`${QUICK_INPUT} .quick-input-action .monaco-button`) : null;
        if (button !== null) {
            await button.click();
        } else {
            await page.keyboard.press("Enter");
        }
        const closed = await page
            .waitForFunction((selector) => document.querySelector(selector)?.style.display === "none", { timeout: 2_000 }, QUICK_INPUT)
            .then(() => true, () => false);
        if (closed) {
            return;
        }
    }
    throw new Error(`the file dialog did not take ${file}`);
}

/** Waits for a quick pick whose placeholder contains `placeholder`; answers its rows' texts. */
export async function quickPickRows(page, placeholder) {
    await page.waitForFunction(
        (selector, wanted) => {
            const widget = document.querySelector(selector);
            return widget?.style.display !== "none" && (widget?.querySelector("input")?.getAttribute("placeholder") ?? "").includes(wanted);
        },
        { timeout: STEP_TIMEOUT_MS },
        QUICK_INPUT,
        placeholder,
    );
    return page.$$eval(`${QUICK_INPUT} .monaco-list-row`, (rows) => rows.map((row) => row.textContent ?? ""));
}

/** Waits for the quick pick whose placeholder contains `placeholder`, accepts its first row, answers its label. */
export async function pickFirst(page, placeholder) {
    await quickPickRows(page, placeholder);
    const label = await page.waitForFunction(
        (selector) => {
            const row = document.querySelector(`${selector} .monaco-list-row.focused`);
            return row === null ? undefined : (row.querySelector(".label-name")?.textContent ?? row.textContent ?? "").trim();
        },
        { timeout: STEP_TIMEOUT_MS },
        QUICK_INPUT,
    );
    const text = await label.jsonValue();
    // A webview that re-renders may take the focus: give it back to the quick input first.
    await page.click(`${QUICK_INPUT} .quick-input-box input`);
    await page.keyboard.press("Enter");
    return text;
}

/** Waits until a subtask row under the plan whose title starts with `planTitle` starts with `label`. */
export async function treeRowUnder(page, planTitle, label) {
    try {
        await page.waitForFunction(
            (plan, wanted) => {
                let inPlan = false;
                for (const row of document.querySelectorAll(".part.sidebar .monaco-list-row")) {
                    const aria = row.getAttribute("aria-label") ?? "";
                    if (aria.startsWith("plan ")) {
                        inPlan = aria.startsWith(`plan ${plan}`);
                    } else if (inPlan && aria.startsWith(wanted)) {
                        return true;
                    }
                }
                return false;
            },
            { timeout: STEP_TIMEOUT_MS },
            planTitle,
            label,
        );
    } catch (error) {
        const rows = await page.$$eval(".part.sidebar .monaco-list-row", (found) => found.map((row) => row.getAttribute("aria-label")));
        throw new Error(`no row "${label}…" under plan "${planTitle}…" (rows: ${JSON.stringify(rows)}): ${error.message}`);
    }
}

/** Clicks the inline action `title` (e.g. "Mark Done") of the Plans view's row whose label starts with `label`. */
export async function clickRowAction(page, label, title) {
    const row = await page.waitForSelector(`.part.sidebar .monaco-list-row[aria-label^="${label.replace(/"/g, '\\"')}"]`, {
        timeout: STEP_TIMEOUT_MS,
    });
    await row.hover();
    const action = await row.waitForSelector(`.actions .action-label[aria-label="${title}"]`, { visible: true, timeout: STEP_TIMEOUT_MS });
    await action.click();
}
