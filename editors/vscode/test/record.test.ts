// Agent work on the record: a question an agent waits on in the model, the tree and the plan
// page; the proposed content rebuilt from the question's diff for the diff view; transcripts,
// changes and rollback results as text a person reads.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { PendingApproval } from "../src/lsp_ext";
import { PlanModel } from "../src/model";
import { planLook, subtaskLook } from "../src/presentation";
import { applyUnifiedDiff, changesText, rollbackSummary, transcriptMarkdown } from "../src/record_text";
import { reviewHtml } from "../src/review_html";
import { NOW, event, plan, subtask } from "./fixtures";

const README = "# Demo\n\nRun it.\n";
const README_DIFF = "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,4 @@\n # Demo\n \n-Run it.\n+Run it with `cargo run`.\n+По-русски: запустите её.\n";

const approval: PendingApproval = {
    requestId: "q1",
    question: "Allow coder to edit `README.md`?",
    toolKind: "edit",
    target: "README.md",
    diff: README_DIFF,
    summary: "+2 −1 README.md",
    scope: "every file edit of this plan",
    options: ["allow_once", "allow_always", "reject_once"],
};

describe("a question an agent waits on", () => {
    it("is on the step from the event until it is answered, in the tree and on the plan page", () => {
        const model = new PlanModel();
        model.setPlan(plan("p1", [subtask("s1", { agent: "coder", status: "running", attempts: 1, command: undefined })], { status: "running", runId: "r1" }));
        const asked = model.apply(event("p1", "r1", { kind: "approvalRequested", subtaskId: "s1", approval }), NOW);
        assert.equal(asked.approvalsChanged, true);
        assert.deepEqual(model.pendingApprovals().map((question) => [question.subtaskId, question.approval.requestId]), [["s1", "q1"]]);
        const entry = model.get("p1")!;
        const look = subtaskLook(entry, entry.plan!.subtasks[0]);
        assert.match(look.description, /^asks: Allow coder to edit `README.md`\? \(\+2 −1 README.md\)/);
        assert.equal(look.contextValue, "subtask:running approval agent");
        assert.match(planLook(entry).description, /^1 question for you/);
        const page = reviewHtml(entry, "csp", "nonce");
        for (const needle of ["Asks you:", "Allow for this plan (every file edit of this plan)", "Deny", "Show Diff", "+Run it with `cargo run`.", "По-русски"]) {
            assert.ok(page.includes(needle), needle);
        }
        model.apply(event("p1", "r1", { kind: "approvalAnswered", subtaskId: "s1", requestId: "q1", option: "allow_always", by: "planning/answer" }), NOW);
        assert.deepEqual(model.pendingApprovals(), []);
        assert.ok(!reviewHtml(entry, "csp", "nonce").includes("Asks you:"));
    });

    it("comes with the plan a reconnecting client fetches, and goes when the step finishes", () => {
        const model = new PlanModel();
        const waitingStep = subtask("s1", { agent: "coder", status: "running", attempts: 1, pendingApproval: approval });
        model.setPlan(plan("p1", [waitingStep], { status: "running", runId: "r1" }));
        assert.equal(model.pendingApprovals().length, 1);
        model.apply(event("p1", "r1", { kind: "subtaskFinished", subtaskId: "s1", status: "cancelled", durationMs: 5 }), NOW);
        assert.equal(model.pendingApprovals().length, 0);
    });

    it("marks a finished step with changes revertible, and its plan", () => {
        const model = new PlanModel();
        const changes = { files: 2, added: 3, removed: 1 };
        model.setPlan(plan("p1", [subtask("s1", { agent: "coder", status: "done", attempts: 1, changes })], { status: "completed" }));
        const entry = model.get("p1")!;
        const look = subtaskLook(entry, entry.plan!.subtasks[0]);
        assert.equal(look.contextValue, "subtask:done agent changes");
        assert.match(look.description, /changed 2 files \+3 −1/);
        assert.equal(planLook(entry).contextValue, "plan:completed revertible");
        const page = reviewHtml(entry, "csp", "nonce");
        for (const needle of ["Transcript", "Revert this step", "Revert plan", "Changes"]) {
            assert.ok(page.includes(`>${needle}</button>`), needle);
        }
    });
});

describe("the proposed content for the diff view", () => {
    it("is the file as it is now with the question's diff applied", () => {
        assert.equal(applyUnifiedDiff(README, README_DIFF), "# Demo\n\nRun it with `cargo run`.\nПо-русски: запустите её.\n");
        assert.equal(applyUnifiedDiff("", "--- /dev/null\n+++ b/new.rs\n@@ -0,0 +1 @@\n+pub fn new() {}\n"), "pub fn new() {}\n");
        const noNewline = "--- /dev/null\n+++ b/x.txt\n@@ -0,0 +1 @@\n+x\n\\ No newline at end of file\n";
        assert.equal(applyUnifiedDiff("", noNewline), "x");
    });

    it("is not made up when the file changed since or the diff was cut", () => {
        assert.equal(applyUnifiedDiff("# Demo\n\nRun it, please.\n", README_DIFF), undefined);
        assert.equal(applyUnifiedDiff(README, `${README_DIFF}[… 12 more diff lines …]\n`), undefined);
    });
});

describe("the record as text", () => {
    it("renders a transcript as Markdown, in order, with what was dropped", () => {
        const text = transcriptMarkdown("Document it", "s1", {
            attempt: 2,
            dropped: 3,
            entries: [
                { at: "2026-11-24T16:01:02.000Z", kind: "message", role: "user", text: "Document how to run it" },
                { at: "2026-11-24T16:01:03.000Z", kind: "toolCall", tool: "read_file", target: "README.md", arguments: '{"path":"README.md"}' },
                { at: "2026-11-24T16:01:04.000Z", kind: "toolResult", tool: "read_file", target: "README.md", text: "# Demo", outcome: "ok" },
                { at: "2026-11-24T16:01:05.000Z", kind: "note", text: "rate limited by the model; waiting 5 s" },
            ],
        });
        assert.ok(text.startsWith("# Transcript: Document it\n\nStep `s1`, attempt 2."), text);
        assert.ok(text.includes("_3 earlier entries were dropped"), text);
        const order = ["The task given to the agent", "→ `read_file` `README.md`", '"path": "README.md"', "← `read_file` `README.md`: **ok**", "> 16:01:05 · rate limited"];
        const positions = order.map((needle) => text.indexOf(needle));
        assert.ok(positions.every((position, index) => position > 0 && (index === 0 || position > positions[index - 1])), `${positions}\n${text}`);
        assert.match(transcriptMarkdown("Run", "s2", { attempt: 0, dropped: 0, entries: [] }), /has no transcript/);
    });

    it("renders changes with a header per file and says what a rollback did", () => {
        const text = changesText("Plan", [
            { subtaskId: "s1", attempt: 1, path: "README.md", change: "modified", diff: README_DIFF, added: 2, removed: 1, rolledBack: true },
        ]);
        assert.ok(text.startsWith("# s1 (attempt 1) · modified README.md · +2 −1 · rolled back\n--- a/README.md"), text);
        assert.equal(rollbackSummary({ restored: ["a.txt"], conflicts: [{ path: "b.txt", reason: "changed since the agent wrote it" }] }), "Reverted a.txt. Left b.txt: changed since the agent wrote it.");
        assert.equal(rollbackSummary({ restored: [], conflicts: [] }), "Nothing to revert.");
    });
});
