// The plan model under sequences of `planning/progress` events: statuses, progress counts,
// output, waiting steps, agent activity, and events of old or unknown runs.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { OUTPUT_TAIL_CHARS, PlanModel, describeActivity, outputLines, progressOf } from "../src/model";
import { planLook, subtaskLook } from "../src/presentation";
import { NOW, event, plan, subtask } from "./fixtures";

const FINISHED = { total: 2, pending: 0, running: 0, waiting: 0, done: 2, failed: 0, skipped: 0, cancelled: 0, percentage: 100 };

function twoStepModel(): PlanModel {
    const model = new PlanModel();
    model.setPlan(plan("p1", [subtask("build"), subtask("test", { dependsOn: ["build"] })]));
    return model;
}

describe("a run from start to finish", () => {
    it("moves the plan to completed, counts progress and keeps the output", () => {
        const model = twoStepModel();
        const started = model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan p1", total: 2 }), NOW);
        assert.equal(started.needsRefresh, true, "a new run asks for a fresh snapshot");
        assert.equal(model.get("p1")?.status, "running");

        model.apply(event("p1", "r1", { kind: "subtaskStarted", subtaskId: "build", attempt: 1, title: "Step build" }), NOW);
        assert.equal(model.get("p1")?.plan?.subtasks[0].status, "running");
        assert.equal(model.get("p1")?.progress.running, 1);

        const output = model.apply(event("p1", "r1", { kind: "subtaskOutput", subtaskId: "build", text: "Compiling" }), NOW);
        assert.deepEqual(output.output, { subtaskId: "build", title: "Step build", lines: ["Compiling"] });

        model.apply(
            event("p1", "r1", { kind: "subtaskFinished", subtaskId: "build", status: "done", result: "ok", durationMs: 1500 }),
            NOW,
        );
        assert.equal(model.get("p1")?.progress.done, 1);
        assert.equal(model.get("p1")?.progress.percentage, 50);
        assert.match(planLook(model.get("p1")!).description, /^running · 1\/2 · 50%/);

        model.apply(event("p1", "r1", { kind: "subtaskStarted", subtaskId: "test", attempt: 1, title: "Step test" }), NOW);
        model.apply(event("p1", "r1", { kind: "subtaskFinished", subtaskId: "test", status: "done", durationMs: 200 }), NOW);
        const finished = model.apply(
            event("p1", "r1", { kind: "planFinished", status: "completed", progress: FINISHED, durationMs: 1800 }),
            NOW,
        );
        assert.deepEqual(finished.finished, { status: "completed", durationMs: 1800, failed: 0 });

        const entry = model.get("p1")!;
        assert.equal(entry.status, "completed");
        assert.equal(entry.output.get("build"), "Compiling\n");
        const look = planLook(entry);
        assert.equal(look.contextValue, "plan:completed");
        assert.equal(look.icon, "pass");
        assert.equal(look.description, "completed · 2/2 · 1.8s");
        assert.match(look.ariaLabel, /completed/);
        assert.equal(subtaskLook(entry, entry.plan!.subtasks[0]).description, "done · 1.5s · shell");
    });

    it("drops late events of a finished run", () => {
        const model = twoStepModel();
        model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        model.apply(event("p1", "r1", { kind: "planFinished", status: "cancelled", progress: FINISHED, durationMs: 5 }), NOW);
        const late = model.apply(event("p1", "r1", { kind: "subtaskStarted", subtaskId: "build", attempt: 1, title: "Step build" }), NOW);
        assert.equal(late.ignored, true);
        assert.equal(model.get("p1")?.status, "cancelled");
        assert.equal(model.get("p1")?.plan?.subtasks[0].status, "pending");
    });

    it("follows a second run (a retry) after the first finished", () => {
        const model = twoStepModel();
        model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        model.apply(event("p1", "r1", { kind: "planFinished", status: "failed", progress: FINISHED, durationMs: 5 }), NOW);
        model.apply(event("p1", "r2", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        model.apply(event("p1", "r2", { kind: "subtaskStarted", subtaskId: "test", attempt: 2, title: "Step test" }), NOW);
        const entry = model.get("p1")!;
        assert.equal(entry.status, "running");
        assert.equal(entry.runId, "r2");
        assert.equal(entry.plan?.subtasks[1].attempts, 2);
    });

    it("joins a run it did not see start and asks for a snapshot", () => {
        const model = twoStepModel();
        const outcome = model.apply(event("p1", "r9", { kind: "subtaskStarted", subtaskId: "test", attempt: 1, title: "Step test" }), NOW);
        assert.equal(outcome.needsRefresh, true);
        assert.equal(model.get("p1")?.status, "running");
    });

    it("asks for a snapshot for an unknown plan or subtask", () => {
        const model = twoStepModel();
        assert.equal(model.apply(event("nope", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW).needsRefresh, true);
        model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        const unknown = model.apply(event("p1", "r1", { kind: "subtaskStarted", subtaskId: "deploy", attempt: 1, title: "Step deploy" }), NOW);
        assert.equal(unknown.needsRefresh, true);
    });

    it("keeps only the tail of a long output, from the start of a line", () => {
        const model = twoStepModel();
        model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        for (let index = 0; index < 3000; index += 1) {
            model.apply(event("p1", "r1", { kind: "subtaskOutput", subtaskId: "build", text: `line ${index} ${"x".repeat(30)}` }), NOW);
        }
        const kept = model.get("p1")!.output.get("build")!;
        assert.ok(kept.length <= OUTPUT_TAIL_CHARS, `${kept.length}`);
        assert.match(kept, /^line \d+ x+\n/);
        assert.ok(kept.endsWith(`line 2999 ${"x".repeat(30)}\n`));
    });

    it("shows every output text as its own line (a traceback keeps its lines)", () => {
        const model = twoStepModel();
        model.apply(event("p1", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        const texts = ["Traceback (most recent call last):", '  File "app.py", line 3', "", "ValueError: пусто", "a\r\nb\n"];
        const outcomes = texts.map((text) => model.apply(event("p1", "r1", { kind: "subtaskOutput", subtaskId: "build", text }), NOW));
        assert.deepEqual(outcomes.at(-1)?.output?.lines, ["a", "b"]);
        assert.equal(
            model.get("p1")!.output.get("build"),
            'Traceback (most recent call last):\n  File "app.py", line 3\n\nValueError: пусто\na\nb\n',
        );
        assert.deepEqual(outputLines(""), [""]);
    });
});

describe("manual steps", () => {
    it("shows a waiting step with its message until it is completed", () => {
        const model = new PlanModel();
        model.setPlan(plan("p2", [subtask("review", { agent: "manual", command: undefined }), subtask("build")]));
        model.apply(event("p2", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        const waiting = model.apply(
            event("p2", "r1", { kind: "subtaskWaiting", subtaskId: "review", message: "Review the diff" }),
            NOW,
        );
        assert.deepEqual(waiting.waiting, { subtaskId: "review", title: "Step review", message: "Review the diff" });
        const entry = model.get("p2")!;
        assert.equal(entry.progress.waiting, 1);
        const look = subtaskLook(entry, entry.plan!.subtasks[0]);
        assert.equal(look.contextValue, "subtask:waiting", "the Mark done / Mark failed menus match this");
        assert.equal(look.icon, "person");
        assert.equal(look.description, "waiting: Review the diff · manual");
        const instructed = model.apply(
            event("p2", "r1", {
                kind: "subtaskWaiting",
                subtaskId: "review",
                message: "This step is yours: … planning/complete",
                instructions: "Прочитайте изменения.\nОтметьте шаг выполненным.",
            }),
            NOW,
        );
        assert.equal(instructed.waiting?.message, "Прочитайте изменения.\nОтметьте шаг выполненным.", "instructions win");
        assert.equal(
            subtaskLook(entry, entry.plan!.subtasks[0]).description,
            "waiting: Прочитайте изменения. Отметьте шаг выполненным. · manual",
            "on one line in the tree",
        );
        assert.match(planLook(entry).description, /1 waiting/);

        model.apply(event("p2", "r1", { kind: "subtaskFinished", subtaskId: "review", status: "done", durationMs: 9000 }), NOW);
        assert.equal(entry.waitingMessage.has("review"), false);
        assert.equal(entry.progress.waiting, 0);
        assert.equal(subtaskLook(entry, entry.plan!.subtasks[0]).contextValue, "subtask:done");
    });

    it("clears the waiting message when a snapshot says the step is done", () => {
        const model = new PlanModel();
        const waitingPlan = plan("p3", [subtask("review", { agent: "manual", status: "waiting" })]);
        model.setPlan(waitingPlan);
        model.apply(event("p3", "r1", { kind: "subtaskWaiting", subtaskId: "review", message: "check it" }), NOW);
        model.setPlan({ ...waitingPlan, subtasks: [subtask("review", { agent: "manual", status: "done" })] });
        assert.equal(model.get("p3")!.waitingMessage.size, 0);
    });
});

describe("agent activity", () => {
    it("shows what the agent of a running step does, and forgets it when the step ends", () => {
        const model = new PlanModel();
        model.setPlan(plan("p4", [subtask("code", { agent: "coder", command: undefined })]));
        model.apply(event("p4", "r1", { kind: "planStarted", title: "Plan", total: 2 }), NOW);
        model.apply(event("p4", "r1", { kind: "subtaskStarted", subtaskId: "code", attempt: 1, title: "Step code" }), NOW);
        model.apply(
            event("p4", "r1", { kind: "agentActivity", subtaskId: "code", phase: "toolStarted", tool: "edit_file", toolKind: "edit", target: "src/lib.rs" }),
            NOW,
        );
        const entry = model.get("p4")!;
        assert.equal(subtaskLook(entry, entry.plan!.subtasks[0]).description, "editing src/lib.rs · coder");

        model.apply(event("p4", "r1", { kind: "agentActivity", subtaskId: "code", phase: "toolFinished", tool: "edit_file" }), NOW);
        assert.equal(subtaskLook(entry, entry.plan!.subtasks[0]).description, "running · coder");

        model.apply(event("p4", "r1", { kind: "agentActivity", subtaskId: "code", phase: "thinking", tokens: 120 }), NOW);
        assert.equal(entry.activity.get("code"), "thinking (120 tokens)");
        model.apply(event("p4", "r1", { kind: "subtaskFinished", subtaskId: "code", status: "done", durationMs: 4000 }), NOW);
        assert.equal(entry.activity.has("code"), false);
        // Usage comes with the snapshot fetched after the event (subtaskFinished carries none).
        entry.plan!.subtasks[0].usage = { promptTokens: 1000, completionTokens: 234, calls: 3 };
        assert.equal(subtaskLook(entry, entry.plan!.subtasks[0]).description, "done · 4.0s · 1,234 tokens · 3 calls · coder");
        model.apply(event("p4", "r1", { kind: "agentActivity", subtaskId: "code", phase: "thinking" }), NOW);
        assert.equal(entry.activity.has("code"), false, "activity after the end is stale");
    });

    it("describes every phase", () => {
        const base = { kind: "agentActivity" as const, subtaskId: "s" };
        assert.equal(describeActivity({ ...base, phase: "toolStarted", toolKind: "execute", target: "cargo test" }), "running cargo test");
        assert.equal(describeActivity({ ...base, phase: "toolStarted", tool: "grep", target: "TODO" }), "grep TODO");
        assert.equal(describeActivity({ ...base, phase: "waitingForApproval", tool: "shell", target: "rm x" }), "waiting for approval: shell rm x");
        assert.equal(describeActivity({ ...base, phase: "toolFinished" }), undefined);
    });
});

describe("plan list", () => {
    it("replaces the list with a page, newest first, and keeps fetched plans", () => {
        const model = twoStepModel();
        const summary = (id: string, createdAt: string) => ({
            id,
            sessionId: "s",
            title: `Plan ${id}`,
            status: "draft" as const,
            progress: progressOf([]),
            createdAt,
            updatedAt: createdAt,
        });
        model.setSummaries([summary("p1", "2026-11-24T16:00:57.123Z"), summary("p9", "2026-11-25T10:00:00.000Z")]);
        assert.deepEqual(model.plans().map((entry) => entry.id), ["p9", "p1"]);
        assert.notEqual(model.get("p1")?.plan, undefined, "a fetched plan keeps its subtasks");
        model.setSummaries([summary("p9", "2026-11-25T10:00:00.000Z")]);
        assert.deepEqual(model.plans().map((entry) => entry.id), ["p9"]);
    });

    it("counts progress with the protocol's rounding", () => {
        const progress = progressOf([subtask("a", { status: "done" }), subtask("b", { status: "waiting" }), subtask("c")]);
        assert.equal(progress.percentage, 33);
        assert.equal(progress.waiting, 1);
        assert.equal(progress.pending, 1);
    });
});
