// Draft edits of the review page and the page itself: what `planning/update` receives, and that
// text from the plan is escaped.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { PlanModel } from "../src/model";
import { formatDuration, formatUsage } from "../src/presentation";
import { editedSubtasks, reviewHtml } from "../src/review_html";
import { plan, subtask } from "./fixtures";

const draft = plan(
    "d1",
    [subtask("a"), subtask("b", { dependsOn: ["a"] }), subtask("c", { dependsOn: ["b"] })],
    { status: "draft" },
);
const never = async () => undefined;

describe("draft edits", () => {
    it("removing a step hands its dependencies to its dependents", async () => {
        const inputs = await editedSubtasks(draft, { type: "edit", action: "remove", subtaskId: "b" }, never);
        assert.deepEqual(inputs?.map((input) => [input.id, input.dependsOn]), [["a", []], ["c", ["a"]]]);
    });

    it("moves a step up and refuses to move the first one further", async () => {
        const moved = await editedSubtasks(draft, { type: "edit", action: "up", subtaskId: "b" }, never);
        assert.deepEqual(moved?.map((input) => input.id), ["b", "a", "c"]);
        assert.equal(await editedSubtasks(draft, { type: "edit", action: "up", subtaskId: "a" }, never), undefined);
    });

    it("adds a shell step after the last ones, with a fresh id", async () => {
        const inputs = await editedSubtasks(draft, { type: "edit", action: "add" }, async () => ({
            title: "Lint",
            command: "cargo clippy",
        }));
        assert.deepEqual(inputs?.at(-1), { id: "s4", title: "Lint", agent: "shell", command: "cargo clippy", dependsOn: ["c"] });
        assert.equal(await editedSubtasks(draft, { type: "edit", action: "add" }, never), undefined);
    });

    it("sends back every field received but the server's own (cwd, limits, role, unknown fields)", async () => {
        const rich = subtask("a", {
            cwd: "crates/core",
            timeoutSecs: 120,
            estimateSecs: 30,
            maxAttempts: 3,
            description: "Собрать\nи проверить",
            result: "ok",
            attempts: 2,
            startedAt: "2026-11-24T16:00:57.123Z",
            usage: { promptTokens: 1, completionTokens: 2, calls: 1 },
        });
        const withUnknown = { ...rich, role: "baseline", somethingNew: { nested: [1, 2] } } as typeof rich;
        const edited = plan("d2", [withUnknown, subtask("b", { dependsOn: ["a"] }), subtask("c")], { status: "draft" });
        const inputs = await editedSubtasks(edited, { type: "edit", action: "remove", subtaskId: "c" }, never);
        assert.deepEqual(inputs![0], {
            id: "a",
            title: "Step a",
            description: "Собрать\nи проверить",
            agent: "shell",
            command: "echo a",
            cwd: "crates/core",
            dependsOn: [],
            maxAttempts: 3,
            timeoutSecs: 120,
            estimateSecs: 30,
            role: "baseline",
            somethingNew: { nested: [1, 2] },
        });
        assert.deepEqual(Object.keys(inputs![1]).sort(), ["agent", "command", "dependsOn", "description", "id", "maxAttempts", "title"]);
        assert.equal(edited.subtasks[0].status, "pending", "the plan itself is not changed");
    });
});

describe("review page", () => {
    it("escapes the plan's text and offers the draft's actions", () => {
        const model = new PlanModel();
        model.setPlan({ ...draft, title: "<script>alert(1)</script>", goal: "a & b" });
        const html = reviewHtml(model.get("d1")!, "vscode-resource:", "NONCE");
        assert.ok(!html.includes("<script>alert(1)"));
        assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert.ok(html.includes("a &amp; b"));
        for (const label of ["Approve", "Reject", "Revise…", "Remove", "Add shell step…"]) {
            assert.ok(html.includes(`>${label}</button>`), label);
        }
        assert.ok(html.includes(`<script nonce="NONCE">`));
    });

    it("offers no edits once the plan is approved", () => {
        const model = new PlanModel();
        model.setPlan({ ...draft, status: "approved" });
        const html = reviewHtml(model.get("d1")!, "vscode-resource:", "N");
        assert.ok(html.includes(">Execute</button>"));
        assert.ok(!html.includes(">Remove</button>"));
    });
});

describe("formatting", () => {
    it("formats durations and usage", () => {
        assert.equal(formatDuration(35), "35ms");
        assert.equal(formatDuration(1234), "1.2s");
        assert.equal(formatDuration(42_000), "42s");
        assert.equal(formatDuration(185_000), "3m 05s");
        assert.equal(formatDuration(3_720_000), "1h 02m");
        assert.equal(formatUsage(undefined), undefined);
        assert.equal(formatUsage({ promptTokens: 10, completionTokens: 5, calls: 1 }), "15 tokens · 1 call");
    });
});
