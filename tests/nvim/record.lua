-- Agent work on the record in real Neovim, against the real server and the scripted model
-- (tests/nvim.rs starts it; CODELAB_OPENAI is its base URL): a coder step's question appears in
-- the picker, which the person dismisses — the question stays in the plan buffer under the step
-- with its `+N −M path` line; `d` shows its diff in a split before anything is allowed; `Y`
-- ("Allow for this plan") answers it from the plan buffer and covers the next file edit without
-- a question; the finished step says what it changed, `o` opens its transcript, and `u` reverts
-- it (the files are as before). Each buffer the person reads is printed ("captured buffer").
-- Run through tests/nvim.rs.
local t = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "helpers.lua"))

local binary = os.getenv("CODELAB_PLANNER_BIN")
local workspace = os.getenv("CODELAB_WORKSPACE")
local openai = os.getenv("CODELAB_OPENAI")
if not binary or not workspace or not openai then
  t.fail("set CODELAB_PLANNER_BIN, CODELAB_WORKSPACE and CODELAB_OPENAI")
end
local README = { "# Demo", "", "Run it." }
vim.fn.writefile(README, vim.fs.joinpath(workspace, "README.md"))
vim.fn.mkdir(vim.fs.joinpath(workspace, ".git"), "p")
vim.fn.chdir(workspace)
vim.g.codelab_planner = {
  cmd = { binary, "--stdio" },
  settings = { llm = { baseUrl = openai, model = "scripted" }, approval = { tools = "ask" } },
}
t.load_plugin()
t.capture_notifications()

local finished = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "CodelabPlannerRunFinished",
  callback = function(args)
    table.insert(finished, args.data)
  end,
})

local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "xt", false)
end

local function lines_of(bufnr)
  return vim.api.nvim_buf_get_lines(bufnr or 0, 0, -1, false)
end

--- Prints a buffer as the person sees it (the test's output keeps it).
local function capture(what, bufnr)
  io.stdout:write(string.format("---- captured buffer: %s ----\n%s\n----\n", what, table.concat(lines_of(bufnr), "\n")))
end

local function line_with(bufnr, fragment)
  for index, line in ipairs(lines_of(bufnr)) do
    if line:find(fragment, 1, true) then
      return index
    end
  end
  return nil
end

-- The person's picker: the approval question is shown, and dismissed.
local asked = {}
vim.ui.select = function(items, opts, on_choice)
  table.insert(asked, { prompt = opts.prompt, items = items })
  if opts.kind == "codelab_planner_approval" then
    return on_choice(nil)
  end
  return on_choice("Revert")
end

local actions = require("codelab-planner.actions")
local created = nil
actions.create({
  task = "Документировать запуск: README и docs/usage.md",
  mode = "plan",
  subtasks = { { id = "s1", title = "Документировать запуск", agent = "coder", maxAttempts = 1 } },
}, function(err, result)
  created = err or result
end)
t.wait_for("the plan", function()
  return created ~= nil
end)
t.truthy(type(created) == "table", "created: " .. vim.inspect(created))
local plan_buffer = vim.api.nvim_get_current_buf()
t.equal(vim.bo.filetype, "codelab-plan", "the plan buffer")
press("a")
t.wait_for("the approved plan", function()
  return line_with(plan_buffer, "status: approved") ~= nil
end)
press("x")

-- The question: asked in the picker (dismissed: it stays open), and under the step.
local question = "? Allow coder to edit `README.md`? (+2 −1 README.md)"
t.wait_for("the question in the plan buffer", function()
  return line_with(plan_buffer, question) ~= nil
end)
t.wait_for("the picker's question", function()
  return #asked > 0
end)
t.equal(asked[1].prompt, "codelab-planner: Allow coder to edit `README.md`? (+2 −1 README.md)", "the picker's prompt")
t.truthy(t.noticed("stays open in the plan buffer"), "dismissing is no denial: " .. vim.inspect(t.notices))
local keys_line = line_with(plan_buffer, "│ y allow · Y allow for this plan (every file edit of this plan) · n deny · d diff")
t.truthy(keys_line, "the keys that answer it:\n" .. table.concat(lines_of(plan_buffer), "\n"))
capture("the plan buffer with the question", plan_buffer)

-- `d` on the step: the diff, before anything is allowed.
vim.api.nvim_set_current_buf(plan_buffer)
vim.api.nvim_win_set_cursor(0, { line_with(plan_buffer, "s1") or 1, 0 })
press("d")
t.wait_for("the diff split", function()
  return vim.bo.filetype == "diff"
end)
local diff_buffer = vim.api.nvim_get_current_buf()
t.truthy(line_with(diff_buffer, "+Run it with `cargo run`."), "the added line")
t.truthy(line_with(diff_buffer, "-Run it."), "the removed line")
t.truthy(line_with(diff_buffer, "+По-русски: запустите её."), "the Russian line")
capture("the question's diff (d)", diff_buffer)
t.truthy(vim.fn.readfile(vim.fs.joinpath(workspace, "README.md"))[3] == "Run it.", "nothing written before the answer")

-- `Y` in the plan buffer: allowed for the plan; the second file goes unasked.
vim.api.nvim_set_current_win(vim.fn.bufwinid(plan_buffer))
vim.api.nvim_win_set_cursor(0, { line_with(plan_buffer, "s1"), 0 })
press("Y")
t.wait_for("the run's end", function()
  return #finished > 0
end)
t.equal(finished[1].status, "completed", "the run")
t.equal(#asked, 1, "\"Allow for this plan\" covered docs/usage.md: no second question")
t.equal(vim.fn.readfile(vim.fs.joinpath(workspace, "docs", "usage.md")), { "Run `cargo run`." }, "the second file")
t.wait_for("the step's changes in the plan buffer", function()
  return line_with(plan_buffer, "changed 2 files +3 −1") ~= nil
end)
t.truthy(not line_with(plan_buffer, question), "the question is gone")
capture("the plan buffer after the run", plan_buffer)

-- `o` on the finished step: its transcript.
vim.api.nvim_win_set_cursor(0, { line_with(plan_buffer, "s1"), 0 })
press("o")
t.wait_for("the transcript", function()
  return vim.bo.filetype == "markdown"
end)
local transcript = vim.api.nvim_get_current_buf()
for _, fragment in ipairs({
  "# Transcript: Документировать запуск",
  "· → edit_file `README.md`",
  "· asked the person",
  "· answer: allow_always",
  "· ← write_file `docs/usage.md`: ok",
  "· ← attempt_completion: ok",
}) do
  t.truthy(line_with(transcript, fragment), "the transcript has " .. fragment)
end
capture("the step's transcript (o)", transcript)

-- `u` on the step: reverted after a yes, the files as they were.
vim.api.nvim_set_current_win(vim.fn.bufwinid(plan_buffer))
vim.api.nvim_win_set_cursor(0, { line_with(plan_buffer, "s1"), 0 })
press("u")
t.wait_for("the revert's notice", function()
  return t.noticed("reverted README.md, docs/usage.md") ~= nil
end)
t.truthy(vim.startswith(asked[#asked].prompt, 'Revert the files "Документировать запуск" changed?'), asked[#asked].prompt)
t.equal(vim.fn.readfile(vim.fs.joinpath(workspace, "README.md")), README, "README.md as before")
t.equal(vim.fn.filereadable(vim.fs.joinpath(workspace, "docs", "usage.md")), 0, "the created file is gone")
t.wait_for("the plan buffer without the changes", function()
  return line_with(plan_buffer, "changed 2 files") == nil
end)
capture("the plan buffer after Revert (u)", plan_buffer)
t.ok("record")
