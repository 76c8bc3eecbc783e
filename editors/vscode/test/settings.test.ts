// What the extension sends the server as settings: only what the person set, so the server's
// settings files are not overridden by the extension's defaults.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { SERVER_KEYS, explicitSettings, type SetLevels } from "../src/settings";

describe("server settings", () => {
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

    it("sends nothing when nothing is set", () => {
        assert.deepEqual(explicitSettings(SERVER_KEYS, () => undefined), {});
    });
});
