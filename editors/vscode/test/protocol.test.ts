// The extension against the server's JSON Schema (docs/protocol.schema.json, generated from the
// Rust wire types): the generated types are current, every method is mirrored, and the fields an
// edit leaves out are exactly the ones only the server writes.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";

// @ts-expect-error: a plain JavaScript module (the generator npm runs), without type declarations.
import { OUTPUT_PATH, SCHEMA_PATH, generate } from "../gen_protocol.mjs";
import { ALL_METHODS } from "../src/lsp_ext";
import { COMMANDS, EVENT_KINDS, NOTIFICATION_METHODS, REQUEST_METHODS } from "../src/protocol.generated";
import { SERVER_WRITTEN_FIELDS } from "../src/review_html";

interface Schema {
    $defs: Record<string, { properties?: Record<string, unknown>; enum?: string[] }>;
    methods: Record<string, unknown>;
    events: Record<string, unknown>;
    commands: string[];
}

const schema: Schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8"));

describe("the protocol", () => {
    it("src/protocol.generated.ts is what the schema generates (else: npm run gen-protocol)", () => {
        assert.equal(fs.readFileSync(OUTPUT_PATH, "utf8"), generate(schema), "src/protocol.generated.ts is stale: run `npm run gen-protocol`");
    });

    it("lsp_ext.ts names every method of the schema, and only those", () => {
        assert.deepEqual([...ALL_METHODS].sort(), Object.keys(schema.methods).sort());
        assert.deepEqual([...REQUEST_METHODS, ...NOTIFICATION_METHODS].sort(), Object.keys(schema.methods).sort());
    });

    it("knows every event kind and command", () => {
        assert.deepEqual([...EVENT_KINDS], Object.keys(schema.events).sort());
        assert.deepEqual([...EVENT_KINDS], [...(schema.$defs.EventKind.enum ?? [])].sort());
        assert.deepEqual([...COMMANDS], schema.commands);
    });

    it("an edit leaves out exactly the subtask fields a SubtaskInput does not have", () => {
        const input = new Set(Object.keys(schema.$defs.SubtaskInput.properties ?? {}));
        const serverOnly = Object.keys(schema.$defs.Subtask.properties ?? {}).filter((field) => !input.has(field));
        assert.deepEqual([...SERVER_WRITTEN_FIELDS].sort(), serverOnly.sort());
    });
});
