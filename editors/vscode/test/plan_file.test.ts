// "New Plan from File": a `*.plan.toml` (what Export writes) or an older `*.plan.json` becomes the
// `planning/create` params the server validates.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { camelCase, parsePlanFile } from "../src/plan_file";

const TOML = `title = "Проверить сервис"
goal = "Run the service's checks"

[[subtask]]
id = "test"
title = "Тесты"
agent = "shell"
command = '''
make test
'''
cwd = "service"
timeout_secs = 120
max_attempts = 2
estimate_secs = 30
role = "baseline"

[[subtask]]
id = "report"
title = "Report"
agent = "manual"
depends_on = ["test"]
description = "Read the output\\nand report"
`;

describe("plan files", () => {
    it("reads a plan.toml as the server's fields, every key kept in camelCase", () => {
        assert.deepEqual(parsePlanFile(TOML, "service/check.plan.toml"), {
            task: "Run the service's checks",
            title: "Проверить сервис",
            subtasks: [
                {
                    id: "test",
                    title: "Тесты",
                    agent: "shell",
                    command: "make test\n",
                    cwd: "service",
                    timeoutSecs: 120,
                    maxAttempts: 2,
                    estimateSecs: 30,
                    role: "baseline",
                },
                { id: "report", title: "Report", agent: "manual", dependsOn: ["test"], description: "Read the output\nand report" },
            ],
        });
    });

    it("takes the title as the task when there is no goal", () => {
        const file = parsePlanFile('title = "Build"\n[[subtask]]\ntitle = "b"\nagent = "shell"\ncommand = "make"\n', "b.plan.toml");
        assert.equal(file.task, "Build");
    });

    it("names the file and what is wrong", () => {
        assert.throws(() => parsePlanFile('title = "x"\n[[subtask]\n', "bad.plan.toml"), /^Error: bad\.plan\.toml: not valid TOML: /);
        assert.throws(() => parsePlanFile('goal = ""\n', "empty.plan.toml"), /empty\.plan\.toml: title: expected a string/);
        assert.throws(() => parsePlanFile('title = "x"\n', "none.plan.toml"), /none\.plan\.toml: subtask: expected one or more \[\[subtask\]\] tables/);
    });

    it("still reads the older plan.json", () => {
        const json = JSON.stringify({ task: "t", title: "T", subtasks: [{ title: "a", agent: "shell", command: "true" }] });
        assert.deepEqual(parsePlanFile(json, "old.plan.json"), { task: "t", title: "T", subtasks: [{ title: "a", agent: "shell", command: "true" }] });
        assert.throws(() => parsePlanFile("{", "old.plan.json"), /old\.plan\.json: not JSON/);
    });

    it("turns snake_case into camelCase", () => {
        assert.equal(camelCase("depends_on"), "dependsOn");
        assert.equal(camelCase("timeout_secs"), "timeoutSecs");
        assert.equal(camelCase("title"), "title");
    });
});
