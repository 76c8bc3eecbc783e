-- The plugin's pieces that need no server: the plugin file loads nothing else, approvals go
-- through vim.ui.select (a dismissed approval stays open in the plan buffer, any other dismissed
-- question answers null), settings are validated with the
-- key named, commands complete and report unknown subcommands, the help file's tags build, and the
-- protocol mirror names every method once.
-- Run: CODELAB_PLUGIN_DIR=editors/nvim nvim --headless -u NONE -l tests/nvim/ui.lua
local t = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "helpers.lua"))
local root = t.load_plugin()
t.capture_notifications()

-- plugin/ defines the command and loads no module.
t.equal(vim.fn.exists(":CodelabPlanner"), 2, ":CodelabPlanner exists")
for name in pairs(package.loaded) do
  if vim.startswith(name, "codelab-planner") then
    t.fail("plugin/ loaded " .. name)
  end
end

-- Approvals: vim.ui.select is the user's hook (a picker plugin replaces it the same way).
local approval = require("codelab-planner.approval")
local question = {
  type = 3,
  message = "run `cargo fmt` in /work?",
  actions = { { title = "Allow" }, { title = "Allow for this plan" }, { title = "Deny" } },
}
local asked = nil
vim.ui.select = function(items, opts, on_choice)
  asked = { items = items, prompt = opts.prompt, kind = opts.kind, shown = vim.tbl_map(opts.format_item, items) }
  on_choice(items[2])
end
local answer = nil
coroutine.wrap(function()
  answer = approval.on_show_message_request(nil, question, {})
end)()
t.wait_for("the approval answer", function()
  return answer ~= nil
end, 5000)
t.equal(answer, { title = "Allow for this plan" }, "the chosen action is the answer")
t.equal(asked.prompt, "codelab-planner: run `cargo fmt` in /work?", "the prompt")
t.equal(asked.kind, "codelab_planner_approval", "the select kind")
t.equal(asked.shown, { "Allow", "Allow for this plan", "Deny" }, "the choices")

vim.ui.select = function(_, _, on_choice)
  on_choice(nil)
end
answer = nil
coroutine.wrap(function()
  answer = approval.on_show_message_request(nil, question, {})
end)()
t.wait_for("the notice that the dismissed approval stays open", function()
  return vim.iter(t.notices):any(function(notice)
    return notice.message:find("stays open in the plan buffer", 1, true) ~= nil
  end)
end, 5000)
t.equal(answer, nil, "a dismissed approval is no denial: it waits in the plan buffer, unanswered here")
local followup = { type = 3, message = "Which database?", actions = { { title = "SQLite" }, { title = "Postgres" } } }
coroutine.wrap(function()
  answer = approval.on_show_message_request(nil, followup, {})
end)()
t.wait_for("the dismissed answer", function()
  return answer ~= nil
end, 5000)
t.equal(answer, vim.NIL, "any other dismissed question answers null")
local protocol = require("codelab-planner.protocol")
t.equal(
  vim.tbl_map(function(option)
    return option.option
  end, protocol.approval_options),
  { "allow_once", "allow_always", "reject_once" },
  "approval answers map to ACP permission options"
)

-- Settings: defaults, merging, validation naming the key, nested and dotted server settings.
local config = require("codelab-planner.config")
t.equal(config.validate(), {}, "no configuration is valid")
vim.g.codelab_planner = { keys = { execute = 42 }, auto_start = "yes", settings = { ["llm.model"] = "m" } }
t.equal(config.validate(), {
  "vim.g.codelab_planner.auto_start: expected a boolean, got string",
  "vim.g.codelab_planner.keys.execute: expected a string or false",
}, "problems name the key")
t.equal(config.get().keys.cancel, "c", "unset keys keep their defaults")
t.equal(config.setting(config.get(), "llm.model"), "m", "a dotted setting")
vim.g.codelab_planner = { settings = { llm = { baseUrl = "http://127.0.0.1:1" } } }
t.equal(config.setting(config.get(), "llm.baseUrl"), "http://127.0.0.1:1", "a nested setting")
vim.g.codelab_planner = { cmd = { "/opt/planner", "--stdio", "--db", "x.db" } }
t.equal(config.server_cmd(), { "/opt/planner", "--stdio", "--db", "x.db" }, "an explicit command")
vim.g.codelab_planner = nil
vim.env.CODELAB_PLANNER_BIN = "/custom/codelab-planner"
t.equal(config.server_cmd(), { "/custom/codelab-planner", "--stdio" }, "the command from the environment")

-- A missing binary is a clear error, not a hang.
vim.env.CODELAB_PLANNER_BIN = "/nonexistent/codelab-planner"
local start_error = nil
require("codelab-planner.lsp").request(protocol.methods.list, {}, function(err)
  start_error = err
end)
t.truthy(
  start_error and start_error:find("server not found: /nonexistent/codelab-planner", 1, true),
  "start error: " .. tostring(start_error)
)

-- Commands: completion of subcommands, an unknown subcommand is reported.
t.equal(vim.fn.getcompletion("CodelabPlanner re", "cmdline"), { "reject", "retry", "revise" }, "subcommand completion")
t.equal(vim.fn.getcompletion("CodelabPlanner complete f", "cmdline"), { "failed" }, "complete's argument")
t.expect_error('unknown subcommand "frobnicate"')
vim.cmd("CodelabPlanner frobnicate")
t.truthy(
  t.noticed('unknown subcommand "frobnicate"; one of: answer, approve, cancel'),
  "unknown subcommand: " .. vim.inspect(t.notices)
)

-- The help file's tags build (in a copy: the checkout stays clean) and name the commands.
local doc_copy = vim.fs.joinpath(vim.fn.tempname(), "doc")
vim.fn.mkdir(doc_copy, "p")
vim.fn.writefile(
  vim.fn.readfile(vim.fs.joinpath(root, "doc", "codelab-planner.txt")),
  vim.fs.joinpath(doc_copy, "codelab-planner.txt")
)
vim.cmd.helptags(vim.fn.fnameescape(doc_copy))
local tags = table.concat(vim.fn.readfile(vim.fs.joinpath(doc_copy, "tags")), "\n")
for _, tag in ipairs({
  "codelab-planner",
  ":CodelabPlanner",
  "g:codelab_planner",
  "codelab-planner-keys",
  ":CodelabPlanner-complete",
  ":CodelabPlanner-edit",
  ":CodelabPlanner-run",
  "codelab-planner-plan-files",
  "codelab-planner-health",
}) do
  t.truthy(tags:find("\n" .. vim.pesc(tag) .. "\t") or tags:find("^" .. vim.pesc(tag) .. "\t"), "help tag " .. tag)
end

-- A plan buffer without a server: `open_command` opens it in a split once, then the plan window
-- is reused; the buffer is read-only, named after the plan and of filetype codelab-plan.
vim.g.codelab_planner = { open_command = "botright vsplit" }
require("codelab-planner.state").update_view({
  id = "01LOCAL",
  title = "Local plan",
  status = "draft",
  version = 1,
  subtasks = { { id = "a", title = "A", agent = "shell", dependsOn = {}, status = "pending", attempts = 0 } },
})
local buffer = require("codelab-planner.buffer")
local windows_before = #vim.api.nvim_tabpage_list_wins(0)
local plan_buffer = buffer.open("01LOCAL")
t.equal(#vim.api.nvim_tabpage_list_wins(0), windows_before + 1, "open_command split once")
t.equal(vim.api.nvim_buf_get_name(plan_buffer), "codelab-plan://01LOCAL", "the buffer's name")
t.equal(vim.bo[plan_buffer].modifiable, false, "read-only")
t.equal(vim.api.nvim_buf_get_lines(plan_buffer, 0, 1, false), { "Local plan" }, "rendered")
require("codelab-planner.state").update_view({
  id = "01LOCAL2",
  title = "Second plan",
  status = "draft",
  version = 1,
  subtasks = {},
})
buffer.open("01LOCAL2")
t.equal(#vim.api.nvim_tabpage_list_wins(0), windows_before + 1, "a plan window is reused")
t.truthy(vim.tbl_contains(vim.api.nvim_buf_get_lines(0, 0, -1, false), "(no subtasks)"), "an empty plan")
vim.g.codelab_planner = nil

-- Partial results of planning/create: the subtasks so far appear in a planning buffer.
local progress = require("codelab-planner.progress")
local state = require("codelab-planner.state")
state.planning["codelab-planner-plan-test"] = { task = "add CSV export" }
t.truthy(progress.is_partial_result("codelab-planner-plan-test"), "a planning token is a partial result")
t.truthy(not progress.is_partial_result("rustc-progress-1"), "another token is not")
progress.on_partial_result({
  token = "codelab-planner-plan-test",
  value = { subtasks = { { title = "Write it", agent = "coder" } } },
})
progress.on_partial_result({
  token = "codelab-planner-plan-test",
  value = {
    subtasks = {
      { title = "Write it", agent = "coder" },
      { title = "Test it", agent = "shell", command = "make test" },
    },
  },
})
t.equal(vim.bo.filetype, "codelab-plan", "the planning buffer's filetype")
local planning_lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
t.equal(planning_lines[1], "add CSV export", "planning title")
t.equal(
  vim.list_slice(planning_lines, #planning_lines - 1),
  { "· s1  Write it  coder", "· s2  Test it   shell" },
  "subtasks so far"
)

-- The protocol mirror: every name once, all under planning/.
local all = protocol.all_methods()
local seen = {}
for _, method in ipairs(all) do
  t.truthy(vim.startswith(method, "planning/"), "namespaced: " .. method)
  t.truthy(not seen[method], "duplicate " .. method)
  seen[method] = true
end
t.truthy(seen["planning/complete"] and seen["planning/export"] and seen["planning/progress"], "second-wave names")
-- Draft edits send back every field received (cwd, timeoutSecs, role and fields this plugin does
-- not know), without the fields only the server writes; the plan's own fields are not sent.
local edit = require("codelab-planner.edit")
local received = {
  id = "01EDIT",
  title = "Проверить сборку",
  status = "draft",
  version = 4,
  sourceFile = "ci/check.plan.toml",
  subtasks = {
    {
      id = "build",
      title = "Build",
      description = "Build it",
      agent = "shell",
      command = "make",
      cwd = "crates/core",
      dependsOn = {},
      timeoutSecs = 120,
      maxAttempts = 2,
      estimateSecs = 30,
      role = "baseline",
      somethingNew = { nested = { 1, 2 } },
      status = "pending",
      attempts = 0,
    },
    {
      id = "test",
      title = "Test",
      description = "",
      agent = "shell",
      command = "make test",
      dependsOn = { "build" },
      status = "pending",
      attempts = 0,
      maxAttempts = 1,
    },
  },
}
local params = edit.retitle(received, "test", "Run the tests\nagain")
t.equal(params, {
  planId = "01EDIT",
  version = 4,
  subtasks = {
    {
      id = "build",
      title = "Build",
      description = "Build it",
      agent = "shell",
      command = "make",
      cwd = "crates/core",
      dependsOn = {},
      timeoutSecs = 120,
      maxAttempts = 2,
      estimateSecs = 30,
      role = "baseline",
      somethingNew = { nested = { 1, 2 } },
    },
    {
      id = "test",
      title = "Run the tests again",
      description = "",
      agent = "shell",
      command = "make test",
      dependsOn = { "build" },
      maxAttempts = 1,
    },
  },
}, "a renamed step, every other field as received")
t.equal(
  edit.retitle(received, nil, "Новое имя"),
  { planId = "01EDIT", version = 4, title = "Новое имя" },
  "a renamed plan"
)
t.equal(select(2, edit.retitle(received, "nope", "x")), 'the plan has no subtask "nope"', "an unknown step")
t.equal(select(2, edit.retitle(received, "test", "  ")), "a title cannot be empty", "an empty title")
received.status = "approved"
t.equal(
  select(2, edit.retitle(received, "test", "x")),
  "only a draft can be edited; this plan is approved",
  "not a draft"
)

-- Text from the server made fit for buffer lines.
local text = require("codelab-planner.text")
t.equal(text.lines("a\r\nb\rc\n"), { "a", "b", "c" }, "lines")
t.equal(text.lines(""), { "" }, "an empty text is one empty line")
t.equal(text.one_line("  first\n\n second \n"), "first ⏎ second", "one line")
t.equal(text.one_line("tab\there\27[31m"), "tab\there [31m", "control characters")
t.equal(text.buffer_lines({ "a\nb", "c" }), { "a", "b", "c" }, "buffer lines")

-- Plan files are recognised by name.
local plan_files = require("codelab-planner.plan_files")
local toml_buffer = vim.api.nvim_create_buf(true, false)
vim.api.nvim_buf_set_name(toml_buffer, vim.fs.joinpath(vim.fn.tempname(), "check.plan.toml"))
t.truthy(plan_files.is_plan_file(toml_buffer), "a *.plan.toml is a plan file")
local other_buffer = vim.api.nvim_create_buf(true, false)
vim.api.nvim_buf_set_name(other_buffer, vim.fs.joinpath(vim.fn.tempname(), "Cargo.toml"))
t.truthy(not plan_files.is_plan_file(other_buffer), "Cargo.toml is not")

t.ok("ui")
