-- The plan buffer's text after each event sequence: the pure reducer and renderer of
-- codelab-planner.view, including waiting steps, agent activity, retries and a finished run.
-- Run: CODELAB_PLUGIN_DIR=editors/nvim nvim --headless -u NONE -l tests/nvim/render.lua
local t = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "helpers.lua"))
t.load_plugin()
local view_module = require("codelab-planner.view")

local function subtask(id, title, agent, depends_on)
  return {
    id = id,
    title = title,
    description = "",
    agent = agent,
    dependsOn = depends_on or {},
    status = "pending",
    attempts = 0,
    maxAttempts = 2,
  }
end

local plan = {
  id = "01PLAN",
  sessionId = "01SESSION",
  title = "Ship the CSV export",
  goal = "add CSV export to reports",
  status = "approved",
  version = 2,
  planner = "template",
  subtasks = {
    subtask("build", "Build", "shell"),
    subtask("code", "Write the exporter", "coder", { "build" }),
    subtask("check", "Check the report by hand", "manual", { "build" }),
    subtask("test", "Run tests", "shell", { "code", "check" }),
  },
  progress = {},
  createdAt = "2026-11-24T16:00:57.123Z",
  updatedAt = "2026-11-24T16:00:57.123Z",
}
for _, item in ipairs(plan.subtasks) do
  item.status = "pending"
end
plan.progress = view_module.progress(plan.subtasks)

local view = view_module.new(plan)
local function send(event, run_id)
  return view_module.apply(view, { planId = "01PLAN", runId = run_id or "01RUN", event = event })
end
local function lines()
  return view_module.render(view).lines
end

t.lines_equal(lines(), {
  "Ship the CSV export",
  "status: approved · v2 · planner: template",
  "progress: 0% · 4 pending of 4",
  "goal: add CSV export to reports",
  "id: 01PLAN",
  "",
  "· build  Build                     shell",
  "· code   Write the exporter        coder   after build",
  "· check  Check the report by hand  manual  after build",
  "· test   Run tests                 shell   after code, check",
}, "an approved plan")

send({ kind = "planStarted", title = "Ship the CSV export", total = 4 })
send({ kind = "subtaskStarted", subtaskId = "build", attempt = 1, title = "Build" })
-- Each subtaskOutput text is one line without its terminator; one that holds breaks anyway
-- becomes several lines, and a trailing break adds no empty line.
send({ kind = "subtaskOutput", subtaskId = "build", text = "Compiling app" })
send({ kind = "subtaskOutput", subtaskId = "build", text = "" })
send({ kind = "subtaskOutput", subtaskId = "build", text = "Finished dev" })
send({ kind = "subtaskOutput", subtaskId = "build", text = "warning: one\r\nwarning: two\n" })
t.equal(
  view.output.build,
  { "Compiling app", "", "Finished dev", "warning: one", "warning: two" },
  "one output line per event, breaks inside a text kept"
)
t.lines_equal(lines(), {
  "Ship the CSV export",
  "status: running · v2 · planner: template",
  "progress: 0% · 1 running · 3 pending of 4",
  "goal: add CSV export to reports",
  "id: 01PLAN",
  "",
  "▶ build  Build                     shell",
  "· code   Write the exporter        coder   after build",
  "· check  Check the report by hand  manual  after build",
  "· test   Run tests                 shell   after code, check",
}, "a running build")

send({ kind = "subtaskFinished", subtaskId = "build", status = "done", result = "Finished", durationMs = 5333 })
send({ kind = "subtaskStarted", subtaskId = "code", attempt = 1, title = "Write the exporter" })
send({ kind = "subtaskStarted", subtaskId = "check", attempt = 1, title = "Check the report by hand" })
send({ kind = "subtaskWaiting", subtaskId = "check", message = "open /reports and export a CSV" })
send({ kind = "agentActivity", subtaskId = "code", phase = "thinking", tokens = 1200 })
t.lines_equal(lines(), {
  "Ship the CSV export",
  "status: running · v2 · planner: template",
  "progress: 25% · 1 done · 1 running · 1 waiting · 1 pending of 4",
  "goal: add CSV export to reports",
  "id: 01PLAN",
  "",
  "✓ build  Build                     shell   5.3s",
  "▶ code   Write the exporter        coder   after build · thinking (1200 tokens)",
  "⏸ check  Check the report by hand  manual  after build · waiting for you: :CodelabPlanner complete when done",
  "    │ open /reports and export a CSV",
  "· test   Run tests                 shell   after code, check",
}, "a waiting step beside a thinking agent")

-- The event's tag is `kind`, so the tool's ACP kind travels as `toolKind`.
send({
  kind = "agentActivity",
  subtaskId = "code",
  phase = "toolStarted",
  tool = "edit_file",
  toolKind = "edit",
  target = "src/export.rs",
})
t.equal(lines()[8], "▶ code   Write the exporter        coder   after build · edit src/export.rs", "a tool call")
send({
  kind = "agentActivity",
  subtaskId = "code",
  phase = "waitingForApproval",
  tool = "run",
  toolKind = "execute",
  target = "cargo fmt",
})
t.equal(
  lines()[8],
  "▶ code   Write the exporter        coder   after build · approval needed: execute cargo fmt",
  "an approval"
)
send({ kind = "subtaskRetrying", subtaskId = "code", attempt = 2, delayMs = 640, error = "model timed out" })
t.equal(
  lines()[8],
  "▶ code   Write the exporter        coder   after build · retry 2 in 640ms: model timed out",
  "a retry replaces the activity"
)
send({ kind = "subtaskStarted", subtaskId = "code", attempt = 2, title = "Write the exporter" })
t.equal(lines()[8], "▶ code   Write the exporter        coder   after build · attempt 2", "the second attempt")

-- Events of another plan or an older run change nothing.
t.equal(
  view_module.apply(view, { planId = "01OTHER", runId = "01RUN", event = { kind = "planStarted" } }),
  false,
  "other plan"
)
t.equal(
  send({ kind = "subtaskFinished", subtaskId = "code", status = "done", durationMs = 1 }, "01OLDRUN"),
  false,
  "old run"
)
t.equal(send({ kind = "somethingNew", subtaskId = "code" }), false, "unknown kind")

send({
  kind = "subtaskFinished",
  subtaskId = "code",
  status = "failed",
  error = "tests do not compile\nmore",
  durationMs = 65000,
})
send({ kind = "subtaskFinished", subtaskId = "check", status = "done", result = "looks right", durationMs = 90000 })
send({
  kind = "subtaskFinished",
  subtaskId = "test",
  status = "skipped",
  error = 'dependency "code" failed',
  durationMs = 0,
})
send({
  kind = "planFinished",
  status = "failed",
  progress = {
    total = 4,
    pending = 0,
    running = 0,
    waiting = 0,
    done = 2,
    failed = 1,
    skipped = 1,
    cancelled = 0,
    percentage = 100,
  },
  durationMs = 72400,
  usage = { promptTokens = 5200, completionTokens = 800, calls = 4 },
})
local rendered = view_module.render(view, { keys = require("codelab-planner.config").defaults.keys })
t.lines_equal(rendered.lines, {
  "Ship the CSV export",
  "status: failed in 1m 12s · v2 · planner: template",
  "progress: 100% · 2 done · 1 failed · 1 skipped of 4",
  "goal: add CSV export to reports",
  "usage: 5200 prompt + 800 completion tokens in 4 calls",
  "id: 01PLAN",
  "",
  "✓ build  Build                     shell   5.3s",
  "✗ code   Write the exporter        coder   after build · 1m 05s",
  "    error: tests do not compile … (o: the whole error)",
  "✓ check  Check the report by hand  manual  after build · 1m 30s",
  "↷ test   Run tests                 shell   after code, check",
  "",
  "keys: x execute · c cancel · r retry · a approve · R revise · e edit · o output · m done · M failed · gr refresh · q close",
  "agents: y allow · Y allow for plan · n deny · d diff · u revert step · U revert plan",
}, "a failed run")
t.equal(rendered.rows[9], "code", "row of a subtask")
local highlight_of_row = {}
for _, highlight in ipairs(rendered.highlights) do
  highlight_of_row[highlight[1]] = highlight[4]
end
t.equal(highlight_of_row[8], "CodelabPlannerDone", "a done sign's group")
t.equal(highlight_of_row[9], "CodelabPlannerFailed", "a failed sign's group")
t.equal(highlight_of_row[10], "CodelabPlannerError", "an error line's group")
t.equal(highlight_of_row[12], "CodelabPlannerSkipped", "a skipped sign's group")
for _, group in pairs(highlight_of_row) do
  t.truthy(view_module.highlight_links[group], "every group has a default link: " .. group)
end
t.equal(rendered.rows[10], "code", "row of its error")

-- A plan being planned: the subtasks streamed so far (partial results of planning/create).
t.lines_equal(
  view_module.render(view_module.from_inputs("add CSV export", {
    { title = "Write the exporter", agent = "coder" },
    { id = "test", title = "Run tests", agent = "shell", command = "make test", dependsOn = { "s1" } },
  })).lines,
  {
    "add CSV export",
    "status: planning · v0",
    "progress: 0% · 2 pending of 2",
    "id: (planning)",
    "",
    "· s1    Write the exporter  coder",
    "· test  Run tests           shell  after s1",
  },
  "a plan being planned"
)

-- Text of several lines anywhere (titles, goal, feedback, errors, what a step asks, retries,
-- tool targets) never puts a line break into a buffer line; `instructions` win over `message`.
local multi = view_module.new({
  id = "01MULTI",
  title = "Добавить проверку входных данных\nв функцию parse",
  goal = "Добавить проверку\nвходных данных",
  feedback = "убери шаг\r\nс документацией",
  plannerNote = "the model's plan\nhad a cycle",
  error = "1 of 3 subtasks failed\n",
  status = "running",
  version = 3,
  subtasks = {
    subtask("s1", "Изучить код\nфункции parse", "ask"),
    subtask("s2", "Написать тесты", "coder", { "s1" }),
    subtask("s3", "Run the tests", "shell", { "s2" }),
  },
})
local function send_multi(event)
  return view_module.apply(multi, { planId = "01MULTI", runId = "01RUN", event = event })
end
send_multi({ kind = "subtaskStarted", subtaskId = "s1", attempt = 1 })
send_multi({
  kind = "subtaskWaiting",
  subtaskId = "s1",
  message = "This step is yours: Изучить код — Task: …\nStep: read it. Mark it done with planning/complete.",
  instructions = "Прочитайте функцию parse.\n\nЗапишите, что меняется.",
})
send_multi({ kind = "subtaskStarted", subtaskId = "s2", attempt = 1 })
send_multi({ kind = "subtaskRetrying", subtaskId = "s2", attempt = 2, delayMs = 1000, error = "boom\nat line 2" })
send_multi({ kind = "subtaskStarted", subtaskId = "s3", attempt = 1 })
send_multi({ kind = "agentActivity", subtaskId = "s3", phase = "toolStarted", toolKind = "read", target = "a\nb" })
local multi_rendered = view_module.render(multi, { keys = require("codelab-planner.config").defaults.keys })
for index, line in ipairs(multi_rendered.lines) do
  t.truthy(not line:find("[\r\n]"), string.format("line %d holds a line break: %q", index, line))
end
t.lines_equal(vim.list_slice(multi_rendered.lines, 1, 17), {
  "Добавить проверку входных данных ⏎ в функцию parse",
  "status: running · v3",
  "progress: 0% · 2 running · 1 waiting of 3",
  "goal: Добавить проверку",
  "  входных данных",
  "planner note: the model's plan",
  "  had a cycle",
  "feedback: убери шаг",
  "  с документацией",
  "error: 1 of 3 subtasks failed",
  "id: 01MULTI",
  "",
  "⏸ s1  Изучить код ⏎ функции parse  ask    waiting for you: press m when done",
  "    │ Прочитайте функцию parse.",
  "    │ Запишите, что меняется.",
  "▶ s2  Написать тесты               coder  after s1 · retry 2 in 1.0s: boom ⏎ at line 2",
  "▶ s3  Run the tests                shell  after s2 · read a ⏎ b",
}, "multi-line text")
t.equal(multi_rendered.rows[15], "s1", "the lines of what a step asks belong to it")
t.equal(
  view_module.waiting_text({ message = "use planning/complete" }),
  "use planning/complete",
  "the message when there are no instructions"
)
t.equal(view_module.waiting_text({ message = "m", instructions = " " }), "m", "blank instructions do not count")

t.equal(view_module.format_duration(59999), "60.0s", "just under a minute")
t.equal(
  view_module.parse_timestamp("2026-11-24T16:01:02.456Z") - view_module.parse_timestamp("2026-11-24T16:00:57.123Z"),
  5333,
  "timestamps"
)
t.equal(
  view_module.parse_timestamp("2026-12-01T00:00:01Z") - view_module.parse_timestamp("2026-11-30T23:59:59Z"),
  2000,
  "across midnight and months"
)
t.ok("render")
