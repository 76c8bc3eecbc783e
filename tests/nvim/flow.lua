-- The whole no-model flow in real Neovim, as a person drives it, against the real server:
-- a long Russian task is planned (a draft, never run unasked), revised (the buffer says so while
-- it waits), a step renamed with `e` (every other field, `cwd` among them, survives), approved
-- with `a`, executed with `x`; each step that waits for the person (multi-line instructions) is
-- marked done with `m` until the plan completes, while its shell steps run by themselves. Then a
-- second plan is cancelled with `c` while a step waits, a stale `m` and a stale picker answer are
-- told "no longer waits", and `r` retries it to the end. Then a plan file: its problem shows as a
-- diagnostic, goes away when fixed, and its "Run plan" lens runs it. Any Lua error fails the test:
-- stderr (checked by tests/nvim.rs), `v:errmsg`, or a vim.notify at ERROR level.
-- Run: CODELAB_PLUGIN_DIR=editors/nvim CODELAB_PLANNER_BIN=target/debug/codelab-planner
--      CODELAB_WORKSPACE=$(mktemp -d) nvim --headless -u NONE -l tests/nvim/flow.lua
local t = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "helpers.lua"))

local binary = os.getenv("CODELAB_PLANNER_BIN")
local workspace = os.getenv("CODELAB_WORKSPACE")
if not binary or not workspace then
  t.fail("set CODELAB_PLANNER_BIN and CODELAB_WORKSPACE")
end
-- A project one level down: the template plan runs its `make test` there (`cwd = "service"`).
vim.fn.mkdir(vim.fs.joinpath(workspace, "service"), "p")
vim.fn.writefile({
  "test:",
  '\t@echo "running 3 tests"',
  '\t@echo "all 3 passed"',
}, vim.fs.joinpath(workspace, "service", "Makefile"))
vim.fn.mkdir(vim.fs.joinpath(workspace, ".git"), "p")
vim.fn.chdir(workspace)
vim.g.codelab_planner = { cmd = { binary, "--stdio" } }
t.load_plugin()
t.capture_notifications()
vim.cmd("filetype on")

local events = {}
vim.api.nvim_create_autocmd("User", {
  pattern = { "CodelabPlannerUpdated", "CodelabPlannerProgress", "CodelabPlannerRunFinished" },
  callback = function(args)
    table.insert(events, { pattern = args.match, data = args.data })
  end,
})
local function find_event(pattern, predicate, after)
  for index = (after or 0) + 1, #events do
    if events[index].pattern == pattern and (predicate == nil or predicate(events[index].data)) then
      return index
    end
  end
  return nil
end
local function await(pattern, predicate, after, what)
  t.wait_for(what or pattern, function()
    return find_event(pattern, predicate, after) ~= nil
  end)
  return find_event(pattern, predicate, after)
end

-- Every request the plugin sends, by method.
local sent = {}
local lsp = require("codelab-planner.lsp")
local original_request = lsp.request
lsp.request = function(method, params, callback)
  table.insert(sent, { method = method, params = params })
  return original_request(method, params, callback)
end
local function sent_count(method)
  return #vim.tbl_filter(function(request)
    return request.method == method
  end, sent)
end

-- vim.ui.input is the person's hook (dressing, snacks and fzf-lua replace it the same way): it
-- answers from a queue and records what it was asked.
local answers, asked = {}, {}
vim.ui.input = function(opts, on_confirm)
  table.insert(asked, { prompt = opts.prompt, default = opts.default })
  on_confirm(table.remove(answers, 1))
end

local function lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, false)
end
local function text()
  return table.concat(lines(), "\n")
end
local function row_starting(prefix)
  for index, line in ipairs(lines()) do
    if vim.startswith(line, prefix) then
      return index
    end
  end
  return nil
end
local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "xt", false)
end
local function get_plan(plan_id)
  local client = lsp.clients()[1]
  local response = lsp.request_sync(client, "planning/get", { planId = plan_id }, t.timeout_ms)
  return t.truthy(response and response.result, "planning/get " .. plan_id .. ": " .. vim.inspect(response))
end

--- Presses `m` on each step that waits until the plan's run finishes; answers how many.
local function mark_every_waiting_step_done(plan_id, after)
  local marked = 0
  while not find_event("CodelabPlannerRunFinished", function(data)
    return data.planId == plan_id
  end, after) do
    local waiting_row = nil
    -- A waiting step shows what it asks below its row (from its event, which may come a moment
    -- after a fresh snapshot already says `waiting`).
    t.wait_for("a waiting step (with what it asks) or the end of the run", function()
      waiting_row = row_starting("⏸ ")
      if waiting_row and vim.startswith(lines()[waiting_row + 1] or "", "    │ ") then
        return true
      end
      waiting_row = nil
      return find_event("CodelabPlannerRunFinished", function(data)
        return data.planId == plan_id
      end, after) ~= nil
    end)
    if waiting_row then
      local line = lines()[waiting_row]
      t.truthy(line:find("waiting for you: press m when done", 1, true), "the key is named: " .. line)
      local subtask_id = line:match("^⏸ (%S+)")
      local mark = #events
      vim.api.nvim_win_set_cursor(0, { waiting_row, 0 })
      press("m")
      await("CodelabPlannerProgress", function(data)
        return data.planId == plan_id and data.event.kind == "subtaskFinished" and data.event.subtaskId == subtask_id
      end, mark, "step " .. subtask_id .. " to finish after m")
      marked = marked + 1
    end
  end
  return marked
end

-- 1. A long Russian task, several steps: a draft that waits for review.
local task =
  "Добавить проверку входных данных в функцию parse модуля конфигурации, чтобы пустые строки отклонялись с понятной ошибкой, с тестами и документацией"
local mark = #events
vim.cmd("CodelabPlanner new " .. task)
await("CodelabPlannerUpdated", nil, mark, "the new plan")
local plan_id = t.truthy(vim.b.codelab_plan_id, "a plan buffer")
t.truthy(
  vim.startswith(lines()[1], "Добавить проверку входных данных в функцию parse"),
  "the title: " .. lines()[1]
)
t.truthy(lines()[2]:find("^status: draft · v1"), "a draft: " .. lines()[2])
t.equal(sent_count("planning/execute") + sent_count("planning/approve"), 0, "nothing runs unasked")

-- 2. Revise: the buffer says so until the new version arrives.
table.insert(answers, "добавь шаг: запустить make lint")
mark = #events
press("R")
t.equal(asked[#asked].prompt, "Revise the plan: ", "the revise prompt")
t.truthy(
  text():find("revising: добавь шаг: запустить make lint …", 1, true),
  "the buffer shows the revise:\n" .. text()
)
await("CodelabPlannerUpdated", function(data)
  return data.planId == plan_id
end, mark, "the revised plan")
t.truthy(lines()[2]:find("^status: draft · v2"), "revised to v2: " .. lines()[2])
t.truthy(not text():find("revising:", 1, true), "the revise line went away:\n" .. text())
t.truthy(
  text():find("feedback: добавь шаг: запустить make lint", 1, true),
  "the feedback shows:\n" .. text()
)

-- 3. Rename a step with `e`: every other field of every step is unchanged.
local before = get_plan(plan_id)
local shell_step = nil
for _, subtask in ipairs(before.subtasks) do
  if subtask.agent == "shell" and subtask.cwd == "service" then
    shell_step = shell_step or subtask
  end
end
shell_step = t.truthy(shell_step, "the template runs make test in service/: " .. vim.inspect(before.subtasks))
local renamed =
  "Запустить тесты сервиса (make test) перед изменением и после него, с длинным заголовком"
table.insert(answers, renamed)
mark = #events
vim.api.nvim_win_set_cursor(0, { row_starting("· " .. shell_step.id .. " "), 0 })
press("e")
await("CodelabPlannerUpdated", function(data)
  return data.planId == plan_id
end, mark, "the renamed step")
t.equal(
  asked[#asked],
  { prompt = "Title of " .. shell_step.id .. ": ", default = shell_step.title },
  "the rename prompt"
)
local after_edit = get_plan(plan_id)
t.equal(after_edit.version, before.version + 1, "one new version")
t.equal(#after_edit.subtasks, #before.subtasks, "the same steps")
for index, subtask in ipairs(before.subtasks) do
  local expected = vim.deepcopy(subtask)
  if subtask.id == shell_step.id then
    expected.title = renamed
  end
  t.equal(after_edit.subtasks[index], expected, "step " .. subtask.id .. " after the rename")
end
for _, field in ipairs({ "sourceFile", "goal", "classification", "planner", "feedback", "sessionId" }) do
  t.equal(after_edit[field], before[field], "the plan's " .. field .. " after the rename")
end

-- 4. Approve and execute; every step that waits is marked done with `m`; the plan completes.
mark = #events
press("a")
await("CodelabPlannerUpdated", function(data)
  return data.planId == plan_id
end, mark, "the approval")
t.truthy(lines()[2]:find("^status: approved"), "approved: " .. lines()[2])
local run_mark = #events
press("x")
-- Once the first step is done, two wait at once. A picker ("which step?") opened then and
-- answered after that step was marked done elsewhere changes nothing and says so.
t.wait_for("a waiting step", function()
  return row_starting("⏸ ") ~= nil
end)
vim.api.nvim_win_set_cursor(0, { row_starting("⏸ "), 0 })
mark = #events
press("m")
local function waiting_rows()
  local rows = {}
  for index, line in ipairs(lines()) do
    if vim.startswith(line, "⏸ ") then
      table.insert(rows, index)
    end
  end
  return rows
end
t.wait_for("two steps waiting at once", function()
  return #waiting_rows() == 2
end)
local stale_answer = nil
vim.ui.select = function(items, opts, on_choice)
  t.equal(opts.prompt, "Which step is finished?", "the picker's prompt")
  stale_answer = function()
    on_choice(items[1])
  end
end
vim.api.nvim_win_set_cursor(0, { 1, 0 })
vim.cmd("CodelabPlanner complete")
t.truthy(stale_answer, "the picker opened")
local first_waiting = waiting_rows()[1]
local first_id = lines()[first_waiting]:match("^⏸ (%S+)")
vim.api.nvim_win_set_cursor(0, { first_waiting, 0 })
mark = #events
press("m")
await("CodelabPlannerProgress", function(data)
  return data.planId == plan_id and data.event.kind == "subtaskFinished" and data.event.subtaskId == first_id
end, mark, "the first of the two to finish")
local completes = sent_count("planning/complete")
stale_answer()
t.truthy(t.noticed("no longer waits"), "a stale answer is told: " .. vim.inspect(t.notices))
t.equal(sent_count("planning/complete"), completes, "no complete was sent for a step that had ended")
local marked = mark_every_waiting_step_done(plan_id, run_mark)
t.truthy(marked >= 1, "the person did the rest of the model's steps: " .. marked)
local finished = events[find_event("CodelabPlannerRunFinished", function(data)
  return data.planId == plan_id
end, run_mark)].data
t.equal(finished.status, "completed", "the plan completed:\n" .. text())
t.truthy(lines()[2]:find("^status: completed"), "the buffer says completed: " .. lines()[2])
t.truthy(
  t.noticed("codelab-planner: waits for you (press m when done): "),
  "a notice for a waiting step names the key: " .. vim.inspect(t.notices)
)
-- The plugin's own notices fit on the command line (no hit-enter prompt in the middle of a flow).
for _, notice in ipairs(t.notices) do
  if notice.message:find("waits for you (", 1, true) or notice.message:find("no longer waits", 1, true) then
    t.truthy(
      not notice.message:find("\n") and vim.fn.strdisplaywidth(notice.message) <= vim.v.echospace,
      "a notice wider than the command line: " .. notice.message
    )
  end
end
-- The shell step really ran in service/, and its output is one line per line.
vim.api.nvim_win_set_cursor(0, { row_starting("✓ " .. shell_step.id .. " "), 0 })
press("o")
t.truthy(vim.api.nvim_buf_get_name(0):find("/output/" .. shell_step.id .. "$"), "the output split")
local output = lines()
t.truthy(vim.tbl_contains(output, "running 3 tests") and vim.tbl_contains(output, "all 3 passed"), vim.inspect(output))
vim.cmd("close")

-- 5. Cancel while a step waits; a stale `m` on it; retry to the end.
mark = #events
require("codelab-planner").create({ task = "Fix the crash when the config file is empty and add a regression test" })
await("CodelabPlannerUpdated", nil, mark, "the second plan")
local second = vim.b.codelab_plan_id
mark = #events
press("a")
await("CodelabPlannerUpdated", function(data)
  return data.planId == second
end, mark, "the second approval")
mark = #events
press("x")
await("CodelabPlannerProgress", function(data)
  return data.planId == second and data.event.kind == "subtaskWaiting"
end, mark, "a waiting step of the second plan")
t.wait_for("the waiting row", function()
  return row_starting("⏸ ") ~= nil
end)
local waiting_id = lines()[row_starting("⏸ ")]:match("^⏸ (%S+)")
mark = #events
press("c")
await("CodelabPlannerRunFinished", function(data)
  return data.planId == second
end, mark, "the cancelled run")
t.truthy(lines()[2]:find("^status: cancelled"), "cancelled: " .. lines()[2])
local completes_before = sent_count("planning/complete")
vim.api.nvim_win_set_cursor(0, { t.truthy(row_starting("⊘ " .. waiting_id .. " "), "cancelled row:\n" .. text()), 0 })
press("m")
t.truthy(t.noticed("nothing waits for you in this plan"), "a stale m is told: " .. vim.inspect(t.notices))
t.equal(sent_count("planning/complete"), completes_before, "no complete for a cancelled step")
mark = #events
press("r")
local retried = mark_every_waiting_step_done(second, mark)
t.truthy(retried >= 1, "the retried run waited for the person")
t.equal(
  events[find_event("CodelabPlannerRunFinished", function(data)
    return data.planId == second
  end, mark)].data.status,
  "completed",
  "the retried plan completed:\n" .. text()
)

-- 6. A low-confidence verdict: a draft, never run unasked.
local executes = sent_count("planning/execute") + sent_count("planning/approve")
mark = #events
vim.cmd("CodelabPlanner new hmm maybe something with the parser")
await("CodelabPlannerUpdated", nil, mark, "the low-confidence plan")
local unsure = get_plan(vim.b.codelab_plan_id)
t.equal(unsure.status, "draft", "a low-confidence plan is a draft")
t.equal(unsure.classification.confidence, "low", "the verdict is unsure")
t.equal(sent_count("planning/execute") + sent_count("planning/approve"), executes, "nothing runs unasked")

-- 7. A plan file: a problem shows as a diagnostic, goes when fixed; the lens runs it.
local plan_file = vim.fs.joinpath(workspace, "service", "проверка.plan.toml")
vim.fn.writefile({
  'title = "Проверить сервис: тесты и сборка, с очень длинным заголовком, который не помещается в одну строку"',
  "",
  "[[subtask]]",
  'id = "test"',
  'title = "Тесты"',
  'agent = "shel"',
  'command = "make test"',
  'cwd = "service"',
}, plan_file)
vim.cmd.edit(vim.fn.fnameescape(plan_file))
local plan_buffer = vim.api.nvim_get_current_buf()
t.wait_for("the diagnostic of the unknown agent", function()
  return #vim.diagnostic.get(plan_buffer) > 0
end)
local diagnostic = vim.diagnostic.get(plan_buffer)[1]
t.equal(diagnostic.lnum, 5, "the diagnostic is on the agent line")
t.truthy(diagnostic.message:find("shel", 1, true), "the diagnostic names the agent: " .. diagnostic.message)
vim.api.nvim_buf_set_lines(plan_buffer, 5, 6, false, { 'agent = "shell"' })
t.wait_for("the diagnostic to go", function()
  return #vim.diagnostic.get(plan_buffer) == 0
end)
t.wait_for("the Run plan lens", function()
  for _, lens in ipairs(vim.lsp.codelens.get(plan_buffer)) do
    if lens.command and lens.command.title:find("Run plan", 1, true) then
      return true
    end
  end
  return false
end)
mark = #events
vim.api.nvim_win_set_cursor(0, { 1, 0 })
vim.lsp.codelens.run()
await("CodelabPlannerRunFinished", function(data)
  return data.status == "completed"
end, mark, "the plan file's run")
t.truthy(vim.b.codelab_plan_id, "the run's plan buffer opened")
t.truthy(lines()[1]:find("^Проверить сервис"), "the plan file's title: " .. lines()[1])
t.truthy(row_starting("✓ test "), "the step ran:\n" .. text())

for _, client in ipairs(lsp.clients()) do
  client:stop()
end
t.wait_for("the client to stop", function()
  return #lsp.clients() == 0
end, 5000)
t.ok("flow")
