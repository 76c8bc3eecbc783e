// The settings the server receives, and finding the server's binary.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import { SERVER_KEYS, explicitSettings, findExecutable, withoutClientKeys, type SetLevels } from "../src/settings";

describe("settings for the server", () => {
    it("drops the extension's own keys and every unset value (empty strings, maxParallel 0)", () => {
        const section = {
            server: { path: "/opt/codelab-planner" },
            trace: { server: "off" },
            database: "",
            maxParallel: 0,
            failurePolicy: "continue",
            llm: { baseUrl: "  ", model: "qwen", roles: { plan: "", agent: "big" }, timeoutSecs: 120 },
        };
        assert.deepEqual(withoutClientKeys(section), {
            failurePolicy: "continue",
            llm: { model: "qwen", roles: { agent: "big" }, timeoutSecs: 120 },
        });
        assert.deepEqual(withoutClientKeys({ maxParallel: 4 }), { maxParallel: 4 });
    });
});

describe("only what the person set", () => {
    it("leaves defaults out and lets the most specific level win", () => {
        const levels: Record<string, SetLevels> = {
            "llm.model": { globalValue: "mine", workspaceValue: "the team's" },
            maxParallel: { globalValue: 4 },
            "approval.tools": { workspaceFolderValue: "auto", globalValue: "ask" },
            failurePolicy: {},
        };
        const settings = explicitSettings(SERVER_KEYS, (key) => levels[key]);
        assert.deepEqual(settings, { "llm.model": "the team's", maxParallel: 4, "approval.tools": "auto" });
    });

    it("sends nothing when nothing is set, and a set but empty value is still unset", () => {
        assert.deepEqual(explicitSettings(SERVER_KEYS, () => undefined), {});
        const cleared = explicitSettings(SERVER_KEYS, (key) => (key === "llm.baseUrl" ? { globalValue: "" } : undefined));
        assert.deepEqual(withoutClientKeys(cleared), {});
    });
});

describe("the server's binary", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "codelab-find-"));
    const binary = path.join(folder, "codelab-planner");
    fs.writeFileSync(binary, "#!/bin/sh\n");
    fs.chmodSync(binary, 0o755);
    const plain = path.join(folder, "not-executable");
    fs.writeFileSync(plain, "");
    after(() => fs.rmSync(folder, { recursive: true, force: true }));

    it("finds a path, or a name on PATH", () => {
        assert.equal(findExecutable(binary), binary);
        assert.equal(findExecutable("codelab-planner", `/nonexistent${path.delimiter}${folder}`), binary);
    });

    it("answers undefined for a missing or non-executable file and a folder", () => {
        assert.equal(findExecutable(path.join(folder, "missing")), undefined);
        assert.equal(findExecutable(plain), undefined);
        assert.equal(findExecutable(folder), undefined);
        assert.equal(findExecutable("codelab-planner", "/nonexistent"), undefined);
    });
});
