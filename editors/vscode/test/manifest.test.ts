// package.json: what the Settings editor, the command palette, workspace trust and plan files need.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";

interface Setting {
    type?: string | string[];
    enum?: unknown[];
    scope?: string;
    default?: unknown;
}

const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
const settings: Record<string, Setting> = manifest.contributes.configuration.properties;

describe("the manifest", () => {
    it("gives every setting an input in the Settings editor (one plain type, or a choice)", () => {
        const typeable = ["string", "integer", "number", "boolean"];
        for (const [key, setting] of Object.entries(settings)) {
            assert.ok(typeof setting.type === "string" && typeable.includes(setting.type), `${key}: type ${JSON.stringify(setting.type)}`);
            assert.notEqual(setting.default, null, `${key}: a null default has no input box`);
        }
    });

    it("reads the server path from User settings in remote windows too (no machine scope)", () => {
        assert.ok(!["machine", "machine-overridable"].includes(settings["codelabPlanner.server.path"].scope ?? ""));
    });

    it("offers Mark Done and Mark Failed in the command palette", () => {
        const hidden = (manifest.contributes.menus.commandPalette ?? []).filter((entry: { when?: string }) => entry.when === "false");
        assert.deepEqual(hidden, []);
        const titles = manifest.contributes.commands.map((command: { command: string }) => command.command);
        assert.ok(titles.includes("codelabPlanner.markDone") && titles.includes("codelabPlanner.markFailed"));
    });

    it("declares limited support of untrusted workspaces, with the settings that run things restricted", () => {
        const untrusted = manifest.capabilities.untrustedWorkspaces;
        assert.equal(untrusted.supported, "limited");
        assert.ok(untrusted.restrictedConfigurations.includes("codelabPlanner.server.path"));
        for (const key of untrusted.restrictedConfigurations) {
            assert.ok(key in settings, key);
        }
    });

    it("activates on plan files", () => {
        assert.ok(manifest.activationEvents.includes("workspaceContains:**/*.plan.toml"));
    });
});
