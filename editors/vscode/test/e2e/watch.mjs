// What makes the end-to-end test fail besides its own checks: any error notification the test did
// not provoke on purpose, any notification that says a restart is pending ("restarting in"), and
// any error the extension host logged. Notifications are recorded in the page itself (a poll that
// sees every toast while it shows, however short), so nothing is missed between two checks.

import * as fs from "node:fs";
import * as path from "node:path";

/** Installed in every page before it loads: records each notification toast once. */
function recordToasts() {
    window.__codelabToasts = [];
    const seen = new WeakSet();
    setInterval(() => {
        for (const item of document.querySelectorAll(".notifications-toasts .notification-list-item")) {
            const message = item.querySelector(".notification-list-item-message")?.textContent ?? "";
            if (seen.has(item) || message === "") {
                continue;
            }
            seen.add(item);
            const icon = item.querySelector(".notification-list-item-icon")?.className ?? "";
            const severity = /codicon-error/.test(icon) ? "error" : /codicon-warning/.test(icon) ? "warning" : "info";
            const buttons = [...item.querySelectorAll(".monaco-button")].map((button) => (button.textContent ?? "").trim());
            window.__codelabToasts.push({ message, severity, buttons, at: Date.now() });
        }
    }, 50);
}

export class Watch {
    constructor(page, logsDir) {
        this.page = page;
        this.logsDir = logsDir;
        this.expected = [];
        this.toasts = [];
        this.checked = 0;
    }

    static async install(page, logsDir) {
        await page.evaluateOnNewDocument(recordToasts);
        return new Watch(page, logsDir);
    }

    /** The test provokes an error notification whose text matches `pattern` (once). */
    expectError(pattern) {
        this.expected.push(pattern);
    }

    /** Every toast recorded in the page since the last call (a new page starts a new list). */
    async collect() {
        const recorded = await this.page.evaluate(() => {
            const list = window.__codelabToasts ?? [];
            window.__codelabToasts = [];
            return list;
        });
        this.toasts.push(...recorded);
        return recorded;
    }

    /** Fails on an unexpected error toast or a restart toast recorded since the last check. */
    async check(stepName) {
        await this.collect();
        const unchecked = this.toasts.slice(this.checked);
        this.checked = this.toasts.length;
        for (const toast of unchecked) {
            if (/restarting in \d/.test(toast.message)) {
                throw new Error(`during "${stepName}": a restart notification: ${toast.message}`);
            }
            if (toast.severity !== "error") {
                continue;
            }
            const index = this.expected.findIndex((pattern) => pattern.test(toast.message));
            if (index < 0) {
                throw new Error(`during "${stepName}": an error was shown: ${toast.message}`);
            }
            this.expected.splice(index, 1);
        }
    }

    /** Takes every toast recorded so far as checked (after a step that provokes some on purpose). */
    async acceptAll() {
        await this.collect();
        this.checked = this.toasts.length;
    }

    /** Toasts whose text matches `pattern`, recorded so far. */
    async toastsMatching(pattern) {
        await this.collect();
        return this.toasts.filter((toast) => pattern.test(toast.message));
    }

    /** Lines of the extension host's logs that report an error (an exception in an extension). */
    extensionHostErrors() {
        const errors = [];
        const walk = (dir) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const full = path.join(dir, entry.name);
                if (entry.isDirectory()) {
                    walk(full);
                } else if (entry.name === "exthost.log" || entry.name.endsWith("-Codelab Planner.log")) {
                    for (const line of fs.readFileSync(full, "utf8").split("\n")) {
                        if (/\[error\]/i.test(line) || /command \w+ failed:/.test(line)) {
                            errors.push(`${path.relative(this.logsDir, full)}: ${line}`);
                        }
                    }
                }
            }
        };
        if (fs.existsSync(this.logsDir)) {
            walk(this.logsDir);
        }
        return errors;
    }
}
